// What `tandem eval` and `tandem calibrate` share: finding a task file by
// name, opening the models to evaluate (config names or GGUF files) with
// their prices, parameter counts and prompt truncators, and the progress line.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/model.h"
#include "config/build.h"
#include "eval/harness.h"

namespace tandem::cli {

// A task name or a path: a name finds tasks/<name>.yaml of the source tree (or
// of the working directory). Throws tandem::Error listing the built-in tasks,
// prefixed with `command` ("eval: no task ...").
std::string task_file(const std::string& task, const std::string& command);

// The options that load a task: TANDEM_SHARED_DIR is `shared_dir`, else the
// environment's, else the build's default (../shared beside the source tree).
eval::TaskLoadOptions task_load_options(const std::string& shared_dir);

// Whether a --models entry names a GGUF file rather than a config model.
bool is_gguf(const std::string& name);

struct EvalModels {
  config::ModelSet set;
  std::vector<std::shared_ptr<const api::Model>> list;  // in the order named
  std::vector<api::Price> prices;                       // per model of `list`
  std::map<std::string, double> parameters;  // by model name: local ones from their GGUF, remote ones from params:
  std::vector<eval::PromptTruncator> truncators;  // per model of `list`: its tokenizer's, or none
};

// Opens `names` (config model names, which need `config`, or GGUF paths,
// served under their file stem); local models of a config that sets no
// threads use `threads` (0: all cores). Throws tandem::Error (a name given
// twice, a config name without --config, ...).
EvalModels open_eval_models(const std::string& config, const std::vector<std::string>& names, int threads);

// The eval progress line on stderr: examples done, rate and ETA.
void progress_line(const eval::Progress& p);

}  // namespace tandem::cli
