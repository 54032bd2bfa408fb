// Quantization formats against llama.cpp: the fixture models in
// fixtures/arch/llama-<type>.gguf were made with `llama-quantize --pure` from
// llama-f32.gguf (no imatrix), so tandem's quantize_row must reproduce every
// tensor byte for byte, and dequantize_row must agree with a decoder written
// here from the format description (element by element, not block loops).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tensor/fp16.h"
#include "tensor/matmul.h"
#include "tensor/quant.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::shared_path;

uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
float h(const uint8_t* p) { return fp16_to_fp32(u16(p)); }

// Element i of the block at `b`, decoded from the byte layout in ggml-common.h.
float decode(TensorType t, const uint8_t* b, int i) {
  switch (t) {
    case TensorType::Q4_0: {  // d | 16 nibble bytes
      int q = i < 16 ? b[2 + i] & 15 : b[2 + i - 16] >> 4;
      return static_cast<float>(q - 8) * h(b);
    }
    case TensorType::Q4_1: {  // d | m | 16 nibble bytes
      int q = i < 16 ? b[4 + i] & 15 : b[4 + i - 16] >> 4;
      return static_cast<float>(q) * h(b) + h(b + 2);
    }
    case TensorType::Q5_0: {  // d | qh[4] | 16 nibble bytes
      int q = (i < 16 ? b[6 + i] & 15 : b[6 + i - 16] >> 4) | (((b[2 + i / 8] >> (i % 8)) & 1) << 4);
      return static_cast<float>(q - 16) * h(b);
    }
    case TensorType::Q5_1: {  // d | m | qh[4] | 16 nibble bytes
      int q = (i < 16 ? b[8 + i] & 15 : b[8 + i - 16] >> 4) | (((b[4 + i / 8] >> (i % 8)) & 1) << 4);
      return static_cast<float>(q) * h(b) + h(b + 2);
    }
    case TensorType::Q8_0:
      return static_cast<float>(static_cast<int8_t>(b[2 + i])) * h(b);
    case TensorType::Q2_K: {  // scales[16] | qs[64] | d | dmin
      int q = (b[16 + 32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3;
      int sc = b[i / 16] & 15, m = b[i / 16] >> 4;
      return (h(b + 80) * sc) * q - h(b + 82) * m;
    }
    case TensorType::Q3_K: {  // hmask[32] | qs[64] | scales[12] | d
      int q = (b[32 + 32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3;
      int hi = (b[i % 32] >> (i / 32)) & 1;
      int j = i / 16;
      const uint8_t* s = b + 96;
      int sc = ((j < 8 ? s[j] & 15 : s[j - 8] >> 4) | (((s[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
      return (h(b + 108) * sc) * (q - (hi ? 0 : 4));
    }
    case TensorType::Q4_K:
    case TensorType::Q5_K: {  // d | dmin | scales[12] | (qh[32]) | qs[128]
      const bool five = t == TensorType::Q5_K;
      const uint8_t* s = b + 4;
      const uint8_t* qs = b + (five ? 48 : 16);
      int byte = qs[32 * (i / 64) + i % 32];
      int q = (i % 64) < 32 ? byte & 15 : byte >> 4;
      if (five) q += ((b[16 + i % 32] >> (i / 32)) & 1) * 16;
      int j = i / 32;
      int sc = j < 4 ? s[j] & 63 : (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
      int m = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
      return (h(b) * sc) * q - h(b + 2) * m;
    }
    case TensorType::Q6_K: {  // ql[128] | qh[64] | scales[16] | d
      int half = i / 128, g = (i % 128) / 32, l = i % 32;
      int byte = b[64 * half + 32 * (g % 2) + l];
      int lo = g < 2 ? byte & 15 : byte >> 4;
      int hi = (b[128 + 32 * half + l] >> (2 * g)) & 3;
      int sc = static_cast<int8_t>(b[192 + i / 16]);
      return h(b + 208) * sc * ((lo | (hi << 4)) - 32);
    }
    default:
      ADD_FAILURE() << "no test decoder for " << type_name(t);
      return 0;
  }
}

std::vector<float> decode_row(TensorType t, const uint8_t* row, int64_t n) {
  const auto& tr = traits(t);
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t k = 0; k < n / tr.block_size; ++k) {
    for (int i = 0; i < tr.block_size; ++i) out[k * tr.block_size + i] = decode(t, row + k * tr.type_size, i);
  }
  return out;
}

class FixtureFormat : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureFormat, DequantizeMatchesFormatSpec) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  auto file = gguf::File::open(shared_path("fixtures/arch/llama-" + GetParam() + ".gguf"));
  int checked = 0;
  for (const auto& t : file->tensors()) {
    if (!traits(t.type).quantized) continue;
    ASSERT_TRUE(can_dequantize(t.type)) << t.name;
    const int64_t n = t.n_elements();
    std::vector<float> got(static_cast<size_t>(n));
    dequantize_row(t.type, t.data, got.data(), n);
    std::vector<float> want = decode_row(t.type, t.data, n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(got[i], want[i]) << t.name << " element " << i;
    }
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST_P(FixtureFormat, QuantizeReproducesLlamaQuantize) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  auto f32 = gguf::File::open(shared_path("fixtures/arch/llama-f32.gguf"));
  auto q = gguf::File::open(shared_path("fixtures/arch/llama-" + GetParam() + ".gguf"));
  int checked = 0;
  for (const auto& t : q->tensors()) {
    if (!traits(t.type).quantized) continue;
    const auto& src = f32->tensor(t.name);
    ASSERT_EQ(src.type, TensorType::F32);
    ASSERT_TRUE(can_quantize(t.type));
    std::vector<uint8_t> out(t.nbytes);
    const int64_t n_in = t.ne[0];
    const size_t stride = row_bytes(t.type, n_in);
    for (int64_t r = 0; r < t.n_elements() / n_in; ++r) {
      quantize_row(t.type, reinterpret_cast<const float*>(src.data) + r * n_in, out.data() + r * stride, n_in);
    }
    size_t first_diff = 0;
    while (first_diff < out.size() && out[first_diff] == t.data[first_diff]) ++first_diff;
    EXPECT_EQ(first_diff, out.size()) << t.name << " (" << type_name(t.type) << ") differs at byte " << first_diff
                                      << " of block " << first_diff / traits(t.type).type_size;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

INSTANTIATE_TEST_SUITE_P(Llama, FixtureFormat,
                         ::testing::Values("q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q4_k", "q5_k", "q6_k"));

std::vector<float> random_vector(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

const TensorType kAllWeightTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0,
                                      TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                                      TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K,
                                      TensorType::Q6_K};

// Q2_K and Q3_K have no llama.cpp fixture: check that the decoder above agrees
// and that quantization error is what 2 and 3 bits allow.
TEST(QuantFormats, LowBitKQuantsRoundTrip) {
  const int64_t n = 4 * kQK_K;
  auto x = random_vector(n, 7);
  for (TensorType t : {TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K}) {
    std::vector<uint8_t> q(row_bytes(t, n));
    quantize_row(t, x.data(), q.data(), n);
    std::vector<float> y(static_cast<size_t>(n));
    dequantize_row(t, q.data(), y.data(), n);
    auto want = decode_row(t, q.data(), n);
    double err = 0, norm = 0;
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(y[i], want[i]) << type_name(t) << " element " << i;
      err += (y[i] - x[i]) * (y[i] - x[i]);
      norm += x[i] * x[i];
    }
    double rel = std::sqrt(err / norm);
    // Relative RMS error of Gaussian data: ~2^-bits with some slack.
    double bound = t == TensorType::Q2_K ? 0.45 : t == TensorType::Q3_K ? 0.25 : t == TensorType::Q4_K ? 0.12
                 : t == TensorType::Q5_K ? 0.06 : 0.03;
    EXPECT_LT(rel, bound) << type_name(t);
    EXPECT_GT(rel, bound / 20) << type_name(t) << ": suspiciously exact";
  }
}

TEST(QuantFormats, AllZeroBlocksStayZero) {
  const int64_t n = 2 * kQK_K;
  std::vector<float> x(n, 0.0f);
  for (TensorType t : kAllWeightTypes) {
    std::vector<uint8_t> q(row_bytes(t, n), 0xAB);
    quantize_row(t, x.data(), q.data(), n);
    std::vector<float> y(n, 1.0f);
    dequantize_row(t, q.data(), y.data(), n);
    for (float v : y) ASSERT_EQ(v, 0.0f) << type_name(t);
  }
}

// vec_dot on encoded rows against a double-precision dot of the decoded rows:
// the only differences are float rounding in the block scaling.
TEST(QuantFormats, VecDotMatchesDecodedDot) {
  for (TensorType t : kAllWeightTypes) {
    const TensorType act = activation_type(t);
    for (int64_t n : {kQK_K, 3 * kQK_K, 4096}) {
      auto w = random_vector(n, 11 + static_cast<uint32_t>(n));
      auto x = random_vector(n, 12 + static_cast<uint32_t>(n), 2.0f);
      std::vector<uint8_t> wq(row_bytes(t, n)), xa(row_bytes(act, n));
      quantize_row(t, w.data(), wq.data(), n);
      encode_activations(act, x.data(), xa.data(), n);
      std::vector<float> xd(n);
      dequantize_row(act, xa.data(), xd.data(), n);
      double want = dot_row_reference(t, wq.data(), xd.data(), n);
      if (act == TensorType::Q8_1) {
        // Q8_1 stores s = d * sum(qs) rounded to fp16, and the weight's min m
        // multiplies s: add m * (s - d * sum(qs)) per block.
        const auto* ab = reinterpret_cast<const BlockQ8_1*>(xa.data());
        const size_t wsize = traits(t).type_size;
        for (int64_t k = 0; k < n / kQK; ++k) {
          double sum = 0;
          for (int j = 0; j < kQK; ++j) sum += ab[k].qs[j];
          double m = h(wq.data() + k * wsize + 2);
          want += m * (fp16_to_fp32(ab[k].s) - static_cast<double>(fp16_to_fp32(ab[k].d)) * sum);
        }
      }
      double mag = 0;
      for (int64_t i = 0; i < n; ++i) mag += std::fabs(w[i] * x[i]);
      // What remains is float rounding of the block scaling and accumulation.
      EXPECT_NEAR(vec_dot_reference(t, n, wq.data(), xa.data()), want, 2e-5 * mag) << type_name(t) << " n=" << n;
      EXPECT_NEAR(vec_dot(t, n, wq.data(), xa.data()), want, 2e-5 * mag) << type_name(t) << " n=" << n;
    }
  }
}

}  // namespace
}  // namespace tandem
