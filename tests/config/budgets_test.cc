// The `budgets:` section: what loads, each error with its place, and a
// config opened with the engine whose cascade skips base once base's token
// budget is spent (real models; base's usage is what is charged).
#include <gtest/gtest.h>

#include <fstream>

#include "config/config_fixture.h"
#include "config/engine.h"
#include "test_util.h"

namespace tandem::config {
namespace {

using Budgets = testing::ConfigDir;

const std::string kModels =
    "models:\n"
    "  tiny: {type: local, path: tiny.gguf}\n"
    "  base: {type: local, path: base.gguf}\n"
    "  c: {type: cascade, stages: [tiny, base], rule: {signal: mean_logprob, threshold: -0.5}}\n"
    "prices: {default_local: {per_second: 0}}\n";

TEST_F(Budgets, LoadsLimitsAndWindows) {
  const Config c = load_text(kModels + "budgets:\n  base: {max_cost: 0.5, window_s: 60}\n  tiny: {max_tokens: 1000}\n");
  ASSERT_EQ(c.budgets.size(), 2u);
  EXPECT_EQ(*c.budgets.at("base").max_cost, 0.5);
  EXPECT_FALSE(c.budgets.at("base").max_tokens);
  EXPECT_EQ(c.budgets.at("base").window_s, 60.0);
  EXPECT_EQ(*c.budgets.at("tiny").max_tokens, 1000);
  EXPECT_EQ(c.budgets.at("tiny").window_s, 3600.0);
  EXPECT_EQ(c.budgets.at("base").at.line, 7);
}

TEST_F(Budgets, ErrorsNameThePlace) {
  EXPECT_EQ(error_of(kModels + "budgets:\n  bsae: {max_cost: 1}\n"),
            "c.yaml:7:3: a budget for unknown model 'bsae' (did you mean 'base'?)");
  EXPECT_NE(error_of(kModels + "budgets:\n  c: {max_cost: 1}\n").find("c.yaml:7:3: a budget applies to local and remote"),
            std::string::npos);
  EXPECT_NE(error_of(kModels + "budgets:\n  base: {window_s: 60}\n").find("needs max_cost or max_tokens"),
            std::string::npos);
  EXPECT_NE(error_of(kModels + "budgets:\n  base: {max_cost: -1}\n").find("c.yaml:7:20: 'max_cost' of the budget of 'base' must be a number >= 0"), std::string::npos);
  EXPECT_NE(error_of(kModels + "budgets:\n  base: {max_cost: 1, window_s: 0}\n").find("window_s"), std::string::npos);
  EXPECT_NE(error_of(kModels + "budgets:\n  base: {max_cost: 1, per: day}\n").find("unknown key 'per'"),
            std::string::npos);
}

TEST(BudgetsEngine, ACascadeSkipsBaseOnceItsTokenBudgetIsSpent) {
  const auto dir = std::filesystem::temp_directory_path() / ("tandem-budget-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "b.yaml").string();
  std::ofstream(path) << "models:\n"
                         "  tiny: {type: local, path: " << tandem::testing::source_path("models/tandem-tiny.gguf") << "}\n"
                         "  base: {type: local, path: " << tandem::testing::source_path("models/tandem-base.gguf") << "}\n"
                         "  c: {type: cascade, stages: [tiny, base], rule: {signal: mean_logprob, threshold: .inf}}\n"
                         "prices: {default_local: {per_second: 0}}\n"
                         "budgets: {base: {max_tokens: 1}}\n";
  const ModelSet set = open(path, {{"c"}}, {.threads = 1});
  api::Request q;
  q.prompt = "Once upon a time";
  q.max_tokens = 4;
  q.sampling.temperature = 0;
  const api::Response first = set.get("c")->complete(q);  // base under budget: asked, spends > 1 token
  EXPECT_EQ(first.answered_by, "base");
  const api::Response second = set.get("c")->complete(q);
  EXPECT_EQ(second.answered_by, "tiny");
  ASSERT_GE(second.trace.size(), 2u);  // tiny's own steps, its decision, then:
  const api::TraceStep& skip = second.trace[second.trace.size() - 2];
  EXPECT_EQ(skip.model, "base");
  EXPECT_EQ(skip.decision.rfind("skip: over budget: ", 0), 0u) << skip.decision;
  EXPECT_EQ(second.trace.back().decision, "answer: fallback");
  EXPECT_EQ(second.usage.count("base"), 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tandem::config
