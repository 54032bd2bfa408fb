// Accuracy of a model on tandem's synthetic arithmetic task: greedy decoding
// of arith_completion() after arith_prompt(), scored by the final answer (util/answer.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eval/arith_task.h"

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

}  // namespace tandem::eval
