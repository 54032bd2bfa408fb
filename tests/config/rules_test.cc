// The verdict and self_verify rules in a config: their keys parsed, the judge
// a model reference like any other (unknown names, cycles, its type, built
// before the cascade and handed to it), and every misplaced or bad key an
// error at its own file:line:column (columns found in the YAML text here).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compose/cascade.h"
#include "config/build.h"
#include "config/config.h"
#include "config/engine.h"
#include "config_fixture.h"
#include "test_util.h"

namespace tandem::config::testing {
namespace {

using ConfigRules = ConfigDir;

const std::string kHead = "models:\n  tiny: {type: local, path: tiny.gguf}\n  base: {type: local, path: base.gguf}\n";
const std::string kPrices = "prices: {default_local: {per_second: 0}}\n";

// Line 4 of the config: a cascade of tiny then base with `rule`.
std::string cascade_line(const std::string& rule) {
  return "  c: {type: cascade, stages: [tiny, base], rule: " + rule + "}\n";
}
// "c.yaml:4:<column of needle in line 4>: message".
std::string at4(const std::string& rule, const std::string& needle, const std::string& message) {
  const size_t col = cascade_line(rule).find(needle);
  EXPECT_NE(col, std::string::npos) << needle;
  return "c.yaml:4:" + std::to_string(col + 1) + ": " + message;
}

TEST_F(ConfigRules, VerdictAndSelfVerifyParse) {
  const Config c = load_text(kHead + cascade_line(
                                         "{signal: verdict, judge: base, threshold: 0.6, template: \"Q {question} A "
                                         "{answer}\", verdict: \" Correct\", against: \" Wrong\"}") +
                             "  s: {type: cascade, stages: [tiny, base], rule: {signal: self_verify, threshold: 0.5, "
                             "samples: 3, temperature: 0.9, template: \"{answer}?\"}}\n"
                             "  d: {type: cascade, stages: [tiny, base], rule: {signal: verdict, judge: base, "
                             "threshold: .inf}}\n" +
                             kPrices);
  const RuleSpec& v = std::get<CascadeSpec>(c.find("c")->spec).rules.at(0);
  EXPECT_EQ(v.signal, "verdict");
  EXPECT_EQ(v.threshold, 0.6);
  ASSERT_TRUE(v.judge.has_value());
  EXPECT_EQ(v.judge->name, "base");
  EXPECT_EQ(v.judge->at.line, 4);
  EXPECT_EQ(v.judge->at.column, 75);  // "base" after "judge: " (counted by hand)
  EXPECT_EQ(v.templ, "Q {question} A {answer}");
  EXPECT_EQ(v.verdict, " Correct");
  EXPECT_EQ(v.against, " Wrong");
  EXPECT_FALSE(v.samples.has_value());
  // The judge is a reference of the cascade, in file order after the stages.
  const auto refs = c.find("c")->references();
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[2]->name, "base");
  EXPECT_EQ(refs[2]->at.column, 75);

  const RuleSpec& s = std::get<CascadeSpec>(c.find("s")->spec).rules.at(0);
  EXPECT_EQ(s.signal, "self_verify");
  EXPECT_EQ(s.samples, 3);
  EXPECT_EQ(s.temperature, 0.9f);
  EXPECT_EQ(s.templ, "{answer}?");
  EXPECT_FALSE(s.judge.has_value());
  const RuleSpec& d = std::get<CascadeSpec>(c.find("d")->spec).rules.at(0);
  EXPECT_FALSE(d.templ.has_value() || d.verdict.has_value() || d.against.has_value());
}

TEST_F(ConfigRules, ErrorsAtTheirPlace) {
  const auto check = [&](const std::string& rule, const std::string& needle, const std::string& message) {
    EXPECT_EQ(error_of(kHead + cascade_line(rule) + kPrices), at4(rule, needle, message)) << rule;
  };
  std::string r = "{signal: verdict, threshold: 0.6}";
  check(r, "{signal", "the rule of cascade 'c' needs 'judge'");
  r = "{signal: verdict, judge: bse, threshold: 0.6}";
  check(r, "bse", "unknown model 'bse' (did you mean 'base'?)");
  r = "{signal: verdict, judge: base, threshold: 1.5}";
  check(r, "1.5", "threshold 1.5 of verdict must be a share in [0, 1] (or -.inf / .inf)");
  r = "{signal: self_verify, threshold: -0.5}";
  check(r, "-0.5", "threshold -0.5 of self_verify must be a share in [0, 1] (or -.inf / .inf)");
  r = "{signal: verdict, judge: base, threshold: 0.6, samples: 3}";
  check(r, "samples", "'samples' is used only by signal agreement or self_verify, not by verdict");
  r = "{signal: verdict, judge: base, threshold: 0.6, temperature: 0.5}";
  check(r, "temperature", "'temperature' is used only by signal agreement or self_verify, not by verdict");
  r = "{signal: self_verify, threshold: 0.6, judge: base}";
  check(r, "judge", "'judge' is used only by signal verdict, not by self_verify");
  r = "{signal: self_verify, threshold: 0.6, verdict: \" Yes\"}";
  check(r, "verdict:", "'verdict' is used only by signal verdict, not by self_verify");
  r = "{signal: self_verify, threshold: 0.6, k: 3}";
  check(r, "k:", "'k' is used only by signal agreement, not by self_verify");
  r = "{signal: mean_logprob, threshold: -1, template: \"{answer}\"}";
  check(r, "template", "'template' is used only by signal verdict or self_verify, not by mean_logprob");
  r = "{signal: agreement, threshold: 0.5, against: \" No\"}";
  check(r, "against", "'against' is used only by signal verdict, not by agreement");
  r = "{signal: self_verify, threshold: 0.5, samples: 0}";
  check(r, "0}", "'samples' of the rule of cascade 'c' must be an integer >= 1, got '0'");
  r = "{signal: self_verify, threshold: 0.5, template: \"no placeholder\"}";
  check(r, "\"no", "'template' of the rule of cascade 'c' has no {answer} placeholder (every answer would be judged "
                   "the same)");
  r = "{signal: verdict, judge: base, threshold: 0.5, verdict: \"\"}";
  check(r, "\"\"", "'verdict' of the rule of cascade 'c' must be a non-empty string, got ''");
  r = "{signal: verdict, judge: [base], threshold: 0.5}";
  check(r, "[base]", "'judge' of the rule of cascade 'c' must be a model name, got a list");
}

TEST_F(ConfigRules, AnUnknownKeyIsAnErrorAtIt) {
  const std::string r = "{signal: verdict, judges: base, threshold: 0.6}";
  const std::string e = error_of(kHead + cascade_line(r) + kPrices);
  EXPECT_EQ(e.rfind(at4(r, "judges", "unknown key 'judges' in the rule of cascade 'c'"), 0), 0u) << e;
}

TEST_F(ConfigRules, TheJudgeMustBeALocalModelAndNoCycle) {
  const std::string judged_by_cascade =
      "  other: {type: cascade, stages: [tiny, base], rule: {signal: min_logprob, threshold: -1}}\n";
  std::string r = "{signal: verdict, judge: other, threshold: 0.5}";
  EXPECT_EQ(error_of(kHead + cascade_line(r) + judged_by_cascade + kPrices),
            at4(r, "other", "judge 'other' of cascade 'c' must be a local model (it scores text), but it is a cascade"));
  // c's judge j ranks its samples with c as scorer: c -> j -> c.
  r = "{signal: verdict, judge: j, threshold: 0.5}";
  const std::string j = "  j: {type: local, path: small.gguf, strategy: best-of-n, scorer: c}\n";
  // Found where j names c again (line 5).
  EXPECT_EQ(error_of(kHead + cascade_line(r) + j + kPrices),
            "c.yaml:5:" + std::to_string(j.find("c}") + 1) + ": cycle: c -> j -> c");
}

class FakeModel : public api::Model {
 public:
  FakeModel(std::string name, bool scoring) : name_(std::move(name)), scoring_(scoring) {}
  const std::string& name() const override { return name_; }
  api::Capabilities capabilities() const override {
    api::Capabilities c;
    c.scoring = scoring_;
    return c;
  }
  api::Response complete(const api::Request&, const api::StreamCallback&) const override { return {}; }

 private:
  std::string name_;
  bool scoring_;
};

TEST_F(ConfigRules, TheJudgeIsBuiltFirstAndHandedToTheCascade) {
  const std::string text = "models:\n"
                           "  c: {type: cascade, stages: [tiny, base], rules: [{signal: verdict, judge: small, "
                           "threshold: 0.5}]}\n"
                           "  tiny: {type: local, path: tiny.gguf}\n"
                           "  base: {type: local, path: base.gguf}\n"
                           "  small: {type: local, path: small.gguf}\n" +
                           kPrices;
  const Config c = load_text(text);
  std::vector<std::string> order;
  std::map<std::string, ModelPtr> built;
  std::vector<ModelPtr> judges;
  Builders b;
  b.local = [&](const std::string& n, const LocalSpec&, const LocalHelpers&) {
    order.push_back(n);
    return built[n] = std::make_shared<FakeModel>(n, n == "small");
  };
  b.cascade = [&](const std::string& n, const CascadeSpec&, const std::vector<ModelPtr>&,
                  const std::vector<ModelPtr>& j) {
    order.push_back(n);
    judges = j;
    return std::make_shared<FakeModel>(n, false);
  };
  const std::vector<std::string> roots = {"c"};
  build(c, b, roots);
  EXPECT_EQ(order, (std::vector<std::string>{"tiny", "base", "small", "c"}));
  ASSERT_EQ(judges.size(), 1u);
  EXPECT_EQ(judges[0], built.at("small"));  // the very object built for `small`

  // The engine's cascade builder checks at build time that the judge scores.
  Builders e = engine_builders();
  e.local = b.local;
  EXPECT_NO_THROW(build(c, e, roots));
  const std::string no_scoring = "models:\n"
                                 "  c: {type: cascade, stages: [tiny, base], rule: {signal: verdict, judge: tiny, "
                                 "threshold: 0.5}}\n"
                                 "  tiny: {type: local, path: tiny.gguf}\n"
                                 "  base: {type: local, path: base.gguf}\n" +
                                 kPrices;
  try {
    build(load_text(no_scoring), e, roots);
    FAIL() << "a judge that cannot score was accepted";
  } catch (const Error& err) {
    std::string m = err.what();
    m = m.substr(m.rfind('/') + 1);
    EXPECT_EQ(m, "c.yaml:2:3: model 'c': rule 'verdict': the judge 'tiny' cannot score text (it needs scoring: a local "
                 "model)");
  }
}

TEST(ConfigRulesEngine, TheShippedVerdictCascadeBuildsWithBaseAsJudge) {
  const Config c = load(tandem::testing::source_path("configs/cascade.yaml"));
  const auto& judged = std::get<CascadeSpec>(c.find("tiny-judged-by-base")->spec);
  ASSERT_EQ(judged.rules.size(), 1u);
  EXPECT_EQ(judged.rules[0].signal, "verdict");
  EXPECT_EQ(judged.rules[0].judge->name, "base");
  const std::vector<std::string> roots = {"tiny-judged-by-base"};
  const ModelSet set = build(c, engine_builders({.threads = 1}), roots);
  const auto* cascade = dynamic_cast<const compose::Cascade*>(set.get("tiny-judged-by-base").get());
  ASSERT_NE(cascade, nullptr);
  api::Request q;
  q.prompt = "Tom has 2 apples and gets 3 more. How many apples does he have?";
  q.max_tokens = 8;
  q.sampling.temperature = 0.0f;
  const api::Response r = cascade->complete(q);
  bool judged_step = false;
  for (const api::TraceStep& t : r.trace) judged_step = judged_step || (t.model == "base" && t.signal == "verdict");
  EXPECT_TRUE(judged_step);
  EXPECT_EQ(r.usage.count("base"), 1u);  // the judge's scored tokens at least
}

}  // namespace
}  // namespace tandem::config::testing
