// `tandem eval-math` and `tandem distill-data` as a user runs them, checked
// against `tandem generate` (a separate decoding path) and the trainer's own
// report for the shipped model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "test_util.h"

namespace tandem {
namespace {

using testing::read_json;
using testing::run_command;
using testing::source_path;
using testing::shell_quote;
using testing::tandem_binary;

std::vector<nlohmann::json> read_jsonl(const std::string& text) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

const std::string kTiny = source_path("models/tandem-tiny.gguf");

TEST(EvalMathCli, CountsTheProblemsGenerateAnswersCorrectly) {
  // The held-out problems, as synth-math writes them, answered one by one by
  // `tandem generate` and scored here with a regex on the "#### N" line.
  const int n = 12;
  auto problems = run_command(tandem_binary() + " synth-math -n " + std::to_string(n) + " --seed 65537 --difficulty 2");
  ASSERT_EQ(problems.exit_code, 0) << problems.err;
  int correct = 0;
  for (const auto& p : read_jsonl(problems.out)) {
    auto g = run_command(tandem_binary() + " generate -m " + shell_quote(kTiny) + " -p " + shell_quote(p["prompt"]) +
                         " --temp 0 -n 56 --no-display-prompt -t 1");
    ASSERT_EQ(g.exit_code, 0) << g.err;
    std::smatch m;
    const std::regex final_line("#### (-?[0-9]+)");
    if (std::regex_search(g.out, m, final_line) && m[1].str() == p["answer"].get<std::string>()) ++correct;
  }
  auto r = run_command(tandem_binary() + " eval-math -m " + shell_quote(kTiny) + " -n " + std::to_string(n) + " --json -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["problems"].get<int>(), n);
  EXPECT_EQ(j["correct"].get<int>(), correct);
}

TEST(EvalMathCli, ReproducesTheTrainersReportForTheShippedModel) {
  const auto report = read_json(source_path("models/tandem-tiny.report.json"));
  auto r = run_command(tandem_binary() + " eval-math -m " + shell_quote(kTiny) + " -n " +
                       std::to_string(report["math_heldout"].get<int>()) + " --difficulty " +
                       std::to_string(report["math_difficulty"].get<int>()) + " --json -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(r.out)["accuracy"].get<double>(), report["math_accuracy"].get<double>());
}

TEST(DistillDataCli, CompletionsAreTheTeachersGreedyGenerations) {
  const auto dir = std::filesystem::temp_directory_path() / "tandem_distill_test";
  std::filesystem::create_directories(dir);
  const std::string prompts = (dir / "prompts.jsonl").string(), out = (dir / "pairs.jsonl").string();
  const std::vector<std::string> texts = {"Once upon a time", "Tom had a red ball.", "Question: Sue has 4 cats."};
  {
    std::ofstream f(prompts);
    for (const auto& t : texts) f << nlohmann::json{{"prompt", t}, {"other", 1}}.dump() << "\n\n";
  }
  auto r = run_command(tandem_binary() + " distill-data -m " + shell_quote(kTiny) + " --prompts " + shell_quote(prompts) +
                       " -n 24 -t 1 -o " + shell_quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto rows = read_jsonl(ss.str());
  ASSERT_EQ(rows.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(rows[i]["prompt"], texts[i]);
    auto g = run_command(tandem_binary() + " generate -m " + shell_quote(kTiny) + " -p " + shell_quote(texts[i]) +
                         " --temp 0 -n 24 --no-display-prompt -t 1");
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(rows[i]["completion"].get<std::string>() + "\n", g.out) << texts[i];
  }

  // Synthetic prompts: completions stop after the "#### N" line.
  r = run_command(tandem_binary() + " distill-data -m " + shell_quote(kTiny) + " --synth-math 3 -t 1 -o " + shell_quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in2(out);
  std::stringstream ss2;
  ss2 << in2.rdbuf();
  for (const auto& row : read_jsonl(ss2.str())) {
    const std::string c = row["completion"];
    const size_t p = c.find("#### ");
    if (p != std::string::npos) {
      EXPECT_EQ(c.find('\n', p), std::string::npos) << c;
    }
  }

  // Bad input: one clear error naming the file and line.
  {
    std::ofstream f(prompts);
    f << "{\"prompt\": \"ok\"}\n{\"text\": \"no prompt\"}\n";
  }
  r = run_command(tandem_binary() + " distill-data -m " + shell_quote(kTiny) + " --prompts " + shell_quote(prompts) + " -o " + shell_quote(out));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("prompts.jsonl:2: the row has no string field \"prompt\""), std::string::npos) << r.err;
  {
    std::ofstream f(prompts);
    f << "{\"prompt\": \"ok\"\n";
  }
  r = run_command(tandem_binary() + " distill-data -m " + shell_quote(kTiny) + " --prompts " + shell_quote(prompts) + " -o " + shell_quote(out));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("prompts.jsonl:1: not a JSON object"), std::string::npos) << r.err;
  r = run_command(tandem_binary() + " distill-data -m " + shell_quote(kTiny) + " -o " + shell_quote(out));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("either --prompts FILE or --synth-math N"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tandem
