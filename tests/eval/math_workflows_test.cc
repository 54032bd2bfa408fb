// The library side of eval-math and synth-math: evaluate_math() checks its
// options before loading the model, and arith_jsonl() writes one row per
// problem with the problem's own fields.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "eval/arith_eval.h"
#include "eval/arith_task.h"
#include "util/error.h"

namespace tandem::eval {
namespace {

std::string error_of(const MathEvalOptions& o) {
  try {
    evaluate_math(o);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(EvaluateMath, RejectsCountAndDifficultyBeforeLoading) {
  MathEvalOptions o;
  o.model = "/nonexistent/model.gguf";
  o.count = 0;
  EXPECT_EQ(error_of(o), "eval-math: -n must be positive");
  o.count = 5;
  o.difficulty = 11;
  EXPECT_EQ(error_of(o), "eval-math: --difficulty must be in 1..10");
  o.difficulty = 0;
  EXPECT_EQ(error_of(o), "eval-math: --difficulty must be in 1..10");
  o.difficulty = 3;
  EXPECT_NE(error_of(o).find("/nonexistent/model.gguf"), std::string::npos) << error_of(o);
  EXPECT_EQ(MathEvalOptions{}.seed, arith_heldout_seed(1));  // the held-out stream of `train --seed 1`
}

TEST(ArithJsonl, OneRowPerProblemWithItsFields) {
  const auto problems = generate_arith(4, 3, 11);
  std::istringstream in(arith_jsonl(problems));
  std::string line;
  size_t i = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(i, problems.size());
    const auto row = nlohmann::json::parse(line);
    EXPECT_EQ(row["id"], "synth-math-d3-" + std::to_string(i));
    EXPECT_EQ(row["question"], problems[i].question);
    EXPECT_EQ(row["answer"], std::to_string(problems[i].answer));
    EXPECT_EQ(row["solution"], problems[i].solution);
    EXPECT_EQ(row["prompt"], "Question: " + problems[i].question + "\nAnswer:");
    EXPECT_EQ(row["completion"], " " + problems[i].solution);
    ++i;
  }
  EXPECT_EQ(i, problems.size());
  EXPECT_EQ(arith_jsonl({}), "");
}

}  // namespace
}  // namespace tandem::eval
