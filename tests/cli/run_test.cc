// tandem run: answers through the Model interface from a config or a GGUF,
// as text or JSON lines, and one clear error for bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace tandem {
namespace {

using testing::run_command;
using testing::shell_quote;
using testing::source_path;
using testing::tandem_binary;

std::string temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("tandem-run-test-" + name);
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> rows;
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t nl = out.find('\n', pos);
    rows.push_back(nlohmann::json::parse(out.substr(pos, nl - pos)));
    pos = nl == std::string::npos ? out.size() : nl + 1;
  }
  return rows;
}

const char* kQuestions[] = {
    "Question: Emma has 17 apples. Then Emma gives 8 apples to Tom. How many apples does Emma have now?\nAnswer:",
    "Question: Ben has 7 cards. Then Ben finds 7 more cards. How many cards does Ben have now?\nAnswer:",
    "Once upon a time",
};

// The cascade of configs/cascade.yaml on the bundled family, greedy: every
// answer is one of its stages' own greedy answers (tandem run on that stage
// alone), in input order, with usage, cost and a trace that say who answered.
TEST(RunCli, CascadeConfigAnswersEveryPromptAsJsonInInputOrder) {
  std::string rows;
  for (const char* q : kQuestions) rows += nlohmann::json{{"prompt", q}, {"id", rows.size()}}.dump() + "\n";
  const std::string prompts = temp_file("prompts.jsonl", rows);
  const std::string cfg = source_path("configs/cascade.yaml");
  const std::string run = tandem_binary() + " run -t 1 --config " + cfg + " --temp 0 -n 24 ";
  const auto r = run_command(run + "-m tiny-then-base --prompts " + prompts + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto answers = json_lines(r.out);
  ASSERT_EQ(answers.size(), std::size(kQuestions));
  std::set<std::string> who;
  for (size_t i = 0; i < answers.size(); ++i) {
    const nlohmann::json& a = answers[i];
    const std::string by = a.at("answered_by");
    ASSERT_TRUE(by == "tiny" || by == "base") << a.dump();
    who.insert(by);
    const auto alone = run_command(run + "-m " + by + " --json -p " + shell_quote(kQuestions[i]));
    ASSERT_EQ(alone.exit_code, 0) << alone.err;
    EXPECT_EQ(a.at("text"), json_lines(alone.out).at(0).at("text")) << i;
    // tiny always answers first; its own tokens are in the usage, priced per second.
    ASSERT_TRUE(a.at("usage").contains("tiny")) << a.dump();
    double cost = 0.0;
    for (const auto& [name, u] : a.at("usage").items()) {
      EXPECT_GT(u.at("prompt_tokens").get<int>(), 0) << name;
      cost += u.at("cost").get<double>();
    }
    EXPECT_NEAR(a.at("cost").get<double>(), cost, 1e-12);
    EXPECT_GT(a.at("cost").get<double>(), 0.0);
    EXPECT_GT(a.at("latency_ms").get<double>(), 0.0);
    // The cascade's decision on tiny: its signal against the config's threshold.
    bool decided = false;
    for (const auto& step : a.at("trace")) {
      if (step.at("model") == "tiny" && step.at("signal") == "mean_logprob") {
        decided = true;
        EXPECT_EQ(step.at("threshold").get<double>(), -0.06);
        EXPECT_EQ(step.at("decision"), by == "tiny" ? "accept" : "defer");
      }
    }
    EXPECT_TRUE(decided) << a.dump();
  }
}

// -m FILE.gguf without a config: the same text as tandem generate.
TEST(RunCli, AGgufWithoutAConfigAnswersLikeGenerate) {
  const std::string m = source_path("models/tandem-base.gguf");
  const auto run = run_command(tandem_binary() + " run -t 1 -m " + m + " -p 'Lily and Tom' --temp 0 -n 16 --no-display-prompt");
  const auto gen = run_command(tandem_binary() + " generate -t 1 -m " + m +
                               " -p 'Lily and Tom' --temp 0 -n 16 --no-display-prompt");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  EXPECT_EQ(run.out, gen.out);
  EXPECT_GT(run.out.size(), 2u);
  const auto shown = run_command(tandem_binary() + " run -t 1 -m " + m + " -p 'Lily and Tom' --temp 0 -n 16");
  EXPECT_EQ(shown.out, "Lily and Tom" + gen.out);
}

TEST(RunCli, BadInputIsOneClearError) {
  const std::string cfg = source_path("configs/cascade.yaml");
  const std::string m = source_path("models/tandem-tiny.gguf");
  struct Bad {
    std::string args, message;
  };
  const Bad cases[] = {
      {"--config " + cfg + " -m nosuch -p hi", "no model named 'nosuch'"},
      {"--config /nonexistent/c.yaml -p hi", "/nonexistent/c.yaml"},
      {"-m " + m, "give -p PROMPT or --prompts"},
      {"-p hi", "give -m MODEL.gguf, or --config"},
      {"-m " + m + " -p hi --system brief", "--system needs --chat"},
      {"-m " + m + " --prompts /nonexistent/p.jsonl", "/nonexistent/p.jsonl: cannot open"},
      {"-m " + m + " --prompts " + temp_file("bad.jsonl", "{\"prompt\": \"a\"}\n{oops\n"), "bad.jsonl:2: not valid JSON"},
      {"-m " + m + " --prompts " + temp_file("noprompt.jsonl", "{\"text\": \"a\"}\n"), "noprompt.jsonl:1: give exactly one"},
      {"-m " + m + " --prompts " + temp_file("empty.jsonl", "\n"), "no prompts"},
      {"-m " + m + " -p hi --top-k 5 --temp 0", "top-k"},  // a filter greedy decoding would ignore
  };
  for (const Bad& b : cases) {
    const auto r = run_command(tandem_binary() + " run " + b.args);
    EXPECT_EQ(r.exit_code, 1) << b.args;
    EXPECT_NE(r.err.find(b.message), std::string::npos) << b.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// --chat sends the prompt through the model's chat template (ChatML when the
// GGUF has none): the answer differs from the raw continuation.
TEST(RunCli, ChatRendersTheTemplate) {
  const std::string m = source_path("models/tandem-base.gguf");
  const std::string run = tandem_binary() + " run -t 1 -m " + m + " -p 'Lily and Tom' --temp 0 -n 12 --json";
  const auto raw = run_command(run);
  const auto chat = run_command(run + " --chat");
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  const int raw_prompt = json_lines(raw.out).at(0).at("usage").at("tandem-base").at("prompt_tokens");
  const int chat_prompt = json_lines(chat.out).at(0).at("usage").at("tandem-base").at("prompt_tokens");
  EXPECT_GT(chat_prompt, raw_prompt + 4);  // the template's role markers
}

}  // namespace
}  // namespace tandem
