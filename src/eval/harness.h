// The eval harness's core: one task's examples through one Model (api/model.h:
// a local GGUF with any strategy, a remote endpoint, a composition), every
// example's result written to the RecordStore as it finishes.
//
// Per output type (eval/task.h):
// - generate_until: greedy complete() of the prompt (max_gen_toks, until),
//   the answer extracted by the task's filter and compared with the gold one.
//   A prompt longer than the model's context minus max_gen_toks is
//   left-truncated as lm-evaluation-harness does (eval/truncate.h) when
//   RunOptions::truncate gives the model's tokenization; the record's note
//   says so ("prompt left-truncated ...").
// - Any output type: a model that throws ContextError (the prompt does not fit
//   its context) gives a stored record counted wrong, with the note
//   "failed: <the error>" (a deterministic outcome, unlike other errors,
//   which leave the example unstored for a rerun to retry).
// - multiple_choice: score() of target_delimiter + each choice after the
//   prompt; acc and acc_norm (eval/scoring.h). A model whose capabilities()
//   cannot score is asked for a letter instead (letter_prompt; acc_norm = acc)
//   and its records say so in `note`.
// - loglikelihood_rolling: score() of the text after the model's BOS, in
//   disjoint windows of at most context - 1 bytes (cut at whitespace) when the
//   model states a context: lm-eval's rolling windows without overlap, with
//   bytes bounding tokens (a token covers at least one byte).
//
// Resumable: an example already in the store for (task, model) is skipped;
// one whose stored prompt hash differs from this run's prompt is an error (the
// task or its few-shot seed changed: use another RUN_DIR).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "api/model.h"
#include "eval/records.h"
#include "eval/task.h"
#include "eval/truncate.h"

namespace tandem::eval {

struct SelectOptions {
  int64_t offset = 0;   // examples skipped first
  int64_t limit = -1;   // at most this many (< 0: all)
  bool tiny = false;    // the stratified 100-example subset (eval/subset.h), before offset/limit
};

// A task ready to run: its examples (the selection), the few-shot pool.
struct PreparedTask {
  TaskSpec spec;
  std::vector<Example> examples;  // selected, in dataset order
  std::vector<Example> fewshot;
  int64_t n_dataset = 0;          // rows in the dataset
};

// Loads the task's dataset (and few-shot split when num_fewshot > 0) and
// selects the examples. Throws tandem::Error (missing file, bad row, ...).
PreparedTask prepare_task(const TaskSpec& spec, const SelectOptions& select);

struct RunOptions {
  uint64_t seed = 1234;  // few-shot draws and the requests' sampling seed (lm-eval's default seed)
  int concurrency = 1;   // threads calling the model at once (>= 1)
  api::Price price;      // costs score() calls, which report no usage of their own (per second)
  // Parameter count per underlying model (by the name its usage entry has):
  // each usage entry of a record whose model is listed gets "params" and
  // "flops" = flops_estimate(params, prompt + completion + scored tokens);
  // an entry of an unlisted model gets none (its FLOPs are unknown).
  std::map<std::string, double> parameters;
  // The model's tokenization, for generate_until prompts longer than its
  // context (eval/truncate.h fit_generation); empty: none (sent whole).
  PromptTruncator truncate;
  // A cascade (compose/cascade.h) on a generate_until task: ask every stage of
  // every example (Cascade::probe), store each stage's graded answer in
  // Record::stages, and record the cascade's response at its thresholds
  // (Cascade::resolve: for greedy stages, what it would answer; latency the
  // sum of the stages asked). What threshold sweeps and `tandem calibrate`
  // read. Another model or task type is an Error.
  bool probe = false;
};

// The FLOPs estimate of a forward pass over `tokens` tokens: 2 × params × tokens
// (a multiply and an add per weight per token; attention over the context and
// the draft tokens a verifier rejects are not counted).
double flops_estimate(double params, int64_t tokens);

struct Progress {
  const std::string* task = nullptr;
  const std::string* model = nullptr;
  size_t done = 0;        // finished in this run
  size_t skipped = 0;     // already in the store
  size_t failed = 0;
  size_t total = 0;       // selected examples
  double seconds = 0.0;   // since the start of this (task, model)
};
using ProgressFn = std::function<void(const Progress&)>;

struct RunSummary {
  size_t evaluated = 0;
  size_t skipped = 0;
  size_t failed = 0;
  std::string first_error;  // of the failed examples (they are not stored: a rerun retries them)
  bool letter_fallback = false;
};

// Runs every selected example not yet in `store` through `model` with
// options.concurrency threads. An example whose model call throws is counted
// as failed (not stored) and the run goes on; an error of the store, or a
// prompt hash mismatch, stops the run and is rethrown.
RunSummary run_task(const PreparedTask& task, const api::Model& model, RecordStore& store, const RunOptions& options,
                    const ProgressFn& progress = {});

// One example (for tests): what run_task stores for it.
Record evaluate_example(const PreparedTask& task, const Example& example, const api::Model& model,
                        const RunOptions& options);

// The hex FNV-1a-64 of a text.
std::string hash_hex(const std::string& text);

// The windows loglikelihood_rolling scores `text` in (see above); one window
// when context <= 1.
std::vector<std::string> rolling_windows(const std::string& text, int64_t context);

}  // namespace tandem::eval
