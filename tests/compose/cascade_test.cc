// The cascade against scripted stages (scripted_model.h) whose answers,
// logprobs, usage and costs are written here: which stage answers each prompt,
// the trace, and the usage and cost sums are all computed by hand.
#include "compose/cascade.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "compose/scripted_model.h"
#include "compose/signals.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

using testing::ScriptedModel;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Per prompt: tokens (text, logprob). By hand:
//   tiny  A: mean -0.2,   min -0.3   (2 tokens)   B: mean -0.4,  min -0.6 (3)   C: mean -0.525, min -1.0 (2)
//   small A: mean -0.5,   min -0.5   (1)          B: mean -0.15, min -0.2 (2)   C: mean -1.05,  min -2.0 (2)
//   base  3 tokens each.
// Cost per token: tiny 0.125, small 0.25, base 1.
std::shared_ptr<ScriptedModel> tiny() {
  return std::make_shared<ScriptedModel>(
      "tiny",
      std::map<std::string, std::vector<testing::ScriptedAnswer>>{
          {"A", {{{"The answer", -0.1}, {" is 4", -0.3}}}},
          {"B", {{{"x", -0.2}, {"y", -0.6}, {"z", -0.4}}}},
          {"C", {{{"p", -1.0}, {"q", -0.05}}}}},
      0.125);
}
std::shared_ptr<ScriptedModel> small() {
  return std::make_shared<ScriptedModel>("small",
                                         std::map<std::string, std::vector<testing::ScriptedAnswer>>{
                                             {"A", {{{"a2", -0.5}}}},
                                             {"B", {{{"b2", -0.1}, {"b2'", -0.2}}}},
                                             {"C", {{{"c2", -2.0}, {"c2'", -0.1}}}}},
                                         0.25);
}
std::shared_ptr<ScriptedModel> base(bool logprobs = true) {
  std::map<std::string, std::vector<testing::ScriptedAnswer>> s;
  for (std::string p : {"A", "B", "C", "Q"}) s[p] = {{{"base-" + p + "1", -0.01}, {" 2", -0.02}, {" 3", -0.03}}};
  return std::make_shared<ScriptedModel>("base", s, 1.0, logprobs);
}

std::shared_ptr<const DeferralRule> mean_rule(double t) { return std::make_shared<MeanLogprobRule>(t); }
std::shared_ptr<const DeferralRule> min_rule(double t) { return std::make_shared<MinLogprobRule>(t); }

api::Request ask(const std::string& prompt) {
  api::Request r;
  r.prompt = prompt;
  return r;
}

void expect_step(const api::TraceStep& s, const std::string& model, const std::string& signal, double value,
                 double threshold, const std::string& decision) {
  EXPECT_EQ(s.model, model);
  EXPECT_EQ(s.signal, signal);
  if (std::isinf(value)) {
    EXPECT_EQ(s.value, value);
  } else {
    EXPECT_NEAR(s.value, value, 1e-12);
  }
  EXPECT_EQ(s.threshold, threshold);
  EXPECT_EQ(s.decision, decision);
}

void expect_usage(const api::Response& r, const std::string& model, int64_t prompt, int64_t completion, double seconds,
                  double cost) {
  ASSERT_TRUE(r.usage.count(model)) << model;
  const api::Usage& u = r.usage.at(model);
  EXPECT_EQ(u.prompt_tokens, prompt) << model;
  EXPECT_EQ(u.completion_tokens, completion) << model;
  EXPECT_EQ(u.seconds, seconds) << model;
  EXPECT_EQ(u.cost, cost) << model;  // exact: binary fractions
}

TEST(Cascade, MinusInfinityKeepsEveryPromptOnStageOne) {
  auto t = tiny(), b = base();
  const Cascade c({"tiny-then-base", {t, b}, {mean_rule(-kInf)}});
  const double mean[] = {-0.2, -0.4, -0.525};
  const std::string text[] = {"The answer is 4", "xyz", "pq"};
  for (int i = 0; i < 3; ++i) {
    const std::string p(1, static_cast<char>('A' + i));
    const api::Response r = c.complete(ask(p));
    EXPECT_EQ(r.answered_by, "tiny");
    EXPECT_EQ(r.text, text[i]);
    EXPECT_EQ(r.finish_reason, "stop");
    EXPECT_TRUE(r.logprobs.empty());  // requested for the rule only: stripped
    ASSERT_EQ(r.trace.size(), 1u);
    expect_step(r.trace[0], "tiny", "mean_logprob", mean[i], -kInf, "accept");
    EXPECT_EQ(r.usage.size(), 1u);
  }
  EXPECT_TRUE(b->calls().empty());
  // The rule's logprobs were asked of the stage (the caller did not ask).
  for (const auto& call : t->calls()) EXPECT_EQ(call.request.logprobs, 0);
}

TEST(Cascade, PlusInfinitySendsEveryPromptToTheLastStage) {
  auto t = tiny(), b = base();
  const Cascade c({"tiny-then-base", {t, b}, {min_rule(kInf)}});
  const double min[] = {-0.3, -0.6, -1.0};
  for (int i = 0; i < 3; ++i) {
    const std::string p(1, static_cast<char>('A' + i));
    const api::Response r = c.complete(ask(p));
    EXPECT_EQ(r.answered_by, "base");
    EXPECT_EQ(r.text, "base-" + p + "1 2 3");
    ASSERT_EQ(r.trace.size(), 2u);
    expect_step(r.trace[0], "tiny", "min_logprob", min[i], kInf, "defer");
    expect_step(r.trace[1], "base", "", 0.0, 0.0, "answer");
  }
  EXPECT_EQ(t->calls().size(), 3u);
  ASSERT_EQ(b->calls().size(), 3u);
  for (const auto& call : b->calls()) EXPECT_EQ(call.request.logprobs, -1);  // the caller's request, unchanged
}

// Which stage answered A, B, C.
std::vector<std::string> who(const Cascade& c) {
  std::vector<std::string> out;
  for (const char* p : {"A", "B", "C"}) out.push_back(c.complete(ask(p)).answered_by);
  return out;
}

TEST(Cascade, ThresholdsSplitPromptsAsComputedByHand) {
  const auto t = tiny(), b = base();
  using V = std::vector<std::string>;
  // mean: A -0.2, B -0.4, C -0.525.
  EXPECT_EQ(who(Cascade({"c", {t, b}, {mean_rule(-0.45)}})), (V{"tiny", "tiny", "base"}));
  EXPECT_EQ(who(Cascade({"c", {t, b}, {mean_rule(-0.3)}})), (V{"tiny", "base", "base"}));
  // min: A -0.3, B -0.6, C -1.0 — B's mean passes -0.45 but its min fails -0.5.
  EXPECT_EQ(who(Cascade({"c", {t, b}, {min_rule(-0.5)}})), (V{"tiny", "base", "base"}));
  EXPECT_EQ(who(Cascade({"c", {t, b}, {min_rule(-0.7)}})), (V{"tiny", "tiny", "base"}));
  EXPECT_EQ(who(Cascade({"c", {t, b}, {min_rule(-1.0)}})), (V{"tiny", "tiny", "tiny"}));  // >= accepts equality
}

TEST(Cascade, ThreeStagesWithARulePerStageAndExactUsage) {
  const Cascade c({"three", {tiny(), small(), base()}, {mean_rule(-0.3), min_rule(-0.5)}});
  // A: tiny mean -0.2 >= -0.3: tiny.
  api::Response r = c.complete(ask("A"));
  EXPECT_EQ(r.answered_by, "tiny");
  ASSERT_EQ(r.trace.size(), 1u);
  expect_usage(r, "tiny", 10, 2, 0.5, 0.25);
  EXPECT_EQ(r.usage.size(), 1u);
  // B: tiny mean -0.4 defers; small min -0.2 >= -0.5: small.
  r = c.complete(ask("B"));
  EXPECT_EQ(r.answered_by, "small");
  EXPECT_EQ(r.text, "b2b2'");
  ASSERT_EQ(r.trace.size(), 2u);
  expect_step(r.trace[0], "tiny", "mean_logprob", -0.4, -0.3, "defer");
  expect_step(r.trace[1], "small", "min_logprob", -0.2, -0.5, "accept");
  expect_usage(r, "tiny", 10, 3, 0.5, 0.375);
  expect_usage(r, "small", 10, 2, 0.5, 0.5);
  EXPECT_EQ(r.usage.size(), 2u);
  EXPECT_EQ(r.cost(), 0.875);
  // C: tiny mean -0.525 defers; small min -2.0 defers; base answers.
  r = c.complete(ask("C"));
  EXPECT_EQ(r.answered_by, "base");
  ASSERT_EQ(r.trace.size(), 3u);
  expect_step(r.trace[0], "tiny", "mean_logprob", -0.525, -0.3, "defer");
  expect_step(r.trace[1], "small", "min_logprob", -2.0, -0.5, "defer");
  expect_step(r.trace[2], "base", "", 0.0, 0.0, "answer");
  expect_usage(r, "tiny", 10, 2, 0.5, 0.25);
  expect_usage(r, "small", 10, 2, 0.5, 0.5);
  expect_usage(r, "base", 10, 3, 0.5, 3.0);
  const api::Usage total = r.total();
  EXPECT_EQ(total.prompt_tokens, 30);
  EXPECT_EQ(total.completion_tokens, 7);
  EXPECT_EQ(total.seconds, 1.5);
  EXPECT_EQ(r.cost(), 3.75);
  EXPECT_GE(r.latency_ms, 0.0);
}

TEST(Cascade, LogprobsTheCallerAskedForAreKept) {
  const Cascade c({"c", {tiny(), base()}, {mean_rule(-kInf)}});
  api::Request q = ask("A");
  q.logprobs = 0;
  const api::Response r = c.complete(q);
  ASSERT_EQ(r.logprobs.size(), 2u);
  EXPECT_EQ(r.logprobs[0].token, "The answer");
  EXPECT_EQ(r.logprobs[1].logprob, -0.3);
}

TEST(Cascade, StreamsOnlyTheReturnedAnswer) {
  auto t = tiny(), b = base();
  std::vector<std::string> chunks;
  const auto collect = [&](std::string_view s) {
    chunks.emplace_back(s);
    return true;
  };
  // Accepted at stage 1: its text is passed on in one piece.
  Cascade keep({"c", {t, b}, {mean_rule(-0.45)}});
  api::Response r = keep.complete(ask("B"), collect);
  EXPECT_EQ(chunks, std::vector<std::string>{"xyz"});
  EXPECT_EQ(r.text, "xyz");
  // Deferred: nothing of stage 1 reaches the caller; the last stage streams live.
  chunks.clear();
  r = keep.complete(ask("C"), collect);
  EXPECT_EQ(chunks, (std::vector<std::string>{"base-C1", " 2", " 3"}));
  EXPECT_EQ(r.text, "base-C1 2 3");
  for (const auto& call : t->calls()) EXPECT_FALSE(call.streamed);  // buffered
  ASSERT_EQ(b->calls().size(), 1u);
  EXPECT_TRUE(b->calls()[0].streamed);
}

TEST(Cascade, CancelStopsTheStreamingStage) {
  auto b = base();
  const Cascade c({"c", {tiny(), b}, {mean_rule(kInf)}});
  int seen = 0;
  const api::Response r = c.complete(ask("A"), [&](std::string_view) { return ++seen < 1; });
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(r.finish_reason, "cancelled");
  EXPECT_EQ(r.text, "base-A1");
  expect_usage(r, "base", 10, 1, 0.5, 1.0);  // one token produced before the stop
}

TEST(Cascade, RejectsAStageWithoutLogprobsAtConstruction) {
  const auto no_lp = base(/*logprobs=*/false);
  try {
    Cascade({"c", {no_lp, tiny()}, {mean_rule(-1.0)}});
    FAIL() << "a stage without logprobs under a logprob rule must be rejected";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cascade 'c'"), std::string::npos) << m;
    EXPECT_NE(m.find("stage 'base'"), std::string::npos) << m;
    EXPECT_NE(m.find("mean_logprob"), std::string::npos) << m;
  }
  // As the last stage it is never judged, and agreement needs no logprobs.
  EXPECT_NO_THROW(Cascade({"c", {tiny(), no_lp}, {mean_rule(-1.0)}}));
  EXPECT_NO_THROW(Cascade({"c", {no_lp, tiny()}, {std::make_shared<AgreementRule>(0.5, AgreementOptions{})}}));
}

TEST(Cascade, RejectsMalformedOptions) {
  EXPECT_THROW(Cascade({"c", {tiny()}, {mean_rule(-1.0)}}), Error);                 // one stage
  EXPECT_THROW(Cascade({"c", {tiny(), nullptr}, {mean_rule(-1.0)}}), Error);        // null stage
  EXPECT_THROW(Cascade({"c", {tiny(), base()}, {}}), Error);                        // no rule
  EXPECT_THROW(Cascade({"c", {tiny(), base()}, {nullptr}}), Error);                 // null rule
  EXPECT_THROW(Cascade({"c", {tiny(), small(), base()}, {mean_rule(0), mean_rule(0), mean_rule(0)}}), Error);
  EXPECT_NO_THROW(Cascade({"c", {tiny(), small(), base()}, {mean_rule(0)}}));      // one rule for all
}

TEST(Cascade, NestedCascadeMergesUsageAndTrace) {
  auto inner = std::make_shared<Cascade>(CascadeOptions{"inner", {tiny(), small()}, {mean_rule(-0.3)}});
  EXPECT_TRUE(inner->capabilities().logprobs);
  const Cascade outer({"outer", {inner, base()}, {min_rule(-0.5)}});
  // B: inner: tiny mean -0.4 defers, small answers (min -0.2); outer accepts.
  api::Response r = outer.complete(ask("B"));
  EXPECT_EQ(r.answered_by, "small");  // the innermost model that wrote the text
  EXPECT_EQ(r.text, "b2b2'");
  EXPECT_TRUE(r.logprobs.empty());
  ASSERT_EQ(r.trace.size(), 3u);
  expect_step(r.trace[0], "tiny", "mean_logprob", -0.4, -0.3, "defer");
  expect_step(r.trace[1], "small", "", 0.0, 0.0, "answer");
  expect_step(r.trace[2], "inner", "min_logprob", -0.2, -0.5, "accept");
  expect_usage(r, "tiny", 10, 3, 0.5, 0.375);
  expect_usage(r, "small", 10, 2, 0.5, 0.5);
  EXPECT_EQ(r.usage.size(), 2u);
  // C: inner: tiny defers, small answers (min -2.0); outer defers to base.
  r = outer.complete(ask("C"));
  EXPECT_EQ(r.answered_by, "base");
  ASSERT_EQ(r.trace.size(), 4u);
  expect_step(r.trace[0], "tiny", "mean_logprob", -0.525, -0.3, "defer");
  expect_step(r.trace[1], "small", "", 0.0, 0.0, "answer");
  expect_step(r.trace[2], "inner", "min_logprob", -2.0, -0.5, "defer");
  expect_step(r.trace[3], "base", "", 0.0, 0.0, "answer");
  expect_usage(r, "tiny", 10, 2, 0.5, 0.25);
  expect_usage(r, "small", 10, 2, 0.5, 0.5);
  expect_usage(r, "base", 10, 3, 0.5, 3.0);
  EXPECT_EQ(r.cost(), 3.75);
  // A: inner accepts tiny (mean -0.2); outer accepts it too (min -0.3).
  r = outer.complete(ask("A"));
  EXPECT_EQ(r.answered_by, "tiny");
  ASSERT_EQ(r.trace.size(), 2u);
  expect_step(r.trace[0], "tiny", "mean_logprob", -0.2, -0.3, "accept");
  expect_step(r.trace[1], "inner", "min_logprob", -0.3, -0.5, "accept");
}

TEST(Cascade, ProbeAsksEveryStageAndMeasuresEverySignal) {
  auto t = tiny(), sm = small(), b = base();
  const Cascade c({"three", {t, sm, b}, {mean_rule(-0.3), min_rule(-0.5)}});
  const std::vector<StageAnswer> p = c.probe(ask("A"));  // complete() would stop at tiny
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].stage, "tiny");
  EXPECT_EQ(p[0].signal, "mean_logprob");
  EXPECT_NEAR(p[0].value, -0.2, 1e-12);
  EXPECT_EQ(p[0].answer.text, "The answer is 4");
  EXPECT_EQ(p[1].stage, "small");
  EXPECT_EQ(p[1].signal, "min_logprob");
  EXPECT_NEAR(p[1].value, -0.5, 1e-12);
  EXPECT_EQ(p[2].stage, "base");
  EXPECT_EQ(p[2].signal, "");
  EXPECT_EQ(p[2].answer.text, "base-A1 2 3");
  EXPECT_EQ(p[2].answer.usage.at("base").cost, 3.0);
  EXPECT_EQ(t->calls().size(), 1u);
  EXPECT_EQ(sm->calls().size(), 1u);
  EXPECT_EQ(b->calls().size(), 1u);
}

// resolve() at any thresholds gives what a cascade built with those thresholds
// answers (the scripted stages are deterministic), trace and usage included.
TEST(Cascade, ResolveAtThresholdsEqualsTheCascadeBuiltWithThem) {
  const Cascade probed({"three", {tiny(), small(), base()}, {mean_rule(-0.3), min_rule(-0.5)}});
  const double grid[] = {-kInf, -1.0, -0.5, -0.45, -0.3, -0.2, 0.0, kInf};
  for (const char* prompt : {"A", "B", "C"})
    for (const double t1 : grid)
      for (const double t2 : grid) {
        const Cascade built({"three", {tiny(), small(), base()}, {mean_rule(t1), min_rule(t2)}});
        const api::Response want = built.complete(ask(prompt));
        const double ts[] = {t1, t2};
        const api::Response got = probed.resolve(ask(prompt), probed.probe(ask(prompt)), ts);
        SCOPED_TRACE(std::string(prompt) + " " + std::to_string(t1) + " " + std::to_string(t2));
        EXPECT_EQ(got.text, want.text);
        EXPECT_EQ(got.answered_by, want.answered_by);
        EXPECT_EQ(got.finish_reason, want.finish_reason);
        EXPECT_TRUE(got.logprobs.empty());
        EXPECT_EQ(got.cost(), want.cost());
        ASSERT_EQ(got.usage.size(), want.usage.size());
        ASSERT_EQ(got.trace.size(), want.trace.size());
        for (size_t k = 0; k < want.trace.size(); ++k)
          expect_step(got.trace[k], want.trace[k].model, want.trace[k].signal, want.trace[k].value,
                      want.trace[k].threshold, want.trace[k].decision);
      }
  // Empty thresholds: the rules' own (-0.3, -0.5): B goes to small.
  EXPECT_EQ(probed.resolve(ask("B"), probed.probe(ask("B"))).answered_by, "small");
}

TEST(Cascade, ResolveRejectsAForeignProbeOrAWrongThresholdCount) {
  const Cascade c({"c", {tiny(), base()}, {mean_rule(-0.3)}});
  const Cascade other({"o", {small(), base()}, {mean_rule(-0.3)}});
  EXPECT_THROW(c.resolve(ask("A"), other.probe(ask("A"))), Error);
  const double two[] = {0.0, 0.0};
  EXPECT_THROW(c.resolve(ask("A"), c.probe(ask("A")), two), Error);
}

TEST(Cascade, ConcurrentRequestsGetTheSequentialAnswers) {
  const Cascade c({"c", {tiny(), small(), base()}, {mean_rule(-0.3), min_rule(-0.5)}});
  const std::vector<std::string> want = who(c);
  std::vector<std::vector<std::string>> got(8);
  std::vector<std::thread> threads;
  for (auto& g : got)
    threads.emplace_back([&c, &g] {
      for (int i = 0; i < 20; ++i) g = who(c);
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

}  // namespace
}  // namespace tandem::compose
