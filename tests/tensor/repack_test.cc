// The packed (AVX512-VNNI) matrix products of tensor/repack.h against the
// scalar definition (vec_dot_reference on the row-major rows; bit-identical), for every
// token-tile size, shapes with one and many row groups, and both thread paths.
#include "tensor/repack.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/matmul.h"
#include "tensor/quant.h"
#include "util/error.h"

namespace tandem {
namespace {

std::vector<float> random_vector(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(Repack, ShapesAndTypes) {
  EXPECT_TRUE(can_repack(TensorType::Q8_0, 32, 16));
  EXPECT_TRUE(can_repack(TensorType::Q4_0, 4096, 32000));
  EXPECT_FALSE(can_repack(TensorType::Q8_0, 32, 24));   // rows not a multiple of 16
  EXPECT_FALSE(can_repack(TensorType::Q8_0, 48, 16));   // not whole blocks
  EXPECT_FALSE(can_repack(TensorType::Q4_1, 64, 16));   // no packed layout
  EXPECT_FALSE(can_repack(TensorType::F32, 64, 16));
  EXPECT_FALSE(can_repack(TensorType::Q8_0, 0, 16));
  EXPECT_TRUE(can_repack(TensorType::Q4_K, 256, 16));
  EXPECT_FALSE(can_repack(TensorType::Q4_K, 96, 16));  // not whole super-blocks
  EXPECT_EQ(packed_bytes(TensorType::Q4_K, 96, 16), 0u);
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
    EXPECT_EQ(packed_bytes(t, 768, 48), 48 * row_bytes(t, 768));
  }
  // Q4_K keeps the 6-bit scales and mins unpacked to bytes: 2368 bytes per
  // 16 rows and 256 elements instead of 16 * 144 = 2304.
  EXPECT_EQ(packed_bytes(TensorType::Q4_K, 768, 48), 3u * 3u * 2368u);
  std::vector<uint8_t> src(row_bytes(TensorType::Q8_0, 32) * 24), dst(src.size());
  EXPECT_THROW(repack(TensorType::Q8_0, 32, 24, src.data(), dst.data()), Error);
}

struct Case {
  TensorType type;
  int64_t n_in, n_out;
};

void check_products(const Case& c, int n_threads) {
  const size_t stride = row_bytes(c.type, c.n_in);
  std::vector<uint8_t> rows(stride * static_cast<size_t>(c.n_out));
  for (int64_t o = 0; o < c.n_out; ++o) {
    // Rows of different magnitudes, so a row mix-up changes the result.
    auto w = random_vector(static_cast<size_t>(c.n_in), 7 + static_cast<uint32_t>(o), 0.02f * (1 + o % 5));
    quantize_row(c.type, w.data(), rows.data() + static_cast<size_t>(o) * stride, c.n_in);
  }
  std::vector<uint8_t> packed(packed_bytes(c.type, c.n_in, c.n_out));
  repack(c.type, c.n_in, c.n_out, rows.data(), packed.data());
  WeightMatrix plain{c.type, c.n_in, c.n_out, rows.data()};
  WeightMatrix fast = plain;
  fast.packed = packed.data();
  const TensorType act_type = activation_type(c.type);
  const size_t act_stride = row_bytes(act_type, c.n_in);
  for (int64_t n_tokens : {1, 2, 5, 8, 9, 19}) {
    auto x = random_vector(static_cast<size_t>(c.n_in * n_tokens), 100 + static_cast<uint32_t>(n_tokens), 1.0f);
    std::vector<float> got(static_cast<size_t>(c.n_out * n_tokens));
    std::vector<uint8_t> scratch;
    matmul(fast, x.data(), n_tokens, got.data(), n_threads, scratch);
    std::vector<uint8_t> act(act_stride);
    for (int64_t t = 0; t < n_tokens; ++t) {
      encode_activations_reference(act_type, x.data() + t * c.n_in, act.data(), c.n_in);
      for (int64_t o = 0; o < c.n_out; ++o) {
        const uint8_t* row = rows.data() + static_cast<size_t>(o) * stride;
        // Bit-identical: the same exact integer sums and the same float
        // operations in the same order as the scalar definition (Q8_0,
        // Q4_0) or as the row-major x86 kernel (Q4_K, whose summation order
        // the llama.cpp fixtures pin down; see repack.h).
        const float want = c.type == TensorType::Q4_K ? vec_dot(c.type, c.n_in, row, act.data())
                                                      : vec_dot_reference(c.type, c.n_in, row, act.data());
        ASSERT_EQ(got[static_cast<size_t>(t * c.n_out + o)], want)
            << type_name(c.type) << " " << c.n_in << "x" << c.n_out << " tokens " << n_tokens << " token " << t
            << " row " << o << " threads " << n_threads;
      }
    }
  }
}

TEST(Repack, PackedProductsMatchTheScalarDefinition) {
  if (!repack_available()) GTEST_SKIP() << "this CPU has no AVX512-VNNI (or TANDEM_REPACK=0)";
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
    for (Case c : {Case{t, 32, 16}, Case{t, 96, 48}, Case{t, 768, 64}, Case{t, 256, 512}}) {
      check_products(c, 1);
      check_products(c, 2);
    }
  }
  for (Case c : {Case{TensorType::Q4_K, 256, 16}, Case{TensorType::Q4_K, 768, 48}, Case{TensorType::Q4_K, 512, 512}}) {
    check_products(c, 1);
    check_products(c, 2);
  }
}

}  // namespace
}  // namespace tandem
