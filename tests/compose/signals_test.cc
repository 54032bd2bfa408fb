// The deferral rules: logprob signals and agreement among k samples computed
// by hand on written answers, the config-facing make_rule() checks, and a new
// kind of rule (an evaluator's verdict) slotting into a cascade unchanged.
#include "compose/signals.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "compose/cascade.h"
#include "compose/scripted_model.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

using testing::ScriptedModel;
using Answers = std::map<std::string, std::vector<testing::ScriptedAnswer>>;

api::Response answer(std::string text, std::vector<double> logprobs = {}) {
  api::Response r;
  r.text = std::move(text);
  r.answered_by = "m";
  for (double lp : logprobs) r.logprobs.push_back({"t", lp, {}});
  return r;
}

Signal judge(const DeferralRule& rule, const std::vector<api::Response>& answers) {
  return rule.evaluate(api::Request{}, answers);
}

TEST(LogprobSignals, MeanAndMinByHand) {
  const std::vector<api::Response> a = {answer("abc", {-0.5, -1.5, -0.25})};
  EXPECT_NEAR(judge(MeanLogprobRule(0), a).value, -0.75, 1e-12);  // (-0.5 - 1.5 - 0.25) / 3
  EXPECT_EQ(judge(MinLogprobRule(0), a).value, -1.5);
  // An empty answer has no evidence: -inf, accepted by a -inf threshold only.
  const std::vector<api::Response> empty = {answer("")};
  EXPECT_EQ(judge(MeanLogprobRule(0), empty).value, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(judge(MinLogprobRule(0), empty).value, -std::numeric_limits<double>::infinity());
  // Text without the requested logprobs is an error naming the model.
  try {
    judge(MeanLogprobRule(0), {answer("abc")});
    FAIL() << "an answer without logprobs must be rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'m'"), std::string::npos) << e.what();
  }
}

TEST(AgreementSignal, ShareOfTheMajorityAnswerByHand) {
  const AgreementRule rule(0.5, {.samples = 5, .on = AgreeOn::kAnswer, .temperature = 0.7f});
  // 42 (twice with "####", once as the last number) vs 41 and 7: 3 of 5.
  Signal s = judge(rule, {answer("#### 42"), answer("so 42"), answer("#### 41"), answer("I think #### 42."),
                          answer("#### 7")});
  EXPECT_EQ(s.value, 0.6);
  EXPECT_EQ(s.chosen, 0u);
  // The majority first appears at sample 1.
  s = judge(rule, {answer("#### 1"), answer("#### 2"), answer("#### 2.0")});
  EXPECT_EQ(s.value, 2.0 / 3);
  EXPECT_EQ(s.chosen, 1u);
  // 7 (7 and 7.0) ties 42; the answer sampled first wins; "no answer" votes for nothing but counts.
  s = judge(rule, {answer("#### 7"), answer("#### 42"), answer("#### 42"), answer("no answer"), answer("#### 7.0")});
  EXPECT_EQ(s.value, 0.4);
  EXPECT_EQ(s.chosen, 0u);
  s = judge(rule, {answer("none"), answer("#### ?")});
  EXPECT_EQ(s.value, 0.0);
}

TEST(AgreementSignal, ShareOfIdenticalNormalizedText) {
  const AgreementRule rule(0.5, {.samples = 5, .on = AgreeOn::kText, .temperature = 0.7f});
  // "Paris" three times once whitespace is normalized; case still counts.
  Signal s = judge(rule, {answer("Paris"), answer(" Paris\n"), answer("paris"), answer("London"), answer("Paris  ")});
  EXPECT_EQ(s.value, 0.6);
  EXPECT_EQ(s.chosen, 0u);
  s = judge(rule, {answer("NewYork"), answer("New  York"), answer("New\tYork ")});
  EXPECT_EQ(s.value, 2.0 / 3);
  EXPECT_EQ(s.chosen, 1u);
}

// Five samples for "Q": answers 42, 42, 41, 42, 7 (3 of 5 agree), one token each.
std::shared_ptr<ScriptedModel> sampler() {
  return std::make_shared<ScriptedModel>(
      "sampler",
      Answers{{"Q", {{{"#### 42", -1}}, {{"so 42", -1}}, {{"#### 41", -1}}, {{"I think #### 42.", -1}}, {{"#### 7", -1}}}}},
      0.125, /*gives_logprobs=*/false);
}
std::shared_ptr<ScriptedModel> base() {
  return std::make_shared<ScriptedModel>("base", Answers{{"Q", {{{"b", -0.1}, {"a", -0.1}, {"se", -0.1}}}}}, 1.0);
}

TEST(AgreementSignal, InACascadeWithSeedsTemperatureAndUsage) {
  auto s = sampler(), b = base();
  api::Request q;
  q.prompt = "Q";
  q.sampling.temperature = 0.0f;
  q.sampling.seed = 0;
  const Cascade accept({"c", {s, b}, {std::make_shared<AgreementRule>(0.6, AgreementOptions{.samples = 5, .on = AgreeOn::kAnswer, .temperature = 0.7f})}});
  api::Response r = accept.complete(q);
  EXPECT_EQ(r.answered_by, "sampler");
  EXPECT_EQ(r.text, "#### 42");
  ASSERT_EQ(r.trace.size(), 1u);
  EXPECT_EQ(r.trace[0].signal, "agreement");
  EXPECT_EQ(r.trace[0].value, 0.6);
  EXPECT_EQ(r.trace[0].decision, "accept");
  // Five calls: 5 * 10 prompt tokens, 5 * 1 completion tokens, 5 * 0.5 s, 5 * 0.125.
  ASSERT_EQ(r.usage.size(), 1u);
  EXPECT_EQ(r.usage["sampler"].prompt_tokens, 50);
  EXPECT_EQ(r.usage["sampler"].completion_tokens, 5);
  EXPECT_EQ(r.usage["sampler"].seconds, 2.5);
  EXPECT_EQ(r.cost(), 0.625);
  const auto calls = s->calls();
  ASSERT_EQ(calls.size(), 5u);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].request.sampling.seed, std::optional<uint64_t>(i));
    EXPECT_EQ(calls[i].request.sampling.temperature, 0.7f);  // the rule's, not the caller's
    EXPECT_EQ(calls[i].request.logprobs, -1);
    EXPECT_FALSE(calls[i].streamed);
  }

  // 0.6 < 0.61: defer; the base answers, and usage holds all six calls.
  s->clear_calls();
  const Cascade defer({"c", {s, b}, {std::make_shared<AgreementRule>(0.61, AgreementOptions{.samples = 5, .on = AgreeOn::kAnswer, .temperature = 0.7f})}});
  q.sampling.seed = 10;  // seeds 10..14 pick the same five answers
  r = defer.complete(q);
  EXPECT_EQ(r.answered_by, "base");
  EXPECT_EQ(r.text, "base");
  EXPECT_EQ(r.trace[0].value, 0.6);
  EXPECT_EQ(r.trace[0].decision, "defer");
  EXPECT_EQ(r.usage["sampler"].completion_tokens, 5);
  EXPECT_EQ(r.usage["base"].completion_tokens, 3);
  EXPECT_EQ(r.cost(), 3.625);
  EXPECT_EQ(s->calls().back().request.sampling.seed, std::optional<uint64_t>(14));

  // No seed in the request: no seed in the samples (each draws its own).
  s->clear_calls();
  q.sampling.seed.reset();
  r = defer.complete(q);
  for (const auto& call : s->calls()) EXPECT_FALSE(call.request.sampling.seed.has_value());
  EXPECT_EQ(r.trace[0].value, 1.0);  // the double answers seed 0 to every call
}

// A config's `rule:` with only signal and threshold set.
RuleOptions rule_options(std::string signal, double threshold = 0.0) {
  RuleOptions o;
  o.signal = std::move(signal);
  o.threshold = threshold;
  return o;
}

template <typename F>
RuleOptions with(RuleOptions o, F set) {
  set(o);
  return o;
}

TEST(MakeRule, BuildsWhatAConfigDescribes) {
  auto r = make_rule(rule_options("mean_logprob", -0.35));
  EXPECT_EQ(r->signal(), "mean_logprob");
  EXPECT_EQ(r->threshold(), -0.35);
  EXPECT_TRUE(r->needs_logprobs());
  r = make_rule(rule_options("min_logprob", -2));
  EXPECT_EQ(r->signal(), "min_logprob");
  r = make_rule(rule_options("agreement", 0.6));
  EXPECT_FALSE(r->needs_logprobs());
  const auto asks = r->stage_requests(api::Request{});
  ASSERT_EQ(asks.size(), 5u);  // the default k
  EXPECT_EQ(asks[0].sampling.temperature, 0.7f);
  r = make_rule(with(rule_options("agreement", 0.5), [](auto& o) {
    o.samples = 3;
    o.agree_on = "text";
    o.temperature = 1.0f;
  }));
  EXPECT_EQ(r->stage_requests(api::Request{}).size(), 3u);
  // Text agreement: "a 1" and "a 1" agree although their answers differ from "b 1"'s text.
  EXPECT_EQ(judge(*r, {answer("a 1"), answer("b 1"), answer("a  1")}).value, 2.0 / 3);
}

TEST(MakeRule, RejectsWhatItCannotApply) {
  const auto rejects = [](const RuleOptions& o, const std::string& part) {
    try {
      make_rule(o);
      ADD_FAILURE() << "accepted signal '" << o.signal << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  rejects(rule_options("entropy"), "unknown rule signal 'entropy'");
  rejects(with(rule_options("mean_logprob"), [](auto& o) { o.samples = 5; }), "'samples' is not used by the mean_logprob signal");
  rejects(with(rule_options("min_logprob"), [](auto& o) { o.temperature = 0.5f; }), "'temperature' is not used by the min_logprob signal");
  rejects(rule_options("mean_logprob", std::nan("")), "NaN");
  rejects(with(rule_options("agreement"), [](auto& o) { o.agree_on = "vote"; }), "agree_on must be 'answer' or 'text'");
  rejects(with(rule_options("agreement"), [](auto& o) { o.samples = 1; }), "at least 2");
  rejects(with(rule_options("agreement"), [](auto& o) { o.temperature = 0.0f; }), "temperature must be");
  EXPECT_NO_THROW(make_rule(rule_options("mean_logprob", -std::numeric_limits<double>::infinity())));
}

// A rule of the compositions issue's kind: an evaluator model judges the
// answer. Its own calls' usage and trace must reach the cascade's response.
class VerdictRule : public DeferralRule {
 public:
  std::string_view signal() const override { return "verdict"; }
  double threshold() const override { return 0.5; }
  Signal evaluate(const api::Request&, std::span<const api::Response> answers) const override {
    Signal s;
    s.value = answers[0].text.find('4') != std::string::npos ? 1.0 : 0.0;
    s.usage["judge"] = {.prompt_tokens = 7, .completion_tokens = 1, .seconds = 0.25, .cost = 0.5};
    s.trace.push_back({"judge", "", 0.0, 0.0, "call", ""});
    return s;
  }
};

TEST(DeferralRuleInterface, ANewRuleSlotsIntoTheCascade) {
  auto first = std::make_shared<ScriptedModel>("first", Answers{{"Q", {{{"it is ", -1}, {"4", -1}}}}}, 0.25);
  const Cascade c({"c", {first, base()}, {std::make_shared<VerdictRule>()}});
  api::Request q;
  q.prompt = "Q";
  const api::Response r = c.complete(q);
  EXPECT_EQ(r.answered_by, "first");
  ASSERT_EQ(r.trace.size(), 2u);
  EXPECT_EQ(r.trace[0].model, "judge");
  EXPECT_EQ(r.trace[1].signal, "verdict");
  EXPECT_EQ(r.trace[1].decision, "accept");
  EXPECT_EQ(r.usage.at("judge").prompt_tokens, 7);
  EXPECT_EQ(r.cost(), 0.5 + 0.5);  // judge 0.5 + first 2 tokens * 0.25
  EXPECT_EQ(first->calls()[0].request.logprobs, -1);  // the verdict needs no logprobs
}

}  // namespace
}  // namespace tandem::compose
