// Best-of-N / self-consistency / MBR candidates decoded in lockstep from one
// evaluation of the prompt: each candidate equals the same candidate
// generated alone with the same chain (seed), and the prompt is evaluated
// once (counted through a wrapper session).
#include <gtest/gtest.h>

#include <set>

#include "decode/rerank.h"
#include "decode/strategy.h"
#include "synthetic_session.h"
#include "test_util.h"

namespace tandem::decode {
namespace {

using testing::shared_path;
using testing::source_path;
using testing::SyntheticSession;

// Counts the tokens evaluated and eval() calls by a session and all its forks.
struct Counter {
  int64_t tokens = 0, calls = 0;
};
class CountingSession : public Session {
 public:
  CountingSession(std::unique_ptr<Session> inner, std::shared_ptr<Counter> c) : inner_(std::move(inner)), c_(std::move(c)) {}
  int32_t n_vocab() const override { return inner_->n_vocab(); }
  int64_t n_ctx() const override { return inner_->n_ctx(); }
  const std::vector<TokenId>& tokens() const override { return inner_->tokens(); }
  void eval(std::span<const TokenId> t, bool all, std::vector<float>& out) override {
    c_->tokens += static_cast<int64_t>(t.size());
    ++c_->calls;
    inner_->eval(t, all, out);
  }
  void truncate(int64_t n) override { inner_->truncate(n); }
  std::unique_ptr<Session> fork() const override { return std::make_unique<CountingSession>(inner_->fork(), c_); }

 private:
  std::unique_ptr<Session> inner_;
  std::shared_ptr<Counter> c_;
};

sample::SamplerChain chain_for(uint64_t seed) {
  sample::SamplingParams p;
  p.seed = seed;
  p.temperature = 1.0f;
  p.top_k = 0;
  return sample::make_chain(p);
}

TEST(Lockstep, SyntheticCandidatesEqualSoloRunsAndThePromptIsEvaluatedOnce) {
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  const Tokenizer& tok = model->tokenizer();
  const std::vector<TokenId> prompt = {1, 40, 41, 42, 43, 44, 45, 46};
  TextOptions text;
  text.n_predict = 30;
  text.stop = {"e"};  // candidates stop at different lengths
  const int n = 6;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    auto counter = std::make_shared<Counter>();
    CountingSession base(std::make_unique<SyntheticSession>(tok.n_vocab(), seed, 1.0f, 256), counter);
    auto got = sample_candidates(base, prompt, n, [&](int i) { return chain_for(100 * seed + static_cast<uint64_t>(i)); },
                                 tok, text);
    ASSERT_EQ(got.size(), static_cast<size_t>(n));
    int64_t solo_tokens = 0;
    std::set<std::vector<TokenId>> distinct;
    for (int i = 0; i < n; ++i) {
      auto solo_counter = std::make_shared<Counter>();
      CountingSession solo(std::make_unique<SyntheticSession>(tok.n_vocab(), seed, 1.0f, 256), solo_counter);
      auto chain = chain_for(100 * seed + static_cast<uint64_t>(i));
      OutputStream out(tok, text);
      out.enable_scoring();
      generate(solo, prompt, chain, out);
      const Generation want = out.finish();
      EXPECT_EQ(got[static_cast<size_t>(i)].tokens, want.tokens) << "seed " << seed << " candidate " << i;
      EXPECT_EQ(got[static_cast<size_t>(i)].text, want.text);
      EXPECT_EQ(got[static_cast<size_t>(i)].finish_reason, want.finish_reason);
      EXPECT_DOUBLE_EQ(got[static_cast<size_t>(i)].sum_logprob, want.sum_logprob);
      solo_tokens += solo_counter->tokens;
      distinct.insert(want.tokens);
    }
    EXPECT_GT(distinct.size(), 1u);
    // Solo runs each evaluate the prompt (minus its last token); lockstep does it once.
    const int64_t prompt_part = static_cast<int64_t>(prompt.size()) - 1;
    EXPECT_EQ(counter->tokens, solo_tokens - (n - 1) * prompt_part);
  }
}

TEST(Lockstep, BatchedLogitsEqualSingleSequenceLogits) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-q8_0.gguf");
  auto model = Transformer::load(shared_path("fixtures/arch/llama-q8_0.gguf"), {.n_threads = 1});
  const std::vector<TokenId> prompt = model->tokenizer().encode("Once upon a time", true, true);
  ModelSession base(*model, 64);
  std::vector<float> logits;
  base.eval(prompt, false, logits);
  std::vector<std::unique_ptr<Session>> forks;
  std::vector<Session*> ptrs;
  for (int i = 0; i < 3; ++i) {
    forks.push_back(base.fork());
    ptrs.push_back(forks.back().get());
  }
  const std::vector<TokenId> next = {5, 17, 5};
  std::vector<std::vector<float>> outs;
  eval_lockstep(ptrs, next, outs);
  for (size_t i = 0; i < next.size(); ++i) {
    auto solo = base.fork();
    std::vector<float> want;
    solo->eval(std::span<const TokenId>(&next[i], 1), false, want);
    ASSERT_EQ(outs[i].size(), want.size());
    for (size_t j = 0; j < want.size(); ++j) ASSERT_NEAR(outs[i][j], want[j], 1e-4f) << i << " " << j;
    EXPECT_EQ(ptrs[i]->n_past(), static_cast<int64_t>(prompt.size()) + 1);
    EXPECT_EQ(ptrs[i]->tokens().back(), next[i]);
  }
}

TEST(Lockstep, ModelCandidatesEqualSoloRuns) {
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  const Tokenizer& tok = model->tokenizer();
  const std::vector<TokenId> prompt = tok.encode("Lily and Tom went to the park.", true, true);
  TextOptions text;
  text.n_predict = 24;
  text.stop = {"."};
  const int n = 5;
  ModelSession base(*model, 128);
  auto got = sample_candidates(base, prompt, n, [](int i) { return chain_for(7 + static_cast<uint64_t>(i)); }, tok, text);
  EXPECT_EQ(base.n_past(), static_cast<int64_t>(prompt.size()) - 1);  // the base only holds the shared prompt
  for (int i = 0; i < n; ++i) {
    ModelSession solo(*model, 128);
    auto chain = chain_for(7 + static_cast<uint64_t>(i));
    OutputStream out(tok, text);
    generate(solo, prompt, chain, out);
    EXPECT_EQ(got[static_cast<size_t>(i)].tokens, out.finish().tokens) << "candidate " << i;
  }
}

TEST(Lockstep, RerankingCandidateIIsTheSampleStrategyWithSeedPlusI) {
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  StrategyOptions o;
  o.strategy = "self-consistency";
  o.sampling.temperature = 0.9f;
  o.sampling.seed = 40;
  o.text.n_predict = 16;
  o.n_samples = 4;
  o.grammar = R"(root ::= (" " [a-z]+)+ ".")";  // per-candidate grammar state in lockstep
  auto r = run_strategy(*model, "Once upon a time", o);
  ASSERT_EQ(r.candidates.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    StrategyOptions s = o;
    s.strategy = "sample";
    s.sampling.seed = o.sampling.seed + static_cast<uint64_t>(i);
    auto solo = run_strategy(*model, "Once upon a time", s);
    EXPECT_EQ(r.candidates[static_cast<size_t>(i)].tokens, solo.output.tokens) << i;
    EXPECT_EQ(r.candidates[static_cast<size_t>(i)].text, solo.output.text) << i;
  }
}

}  // namespace
}  // namespace tandem::decode
