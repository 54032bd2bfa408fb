// Budgets (compose/budget.h) on a hand-driven clock, and a cascade that skips
// a stage over budget or failing, with the trace and usage worked out by hand.
#include "compose/budget.h"

#include <gtest/gtest.h>

#include <limits>

#include "compose/cascade.h"
#include "compose/scripted_model.h"
#include "compose/signals.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

using testing::ScriptedModel;
constexpr double kInf = std::numeric_limits<double>::infinity();

api::Usage usage(double cost, int64_t tokens) { return {.prompt_tokens = tokens, .completion_tokens = 0, .seconds = 0, .cost = cost}; }

TEST(Budgets, SlidingWindowOfCostAndTokens) {
  double now = 0.0;
  Budgets b([&] { return now; });
  b.set("base", {.max_cost = 1.0, .window_s = 10.0});
  b.set("big", {.max_tokens = 100, .window_s = 60.0});
  EXPECT_FALSE(b.refusal("base"));
  EXPECT_FALSE(b.refusal("unlimited"));
  b.charge({{"base", usage(0.625, 5)}, {"unlimited", usage(100, 100)}});
  EXPECT_FALSE(b.refusal("base"));  // 0.625 < 1
  now = 1.0;
  b.charge({{"base", usage(0.5, 5)}});
  EXPECT_EQ(*b.refusal("base"), "over budget: cost 1.125 of 1 in the last 10 s");
  EXPECT_EQ(b.spent("base").tokens, 10);
  now = 10.0;  // the first charge (t = 0) leaves the window at t = 10
  EXPECT_FALSE(b.refusal("base"));
  EXPECT_EQ(b.spent("base").cost, 0.5);
  b.charge({{"big", usage(0, 60)}});
  EXPECT_FALSE(b.refusal("big"));
  b.charge({{"big", usage(0, 40)}});
  EXPECT_EQ(*b.refusal("big"), "over budget: 100 of 100 tokens in the last 60 s");
  EXPECT_EQ(b.spent("unlimited").cost, 0.0);  // no limit: not counted
  EXPECT_THROW(b.set("x", {.window_s = 0}), Error);
  EXPECT_THROW(b.set("x", {.max_cost = -1}), Error);
  EXPECT_THROW(b.set("x", {.max_cost = std::numeric_limits<double>::quiet_NaN()}), Error);
}

// tiny answers A and B (2 tokens at 0.125); base answers A, B, Q (3 tokens at 1.0).
std::shared_ptr<ScriptedModel> tiny() {
  return std::make_shared<ScriptedModel>(
      "tiny",
      std::map<std::string, std::vector<testing::ScriptedAnswer>>{{"A", {{{"t", -0.1}, {"A", -0.1}}}},
                                                                   {"B", {{{"t", -0.1}, {"B", -0.1}}}}},
      0.125);
}
std::shared_ptr<ScriptedModel> base() {
  std::map<std::string, std::vector<testing::ScriptedAnswer>> s;
  for (std::string p : {"A", "B", "Q"}) s[p] = {{{"b", -0.01}, {"-", -0.01}, {p, -0.01}}};
  return std::make_shared<ScriptedModel>("base", s, 1.0);
}
api::Request ask(const std::string& p) {
  api::Request r;
  r.prompt = p;
  return r;
}

TEST(BudgetedCascade, LastStageOverBudgetFallsBackToTheDeferredAnswer) {
  auto budgets = std::make_shared<Budgets>([] { return 0.0; });
  budgets->set("base", {.max_cost = 5.0, .window_s = 100.0});
  auto b = base();
  const Cascade c({"c", {tiny(), b}, {std::make_shared<MeanLogprobRule>(kInf)}}, budgets);  // always defers
  EXPECT_EQ(c.complete(ask("A")).answered_by, "base");  // spend 3
  EXPECT_EQ(c.complete(ask("B")).answered_by, "base");  // 3 < 5 before the call: spend 6
  const api::Response r = c.complete(ask("A"));
  EXPECT_EQ(r.answered_by, "tiny");
  EXPECT_EQ(r.text, "tA");
  ASSERT_EQ(r.trace.size(), 3u);
  EXPECT_EQ(r.trace[0].decision, "defer");
  EXPECT_EQ(r.trace[1].model, "base");
  EXPECT_EQ(r.trace[1].decision, "skip: over budget: cost 6 of 5 in the last 100 s");
  EXPECT_EQ(r.trace[2].model, "tiny");
  EXPECT_EQ(r.trace[2].decision, "answer: fallback");
  EXPECT_EQ(r.usage.count("base"), 0u);  // not asked: nothing spent, nothing reported
  EXPECT_EQ(r.cost(), 0.25);
  EXPECT_EQ(b->calls().size(), 2u);
  EXPECT_EQ(budgets->spent("base").cost, 6.0);  // charged from the usage the responses reported
}

TEST(BudgetedCascade, AFirstStageOverBudgetOrFailingIsSkipped) {
  auto budgets = std::make_shared<Budgets>([] { return 0.0; });
  budgets->set("tiny", {.max_cost = 0.0});
  const Cascade over({"c", {tiny(), base()}, {std::make_shared<MeanLogprobRule>(-kInf)}}, budgets);
  api::Response r = over.complete(ask("A"));
  EXPECT_EQ(r.answered_by, "base");
  ASSERT_EQ(r.trace.size(), 2u);
  EXPECT_EQ(r.trace[0].decision, "skip: over budget: cost 0 of 0 in the last 3600 s");
  EXPECT_EQ(r.trace[1].decision, "answer");
  // tiny has no script for Q: its error is a skip, base answers.
  const Cascade failing({"c", {tiny(), base()}, {std::make_shared<MeanLogprobRule>(-kInf)}});
  r = failing.complete(ask("Q"));
  EXPECT_EQ(r.answered_by, "base");
  ASSERT_EQ(r.trace.size(), 2u);
  EXPECT_EQ(r.trace[0].decision, "skip: failed: model 'tiny' has no script for 'Q'");
  // Nothing left to answer: one error naming the cascade.
  budgets->set("base", {.max_cost = 0.0});
  try {
    over.complete(ask("A"));
    FAIL() << "every stage is over budget";
  } catch (const UnavailableError& e) {
    EXPECT_NE(std::string(e.what()).find("cascade 'c': no stage could answer"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem::compose
