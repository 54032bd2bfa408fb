// Summaries of eval records (eval/records.h) and the files a run writes:
// RUN_DIR/results.json in lm-evaluation-harness's layout and one per-sample
// JSONL per model and task.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/records.h"
#include "eval/task.h"

namespace tandem::eval {

struct MetricValue {
  double value = 0.0;
  std::optional<double> standard_error;  // none where lm-eval writes "N/A"
};

// Costs summed over a set of records, per underlying model and in total.
struct CostTotals {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t scored_tokens = 0;  // tokens score() evaluated (multiple choice, perplexity)
  double seconds = 0.0;       // the models' wall time
  double cost = 0.0;          // money in the config's price currency
  double flops = 0.0;         // summed FLOPs estimates (eval/harness.h flops_estimate) of the entries that have one
  int64_t flops_missing = 0;  // usage entries without a FLOPs estimate (a model of unknown parameter count)
  bool flops_known() const { return flops_missing == 0; }
};

struct Summary {
  std::string task;
  std::string model;
  size_t n = 0;
  // exact_match / acc / acc_norm: mean of the 0/1 values with the standard
  // error of the mean (sample standard deviation / sqrt(n), as lm-eval).
  // perplexity tasks: perplexity (per token), word_perplexity,
  // byte_perplexity, bits_per_byte, from the summed log-likelihoods.
  std::map<std::string, MetricValue> metrics;
  std::string primary;       // the metric reports show: exact_match, acc or perplexity
  int64_t correct = 0;       // records with correct == 1
  CostTotals total;
  std::map<std::string, CostTotals> per_model;
  double latency_ms_mean = 0.0;
  size_t letter_fallback = 0;  // records answered by a generated letter
  size_t failed = 0;           // records of examples the model could not take (note "failed: ..."), counted wrong
  size_t truncated = 0;        // records whose prompt was left-truncated to fit the context
};

// The summary of the records of one (task, model). Precondition: not empty,
// all of one task and model.
Summary summarize(const std::vector<Record>& records);

// The Wilson score interval of k successes in n at 95% (z = 1.96); [0, 1] for n = 0.
std::pair<double, double> wilson_interval(int64_t k, int64_t n);

// Whether larger values of the metric are better (lm-eval's higher_is_better).
bool higher_is_better(const std::string& metric);

// What results.json records about the run besides the summaries.
struct RunInfo {
  std::vector<std::string> models;
  std::map<std::string, nlohmann::json> model_notes;  // model -> notes (letter fallback, failures)
  nlohmann::json config = nlohmann::json::object();  // the command's options
};

struct TaskInfo {
  const TaskSpec* spec = nullptr;
  int64_t n_dataset = 0;
  int64_t n_selected = 0;
  std::vector<std::string> subset_ids;  // --subset tiny: the ids; else empty
};

// results.json: {"results": {"MODEL/TASK": {"alias", "exact_match,none", "exact_match_stderr,none", ...}},
// "configs", "versions", "n-shot", "higher_is_better", "n-samples", "config",
// "tandem": {"MODEL/TASK": {n, correct, cost, tokens per model, latency_ms_mean, ...}}}.
nlohmann::ordered_json results_json(const std::vector<TaskInfo>& tasks, const std::vector<Summary>& summaries,
                                    const RunInfo& run);

// One JSON line per record, lm-eval's per-sample fields where they apply
// (doc_id, target, resps, filtered_resps, metrics) plus the record's own.
std::string samples_jsonl(const std::vector<Record>& records);

}  // namespace tandem::eval
