// Models with repacked matrices (tensor/repack.h) against the same models in
// the file's row-major layout, and copied matrices against mapped ones: every
// position's logits of a prompt run as one batch (the tiled prefill kernel)
// and then token by token (matrix-vector).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/transformer.h"
#include "tensor/matmul.h"
#include "tensor/repack.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::shared_path;
using testing::source_path;

// Max |difference| of all logits of `packed` against `other` over a batch
// pass and an incremental pass of one prompt. `other` may be `packed` itself
// with reference_other: then its passes run with the scalar reference kernels
// (which ignore the packed copy).
double max_logit_diff(const Transformer& packed, const Transformer& other, bool reference_other) {
  const std::vector<TokenId> prompt =
      packed.tokenizer().encode("Once upon a time, 12 + 30 = 42. The little dog ran", true, false);
  double worst = 0;
  for (bool batch : {true, false}) {
    KvCache ca = packed.new_cache(64), cb = other.new_cache(64);
    ForwardContext ctx = packed.new_context();
    std::vector<float> la, lb;
    for (size_t i = 0; i < prompt.size(); i += batch ? prompt.size() : 1) {
      std::span<const TokenId> part(prompt.data() + i, batch ? prompt.size() : 1);
      packed.forward(ctx, ca, part, Logits::kAll, la);
      set_reference_kernels(reference_other);
      other.forward(ctx, cb, part, Logits::kAll, lb);
      set_reference_kernels(false);
      EXPECT_EQ(la.size(), lb.size());
      for (size_t j = 0; j < la.size(); ++j) worst = std::max(worst, static_cast<double>(std::fabs(la[j] - lb[j])));
    }
  }
  return worst;
}

// Q8_0 / Q4_0 packed kernels round like the reference definitions, so they
// agree exactly with the reference kernels; the row-major SIMD kernels sum in
// another order, which on trained models flips Q8 activation roundings
// downstream (~0.1).
TEST(RepackedModel, LogitsMatchTheReferenceKernels) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-q8_0.gguf");
  if (!repack_available()) GTEST_SKIP() << "this CPU has no AVX512-VNNI (or TANDEM_REPACK=0)";
  // Random-weight fixtures (Q8_0, Q4_0) and the shipped Q8_0 model (trained weights).
  for (const std::string& path : {shared_path("fixtures/arch/llama-q8_0.gguf"), shared_path("fixtures/arch/llama-q4_0.gguf"),
                                  source_path("models/tandem-base.gguf")}) {
    for (int threads : {1, 2}) {
      auto model = Transformer::load(path, {.n_threads = threads});
      const double diff = max_logit_diff(*model, *model, true);
      std::printf("%s, %d threads: max |logit diff| %.3g\n", path.c_str(), threads, diff);
      EXPECT_LT(diff, 1e-5) << path;  // 0 on this machine: the same float operations in the same order
    }
  }
}

// Q4_K packs to reproduce the row-major x86 kernel (the order the llama.cpp
// fixture pins down), so a packed model must equal the same model loaded
// with repack = false, bit for bit.
TEST(RepackedModel, Q4KLogitsMatchTheRowMajorKernels) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-q4_k.gguf");
  if (!repack_available()) GTEST_SKIP() << "this CPU has no AVX512-VNNI (or TANDEM_REPACK=0)";
  const std::string path = shared_path("fixtures/arch/llama-q4_k.gguf");
  for (int threads : {1, 2}) {
    auto packed = Transformer::load(path, {.n_threads = threads});
    auto plain = Transformer::load(path, {.n_threads = threads, .repack = false});
    EXPECT_EQ(max_logit_diff(*packed, *plain, false), 0.0) << "threads " << threads;
  }
}

// Matrices copied into huge pages at load (the default) and read straight
// from the file mapping hold the same bytes, so the logits agree bit for bit;
// gemma ties its output matrix to the embedding table, which is then copied
// while the lookups keep reading (and releasing) the mapped rows.
TEST(PlacedModel, CopiedAndMappedMatricesGiveTheSameLogits) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f16.gguf");
  for (const std::string& path : {shared_path("fixtures/arch/llama-f16.gguf"), shared_path("fixtures/arch/gemma-f32.gguf"),
                                  shared_path("fixtures/arch/llama-q4_1.gguf"), shared_path("fixtures/arch/llama-q4_0.gguf")}) {
    auto copied = Transformer::load(path, {.n_threads = 2});
    auto mapped = Transformer::load(path, {.n_threads = 2, .mapped_weights = true});
    EXPECT_EQ(max_logit_diff(*copied, *mapped, false), 0.0) << path;
  }
}

}  // namespace
}  // namespace tandem
