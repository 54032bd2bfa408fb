// config/rewrite.h: a calibrated threshold written into a config's text keeps
// every other byte, and the result loads with the new threshold.
#include "config/rewrite.h"

#include <gtest/gtest.h>

#include <limits>

#include "config/config_fixture.h"

namespace tandem::config {
namespace {

using Rewrite = testing::ConfigDir;

const char* kConfig = R"(# a comment that must survive
models:
  tiny:  {type: local, path: tiny.gguf}
  small: {type: local, path: small.gguf}
  base:  {type: local, path: base.gguf}
  flow:
    type: cascade
    stages: [tiny, base]
    rule: {signal: mean_logprob, threshold: -0.06}   # hand-picked
  block:
    type: cascade
    stages: [tiny, small, base]
    rules:
      - signal: agreement
        k: 3
        threshold: 0.6
      - signal: min_logprob
        threshold: -4.0
prices: {default_local: {per_second: 0.0001}}
)";

const RuleSpec& rule_of(const Config& c, const std::string& model, size_t i) {
  return std::get<CascadeSpec>(c.find(model)->spec).rules.at(i);
}

TEST_F(Rewrite, FlowMapRuleKeepsTheRestOfTheFile) {
  const Config c = load_text(kConfig);
  const std::string out = with_threshold(kConfig, rule_of(c, "flow", 0), -0.021664);
  std::string want = kConfig;
  want.replace(want.find("-0.06"), 5, "-0.021664");
  EXPECT_EQ(out, want);
  const Config again = load(write("c.yaml", out));
  EXPECT_EQ(rule_of(again, "flow", 0).threshold, -0.021664);
  EXPECT_EQ(rule_of(again, "block", 0).threshold, 0.6);
}

TEST_F(Rewrite, BlockMapRulesEachTheirOwnKey) {
  const Config c = load_text(kConfig);
  const std::string second = with_threshold(kConfig, rule_of(c, "block", 1), -2.5);
  EXPECT_NE(second.find("threshold: 0.6\n"), std::string::npos);
  EXPECT_NE(second.find("threshold: -2.5\n"), std::string::npos);
  const std::string first = with_threshold(kConfig, rule_of(c, "block", 0), std::numeric_limits<double>::infinity());
  EXPECT_NE(first.find("threshold: .inf\n"), std::string::npos);
  EXPECT_NE(first.find("threshold: -4.0\n"), std::string::npos);
  const Config again = load(write("c.yaml", first));
  EXPECT_EQ(rule_of(again, "block", 0).threshold, std::numeric_limits<double>::infinity());
}

TEST_F(Rewrite, AThresholdTheRuleCannotTakeIsAnError) {
  const Config c = load_text(kConfig);
  // mean_logprob thresholds are <= 0: the edit does not load, and says so.
  EXPECT_THROW(with_threshold(kConfig, rule_of(c, "flow", 0), 0.5), Error);
  EXPECT_THROW(with_threshold(kConfig, rule_of(c, "flow", 0), std::numeric_limits<double>::quiet_NaN()), Error);
  EXPECT_EQ(yaml_number(-0.1), "-0.1");
  EXPECT_EQ(yaml_number(-std::numeric_limits<double>::infinity()), "-.inf");
}

}  // namespace
}  // namespace tandem::config
