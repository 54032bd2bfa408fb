// The verdict and self_verify rules (compose/verdict_rules.h): signals
// computed by hand from scripted judge scores and scripted verification
// replies, their place in a cascade (accept / defer around the signal, NaN
// never accepting, usage and trace), make_rule()'s checks, and the verdict of
// a real bundled judge against a brute-force log-softmax over its logits.
#include "compose/verdict_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "compose/cascade.h"
#include "compose/scripted_model.h"
#include "compose/signals.h"
#include "local/local_model.h"
#include "brute_force.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

using testing::ScriptedModel;
using Answers = std::map<std::string, std::vector<testing::ScriptedAnswer>>;
constexpr double kInf = std::numeric_limits<double>::infinity();

// A judge whose scores are written in the test: score(prompt, continuation)
// gives the scripted per-token logprobs of `continuation` (any prompt), and
// records the prompts it was given.
class ScriptedJudge : public api::Model {
 public:
  ScriptedJudge(std::string name, std::map<std::string, std::vector<double>> scores)
      : name_(std::move(name)), scores_(std::move(scores)) {}
  const std::string& name() const override { return name_; }
  api::Capabilities capabilities() const override { return {.scoring = true, .vocabulary = "judge"}; }
  api::Response complete(const api::Request&, const api::StreamCallback& = {}) const override {
    throw Error("the judge only scores");
  }
  api::Score score(std::string_view prompt, std::string_view continuation) const override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      prompts_.emplace_back(prompt);
    }
    api::Score s;
    for (double lp : scores_.at(std::string(continuation))) {
      s.sum_logprob += lp;
      s.token_logprobs.push_back(lp);
      s.tokens.push_back("t");
    }
    return s;
  }
  std::vector<std::string> prompts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return prompts_;
  }

 private:
  std::string name_;
  std::map<std::string, std::vector<double>> scores_;
  mutable std::mutex mutex_;
  mutable std::vector<std::string> prompts_;
};

std::shared_ptr<ScriptedModel> stage() {
  return std::make_shared<ScriptedModel>("tiny", Answers{{"Q", {{{"it is ", -1}, {"4", -1}}}}}, 0.25);
}
std::shared_ptr<ScriptedModel> base() {
  return std::make_shared<ScriptedModel>("base", Answers{{"Q", {{{"b", -0.1}, {"a", -0.1}, {"se", -0.1}}}}}, 1.0);
}
api::Request ask(std::string prompt) {
  api::Request q;
  q.prompt = std::move(prompt);
  return q;
}

TEST(VerdictRule, TheDefaultTemplateIsTheBestOfNJudgesWording) {
  EXPECT_EQ(default_verdict_template(),
            "Question: {question}\nAnswer: {answer}\nIs the answer correct? (Yes or No)\nVerdict:");
  EXPECT_EQ(fill_rule_template("r", "{question}|{answer}|{answer}", "{answer}", "A"), "{answer}|A|A");
  EXPECT_THROW(fill_rule_template("r", "{question} only", "q", "a"), Error);
}

TEST(VerdictRule, SignalIsYesNormalizedAgainstNoInACascade) {
  // log p(" Yes") = -1 (one token), log p(" No") = -0.5 - 1.5 = -2 (two tokens):
  // p = e^-1 / (e^-1 + e^-2) = 0.7310585786...
  auto judge = std::make_shared<ScriptedJudge>("base", std::map<std::string, std::vector<double>>{
                                                           {" Yes", {-1.0}}, {" No", {-0.5, -1.5}}});
  const double p = std::exp(-1.0) / (std::exp(-1.0) + std::exp(-2.0));
  auto s = stage(), b = base();
  const Cascade accept({"c", {s, b}, {std::make_shared<VerdictRule>(0.73, VerdictOptions{.judge = judge})}});
  api::Response r = accept.complete(ask("Q"));
  EXPECT_EQ(r.answered_by, "tiny");
  EXPECT_EQ(r.text, "it is 4");
  ASSERT_EQ(r.trace.size(), 2u);
  EXPECT_EQ(r.trace[0].model, "base");  // the judge's step names the judge
  EXPECT_EQ(r.trace[0].signal, "verdict");
  EXPECT_EQ(r.trace[0].decision, "judge 'tiny'");
  EXPECT_NEAR(r.trace[0].value, p, 1e-12);
  EXPECT_EQ(r.trace[1].model, "tiny");
  EXPECT_EQ(r.trace[1].signal, "verdict");
  EXPECT_NEAR(r.trace[1].value, p, 1e-12);
  EXPECT_EQ(r.trace[1].threshold, 0.73);
  EXPECT_EQ(r.trace[1].decision, "accept");
  // The judge's usage: the three scored tokens, no completion, no cost.
  ASSERT_EQ(r.usage.count("base"), 1u);
  EXPECT_EQ(r.usage["base"].prompt_tokens, 3);
  EXPECT_EQ(r.usage["base"].completion_tokens, 0);
  EXPECT_EQ(r.usage["base"].cost, 0.0);
  EXPECT_EQ(r.usage["tiny"].completion_tokens, 2);
  // Both scores read the default template filled with the question and the answer.
  const std::string prompt = "Question: Q\nAnswer: it is 4\nIs the answer correct? (Yes or No)\nVerdict:";
  EXPECT_EQ(judge->prompts(), (std::vector<std::string>{prompt, prompt}));
  EXPECT_EQ(s->calls()[0].request.logprobs, -1);  // the verdict needs no logprobs

  // 0.7311 < 0.74: defer; the base answers, and the judge's usage stays.
  const Cascade defer({"c", {s, b}, {std::make_shared<VerdictRule>(0.74, VerdictOptions{.judge = judge})}});
  r = defer.complete(ask("Q"));
  EXPECT_EQ(r.answered_by, "base");
  EXPECT_EQ(r.trace[1].decision, "defer");
  ASSERT_EQ(r.trace.size(), 3u);
  EXPECT_EQ(r.trace[2].decision, "answer");
  EXPECT_EQ(r.usage["base"].prompt_tokens, 3 + ScriptedModel::kPromptTokens);
  EXPECT_EQ(r.usage["base"].completion_tokens, 3);
}

TEST(VerdictRule, CustomTextsChatQuestionAndExtremes) {
  // " Correct" at -3 against " Wrong" at -3: p = 1/2 exactly.
  auto judge = std::make_shared<ScriptedJudge>(
      "j", std::map<std::string, std::vector<double>>{{" Correct", {-3.0}}, {" Wrong", {-1.0, -2.0}},
                                                        {" Yes", {-kInf}}, {" No", {-kInf}}, {" Sure", {0.0}}});
  const VerdictRule custom(0.5, {.judge = judge, .templ = "[{question}] -> [{answer}]?", .verdict = " Correct",
                                 .against = " Wrong"});
  api::Request chat;
  chat.messages = {{"user", "first"}, {"assistant", "x"}, {"user", "What is 2+2?"}};
  api::Response a;
  a.text = "4";
  const std::vector<api::Response> answers = {a};
  EXPECT_EQ(custom.evaluate(chat, answers).value, 0.5);
  EXPECT_EQ(judge->prompts().back(), "[What is 2+2?] -> [4]?");
  // -inf for both verdicts: NaN, which even a -inf threshold does not accept.
  const VerdictRule nan_rule(-kInf, {.judge = judge});
  EXPECT_TRUE(std::isnan(nan_rule.evaluate(ask("Q"), answers).value));
  auto s = stage(), b = base();
  const Cascade c({"c", {s, b}, {std::make_shared<VerdictRule>(-kInf, VerdictOptions{.judge = judge})}});
  api::Response r = c.complete(ask("Q"));
  EXPECT_EQ(r.trace[1].decision, "defer");
  EXPECT_EQ(r.answered_by, "base");
  // A verdict the judge is sure of (log p = 0) against an impossible one: 1.
  const VerdictRule sure(1.0, {.judge = judge, .verdict = " Sure", .against = " No"});
  EXPECT_EQ(sure.evaluate(ask("Q"), answers).value, 1.0);
}

TEST(VerdictRule, RejectsAJudgeThatCannotScoreAndBadTexts) {
  auto judge = std::make_shared<ScriptedJudge>("j", std::map<std::string, std::vector<double>>{});
  const auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "(accepted)";
  };
  EXPECT_NE(message([&] { VerdictRule(0.5, {.judge = stage()}); }).find("judge 'tiny' cannot score"),
            std::string::npos);
  EXPECT_NE(message([&] { VerdictRule(0.5, {}); }).find("no judge"), std::string::npos);
  EXPECT_NE(message([&] { VerdictRule(0.5, {.judge = judge, .templ = "{question}"}); }).find("{answer}"),
            std::string::npos);
  EXPECT_NE(message([&] { VerdictRule(0.5, {.judge = judge, .verdict = " No"}); }).find("the same"),
            std::string::npos);
  EXPECT_NE(message([&] { VerdictRule(std::nan(""), {.judge = judge}); }).find("NaN"), std::string::npos);
}

TEST(SelfVerify, YesRecognition) {
  for (const char* yes : {"Yes", " yes", "\n  YES, it is", "yEs."}) EXPECT_TRUE(says_yes(yes)) << yes;
  for (const char* no : {"", "ye", "No", " no, yes", "Y es", "maybe yes"}) EXPECT_FALSE(says_yes(no)) << no;
}

// The stage answers "Q" with "it is 4"; asked to verify, its seed picks one of
// five one-token replies: " Yes", "no", "YES it is", " Nope", "yes".
std::shared_ptr<ScriptedModel> verifying_stage() {
  const std::string verify = "Question: Q\nAnswer: it is 4\nIs the answer correct? Answer Yes or No:";
  return std::make_shared<ScriptedModel>(
      "tiny",
      Answers{{"Q", {{{"it is ", -1}, {"4", -1}}}},
              {verify, {{{" Yes", -1}}, {{"no", -1}}, {{"YES it is", -1}}, {{" Nope", -1}}, {{"yes", -1}}}}},
      0.25);
}

TEST(SelfVerify, ShareOfYesRepliesInACascade) {
  auto s = verifying_stage(), b = base();
  api::Request q = ask("Q");
  q.sampling.temperature = 0.0f;
  q.sampling.seed = 0;  // the answer: seed 0; the checks: seeds 0..3 -> Yes, no, YES, Nope: 2 of 4
  const Cascade accept({"c", {s, b}, {std::make_shared<SelfVerifyRule>(0.5, SelfVerifyOptions{})}});
  api::Response r = accept.complete(q);
  EXPECT_EQ(r.answered_by, "tiny");
  EXPECT_EQ(r.text, "it is 4");
  ASSERT_EQ(r.trace.size(), 2u);
  EXPECT_EQ(r.trace[0].model, "tiny");
  EXPECT_EQ(r.trace[0].signal, "self_verify");
  EXPECT_EQ(r.trace[0].decision, "verify: 2 of 4 yes");
  EXPECT_EQ(r.trace[1].value, 0.5);
  EXPECT_EQ(r.trace[1].decision, "accept");
  // Five calls of the stage: 50 prompt tokens, 2 + 4 * 1 completion tokens, 6 * 0.25.
  ASSERT_EQ(r.usage.size(), 1u);
  EXPECT_EQ(r.usage["tiny"].prompt_tokens, 50);
  EXPECT_EQ(r.usage["tiny"].completion_tokens, 6);
  EXPECT_EQ(r.usage["tiny"].seconds, 2.5);
  EXPECT_EQ(r.cost(), 1.5);
  const auto calls = s->calls();
  ASSERT_EQ(calls.size(), 5u);
  for (size_t i = 1; i < calls.size(); ++i) {
    const api::Request& v = calls[i].request;
    EXPECT_EQ(v.prompt, "Question: Q\nAnswer: it is 4\nIs the answer correct? Answer Yes or No:");
    EXPECT_EQ(v.sampling.seed, std::optional<uint64_t>(i - 1));
    EXPECT_EQ(v.sampling.temperature, 0.7f);
    EXPECT_EQ(v.max_tokens, 8);
    EXPECT_EQ(v.logprobs, -1);
    EXPECT_FALSE(calls[i].streamed);
  }

  // 0.5 < 0.51: defer.
  const Cascade defer({"c", {s, b}, {std::make_shared<SelfVerifyRule>(0.51, SelfVerifyOptions{})}});
  r = defer.complete(q);
  EXPECT_EQ(r.answered_by, "base");
  EXPECT_EQ(r.trace[1].decision, "defer");

  // Seed 2, k = 3, at temperature 1: YES, Nope, yes: 2 of 3.
  s->clear_calls();
  q.sampling.seed = 2;
  const SelfVerifyRule three(0.6, {.samples = 3, .temperature = 1.0f});
  const Cascade c3({"c", {s, b}, {std::make_shared<SelfVerifyRule>(three)}});
  r = c3.complete(q);
  EXPECT_EQ(r.trace[1].value, 2.0 / 3);
  EXPECT_EQ(r.trace[1].decision, "accept");
  EXPECT_EQ(s->calls().back().request.sampling.temperature, 1.0f);

  // No seed: none in the checks either (the double then replies " Yes" to all).
  s->clear_calls();
  q.sampling.seed.reset();
  r = accept.complete(q);
  for (const auto& call : s->calls()) EXPECT_FALSE(call.request.sampling.seed.has_value());
  EXPECT_EQ(r.trace[1].value, 1.0);
}

TEST(SelfVerify, ChatRequestsAndACustomTemplate) {
  const SelfVerifyRule rule(0.5, {.samples = 2, .temperature = 0.5f, .templ = "Q={question} A={answer} ok?"});
  api::Request chat;
  chat.messages = {{"system", "be brief"}, {"user", "2+2?"}};
  const auto asks = rule.verify_requests(chat, "4");
  ASSERT_EQ(asks.size(), 2u);
  ASSERT_EQ(asks[0].messages.size(), 1u);
  EXPECT_EQ(asks[0].messages[0].role, "user");
  EXPECT_EQ(asks[0].messages[0].content, "Q=2+2? A=4 ok?");
  EXPECT_TRUE(asks[0].prompt.empty());
  // evaluate() without the stage is an error, not a silent signal.
  api::Response a;
  const std::vector<api::Response> answers = {a};
  EXPECT_THROW(rule.evaluate(chat, answers), Error);
  EXPECT_THROW(SelfVerifyRule(0.5, {.samples = 0}), Error);
  EXPECT_THROW(SelfVerifyRule(0.5, {.temperature = 0.0f}), Error);
  EXPECT_THROW(SelfVerifyRule(0.5, {.templ = "no placeholder"}), Error);
}

TEST(MakeRule, BuildsVerdictAndSelfVerifyAndRejectsForeignFields) {
  auto judge = std::make_shared<ScriptedJudge>("j", std::map<std::string, std::vector<double>>{});
  RuleOptions v;
  v.signal = "verdict";
  v.threshold = 0.6;
  v.judge = judge;
  EXPECT_EQ(make_rule(v)->signal(), "verdict");
  RuleOptions sv;
  sv.signal = "self_verify";
  sv.threshold = 0.5;
  sv.samples = 1;
  sv.templ = "{answer}?";
  EXPECT_EQ(make_rule(sv)->signal(), "self_verify");
  const auto rejects = [](RuleOptions o, const std::string& part) {
    try {
      make_rule(o);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  RuleOptions no_judge = v;
  no_judge.judge = nullptr;
  rejects(no_judge, "no judge");
  RuleOptions with_k = v;
  with_k.samples = 3;
  rejects(with_k, "'samples' is not used by the verdict signal");
  RuleOptions sv_judge = sv;
  sv_judge.judge = judge;
  rejects(sv_judge, "'judge' is not used by the self_verify signal");
  RuleOptions sv_verdict = sv;
  sv_verdict.verdict = " Yes";
  rejects(sv_verdict, "'verdict' is not used by the self_verify signal");
  RuleOptions agree_template;
  agree_template.signal = "agreement";
  agree_template.templ = "{answer}";
  rejects(agree_template, "'template' is not used by the agreement signal");
}

double brute_force_logprob(const Transformer& m, const std::string& prompt, const std::string& cont) {
  return tandem::testing::brute_force_score(m, prompt, cont).sum_logprob;
}

TEST(VerdictRule, RealJudgeGivesTheBruteForceProbability) {
  auto base_weights = local::load_shared(tandem::testing::source_path("models/tandem-base.gguf"), {.n_threads = 1});
  auto tiny = std::make_shared<local::LocalModel>(
      "tandem-tiny", local::load_shared(tandem::testing::source_path("models/tandem-tiny.gguf"), {.n_threads = 1}));
  auto judge = std::make_shared<local::LocalModel>("tandem-base", base_weights);
  ASSERT_TRUE(judge->capabilities().scoring);
  auto last = std::make_shared<local::LocalModel>("tandem-base-answer", base_weights);
  api::Request q = ask("Once upon a time, Lily had a red ball. What color was the ball?");
  q.sampling.temperature = 0.0f;
  q.max_tokens = 8;
  const Cascade c({"c", {tiny, last}, {std::make_shared<VerdictRule>(0.0, VerdictOptions{.judge = judge})}});
  const api::Response r = c.complete(q);
  // The last two steps: the judge's, then the cascade's (a local stage's own call step comes first).
  ASSERT_GE(r.trace.size(), 2u);
  const api::TraceStep& judged = r.trace[r.trace.size() - 2];
  EXPECT_EQ(r.answered_by, "tandem-tiny");  // threshold 0 accepts any p
  const std::string answer = r.text;
  const std::string prompt = "Question: " + q.prompt + "\nAnswer: " + answer +
                             "\nIs the answer correct? (Yes or No)\nVerdict:";
  const double lp_yes = brute_force_logprob(*base_weights, prompt, " Yes");
  const double lp_no = brute_force_logprob(*base_weights, prompt, " No");
  const double p = std::exp(lp_yes) / (std::exp(lp_yes) + std::exp(lp_no));
  EXPECT_EQ(judged.model, "tandem-base");
  EXPECT_EQ(judged.signal, "verdict");
  EXPECT_NEAR(judged.value, p, 1e-4) << "log p(Yes) " << lp_yes << ", log p(No) " << lp_no;
  EXPECT_GT(r.usage.at("tandem-base").prompt_tokens, 0);
  // Thresholds just around p: accept below, defer above.
  const Cascade below({"c", {tiny, last}, {std::make_shared<VerdictRule>(p - 1e-3, VerdictOptions{.judge = judge})}});
  EXPECT_EQ(below.complete(q).trace.back().decision, "accept");
  const Cascade above({"c", {tiny, last}, {std::make_shared<VerdictRule>(p + 1e-3, VerdictOptions{.judge = judge})}});
  const api::Response deferred = above.complete(q);
  EXPECT_EQ(deferred.answered_by, "tandem-base-answer");
  EXPECT_EQ(std::count_if(deferred.trace.begin(), deferred.trace.end(),
                          [](const api::TraceStep& t) { return t.decision == "defer"; }),
            1);
}

}  // namespace
}  // namespace tandem::compose
