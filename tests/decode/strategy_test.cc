// run_strategy end to end on real GGUF models: strategies that must agree do
// (greedy = speculative greedy = prompt lookup), stop strings and grammars hold
// on real tokenizers, errors are clear; contrastive and proxy decoding equal a
// brute-force evaluation of their formulas.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "decode/strategy.h"
#include "grammar/grammar_matcher.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::decode {
namespace {

using testing::shared_path;
using testing::source_path;

StrategyOptions opts(const std::string& strategy, int n) {
  StrategyOptions o;
  o.strategy = strategy;
  o.text.n_predict = n;
  o.text.ignore_eos = true;
  o.sampling.temperature = 0.0f;
  return o;
}

TEST(Strategy, GreedySpeculativeAndLookupAgreeOnText) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  auto model = Transformer::load(shared_path("fixtures/arch/llama-f32.gguf"), {.n_threads = 1});
  const std::string prompt = "Once upon a time, there was a little dog.";
  std::string streamed;
  auto greedy = run_strategy(*model, prompt, opts("greedy", 40), [&](std::string_view t) {
    streamed += t;
    return true;
  });
  EXPECT_EQ(greedy.output.tokens.size(), 40u);
  EXPECT_EQ(streamed, greedy.output.text);
  auto o = opts("speculative", 40);
  o.models.draft = Transformer::load(shared_path("fixtures/arch/llama-q8_0.gguf"), {.n_threads = 1});
  auto spec = run_strategy(*model, prompt, o);
  EXPECT_EQ(spec.output.tokens, greedy.output.tokens);
  EXPECT_EQ(spec.output.text, greedy.output.text);
  EXPECT_GT(spec.speculative.accepted, 0);
  EXPECT_NE(spec.summary().find("accepted"), std::string::npos);
  auto lookup = run_strategy(*model, prompt, opts("lookup", 40));
  EXPECT_EQ(lookup.output.tokens, greedy.output.tokens);
  // Logprobs from the verification passes equal those of plain decoding.
  auto with_lp = opts("greedy", 40);
  with_lp.text.logprobs = 2;
  auto g_lp = run_strategy(*model, prompt, with_lp);
  with_lp.strategy = "speculative";
  with_lp.models.draft = Transformer::load(shared_path("fixtures/arch/llama-q8_0.gguf"), {.n_threads = 1});
  auto s_lp = run_strategy(*model, prompt, with_lp);
  ASSERT_EQ(s_lp.output.logprobs.size(), g_lp.output.logprobs.size());
  for (size_t i = 0; i < g_lp.output.logprobs.size(); ++i)
    EXPECT_NEAR(s_lp.output.logprobs[i].logprob, g_lp.output.logprobs[i].logprob, 1e-3) << i;

  o.models.draft = Transformer::load(shared_path("fixtures/arch/phi3v-f32.gguf"), {.n_threads = 1});
  try {
    run_strategy(*model, prompt, o);
    FAIL() << "a draft with another vocabulary must be rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vocabulary differs"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run_strategy(*model, prompt, opts("beam", 4)), Error);
  EXPECT_THROW(run_strategy(*model, prompt, opts("speculative", 4)), Error);  // no draft model given
}

TEST(Strategy, StopStringCutsGreedyStoryText) {
  // stories260K greedy continuation of "Once upon a time" (fixtures/stories260K/greedy-1.json):
  // ", there was a little girl named Lily. She loved to play outside ..."
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  auto o = opts("greedy", 48);
  o.text.stop = {"Lily.", "zzz"};
  std::string streamed;
  auto r = run_strategy(*model, "Once upon a time", o, [&](std::string_view t) {
    streamed += t;
    return true;
  });
  EXPECT_EQ(r.output.text, ", there was a little girl named ");
  EXPECT_EQ(streamed, r.output.text);
  EXPECT_EQ(r.output.finish_reason, "stop");
}

TEST(Strategy, GreedyLogprobsPutTheChosenTokenFirst) {
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  auto o = opts("greedy", 10);
  o.text.logprobs = 3;
  auto r = run_strategy(*model, "The little dog", o);
  ASSERT_EQ(r.output.logprobs.size(), 10u);
  double sum = 0;
  for (size_t i = 0; i < 10; ++i) {
    const auto& lp = r.output.logprobs[i];
    EXPECT_EQ(lp.token, r.output.tokens[i]);
    ASSERT_EQ(lp.top.size(), 3u);
    EXPECT_EQ(lp.top[0].first, lp.token);  // greedy picks the most likely token
    EXPECT_FLOAT_EQ(lp.top[0].second, lp.logprob);
    EXPECT_LT(lp.logprob, 0.0f);
    sum += lp.logprob;
  }
  EXPECT_NEAR(r.output.sum_logprob, sum, 1e-4);
}

TEST(Strategy, GrammarAndSchemaConstrainSampledStories) {
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  for (uint64_t seed = 0; seed < 4; ++seed) {
    StrategyOptions o;
    o.strategy = "sample";
    o.sampling.seed = seed;
    o.sampling.temperature = 1.0f;
    o.text.n_predict = 60;
    o.grammar = "root ::= (\" \" [a-z]+){3,6} \".\"";
    auto r = run_strategy(*model, "Once upon a time", o);
    EXPECT_EQ(r.output.finish_reason, "eos") << r.output.text;
    grammar::GrammarMatcher m(std::make_shared<grammar::Grammar>(grammar::parse_gbnf(o.grammar)));
    EXPECT_TRUE(m.matches(r.output.text)) << r.output.text;

    o.grammar.clear();
    o.json_schema = R"({"type":"object","properties":{"name":{"type":"string","maxLength":10},"age":{"type":"integer"}},"required":["name","age"]})";
    o.text.n_predict = 200;
    r = run_strategy(*model, "Once upon a time", o);
    ASSERT_EQ(r.output.finish_reason, "eos") << r.output.text;
    auto doc = nlohmann::json::parse(r.output.text);
    EXPECT_TRUE(doc["name"].is_string());
    EXPECT_TRUE(doc["age"].is_number_integer());
  }
}

TEST(Strategy, RerankingPicksAmongDistinctCandidates) {
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  StrategyOptions o;
  o.strategy = "best-of-n";
  o.sampling.temperature = 1.0f;
  o.sampling.seed = 11;
  o.text.n_predict = 20;
  o.n_samples = 4;
  auto r = run_strategy(*model, "Lily and Tom", o);
  ASSERT_EQ(r.candidates.size(), 4u);
  EXPECT_NE(r.candidates[0].tokens, r.candidates[1].tokens);
  for (const auto& c : r.candidates) {
    EXPECT_LE(c.mean_logprob(), r.output.mean_logprob());
    EXPECT_LT(c.sum_logprob, 0.0);
  }
  o.strategy = "mbr";
  auto m = run_strategy(*model, "Lily and Tom", o);
  EXPECT_EQ(m.candidates.size(), 4u);
  EXPECT_EQ(m.output.text, m.candidates[m.chosen].text);
  // self-consistency: tests/decode/self_consistency_test.cc.
}

// The independent oracle for the combining strategies: at every step the
// test re-evaluates the whole context (prompt + the tokens the strategy chose
// so far) in a fresh cache of each model, takes log_softmax in double by
// hand, applies the paper's formula in a plain loop and takes the argmax.
// The formula gets the log-probabilities of the models, in the strategy's order.
using Formula = std::function<std::vector<double>(const std::vector<std::vector<double>>&)>;

std::vector<double> fresh_logprobs(const Transformer& m, const std::vector<TokenId>& context) {
  KvCache cache = m.new_cache(static_cast<int64_t>(context.size()));
  ForwardContext fc = m.new_context();
  std::vector<float> logits;
  m.forward(fc, cache, context, Logits::kLast, logits);
  double mx = -1e300;
  for (float l : logits) mx = std::max(mx, static_cast<double>(l));
  double sum = 0;
  for (float l : logits) sum += std::exp(l - mx);
  std::vector<double> lp(logits.size());
  for (size_t i = 0; i < lp.size(); ++i) lp[i] = logits[i] - mx - std::log(sum);
  return lp;
}

// Checks that `got` (the strategy's tokens after `prompt`) is, step by step,
// the argmax of formula(log-probabilities of `models`), and that each step's
// winner leads the runner-up by more than float noise (else the prompt would
// make a fragile test).
void expect_brute_force_argmax(const std::vector<Transformer*>& models, const std::vector<TokenId>& prompt,
                               const std::vector<TokenId>& got, const Formula& formula) {
  std::vector<TokenId> context = prompt;
  for (size_t step = 0; step < got.size(); ++step) {
    std::vector<std::vector<double>> lp;
    for (Transformer* m : models) lp.push_back(fresh_logprobs(*m, context));
    const std::vector<double> score = formula(lp);
    size_t best = 0;
    for (size_t t = 1; t < score.size(); ++t)
      if (score[t] > score[best]) best = t;
    double second = -std::numeric_limits<double>::infinity();
    for (size_t t = 0; t < score.size(); ++t)
      if (t != best) second = std::max(second, score[t]);
    ASSERT_GT(score[best] - second, 1e-3) << "near tie at step " << step << ": choose another prompt";
    EXPECT_EQ(got[step], static_cast<TokenId>(best)) << "step " << step;
    context.push_back(got[step]);
  }
}

TEST(Strategy, ContrastiveAndProxyEqualTheBruteForceFormula) {
  // tandem-base / -small / -tiny share one 512-token vocabulary.
  auto base = Transformer::load(source_path("models/tandem-base.gguf"), {.n_threads = 1});
  auto small = Transformer::load(source_path("models/tandem-small.gguf"), {.n_threads = 1});
  auto tiny = Transformer::load(source_path("models/tandem-tiny.gguf"), {.n_threads = 1});
  const std::string prompt_text = "Once upon a time, Tom";
  const std::vector<TokenId> prompt = base->tokenizer().encode(prompt_text, true, true);
  const int n = 10;
  const auto expert_greedy = run_strategy(*base, prompt_text, opts("greedy", n)).output.tokens;

  // Contrastive (Li et al. 2023): among tokens with p_expert >= alpha * max
  // p_expert, maximise log p_expert - log p_amateur.
  auto o = opts("contrastive", n);
  o.models.amateur = Transformer::load(source_path("models/tandem-tiny.gguf"), {.n_threads = 1});
  o.alpha = 0.05f;
  const auto c = run_strategy(*base, prompt_text, o).output.tokens;
  ASSERT_EQ(c.size(), static_cast<size_t>(n));
  const double alpha = o.alpha;
  expect_brute_force_argmax({base.get(), tiny.get()}, prompt, c, [&](const std::vector<std::vector<double>>& lp) {
    const auto& expert = lp[0];
    const auto& amateur = lp[1];
    double p_max = 0;
    for (double l : expert) p_max = std::max(p_max, std::exp(l));
    std::vector<double> s(expert.size(), -std::numeric_limits<double>::infinity());
    for (size_t t = 0; t < s.size(); ++t) {
      const double ratio = std::exp(expert[t]) / (alpha * p_max);
      EXPECT_GT(std::fabs(ratio - 1), 1e-4) << "token " << t << " sits on the plausibility cut: choose another prompt";
      if (ratio >= 1) s[t] = expert[t] - amateur[t];
    }
    return s;
  });
  EXPECT_NE(c, expert_greedy) << "the amateur never changed a choice: the check has no teeth";

  // Proxy-tuning (Liu et al. 2024): log p_base + strength * (log p_tuned -
  // log p_untuned).
  o = opts("proxy", n);
  o.models.expert = Transformer::load(source_path("models/tandem-small.gguf"), {.n_threads = 1});
  o.models.anti_expert = Transformer::load(source_path("models/tandem-tiny.gguf"), {.n_threads = 1});
  o.proxy_strength = 0.1f;  // here (0.05 to 0.1) the output differs from both s = 0 and s = 1
  const auto p = run_strategy(*base, prompt_text, o).output.tokens;
  ASSERT_EQ(p.size(), static_cast<size_t>(n));
  const double strength = o.proxy_strength;
  expect_brute_force_argmax({base.get(), small.get(), tiny.get()}, prompt, p,
                            [&](const std::vector<std::vector<double>>& lp) {
                              std::vector<double> s(lp[0].size());
                              for (size_t t = 0; t < s.size(); ++t) s[t] = lp[0][t] + strength * (lp[1][t] - lp[2][t]);
                              return s;
                            });
  EXPECT_NE(p, expert_greedy) << "the tuned/untuned pair never changed a choice: the check has no teeth";
  o.proxy_strength = 1.0f;
  EXPECT_NE(run_strategy(*base, prompt_text, o).output.tokens, p) << "the strength must matter: the check has no teeth";

  // tuned == untuned: proxy-tuning reduces to the base model's greedy output.
  o.models.expert = o.models.anti_expert = Transformer::load(source_path("models/tandem-tiny.gguf"), {.n_threads = 1});
  EXPECT_EQ(run_strategy(*base, prompt_text, o).output.tokens, expert_greedy);
}

}  // namespace
}  // namespace tandem::decode
