// The synthetic arithmetic task: every solution's steps are re-checked by
// evaluating each "a op b = c" line independently.
#include <gtest/gtest.h>

#include <sstream>

#include "eval/arith_task.h"
#include "util/answer.h"

namespace tandem::eval {
namespace {

// Re-derives the answer from the solution text: each line "a op b = c." must
// be correct arithmetic and chain from the previous result.
int64_t check_solution(const ArithProblem& p) {
  std::istringstream in(p.solution);
  std::string line;
  std::getline(in, line);  // "<name> starts with N things."
  int64_t cur = std::stoll(line.substr(line.find("with ") + 5));
  int steps = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("####")) break;
    int64_t a, b, c;
    char op, eq;
    std::istringstream ls(line);
    ls >> a >> op >> b >> eq >> c;
    EXPECT_EQ(a, cur) << line;
    EXPECT_EQ(eq, '=');
    const int64_t want = op == '+' ? a + b : op == '-' ? a - b : op == '*' ? a * b : a / b;
    if (op == '/') {
      EXPECT_EQ(a % b, 0) << line;
    }
    EXPECT_EQ(c, want) << line;
    EXPECT_GE(c, 0);
    cur = c;
    ++steps;
  }
  EXPECT_EQ(steps, p.difficulty);
  return cur;
}

TEST(ArithTask, SolutionsAreCorrectStepByStep) {
  for (int d = 1; d <= 6; ++d) {
    for (const auto& p : generate_arith(200, d, 42)) {
      EXPECT_EQ(check_solution(p), p.answer) << p.question;
      EXPECT_EQ(extract_final_answer(p.solution), std::to_string(p.answer));  // how eval scores
      EXPECT_TRUE(p.question.ends_with("have now?"));
    }
  }
}

TEST(ArithTask, DeterministicInSeedAndDifferentAcrossSeeds) {
  auto a = generate_arith(20, 3, 1), b = generate_arith(20, 3, 1), c = generate_arith(20, 3, 2);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].solution, b[i].solution);
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i].question == c[i].question;
  EXPECT_LT(same, 3);
}

TEST(ArithTask, DifficultyUsesMoreOperations) {
  bool mul = false, div = false;
  for (const auto& p : generate_arith(300, 4, 9)) {
    mul |= p.solution.find(" * ") != std::string::npos;
    div |= p.solution.find(" / ") != std::string::npos;
  }
  EXPECT_TRUE(mul && div);
  for (const auto& p : generate_arith(100, 1, 9)) {
    EXPECT_EQ(p.solution.find(" * "), std::string::npos);
  }
  EXPECT_THROW(generate_arith(1, 0, 1), std::exception);
}

}  // namespace
}  // namespace tandem::eval
