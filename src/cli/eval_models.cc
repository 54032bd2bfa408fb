#include "cli/eval_models.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "config/engine.h"
#include "gguf/gguf.h"
#include "local/local_model.h"
#include "util/error.h"

namespace tandem::cli {

namespace fs = std::filesystem;

bool is_gguf(const std::string& name) { return name.ends_with(".gguf") || fs::is_regular_file(name); }

eval::TaskLoadOptions task_load_options(const std::string& shared_dir) {
  eval::TaskLoadOptions load;
  if (!shared_dir.empty()) load.variables["TANDEM_SHARED_DIR"] = shared_dir;
  else if (const char* env = std::getenv("TANDEM_SHARED_DIR"); env == nullptr || *env == '\0')
    load.variables["TANDEM_SHARED_DIR"] = TANDEM_DEFAULT_SHARED_DIR;
  return load;
}

// A task name or a path: a name finds tasks/<name>.yaml of the source tree (or
// of the working directory).
std::string task_file(const std::string& task, const std::string& command) {
  if (task.find('/') != std::string::npos || task.ends_with(".yaml") || task.ends_with(".yml")) return task;
  std::vector<fs::path> dirs{TANDEM_TASKS_DIR, "tasks"};
  for (const fs::path& d : dirs)
    if (fs::is_regular_file(d / (task + ".yaml"))) return (d / (task + ".yaml")).string();
  std::string names;
  for (const fs::path& d : dirs) {
    if (!fs::is_directory(d)) continue;
    std::set<std::string> found;
    for (const auto& e : fs::directory_iterator(d))
      if (e.path().extension() == ".yaml") found.insert(e.path().stem().string());
    for (const std::string& n : found) names += (names.empty() ? "" : ", ") + n;
    break;
  }
  throw Error(command + ": no task '" + task + "' (built-in: " + (names.empty() ? "none found" : names) +
              "; or give a task file path)");
}

namespace {

// A model's tokenization: a local model's own, else that of a local model of
// the run with the same vocabulary fingerprint (a cascade of the family);
// none for the rest (remote models).
eval::PromptTruncator truncator_for(const api::Model& m, const EvalModels& all) {
  if (const auto* l = dynamic_cast<const local::LocalModel*>(&m)) return eval::tokenizer_truncator(l->shared_transformer());
  const std::string vocabulary = m.capabilities().vocabulary;
  if (vocabulary.empty()) return {};
  auto match = [&](const std::shared_ptr<const api::Model>& other) -> const local::LocalModel* {
    const auto* l = dynamic_cast<const local::LocalModel*>(other.get());
    return l != nullptr && l->capabilities().vocabulary == vocabulary ? l : nullptr;
  };
  for (const auto& [name, other] : all.set.models)
    if (const local::LocalModel* l = match(other)) return eval::tokenizer_truncator(l->shared_transformer());
  for (const auto& other : all.list)
    if (const local::LocalModel* l = match(other)) return eval::tokenizer_truncator(l->shared_transformer());
  return {};
}

// Every weight of the GGUF (what llama.cpp reports as the model's parameters).
double gguf_parameters(const api::Model& m) {
  const auto* local = dynamic_cast<const local::LocalModel*>(&m);
  if (local == nullptr) return 0.0;
  double n = 0.0;
  for (const gguf::TensorInfo& t : local->transformer().file().tensors()) n += static_cast<double>(t.n_elements());
  return n;
}

}  // namespace

EvalModels open_eval_models(const std::string& config, const std::vector<std::string>& models, int threads) {
  EvalModels m;
  std::vector<std::string> names;
  for (const std::string& n : models)
    if (!is_gguf(n)) names.push_back(n);
  if (!names.empty()) {
    if (config.empty()) throw Error("eval: '" + names[0] + "' is no GGUF file: give --config FILE to name models of a config");
    m.set = config::open(config, names, {.threads = threads});
  }
  std::set<std::string> seen;
  for (const std::string& n : models) {
    if (is_gguf(n)) {
      const std::string name = fs::path(n).stem().string();
      m.list.push_back(std::make_shared<local::LocalModel>(name, local::load_shared(n, {.n_threads = threads})));
      m.prices.emplace_back();
    } else {
      m.list.push_back(m.set.get(n));
      const auto p = m.set.prices.find(n);
      m.prices.push_back(p == m.set.prices.end() ? api::Price{} : p->second);
    }
    if (!seen.insert(m.list.back()->name()).second) throw Error("eval: model '" + m.list.back()->name() + "' named twice");
  }
  m.parameters = m.set.parameters;
  for (const auto& [name, model] : m.set.models)
    if (const double n = gguf_parameters(*model); n > 0) m.parameters[name] = n;
  for (const auto& model : m.list)
    if (const double n = gguf_parameters(*model); n > 0) m.parameters[model->name()] = n;
  for (const auto& model : m.list) m.truncators.push_back(truncator_for(*model, m));
  return m;
}

void progress_line(const eval::Progress& p) {
  const double rate = p.seconds > 0 ? static_cast<double>(p.done) / p.seconds : 0.0;
  const size_t left = p.total - p.done - p.skipped - p.failed;
  const double eta = rate > 0 ? static_cast<double>(left) / rate : 0.0;
  std::fprintf(stderr, "\reval: %s %s %zu/%zu (%zu resumed, %zu failed) %.2f examples/s ETA %.0fs   ",
               p.task->c_str(), p.model->c_str(), p.done + p.skipped + p.failed, p.total, p.skipped, p.failed, rate,
               eta);
}

}  // namespace tandem::cli
