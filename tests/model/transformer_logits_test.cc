// The forward pass against llama.cpp's logits (fixtures/stories260K,
// fixtures/arch): every position of a batch evaluation, and the same tokens
// decoded one at a time.
#include <gtest/gtest.h>

#include <cmath>

#include "model/transformer.h"
#include "tensor/matmul.h"
#include "tensor/repack.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::read_json;
using testing::shared_path;
using testing::source_path;

struct Diff {
  double max_abs = 0;
  int64_t argmax_mismatches = 0;
};

Diff compare(const std::vector<float>& got, const nlohmann::json& want_rows, int64_t first_row, int64_t n_rows,
             int64_t n_vocab) {
  Diff d;
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto& want = want_rows[static_cast<size_t>(first_row + r)];
    int64_t best_got = 0, best_want = 0;
    for (int64_t i = 0; i < n_vocab; ++i) {
      const float g = got[static_cast<size_t>(r * n_vocab + i)];
      const float w = want[static_cast<size_t>(i)].get<float>();
      d.max_abs = std::max(d.max_abs, static_cast<double>(std::fabs(g - w)));
      if (g > got[static_cast<size_t>(r * n_vocab + best_got)]) best_got = i;
      if (w > want[static_cast<size_t>(best_want)].get<float>()) best_want = i;
    }
    if (best_got != best_want) ++d.argmax_mismatches;
  }
  return d;
}

// Returns {batch diff, incremental diff} for a logits fixture.
std::pair<Diff, Diff> run_fixture(const std::string& model_path, const std::string& logits_path, int threads) {
  auto model = Transformer::load(model_path, {.n_threads = threads});
  const auto j = read_json(logits_path);
  const std::vector<TokenId> tokens = j["tokens"].get<std::vector<TokenId>>();
  const int64_t n_vocab = j["n_vocab"].get<int64_t>();
  EXPECT_EQ(model->config().n_vocab, n_vocab);
  const int64_t n = static_cast<int64_t>(tokens.size());

  KvCache cache = model->new_cache(64);
  ForwardContext ctx = model->new_context();
  std::vector<float> logits;
  model->forward(ctx, cache, tokens, Logits::kAll, logits);
  EXPECT_EQ(static_cast<int64_t>(logits.size()), n * n_vocab);
  Diff batch = compare(logits, j["logits"], 0, n, n_vocab);

  KvCache inc = model->new_cache(64);
  Diff incremental;
  for (int64_t i = 0; i < n; ++i) {
    model->forward(ctx, inc, std::span<const TokenId>(&tokens[static_cast<size_t>(i)], 1), Logits::kLast, logits);
    Diff d = compare(logits, j["logits"], i, 1, n_vocab);
    incremental.max_abs = std::max(incremental.max_abs, d.max_abs);
    incremental.argmax_mismatches += d.argmax_mismatches;
  }
  return {batch, incremental};
}

// The fixtures README suggests atol ~1e-4 for an F32 engine; llama.cpp's own
// batch-vs-incremental difference on this model is 1.0e-5.
TEST(TransformerLogits, Stories260kMatchesLlamaCppAtEveryPosition) {
  TANDEM_REQUIRE_SHARED("fixtures/stories260K/logits-once-upon-a-time-plus-greedy48.json");
  for (int threads : {1, 2}) {
    auto [batch, inc] = run_fixture(source_path("models/stories260K.gguf"),
                                    shared_path("fixtures/stories260K/logits-once-upon-a-time-plus-greedy48.json"), threads);
    EXPECT_LT(batch.max_abs, 1e-4) << "threads=" << threads;
    EXPECT_LT(inc.max_abs, 1e-4) << "threads=" << threads;
    EXPECT_EQ(batch.argmax_mismatches, 0);
    EXPECT_EQ(inc.argmax_mismatches, 0);
    std::printf("stories260K threads=%d: max |logit diff| batch %.3g, incremental %.3g\n", threads, batch.max_abs,
                inc.max_abs);
  }
}

TEST(TransformerLogits, TinyRandomLlama2Vocab32k) {
  TANDEM_REQUIRE_SHARED("models/llama-2-tiny-random.gguf");
  auto [batch, inc] = run_fixture(shared_path("models/llama-2-tiny-random.gguf"),
                                  shared_path("fixtures/llama-2-tiny-random/logits-hello-world.json"), 1);
  // F16 weights: llama.cpp rounds activations to F16 before each product, as
  // tandem does; remaining differences come from summation order.
  EXPECT_LT(batch.max_abs, 1e-3);
  EXPECT_LT(inc.max_abs, 1e-3);
  std::printf("tiny-random: max |logit diff| batch %.3g, incremental %.3g\n", batch.max_abs, inc.max_abs);
}

}  // namespace
}  // namespace tandem

namespace tandem {
namespace {

// Every random-weight model in fixtures/arch (one per architecture and weight
// type). Tolerances: F32 models 1e-4 (llama.cpp's own batch-vs-incremental
// difference is ~1e-5); F16/BF16/quantized weights round the activations to
// F16/BF16/Q8 before products, which makes results depend on summation
// order: llama.cpp's own batch-vs-incremental difference there is up to
// 4e-3, so those get 1e-2.
class ArchFixture : public ::testing::TestWithParam<std::string> {};

// Bounds from fixtures/arch/README.md ("Recommended tolerances"): about 10x
// the disagreement between llama.cpp's own kernels on the same model.
double tolerance(const std::string& name) {
  if (name.rfind("gemma", 0) == 0) return 5e-4;  // embeddings scaled by sqrt(n_embd): larger logits
  if (name.find("f32") != std::string::npos) return 1e-4;
  if (name.find("bf16") != std::string::npos) return 5e-2;
  if (name.find("f16") != std::string::npos) return 2e-2;
  // Q4_0 and Q5_0 agree to ~1e-6 only because tandem reproduces two details
  // of llama.cpp's CPU backend: activations are encoded as ggml-cpu's x86
  // quantize_row_q8_0 does (127/amax, ties to even; see
  // encode_activations_reference), and rms_norm rounds each square to float
  // before summing in double. Normalized Q4_0/Q5_0 embedding rows have few
  // distinct levels and hit exact rounding ties; either difference alone
  // flipped ties and moved logits by up to 0.2.
  // Q4_K: fixtures/arch/README.md explains that llama.cpp's repacked and plain
  // Q4_K kernels disagree by ~0.055 (llama-q4_k vs llama-q4_k.norepack). The
  // test below asks tandem to agree with one of the two files within 1e-3
  // and with the other within the README's 0.15. (This model amplifies 1-ulp
  // differences in the order of float accumulation, which flip Q8_K
  // roundings downstream: tandem's scalar reference kernels accumulate like
  // the repacked GEMM and match llama-q4_k to 1e-6, the SIMD kernels like
  // ggml's plain AVX2 vec_dot and match llama-q4_k.norepack to 2e-6.)
  // Q4_0 on a CPU with AVX512-VNNI: tandem repacks the weights
  // (tensor/repack.h), and the packed kernels sum block products in the order
  // of the scalar definition (bit-identical to vec_dot_reference), not in
  // ggml's SIMD order; on this model that flips the same Q8 rounding tie as
  // the reference path below (2.6e-3 on one row, argmax unchanged). Both
  // llama.cpp files (repacked and not) are compared.
  if (name.rfind("llama-q4_0", 0) == 0 && repack_available()) return 5e-3;
  return 1e-3;  // quantized weights with Q8 activations: integer dot products like ggml
}

TEST_P(ArchFixture, LogitsMatchLlamaCpp) {
  TANDEM_REQUIRE_SHARED("fixtures/arch");
  const std::string name = GetParam();  // "<model>[.norepack]"
  const std::string model = name.substr(0, name.find('.'));
  auto [batch, inc] = run_fixture(shared_path("fixtures/arch/" + model + ".gguf"),
                                  shared_path("fixtures/arch/" + name + ".logits.json"), 2);
  double tol = tolerance(name);
  if (name == "llama-q4_k") {
    auto [other, other_inc] = run_fixture(shared_path("fixtures/arch/llama-q4_k.gguf"),
                                          shared_path("fixtures/arch/llama-q4_k.norepack.logits.json"), 1);
    std::printf("llama-q4_k vs the norepack file: batch %.3g, incremental %.3g\n", other.max_abs, other_inc.max_abs);
    const bool matches_norepack = other.max_abs < 1e-3 && other_inc.max_abs < 1e-3;
    const bool matches_default = batch.max_abs < 1e-3 && inc.max_abs < 1e-3;
    EXPECT_TRUE(matches_norepack || matches_default);
    tol = 0.15;
  }
  EXPECT_LT(batch.max_abs, tol);
  EXPECT_LT(inc.max_abs, tol);
  EXPECT_EQ(batch.argmax_mismatches, 0);
  EXPECT_EQ(inc.argmax_mismatches, 0);
  if (name.find("q4_0") != std::string::npos || name.find("q5_0") != std::string::npos) {
    // The scalar reference path (encode_activations_reference,
    // vec_dot_reference) must agree as well. It sums block products in
    // another order than the SIMD kernels (and ggml), which on this model
    // flips one Q8 rounding tie downstream: 2.6e-3 on one row of Q4_0.
    set_reference_kernels(true);
    auto [ref, ref_inc] = run_fixture(shared_path("fixtures/arch/" + model + ".gguf"),
                                      shared_path("fixtures/arch/" + name + ".logits.json"), 1);
    set_reference_kernels(false);
    EXPECT_LT(ref.max_abs, 5e-3);
    EXPECT_LT(ref_inc.max_abs, 5e-3);
  }
  if (name == "llama-q4_k") {
    auto [other, other_inc] = run_fixture(shared_path("fixtures/arch/llama-q4_k.gguf"),
                                          shared_path("fixtures/arch/llama-q4_k.norepack.logits.json"), 1);
    EXPECT_LT(other.max_abs, 0.15);
    EXPECT_LT(other_inc.max_abs, 0.15);
  }
  std::printf("%s: max |logit diff| batch %.3g, incremental %.3g (bound %.0e)\n", name.c_str(), batch.max_abs,
              inc.max_abs, tol);
}

// Greedy generation (fixtures/arch/*.gen.json): prompt as one batch, then one
// token per step, stopping after an end-of-generation token (which is
// included in generated_tokens).
TEST_P(ArchFixture, GreedyGenerationMatchesLlamaCpp) {
  TANDEM_REQUIRE_SHARED("fixtures/arch");
  const std::string name = GetParam();
  const std::string model_name = name.substr(0, name.find('.'));
  auto model = Transformer::load(shared_path("fixtures/arch/" + model_name + ".gguf"), {.n_threads = 2});
  const auto j = testing::read_json_lossy(shared_path("fixtures/arch/" + name + ".gen.json"));
  const auto prompt = j["prompt_tokens"].get<std::vector<TokenId>>();
  const auto want = j["generated_tokens"].get<std::vector<TokenId>>();
  KvCache cache = model->new_cache(64);
  ForwardContext ctx = model->new_context();
  std::vector<float> logits;
  model->forward(ctx, cache, prompt, Logits::kLast, logits);
  std::vector<TokenId> got;
  for (size_t i = 0; i < want.size(); ++i) {
    TokenId best = 0;
    for (TokenId v = 1; v < model->config().n_vocab; ++v) {
      if (logits[static_cast<size_t>(v)] > logits[static_cast<size_t>(best)]) best = v;
    }
    got.push_back(best);
    if (model->tokenizer().is_eog(best)) break;
    model->forward(ctx, cache, std::span<const TokenId>(&best, 1), Logits::kLast, logits);
  }
  EXPECT_EQ(got, want);
}

INSTANTIATE_TEST_SUITE_P(All, ArchFixture,
                         ::testing::Values("llama-f32", "llama-f16", "llama-bf16", "llama-q8_0", "llama-q4_0.norepack", "llama-q4_0", "llama-q4_1", "llama-q5_0", "llama-q5_1", "llama-q4_k", "llama-q5_k", "llama-q6_k",
                                           "qwen2-f32", "qwen3-f32", "gemma-f32", "phi3-f32", "phi3v-f32"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s) if (ch == '-' || ch == '.') ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace tandem
