// The SIMD kernels (tensor/kernels.h) against the scalar definitions
// (vec_dot_reference, quantize_row) on random data of every type, including
// sizes that are not a multiple of the vector width.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/quant.h"
#include "test_util.h"

namespace tandem {
namespace {

std::vector<float> random_vector(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

const TensorType kTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0, TensorType::Q4_1,
                             TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0, TensorType::Q2_K, TensorType::Q3_K,
                             TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};

std::vector<int64_t> sizes_for(TensorType t) {
  const int64_t bs = traits(t).block_size;
  if (bs == 1) return {1, 7, 15, 33, 100, 1000, 4097};
  return {bs, 3 * bs, 5 * bs, 4096 + bs};
}

// Bound on the float rounding of a dot product: a few ulps of sum |w_i x_i|.
double tolerance(TensorType t, const std::vector<uint8_t>& wq, const std::vector<uint8_t>& xa, int64_t n) {
  std::vector<float> wd(n), xd(n);
  dequantize_row(t, wq.data(), wd.data(), n);
  dequantize_row(activation_type(t), xa.data(), xd.data(), n);
  double mag = 0;
  for (int64_t i = 0; i < n; ++i) mag += std::fabs(static_cast<double>(wd[i]) * xd[i]);
  return 1e-5 * mag + 1e-30;
}

void check_dot_rows() {
  for (TensorType t : kTypes) {
    const TensorType act = activation_type(t);
    for (int64_t n : sizes_for(t)) {
      auto w = random_vector(n, 1 + static_cast<uint32_t>(n));
      std::vector<uint8_t> wq(row_bytes(t, n));
      quantize_row(t, w.data(), wq.data(), n);
      const size_t stride = row_bytes(act, n);
      std::vector<uint8_t> xa(stride * kernels::kMaxActs);
      for (int a = 0; a < kernels::kMaxActs; ++a) {
        auto x = random_vector(n, 100 + a + static_cast<uint32_t>(n), 0.5f + a);
        quantize_row(act, x.data(), xa.data() + a * stride, n);
      }
      for (int nt = 1; nt <= kernels::kMaxActs; ++nt) {
        float out[kernels::kMaxActs];
        kernels::dot_rows(t, n, wq.data(), xa.data(), stride, nt, out);
        for (int a = 0; a < nt; ++a) {
          std::vector<uint8_t> one(xa.begin() + a * stride, xa.begin() + (a + 1) * stride);
          const float want = vec_dot_reference(t, n, wq.data(), one.data());
          EXPECT_NEAR(out[a], want, tolerance(t, wq, one, n))
              << type_name(t) << " n=" << n << " nt=" << nt << " row " << a;
        }
      }
    }
  }
}

// Activation encoders must be bit-identical to encode_activations_reference
// (ggml-cpu's x86 rounding), ties and all-zero blocks included.
void check_encode() {
  for (TensorType act : {TensorType::Q8_0, TensorType::Q8_1, TensorType::Q8_K, TensorType::F16, TensorType::BF16}) {
    for (int pattern = 0; pattern < 4; ++pattern) {
      const int64_t n = 1024;
      auto x = random_vector(n, 77 + pattern, 3.0f);
      if (pattern == 1) {
        // Values on a grid of halves with amax 127.5: x * (127 / amax) has many
        // exact ties; plus one block per 64 with amax 127 (multiplier 1).
        for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(static_cast<int>(i % 255) - 127) * 0.5f;
        for (int64_t i = 0; i < n; i += 32) x[i] = i % 64 == 0 ? 127.0f : 127.5f;
      }
      if (pattern == 2) {
        for (int64_t i = 0; i < 300; ++i) x[i] = 0.0f;  // zero blocks (both sizes)
      }
      if (pattern == 3) {
        // +amax and -amax in one block: the first one decides the sign of Q8_K's scale.
        x[5] = -10.0f;
        x[9] = 10.0f;
        x[300] = 10.0f;
        x[301] = -10.0f;
      }
      std::vector<uint8_t> want(row_bytes(act, n)), got(row_bytes(act, n), 0xCD);
      encode_activations_reference(act, x.data(), want.data(), n);
      kernels::encode(act, x.data(), got.data(), n);
      EXPECT_EQ(got, want) << type_name(act) << " pattern " << pattern;
    }
  }
}

// On every instruction set compiled in and supported here.
TEST(Kernels, DotRowsMatchReferenceOnEveryTarget) { testing::on_every_target(check_dot_rows); }

TEST(Kernels, EncodeIsBitExactOnEveryTarget) { testing::on_every_target(check_encode); }

// round_to_half against the scalar fp32 -> fp16 -> fp32 round trip, bit for
// bit: ties (halfway between two F16 values), subnormals, overflow to inf,
// infinities and NaN, at sizes with and without a vector tail.
TEST(Kernels, RoundToHalfIsBitExactOnEveryTarget) {
  std::vector<float> x = random_vector(1000, 5, 100.0f);
  for (float v : {0.0f, -0.0f, 1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, -(2.0f + 0x1p-10f), 0x1p-20f, -0x1p-25f, 0x1p-24f,
                  3 * 0x1p-26f, 65504.0f, 65519.0f, 65520.0f, -1e9f, INFINITY, -INFINITY, NAN, 6.1e-5f, 5.9e-5f}) {
    x.push_back(v);
  }
  testing::on_every_target([&] {
    for (size_t n : {x.size(), size_t{7}, size_t{33}}) {
      std::vector<float> got(n);
      kernels::round_to_half(x.data() + (x.size() - n), got.data(), static_cast<int64_t>(n));
      for (size_t i = 0; i < n; ++i) {
        const float in = x[x.size() - n + i];
        const float want = fp16_to_fp32(fp32_to_fp16(in));
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(got[i])) << in;
        } else {
          EXPECT_EQ(float_to_bits(got[i]), float_to_bits(want)) << in;
        }
      }
    }
  });
}

TEST(Kernels, MatmulMatchesReferenceForPrefillAndDecode) {
  for (TensorType t : kTypes) {
    const int64_t n_in = traits(t).block_size == 1 ? 75 : 2 * traits(t).block_size;
    const int64_t n_out = 37;
    auto wf = random_vector(n_in * n_out, 5);
    std::vector<uint8_t> wq(row_bytes(t, n_in) * n_out);
    for (int64_t r = 0; r < n_out; ++r) quantize_row(t, wf.data() + r * n_in, wq.data() + r * row_bytes(t, n_in), n_in);
    WeightMatrix w{t, n_in, n_out, wq.data()};
    for (int64_t n_tokens : {1, 3, 9}) {
      auto x = random_vector(n_in * n_tokens, 9 + static_cast<uint32_t>(n_tokens));
      std::vector<float> fast(n_out * n_tokens), ref(n_out * n_tokens);
      std::vector<uint8_t> scratch;
      for (int threads : {1, 2}) {
        set_reference_kernels(false);
        matmul(w, x.data(), n_tokens, fast.data(), threads, scratch);
        set_reference_kernels(true);
        matmul(w, x.data(), n_tokens, ref.data(), threads, scratch);
        set_reference_kernels(false);
        double mag = 0;
        for (float v : wf) mag = std::max(mag, static_cast<double>(std::fabs(v)));
        for (int64_t i = 0; i < n_out * n_tokens; ++i) {
          ASSERT_NEAR(fast[i], ref[i], 1e-5 * mag * n_in * 4) << type_name(t) << " tokens " << n_tokens << " i " << i;
        }
      }
    }
  }
}

TEST(Kernels, ReportsTarget) {
  std::string name = kernels::target_name();
  EXPECT_FALSE(name.empty());
  EXPECT_TRUE(kernels::has_simd_dot(TensorType::Q4_K) || name == "Scalar" || name == "EMU128");
}

}  // namespace
}  // namespace tandem
