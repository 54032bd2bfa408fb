// Accuracy of a model on tandem's synthetic arithmetic task: greedy decoding
// of arith_completion() after arith_prompt(), scored by the final answer (util/answer.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eval/arith_task.h"
#include "model/lora.h"

namespace tandem {
class Transformer;
}

namespace tandem::eval {

struct ArithEvalResult {
  int64_t n = 0;
  int64_t correct = 0;
  double accuracy() const { return n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0; }
  std::vector<std::string> samples;  // the first few generations, for a report
};

// Called after each problem with the running totals (for a progress line).
using ArithProgress = std::function<void(const ArithEvalResult& so_far, size_t n_problems)>;

// Greedy-decodes up to max_new_tokens per problem (stops at end-of-generation).
ArithEvalResult evaluate_arith(const Transformer& model, const std::vector<ArithProblem>& problems, int max_new_tokens,
                               int n_samples = 3, const ArithProgress& progress = {});

// `tandem eval-math`: a model file scored on `count` problems of the stream
// `seed` (default: the held-out stream of a run trained with seed 1).
struct MathEvalOptions {
  std::string model;                   // GGUF file
  std::vector<LoraAdapter> lora;       // merged at load
  int64_t count = 200;                 // > 0
  int difficulty = 2;                  // 1..10
  uint64_t seed = arith_heldout_seed(1);
  int max_tokens = 0;                  // per problem; 0: arith_answer_tokens(difficulty)
  int threads = 0;                     // 0: all
};

// Loads the model and evaluates it (evaluate_arith, 3 samples kept). Throws
// tandem::Error for a count <= 0 or a difficulty outside 1..10 (before
// loading), and when the model cannot be loaded.
ArithEvalResult evaluate_math(const MathEvalOptions& options, const ArithProgress& progress = {});

}  // namespace tandem::eval
