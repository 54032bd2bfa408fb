// Speculative decoding on real GGUF models (fixtures/arch: one random-weight
// llama model in several weight types, same vocabulary): greedy speculative
// output must equal the target's plain greedy output token for token.
#include <gtest/gtest.h>

#include "decode/speculative.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::decode {
namespace {

using testing::shared_path;

std::vector<TokenId> plain_greedy(const Transformer& m, const std::vector<TokenId>& prompt, int n) {
  ModelSession s(m, 256);
  std::vector<float> logits;
  s.eval(prompt, false, logits);
  std::vector<TokenId> out;
  for (int i = 0; i < n; ++i) {
    TokenId t = static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(t);
    s.eval(std::span<const TokenId>(&t, 1), false, logits);
  }
  return out;
}

TEST(SpeculativeModel, GreedyOutputEqualsTargetGreedy) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  auto target = Transformer::load(shared_path("fixtures/arch/llama-f32.gguf"), {.n_threads = 1});
  const std::vector<TokenId> prompt = target->tokenizer().encode("Once upon a time, there was a little dog.", true, true);
  const int n = 48;
  const auto want = plain_greedy(*target, prompt, n);
  for (const char* draft_file : {"llama-q8_0.gguf", "llama-q4_0.gguf"}) {
    auto draft_model = Transformer::load(shared_path(std::string("fixtures/arch/") + draft_file), {.n_threads = 1});
    ModelSession t(*target, 256), d(*draft_model, 256);
    require_same_vocabulary(t, d, "speculative decoding");
    DraftModelProposer proposer(d, true);
    GreedyVerifier verifier;
    AdaptiveDraftLength policy(4, 1, 8);
    SpeculativeStats st;
    auto got = speculative_generate(t, prompt, n, proposer, verifier, policy, [](TokenId, std::span<const float>) { return true; }, &st);
    EXPECT_EQ(got, want) << draft_file;
    EXPECT_GT(st.accepted, 0) << draft_file;
    std::printf("draft %s: %lld rounds for %d tokens, acceptance %.2f\n", draft_file,
                static_cast<long long>(st.rounds), n, st.acceptance_rate());
  }
  ModelSession t(*target, 256);
  PromptLookupProposer lookup;
  GreedyVerifier verifier;
  FixedDraftLength policy(4);
  EXPECT_EQ(speculative_generate(t, prompt, n, lookup, verifier, policy, [](TokenId, std::span<const float>) { return true; }, nullptr), want);
}

TEST(SpeculativeModel, DifferentVocabulariesAreRejected) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  auto a = Transformer::load(shared_path("fixtures/arch/llama-f32.gguf"), {.n_threads = 1});
  auto b = Transformer::load(shared_path("fixtures/arch/phi3v-f32.gguf"), {.n_threads = 1});
  ModelSession sa(*a, 16), sb(*b, 16);
  EXPECT_FALSE(same_vocabulary(a->tokenizer(), b->tokenizer()));
  EXPECT_THROW(require_same_vocabulary(sa, sb, "speculative decoding"), Error);
}

}  // namespace
}  // namespace tandem::decode
