// `tandem eval-math` and `tandem distill-data` as a user runs them, checked
// against `tandem generate` (a separate decoding path) and a hand-checked set
// of held-out problems.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <sstream>

#include "test_util.h"

namespace tandem {
namespace {

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

// The first eight held-out problems eval-math scores (difficulty 2, its
// default seed), each answer worked out by hand from the question.
struct HandChecked {
  const char* question;
  int64_t answer;
};
const HandChecked kHeldOut[] = {
    {"Leo has 12 books. Then Leo gives 2 books to Max. Then Leo gives 5 books to Max. How many books does Leo have "
     "now?",
     5},  // 12 - 2 - 5
    {"Lily has 12 flowers. Then the number of flowers Lily has becomes 2 times as large. Then Lily finds 1 more "
     "flowers. How many flowers does Lily have now?",
     25},  // 12 * 2 + 1
    {"Sam has 10 stickers. Then the number of stickers Sam has becomes 2 times as large. Then the number of stickers "
     "Sam has becomes 2 times as large. How many stickers does Sam have now?",
     40},  // 10 * 2 * 2
    {"Anna has 11 cards. Then Anna gives 3 cards to Lily. Then the number of cards Anna has becomes 3 times as large. "
     "How many cards does Anna have now?",
     24},  // (11 - 3) * 3
    {"Emma has 5 apples. Then Emma gives 4 apples to Max. Then Emma finds 8 more apples. How many apples does Emma "
     "have now?",
     9},  // 5 - 4 + 8
    {"Ben has 3 coins. Then the number of coins Ben has becomes 3 times as large. Then the number of coins Ben has "
     "becomes 2 times as large. How many coins does Ben have now?",
     18},  // 3 * 3 * 2
    {"Ben has 8 coins. Then the number of coins Ben has becomes 2 times as large. Then the number of coins Ben has "
     "becomes 2 times as large. How many coins does Ben have now?",
     32},  // 8 * 2 * 2
    {"Leo has 10 shells. Then Leo gives 5 shells to Sam. Then Leo gives 2 shells to Sam. How many shells does Leo "
     "have now?",
     3},  // 10 - 5 - 2
};

// The same answers evaluated from the question's sentences: "X has N",
// "finds N more" (+), "gives N ... to" (-), "becomes N times as large" (*),
// "into N equal groups" (/). nullopt for a sentence it does not know.
std::optional<int64_t> evaluate_question(const std::string& q) {
  static const std::regex start("^\\w+ has (\\d+) \\w+\\."), add(" Then \\w+ finds (\\d+) more \\w+\\."),
      sub(" Then \\w+ gives (\\d+) \\w+ to \\w+\\."), mul(" Then the number of \\w+ \\w+ has becomes (\\d+) times as large\\."),
      div(" Then \\w+ splits the \\w+ into (\\d+) equal groups and keeps one group\\."),
      end(" How many \\w+ does \\w+ have now\\?$");
  std::smatch m;
  if (!std::regex_search(q, m, start)) return std::nullopt;
  int64_t v = std::stoll(m[1]);
  for (auto it = m[0].second; !std::regex_search(it, q.cend(), m, end, std::regex_constants::match_continuous);
       it = m[0].second) {
    const auto n = [&] { return std::stoll(m[1]); };
    const auto f = std::regex_constants::match_continuous;
    if (std::regex_search(it, q.cend(), m, add, f)) v += n();
    else if (std::regex_search(it, q.cend(), m, sub, f)) v -= n();
    else if (std::regex_search(it, q.cend(), m, mul, f)) v *= n();
    else if (std::regex_search(it, q.cend(), m, div, f)) v /= n();
    else return std::nullopt;
  }
  return v;
}

// The integer after the first "####" in a generation, or without one the last
// integer (util/answer.h's rule, hand-written here independently of it, for
// this task's integer steps); nullopt if there is none.
std::optional<int64_t> final_answer(const std::string& text) {
  const size_t at = text.find("#### ");
  if (at == std::string::npos) {
    std::optional<int64_t> last;
    const std::regex integer("[0-9]+");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), integer); it != std::sregex_iterator(); ++it)
      last = std::stoll(it->str());
    return last;
  }
  size_t i = at + 5, j = i + (i < text.size() && text[i] == '-');
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  if (j == i || (j == i + 1 && text[i] == '-')) return std::nullopt;
  return std::stoll(text.substr(i, j - i));
}

TEST(EvalMathCli, ScoresHandCheckedProblems) {
  const int n = static_cast<int>(std::size(kHeldOut));
  // The problems eval-math poses (synth-math draws from the same stream) are
  // the hand-checked ones, with the hand-checked answers.
  auto problems = run_command(tandem_binary() + " synth-math -n " + std::to_string(n) + " --seed 65537 --difficulty 2");
  ASSERT_EQ(problems.exit_code, 0) << problems.err;
  const auto rows = read_jsonl(problems.out);
  ASSERT_EQ(rows.size(), static_cast<size_t>(n));
  int correct_so_far = 0, n_correct = 0;
  for (int i = 0; i < n; ++i) {
    const HandChecked& p = kHeldOut[i];
    EXPECT_EQ(evaluate_question(p.question), p.answer) << p.question;
    EXPECT_EQ(rows[i]["question"].get<std::string>(), p.question);
    EXPECT_EQ(rows[i]["answer"].get<std::string>(), std::to_string(p.answer)) << p.question;
    // The model's greedy answer through `tandem generate`, scored here.
    auto g = run_command(tandem_binary() + " generate -m " + shell_quote(kTiny) + " -p " +
                         shell_quote("Question: " + std::string(p.question) + "\nAnswer:") +
                         " --temp 0 -n 56 --no-display-prompt -t 1");
    ASSERT_EQ(g.exit_code, 0) << g.err;
    const bool right = final_answer(g.out) == p.answer;
    n_correct += right;
    // eval-math on the first i + 1 problems: its count grows by one exactly
    // when problem i is answered correctly.
    auto r = run_command(tandem_binary() + " eval-math -m " + shell_quote(kTiny) + " -n " + std::to_string(i + 1) +
                         " --json -t 1");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["problems"].get<int>(), i + 1);
    EXPECT_EQ(j["correct"].get<int>() - correct_so_far, right ? 1 : 0) << "problem " << i << ": " << g.out;
    correct_so_far = j["correct"].get<int>();
    EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), static_cast<double>(j["correct"].get<int>()) / (i + 1));
  }
  // Both outcomes occur (tandem-tiny gets problems 0, 1 and 7 wrong), so a
  // scorer that always or never says "correct" fails.
  EXPECT_GT(n_correct, 0);
  EXPECT_LT(n_correct, n);
  const auto bad = evaluate_question("Leo has 3 books. Then Leo eats 2 books. How many books does Leo have now?");
  EXPECT_FALSE(bad.has_value());  // the evaluator does not guess
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
