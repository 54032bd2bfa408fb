// Best-of-N with a scorer (judge) model: each candidate's score equals the
// judge's log-probability of the verdict, computed here by brute force (one
// token at a time, log-softmax in double); the chosen candidate is the argmax.
// The judge may have another vocabulary; a missing or corrupt file is a clear
// error.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "decode/judge.h"
#include "decode/session.h"
#include "decode/strategy.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::decode {
namespace {

using testing::shared_path;
using testing::source_path;

double brute_force_verdict_logprob(const Transformer& judge, const std::string& text, const std::string& verdict) {
  const Tokenizer& tok = judge.tokenizer();
  std::vector<TokenId> ctx = tok.encode(text, true, true);
  const std::vector<TokenId> v = tok.encode(verdict, false, false);
  KvCache cache = judge.new_cache(static_cast<int64_t>(ctx.size() + v.size()));
  ForwardContext fc = judge.new_context();
  std::vector<float> logits;
  judge.forward(fc, cache, ctx, Logits::kLast, logits);
  double sum = 0;
  for (TokenId t : v) {
    double z = 0;
    for (float x : logits) z += std::exp(static_cast<double>(x));
    sum += static_cast<double>(logits[static_cast<size_t>(t)]) - std::log(z);
    judge.forward(fc, cache, std::span<const TokenId>(&t, 1), Logits::kLast, logits);
  }
  return sum;
}

TEST(Judge, FillsTemplatePlaceholders) {
  EXPECT_EQ(fill_judge_template("Q: {prompt}\nA: {candidate} ({prompt})", "2+2?", "4 {prompt}"),
            "Q: 2+2?\nA: 4 {prompt} (2+2?)");
  EXPECT_THROW(fill_judge_template("Q: {prompt}", "a", "b"), Error);
}

TEST(Judge, BestOfNWithScorerChoosesTheHighestVerdictLogprob) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/phi3v-f32.gguf");
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  auto judge = Transformer::load(shared_path("fixtures/arch/phi3v-f32.gguf"), {.n_threads = 1});
  ASSERT_FALSE(same_vocabulary(judge->tokenizer(), model->tokenizer()));  // another vocabulary is fine
  const std::string prompt = "Lily and Tom";
  for (const std::string& templ : {std::string(), std::string("Story: {prompt}{candidate}\nGood story?")}) {
    StrategyOptions o;
    o.strategy = "best-of-n";
    o.sampling.temperature = 1.0f;
    o.sampling.seed = 5;
    o.text.n_predict = 12;
    o.n_samples = 4;
    o.models.scorer = Transformer::load(shared_path("fixtures/arch/phi3v-f32.gguf"), {.n_threads = 1});
    o.scorer_template = templ;
    if (!templ.empty()) o.scorer_verdict = " yes it is";
    auto r = run_strategy(*model, prompt, o);
    ASSERT_EQ(r.candidates.size(), 4u);
    ASSERT_EQ(r.scores.size(), 4u);
    EXPECT_TRUE(r.judged);
    std::vector<double> want;
    for (const auto& c : r.candidates) {
      const std::string text = fill_judge_template(templ.empty() ? kDefaultJudgeTemplate : templ, prompt, c.text);
      want.push_back(brute_force_verdict_logprob(*judge, text, templ.empty() ? " Yes" : " yes it is"));
    }
    size_t best = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(r.scores[i], want[i], 1e-3) << i;
      EXPECT_LT(want[i], 0.0);
      if (want[i] > want[best]) best = i;
    }
    EXPECT_EQ(r.chosen, best);
    EXPECT_EQ(r.output.tokens, r.candidates[best].tokens);
    EXPECT_NE(r.summary().find("scorer logprob"), std::string::npos) << r.summary();
  }
}

// Loading a missing or corrupt scorer is the CLI's (tests/cli/generate_helpers_test.cc).
TEST(Judge, BadScorerOptionsAreAClearError) {
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  StrategyOptions o;
  o.strategy = "best-of-n";
  o.text.n_predict = 4;
  o.n_samples = 2;
  o.models.scorer = Transformer::load(shared_path("fixtures/arch/llama-f32.gguf"), {.n_threads = 1});
  o.scorer_template = "no placeholder";
  EXPECT_THROW(run_strategy(*model, "Lily", o), Error);
  o.scorer_template.clear();
  o.strategy = "mbr";
  EXPECT_THROW(run_strategy(*model, "Lily", o), Error);  // the scorer is for best-of-n only
}

TEST(Judge, CliBestOfNWithScorer) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  const std::string cmd = testing::tandem_binary() + " generate -m " + source_path("models/stories260K.gguf") +
                          " -p 'Lily and Tom' -n 8 --seed 3 --strategy best-of-n --n-samples 3 -v -t 1 --scorer ";
  auto ok = testing::run_command(cmd + shared_path("fixtures/arch/llama-f32.gguf"));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find("scorer logprob"), std::string::npos) << ok.err;
  auto bad = testing::run_command(cmd + "/nonexistent/judge.gguf");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("error: scorer model: /nonexistent/judge.gguf"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace tandem::decode
