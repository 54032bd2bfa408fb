// Sequence-level distillation data (`tandem distill-data`): a teacher
// model's generations for a set of prompts, written as {"prompt",
// "completion"} JSONL rows that `tandem train --pairs` trains a student on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace tandem::distill {

struct DistillDataOptions {
  std::string teacher;      // GGUF model
  std::string prompts;      // JSONL with a "prompt" field per row; or:
  int64_t synth = 0;        // N synthetic arithmetic problems as prompts (eval/arith_task.h)
  int difficulty = 2;       // of the synthetic problems
  uint64_t synth_seed = 1;  // of the synthetic problems
  int n_predict = 0;        // tokens per completion; 0: 128, synthetic: eval::arith_answer_tokens(difficulty)
  float temperature = 0.0f; // 0: greedy
  uint64_t seed = 1;        // row i samples with seed + i (each row reproducible on its own)
  int threads = 0;          // 0: all
  std::string out;          // output JSONL
};

struct DistillStatus {
  size_t done = 0;             // rows written
  size_t total = 0;            // rows to write
  int64_t teacher_tokens = 0;  // tokens the teacher generated so far
  bool finished = false;       // the last call: every row is generated
};
// Called after each row, then once with finished = true (also for no rows).
using DistillProgress = std::function<void(const DistillStatus&)>;

// A synthetic solution ends with its "#### N" line; what a teacher writes
// after it (if it does not stop) is not part of the answer: the text up to
// the end of the line holding the first "#### ", or all of it when there is
// no such line.
std::string cut_after_final_answer(const std::string& text);

// Generates and writes the rows (synthetic completions are cut by
// cut_after_final_answer()); returns the status of the finished run. Throws
// tandem::Error unless exactly one of prompts and synth > 0 is given, on an
// unreadable prompts file or teacher, and when the output cannot be written.
// Not thread-safe: the model runs with `threads` threads.
DistillStatus write_distill_data(const DistillDataOptions& options, const DistillProgress& progress = {});

}  // namespace tandem::distill
