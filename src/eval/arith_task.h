// tandem's synthetic task: multi-step arithmetic word problems with a
// step-by-step solution ending in "#### N" (the GSM8K answer convention).
//
// difficulty d (1..10) sets the number of steps (d) and the size of the numbers
// (operands up to 10 * d); from d >= 2 multiplication appears, from d >= 3 exact
// division. Every intermediate value is a non-negative integer, so the answer
// is exact. Generation is deterministic in the seed (tandem::train::Rng).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tandem::eval {

struct ArithProblem {
  std::string question;  // "Lily has 5 apples. ... How many apples does Lily have now?"
  std::string solution;  // "Lily starts with 5 apples.\n5 + 3 = 8.\n...\n#### 8"
  int64_t answer = 0;
  int difficulty = 1;
};

// `count` problems of the given difficulty from `seed`.
std::vector<ArithProblem> generate_arith(int64_t count, int difficulty, uint64_t seed);

// The seed of the held-out problem stream of a run trained on problems of
// `train_seed` (a different stream: no held-out problem is a training one
// except by chance).
constexpr uint64_t arith_heldout_seed(uint64_t train_seed) { return train_seed + 0x10000; }

// Prompt/completion rendering used for training and evaluation:
//   prompt "Question: <question>\nAnswer:"   completion " <solution>"
std::string arith_prompt(const ArithProblem& p);
std::string arith_completion(const ArithProblem& p);

// The problems as JSONL, one row each: {"id": "synth-math-d<difficulty>-<i>",
// "question", "answer" (a string), "solution", "prompt", "completion"}
// (`tandem synth-math`; train --pairs reads the last two).
std::string arith_jsonl(const std::vector<ArithProblem>& problems);

// Tokens a model gets to write a solution of this difficulty when scored or
// distilled (room for the steps and the "#### N" line in tandem's vocabularies).
inline int arith_answer_tokens(int difficulty) { return 24 + 16 * difficulty; }

// A generation is scored by util/answer.h's extract_final_answer(), the rule
// decode/'s self-consistency votes with: correct when it equals
// std::to_string(answer).

}  // namespace tandem::eval
