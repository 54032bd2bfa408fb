// `type: stack` in a config: what loads, each error with its place (the
// templates are checked at load time), and a stack opened with the engine
// over the bundled models whose steps pass real text on.
#include <gtest/gtest.h>

#include <fstream>

#include "config/config_fixture.h"
#include "config/engine.h"
#include "test_util.h"

namespace tandem::config {
namespace {

using StackConfig = testing::ConfigDir;

const std::string kModels =
    "models:\n"
    "  tiny: {type: local, path: tiny.gguf}\n"
    "  base: {type: local, path: base.gguf}\n";
const std::string kPrices = "prices: {default_local: {per_second: 0}}\n";

TEST_F(StackConfig, LoadsAStackWithItsSteps) {
  const Config c = load_text(kModels +
                             "  s:\n"
                             "    type: stack\n"
                             "    steps:\n"
                             "      - {model: tiny, name: notes, template: \"Q: {input}\", max_tokens: 12, stop: [\"\\n\"]}\n"
                             "      - {model: base, template: \"{input} {notes}\"}\n" +
                             kPrices);
  const ModelSpec* s = c.find("s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type(), "stack");
  const auto& spec = std::get<StackSpec>(s->spec);
  ASSERT_EQ(spec.steps.size(), 2u);
  EXPECT_EQ(spec.steps[0].name, "notes");
  EXPECT_EQ(spec.steps[0].max_tokens, 12);
  EXPECT_EQ(spec.steps[0].stop, std::vector<std::string>{"\n"});
  EXPECT_EQ(spec.steps[1].templ, "{input} {notes}");
  ASSERT_EQ(s->references().size(), 2u);
  EXPECT_EQ(s->references()[1]->name, "base");
}

TEST_F(StackConfig, EachErrorPointsAtItsPlace) {
  const std::string head = kModels + "  s: {type: stack, steps: [";
  auto err = [&](const std::string& steps) { return error_of(head + steps + "]}\n" + kPrices); };
  EXPECT_EQ(err("{model: tiny, template: \"{input}\"}, {model: base, template: \"{inptu} {previous}\"}"),
            "c.yaml:4:88: the template of step 2 of stack 's': unknown placeholder {inptu}: use {input}, {previous} "
            "or an earlier step's name");
  EXPECT_EQ(err("{model: tiny, template: \"{input}\"}, {model: tiny, template: \"{previous}\"}"),
            "c.yaml:4:64: step 2 of stack 's' is named 'tiny' like step 1: give one of them a `name` of its own");
  EXPECT_EQ(err("{model: tiny, template: \"x\"}"),
            "c.yaml:4:52: the template of step 1 of stack 's': the first template must hold {input}");
  EXPECT_EQ(err("{model: tiny, template: \"{input}\", max_tokens: 5}").find("c.yaml:4:63: "), 0u);
  EXPECT_NE(err("{model: tiny, template: \"{input}\", max_tokens: 5}").find("the last step's max_tokens"), std::string::npos);
  EXPECT_NE(err("{model: tiny, template: \"{input}\", stop: 5}").find("last step's stop"), std::string::npos);
  EXPECT_NE(err("{model: tiny, template: \"{input}\", max_tokens: 0}, {model: base, template: \"{previous}\"}")
                .find("max_tokens 0"),
            std::string::npos);
  EXPECT_NE(err("{model: tyni, template: \"{input}\"}").find("unknown model 'tyni' (did you mean 'tiny'?)"), std::string::npos);
  EXPECT_NE(err("{model: tiny}").find("needs 'template'"), std::string::npos) << err("{model: tiny}");
  EXPECT_NE(err("tiny").find("step 1 of stack 's' must be a map"), std::string::npos);
  EXPECT_NE(err("{model: tiny, template: \"{input}\", temprature: 1}").find("temprature"), std::string::npos);
  EXPECT_NE(error_of(kModels + "  s: {type: stack, steps: []}\n" + kPrices).find("non-empty list"), std::string::npos);
  EXPECT_NE(error_of(kModels + "  s: {type: stack, steps: [{model: s, template: \"{input}\"}]}\n" + kPrices).find("cycle"),
            std::string::npos);
  EXPECT_NE(error_of(kModels + "  s: {type: stack, steps: [{model: tiny, template: \"{input}\"}]}\n" +
                     "prices: {default_local: {per_second: 0}, s: {per_second: 1}}\n")
                .find("stack 's' has no price of its own: its cost is the sum of its steps' costs"),
            std::string::npos);
  // A stack nests in a cascade and a cascade in a stack.
  EXPECT_EQ(error_of(kModels + "  c: {type: cascade, stages: [tiny, base], rule: {signal: mean_logprob, threshold: -1}}\n"
                               "  s: {type: stack, steps: [{model: c, template: \"{input}\"}, {model: tiny, template: \"{c}\"}]}\n"
                               "  c2: {type: cascade, stages: [s, base], rule: {signal: mean_logprob, threshold: -1}}\n" +
                     kPrices),
            "(loaded)");
}

TEST(StackEngine, AStackOverTheBundledModelsPassesItsFirstAnswerOn) {
  const auto dir = std::filesystem::temp_directory_path() / ("tandem-stack-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string tiny = tandem::testing::source_path("models/tandem-tiny.gguf");
  const std::string base = tandem::testing::source_path("models/tandem-base.gguf");
  std::ofstream(dir / "c.yaml") << "models:\n  tiny: {type: local, path: " << tiny << "}\n  base: {type: local, path: "
                                << base << "}\n  s:\n    type: stack\n    steps:\n"
                                << "      - {model: tiny, template: \"{input}\", max_tokens: 6}\n"
                                << "      - {model: base, template: \"Story: {previous}. Then\"}\n"
                                << "prices: {default_local: {per_second: 0}}\n";
  const ModelSet set = open((dir / "c.yaml").string(), {{"s"}}, {.threads = 1});
  api::Request q;
  q.prompt = "Once upon a time";
  q.max_tokens = 4;
  q.sampling.temperature = 0.0f;
  const api::Response r = set.get("s")->complete(q);
  // The reference: the same two calls made by hand on the same models.
  api::Request first = q;
  first.max_tokens = 6;
  std::string passed = set.get("tiny")->complete(first).text;
  passed.erase(0, passed.find_first_not_of(" \t\r\n"));
  passed.erase(passed.find_last_not_of(" \t\r\n") + 1);
  api::Request second = q;
  second.prompt = "Story: " + passed + ". Then";
  EXPECT_EQ(r.text, set.get("base")->complete(second).text);
  ASSERT_EQ(r.trace.size(), 4u);  // each local call's own step, then the stack's
  EXPECT_EQ(r.trace[1].decision, "pass");
  EXPECT_EQ(r.trace[1].text, passed);
  EXPECT_FALSE(passed.empty());
  EXPECT_EQ(r.answered_by, "base");
  EXPECT_EQ(r.usage.at("tiny").completion_tokens, 6);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tandem::config
