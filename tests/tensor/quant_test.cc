// Dequantization and quantization of F32, F16, BF16, Q8_0 and Q4_0 rows against
// scalar references written here from the ggml block definitions:
//   Q8_0 block (34 bytes): fp16 d, int8 q[32];        x[j] = d * q[j]
//   Q4_0 block (18 bytes): fp16 d, u8 qs[16];         x[j] = d * ((qs[j] & 15) - 8),
//                                                     x[j+16] = d * ((qs[j] >> 4) - 8)
// The fp16 scale is decoded with ldexp from its bit fields, not with tandem's
// converter, and blocks are read byte by byte, not through tandem's structs.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "tensor/fp16.h"
#include "tensor/quant.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem {
namespace {

float ref_half(uint16_t h) {
  int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  float v;
  if (e == 0x1f) v = m ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else if (e == 0) v = std::ldexp(static_cast<float>(m), -24);
  else v = std::ldexp(static_cast<float>(1024 + m), e - 25);
  return s ? -v : v;
}

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

std::vector<float> ref_dequant(TensorType type, const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  const uint8_t* p = bytes.data();
  switch (type) {
    case TensorType::F32:
      std::memcpy(out.data(), p, static_cast<size_t>(n) * 4);
      break;
    case TensorType::F16:
      for (int64_t i = 0; i < n; ++i) out[i] = ref_half(le16(p + 2 * i));
      break;
    case TensorType::BF16:
      for (int64_t i = 0; i < n; ++i) out[i] = bits_to_float(static_cast<uint32_t>(le16(p + 2 * i)) << 16);
      break;
    case TensorType::Q8_0:
      for (int64_t b = 0; b < n / 32; ++b, p += 34) {
        float d = ref_half(le16(p));
        for (int j = 0; j < 32; ++j) out[b * 32 + j] = d * static_cast<float>(static_cast<int8_t>(p[2 + j]));
      }
      break;
    case TensorType::Q4_0:
      for (int64_t b = 0; b < n / 32; ++b, p += 18) {
        float d = ref_half(le16(p));
        for (int j = 0; j < 16; ++j) {
          out[b * 32 + j] = d * static_cast<float>((p[2 + j] & 15) - 8);
          out[b * 32 + j + 16] = d * static_cast<float>((p[2 + j] >> 4) - 8);
        }
      }
      break;
    default:
      ADD_FAILURE() << "no reference for this type";
  }
  return out;
}

void expect_same(const std::vector<float>& a, const std::vector<float>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) {
      ASSERT_TRUE(std::isnan(a[i]) && std::isnan(b[i])) << what << " element " << i;
    } else {
      ASSERT_EQ(float_to_bits(a[i]), float_to_bits(b[i])) << what << " element " << i << ": " << a[i] << " vs " << b[i];
    }
  }
}

constexpr TensorType kTypes[] = {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0,
                                 TensorType::Q4_0};

TEST(Dequantize, RandomBytesMatchReference) {
  std::mt19937 rng(7);
  for (TensorType type : kTypes) {
    SCOPED_TRACE(type_name(type));
    for (int64_t n : {32, 64, 256, 4096}) {
      // Random bytes: every scale bit pattern appears over the runs, including
      // fp16 subnormals, infinities and NaNs.
      std::vector<uint8_t> bytes(row_bytes(type, n));
      for (auto& b : bytes) b = static_cast<uint8_t>(rng());
      std::vector<float> got(static_cast<size_t>(n));
      dequantize_row(type, bytes.data(), got.data(), n);
      expect_same(got, ref_dequant(type, bytes, n), "random");
    }
  }
}

TEST(Dequantize, EdgeScalesOfQuantizedBlocks) {
  // Scales: +0, -0, smallest subnormal, largest subnormal, smallest normal,
  // 1, largest finite (65504), inf, NaN.
  for (uint16_t d : {0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0xfbff, 0x7c00, 0x7e00}) {
    for (TensorType type : {TensorType::Q8_0, TensorType::Q4_0}) {
      std::vector<uint8_t> bytes(row_bytes(type, 32));
      std::memcpy(bytes.data(), &d, 2);
      for (size_t i = 2; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37);
      bytes[2] = type == TensorType::Q8_0 ? 0x80 : 0x0f;  // extreme quants: -128, and 7 / -8
      std::vector<float> got(32);
      dequantize_row(type, bytes.data(), got.data(), 32);
      expect_same(got, ref_dequant(type, bytes, 32), "edge scale");
    }
  }
  // Max scale with the extreme quant: 65504 * -128 is exact in float.
  BlockQ8_0 b{};
  b.d = 0x7bff;
  b.qs[0] = -128;
  float out[32];
  dequantize_row(TensorType::Q8_0, &b, out, 32);
  EXPECT_EQ(out[0], -8384512.0f);
  EXPECT_EQ(out[1], 0.0f);
}

TEST(Dequantize, UnsupportedTypeThrows) {
  uint8_t buf[256] = {};
  float out[256];
  // Integer tensors hold no weights tandem can use.
  EXPECT_THROW(dequantize_row(TensorType::I32, buf, out, 64), Error);
  EXPECT_THROW(quantize_row(TensorType::I16, out, buf, 64), Error);
  EXPECT_FALSE(can_dequantize(TensorType::I8));
  EXPECT_TRUE(can_dequantize(TensorType::Q4_0));
}

// Quantize then dequantize: each element comes back within the block's
// rounding step. Q8_0: |x - x'| <= d/2 from rounding q, plus up to 127 * |d -
// fp16(d)| because the stored scale is rounded after the quants were computed;
// |d - fp16(d)| <= max(d * 2^-11, 2^-25) (relative for normal fp16, absolute
// half a subnormal step below 2^-14). Q4_0: the scale maps the largest-
// magnitude element to -8, so an element of the opposite sign and equal
// magnitude would need +8 and is clamped to 7: one full step d, plus 8 * |d -
// fp16(d)|.
TEST(Quantize, RoundTripErrorWithinOneStep) {
  std::mt19937 rng(11);
  for (TensorType type : {TensorType::Q8_0, TensorType::Q4_0}) {
    SCOPED_TRACE(type_name(type));
    for (float scale : {1e-3f, 1.0f, 100.0f}) {
      const int64_t n = 1024;
      std::vector<float> x = testing::normal_floats(rng, n, scale);
      std::vector<uint8_t> q(row_bytes(type, n));
      quantize_row(type, x.data(), q.data(), n);
      std::vector<float> y = ref_dequant(type, q, n);
      for (int64_t b = 0; b < n / 32; ++b) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
        double d = type == TensorType::Q8_0 ? amax / 127.0 : amax / 8.0;
        double d_err = std::max(d / 2048, std::ldexp(1.0, -25));
        double bound = type == TensorType::Q8_0 ? d / 2 + 127 * d_err : d + 8 * d_err;
        for (int j = 0; j < 32; ++j) {
          ASSERT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), bound * 1.0001) << "block " << b << " j " << j;
        }
      }
    }
  }
}

TEST(Quantize, ZerosGiveZeroScaleAndZeros) {
  std::vector<float> x(64, 0.0f);
  x[5] = -0.0f;
  for (TensorType type : {TensorType::Q8_0, TensorType::Q4_0}) {
    std::vector<uint8_t> q(row_bytes(type, 64), 0xAB);
    quantize_row(type, x.data(), q.data(), 64);
    std::vector<float> y = ref_dequant(type, q, 64);
    for (float v : y) EXPECT_EQ(v, 0.0f);
    // d = 0; Q4_0 stores -0 (max / -8 with max = 0), exactly as ggml does.
    EXPECT_EQ(le16(q.data()), type == TensorType::Q8_0 ? 0x0000 : 0x8000);
  }
}

// Denormal inputs make 1/d overflow to infinity inside the quantizer; the
// result must still be well defined (no float-to-int overflow, caught by
// UBSan in the sanitizer build) and dequantize to (almost) the input, which
// is below the smallest fp16 scale anyway.
TEST(Quantize, DenormalAndTinyInputsAreWellDefined) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = bits_to_float(static_cast<uint32_t>(j * 1000 + 1)) * (j % 2 ? -1.0f : 1.0f);
  for (TensorType type : {TensorType::Q8_0, TensorType::Q4_0}) {
    std::vector<uint8_t> q(row_bytes(type, 32));
    quantize_row(type, x.data(), q.data(), 32);
    std::vector<float> y = ref_dequant(type, q, 32);
    for (int j = 0; j < 32; ++j) {
      EXPECT_TRUE(std::isfinite(y[j]));
      EXPECT_LE(std::fabs(y[j] - x[j]), 1e-30f);
    }
  }
  std::vector<float> tiny(32, 1e-9f);
  tiny[3] = -3e-9f;
  for (TensorType type : {TensorType::Q8_0, TensorType::Q4_0}) {
    std::vector<uint8_t> q(row_bytes(type, 32));
    quantize_row(type, tiny.data(), q.data(), 32);
    for (float v : ref_dequant(type, q, 32)) EXPECT_TRUE(std::isfinite(v));
  }
}

// Rows holding inf or NaN (a corrupt or diverged F32 model given to `tandem
// quantize`): every block quantizer must stay well defined (no float-to-int
// overflow; UBSan checks this in the sanitizer build) and blocks without
// non-finite values must quantize as usual.
TEST(Quantize, NonFiniteInputsAreWellDefined) {
  const int64_t n = 512;  // two K-quant super-blocks, sixteen 32-blocks
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 37) % 101) / 17.0f - 3.0f;
  std::vector<float> bad = x;
  bad[3] = std::numeric_limits<float>::quiet_NaN();
  bad[40] = std::numeric_limits<float>::infinity();
  bad[300] = -std::numeric_limits<float>::infinity();
  for (TensorType type : {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,
                          TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K}) {
    std::vector<uint8_t> q(row_bytes(type, n)), clean(row_bytes(type, n));
    quantize_row(type, bad.data(), q.data(), n);
    quantize_row(type, x.data(), clean.data(), n);
    // 32-element formats: block 2 (elements 64..95) holds no bad value, so it
    // is stored exactly as for the clean row.
    if (traits(type).block_size == 32) {
      const size_t bb = row_bytes(type, 32);
      EXPECT_TRUE(std::equal(q.begin() + 2 * bb, q.begin() + 3 * bb, clean.begin() + 2 * bb)) << type_name(type);
    }
  }
}

// The largest block whose scale still fits fp16: amax = 65504 * 127 (Q8_0),
// 65504 * 8 (Q4_0). The values that are exact multiples of d come back exactly.
TEST(Quantize, MaximumScale) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = 65504.0f * static_cast<float>(j % 2 ? -(j % 128) : j % 128);
  x[7] = 65504.0f * 127;
  std::vector<uint8_t> q(34);
  quantize_row(TensorType::Q8_0, x.data(), q.data(), 32);
  EXPECT_EQ(le16(q.data()), 0x7bff);
  expect_same(ref_dequant(TensorType::Q8_0, q, 32), x, "q8_0 max scale");

  std::vector<float> y(32);
  for (int j = 0; j < 32; ++j) y[j] = 65504.0f * static_cast<float>((j % 16) - 8);
  std::vector<uint8_t> q4(18);
  quantize_row(TensorType::Q4_0, y.data(), q4.data(), 32);
  EXPECT_EQ(le16(q4.data()), 0x7bff);  // d = max / -8 = 65504 (max is -8 * 65504)
  expect_same(ref_dequant(TensorType::Q4_0, q4, 32), y, "q4_0 max scale");
}

TEST(Quantize, HalfFloatRowsRoundTripThroughTheirTypes) {
  std::mt19937 rng(3);
  std::vector<float> x = testing::normal_floats(rng, 512, 10.0f);
  for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
    std::vector<uint8_t> q(row_bytes(type, 512));
    quantize_row(type, x.data(), q.data(), 512);
    std::vector<float> y(512);
    dequantize_row(type, q.data(), y.data(), 512);
    expect_same(y, ref_dequant(type, q, 512), "half");
    for (int i = 0; i < 512; ++i) {
      double rel = type == TensorType::F32 ? 0 : type == TensorType::F16 ? 1.0 / 2048 : 1.0 / 256;
      EXPECT_LE(std::fabs(y[i] - x[i]), rel * std::fabs(x[i]) + 1e-7) << type_name(type);
    }
  }
}

TEST(DotRowReference, MatchesDoubleDotOfReferenceDequantization) {
  std::mt19937 rng(5);
  for (TensorType type : kTypes) {
    const int64_t n = 256;
    std::vector<uint8_t> row(row_bytes(type, n));
    std::vector<float> w = testing::normal_floats(rng, n, 1.0f);
    quantize_row(type, w.data(), row.data(), n);
    std::vector<float> x = testing::normal_floats(rng, n, 1.0f);
    std::vector<float> wd = ref_dequant(type, row, n);
    double want = 0;
    for (int64_t i = 0; i < n; ++i) want += static_cast<double>(wd[i]) * x[i];
    // Same products, same order, both in double: equal up to the last bit.
    EXPECT_DOUBLE_EQ(dot_row_reference(type, row.data(), x.data(), n), want) << type_name(type);
  }
}

}  // namespace
}  // namespace tandem

namespace tandem {
namespace {

// The word-parallel unpacking of K-quant scales against the per-index
// definition, on random scale bytes (every bit pattern of each byte occurs).
TEST(KScales, AllAtOnceMatchesOneAtATime) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20000; ++trial) {
    uint8_t q[12];
    for (auto& b : q) b = static_cast<uint8_t>(rng());
    uint8_t sc[8], m[8];
    k_scales_mins(q, sc, m);
    for (int j = 0; j < 8; ++j) {
      uint8_t want_sc, want_m;
      k_scale_min(j, q, &want_sc, &want_m);
      ASSERT_EQ(sc[j], want_sc) << "j " << j;
      ASSERT_EQ(m[j], want_m) << "j " << j;
    }
  }
}

}  // namespace
}  // namespace tandem
