// Eval tasks: a small YAML file in lm-evaluation-harness's vocabulary names a
// JSONL dataset, how a row becomes a prompt (Jinja over the row, src/chat's
// engine), what the answer is and how it is scored.
//
//   task: arith-d2
//   dataset_path: data/arith-d2.jsonl       # relative to the task file, then the working directory
//   output_type: generate_until             # or multiple_choice, loglikelihood_rolling
//   doc_to_text: "{{prompt}}"
//   doc_to_target: "{{answer}}"
//   doc_to_choice: "{{choices}}"            # multiple_choice only: a JSON list, or a YAML list of templates
//   num_fewshot: 0
//   fewshot_split: data/train.jsonl         # where few-shot examples come from (needed when num_fewshot > 0)
//   generation_kwargs: {until: ["\n\n"], max_gen_toks: 96}
//   filter: "####\\s*(-?[0-9,.]+)"          # generate_until: regex whose first group is the answer
//   metric: exact_match                     # or a list; acc, acc_norm, perplexity
//   target_delimiter: " "                   # between a prompt and its answer (lm-eval's default)
//   fewshot_delimiter: "\n\n"               # between few-shot examples
//   description: ""                         # text before everything
//   metadata: {version: 1}
//
// Paths may start with ${NAME} (an environment variable, or a value of
// TaskLoadOptions::variables, which wins): built-in tasks name
// ${TANDEM_SHARED_DIR}/data/... Parsing is strict: an unknown key, a value of
// the wrong type or range, a template that does not parse, a regex that does
// not compile, a metric that the output type cannot give: one tandem::Error
// "file:line:column: what".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/jinja.h"

namespace tandem::eval {

enum class OutputType { kGenerateUntil, kMultipleChoice, kLoglikelihoodRolling };
const char* output_type_name(OutputType t);

// A path of the task file and where it was written (for error messages).
struct TaskPath {
  std::string text;      // as written (before ${} expansion)
  std::string resolved;  // the file to read
  std::string where;     // "file:line:column"
};

struct TaskSpec {
  std::string file;  // the task file
  std::string name;  // task:
  OutputType output_type = OutputType::kGenerateUntil;
  TaskPath dataset;
  std::optional<TaskPath> fewshot;
  std::shared_ptr<const chat::jinja::Template> doc_to_text;
  std::shared_ptr<const chat::jinja::Template> doc_to_target;  // null: none (loglikelihood_rolling)
  // multiple_choice: one template rendering a JSON list, or one template per choice.
  std::vector<std::shared_ptr<const chat::jinja::Template>> doc_to_choice;
  int num_fewshot = 0;
  std::vector<std::string> until;  // stop strings
  int max_gen_toks = 256;
  // Sampling (lm-eval's generation_kwargs, Hugging Face semantics): greedy
  // unless do_sample; then temperature, top_p and top_k (0: off) filter, and
  // nothing else does (no min_p). The requests' seed is the run's --seed.
  bool do_sample = false;
  float temperature = 1.0f;
  float top_p = 1.0f;
  int top_k = 0;
  std::string filter;              // regex; empty: util/answer.h's extractor
  std::vector<std::string> metrics;
  std::string target_delimiter = " ";
  std::string fewshot_delimiter = "\n\n";
  std::string description;
  double version = 1.0;
  nlohmann::ordered_json config;  // the file's keys and values, for results.json
};

struct TaskLoadOptions {
  std::map<std::string, std::string> variables;  // ${NAME} values; else the environment
};

// Parses and checks a task file (it does not read the dataset). Throws
// tandem::Error "file:line:column: what" (or "file: cannot read" when absent).
TaskSpec load_task(const std::string& path, const TaskLoadOptions& options = {});
// The same for text already read (`file` names it in messages; relative paths
// are resolved from its folder). For the fuzzer and tests.
TaskSpec parse_task(const std::string& text, const std::string& file, const TaskLoadOptions& options = {});

// One row of the dataset, rendered.
struct Example {
  std::string id;                    // the row's "id" (else "<index>")
  int64_t index = 0;                 // 0-based row number in the dataset
  nlohmann::ordered_json row;
  std::string text;                  // doc_to_text (without few-shot context)
  std::string target;                // doc_to_target (generate_until, loglikelihood_rolling)
  std::vector<std::string> choices;  // multiple_choice
  int gold = -1;                     // multiple_choice: index into choices
};

// Reads and renders every row of `path` (JSONL): errors name "file:line".
// Throws when the file is missing, naming it and where the task names it.
std::vector<Example> load_examples(const TaskSpec& task, const TaskPath& path);
std::vector<Example> load_examples(const TaskSpec& task);

// The full prompt of `example`: description, num_fewshot examples from
// `fewshot` (drawn without the example itself, by a generator seeded with
// `seed` and the example's id, so a prompt does not depend on the order or
// concurrency of the run), each as text + target_delimiter + target joined by
// fewshot_delimiter, then the example's text. Throws when fewshot holds fewer
// usable examples than num_fewshot.
std::string build_prompt(const TaskSpec& task, const Example& example, const std::vector<Example>& fewshot,
                         uint64_t seed);

// The answer a few-shot example shows: the target, or the gold choice.
std::string shot_answer(const Example& e);

}  // namespace tandem::eval
