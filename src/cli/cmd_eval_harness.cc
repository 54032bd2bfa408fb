// tandem eval: tasks (YAML files in lm-evaluation-harness's vocabulary, the
// built-in ones in tasks/) over any models of a config or GGUF files, with
// records in RUN_DIR/records.sqlite (resumable), RUN_DIR/results.json and
// per-sample JSONL (src/eval/harness.h, results.h).
//
//   tandem eval --config configs/cascade.yaml --models tiny,base,tiny-then-base --task arith-d1 --limit 100
//   tandem eval --models models/tandem-base.gguf --task arc_easy --subset tiny --out runs/arc
//
// This file only builds the Models (config::open, local::LocalModel) and
// writes the files; the harness itself is Model-agnostic.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/eval_models.h"
#include "cli/numeric_options.h"
#include "compose/cascade.h"
#include "config/engine.h"
#include "eval/harness.h"
#include "eval/results.h"
#include "gguf/gguf.h"
#include "local/local_model.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

namespace fs = std::filesystem;

struct EvalArgs {
  std::string config;
  std::vector<std::string> models;
  std::vector<std::string> tasks;
  int64_t limit = -1;
  int64_t offset = 0;
  uint64_t seed = 1234;
  int concurrency = 1;
  std::string subset;
  std::string out = "eval-run";
  std::string shared_dir;
  int threads = 0;
  bool probe = false;
};

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) throw Error(path.string() + ": cannot write");
}

std::string file_safe(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c == '/' || c == '\\' || c == ' ' || c == ':') c = '_';
  return out;
}

void run_eval(const EvalArgs& a) {
  if (!a.subset.empty() && a.subset != "tiny") throw Error("eval: --subset takes 'tiny' (got '" + a.subset + "')");
  const eval::TaskLoadOptions load = task_load_options(a.shared_dir);
  const eval::SelectOptions select{a.offset, a.limit, a.subset == "tiny"};
  std::vector<eval::PreparedTask> tasks;
  for (const std::string& t : a.tasks) tasks.push_back(eval::prepare_task(eval::load_task(task_file(t, "eval"), load), select));
  const EvalModels models = open_eval_models(a.config, a.models, a.threads);
  auto probed = [&](const api::Model& m) { return a.probe && dynamic_cast<const compose::Cascade*>(&m) != nullptr; };
  if (a.probe && std::none_of(models.list.begin(), models.list.end(), [&](const auto& m) { return probed(*m); }))
    throw Error("eval: --probe asks every stage of the cascades among --models, and none of them is a cascade");
  fs::create_directories(a.out);
  eval::RecordStore store((fs::path(a.out) / "records.sqlite").string());

  eval::RunInfo info;
  info.config = {{"models", a.models}, {"tasks", a.tasks}, {"config_file", a.config}, {"limit", a.limit},
                 {"offset", a.offset}, {"seed", a.seed}, {"concurrency", a.concurrency}, {"subset", a.subset},
                 {"decoding", "greedy (temperature 0) unless a task's generation_kwargs set do_sample"}, {"probe", a.probe}};
  std::vector<eval::TaskInfo> task_infos;
  std::vector<eval::Summary> summaries;
  size_t failed = 0;
  std::string first_error;
  for (const eval::PreparedTask& t : tasks) {
    eval::TaskInfo ti{&t.spec, t.n_dataset, static_cast<int64_t>(t.examples.size()), {}};
    std::set<std::string> ids;
    for (const eval::Example& e : t.examples) ids.insert(e.id);
    if (select.tiny) {
      std::string list;
      for (const eval::Example& e : t.examples) {
        ti.subset_ids.push_back(e.id);
        list += e.id + "\n";
      }
      write_file(fs::path(a.out) / ("subset-" + file_safe(t.spec.name) + ".txt"), list);
      std::fprintf(stderr, "eval: %s: tiny subset of %zu of %lld examples (ids in %s)\n", t.spec.name.c_str(),
                   t.examples.size(), static_cast<long long>(t.n_dataset),
                   (fs::path(a.out) / ("subset-" + file_safe(t.spec.name) + ".txt")).c_str());
    }
    task_infos.push_back(ti);
    for (size_t k = 0; k < models.list.size(); ++k) {
      const api::Model& m = *models.list[k];
      const eval::RunOptions o{a.seed,           a.concurrency,         models.prices[k],
                               models.parameters, models.truncators[k], probed(m)};
      const eval::RunSummary r = eval::run_task(t, m, store, o, progress_line);
      std::fprintf(stderr, "\n");
      if (r.letter_fallback)
        info.model_notes[m.name()]["letter_fallback"] =
            "cannot score: multiple-choice tasks were answered by a generated letter (acc_norm = acc)";
      if (r.failed > 0) {
        failed += r.failed;
        if (first_error.empty()) first_error = t.spec.name + "/" + m.name() + " " + r.first_error;
        info.model_notes[m.name()]["failed_" + t.spec.name] = r.failed;
      }
      std::vector<eval::Record> rows;
      for (eval::Record& rec : store.all(t.spec.name, m.name()))
        if (ids.count(rec.example_id)) rows.push_back(std::move(rec));
      if (rows.empty()) continue;
      write_file(fs::path(a.out) / ("samples_" + file_safe(m.name()) + "_" + file_safe(t.spec.name) + ".jsonl"),
                 eval::samples_jsonl(rows));
      summaries.push_back(eval::summarize(rows));
      const eval::Summary& s = summaries.back();
      char flops[64] = "FLOPs unknown";
      if (s.total.flops_known()) std::snprintf(flops, sizeof flops, "%.3g FLOPs", s.total.flops);
      std::printf("%s %s: %s %.4f (n=%zu), cost %.6g, %lld+%lld tokens, %s, %.1f model seconds\n", m.name().c_str(),
                  t.spec.name.c_str(), s.primary.c_str(), s.metrics.at(s.primary).value, s.n, s.total.cost,
                  static_cast<long long>(s.total.prompt_tokens), static_cast<long long>(s.total.completion_tokens),
                  flops, s.total.seconds);
      std::fflush(stdout);
    }
  }
  for (const auto& m : models.list) info.models.push_back(m->name());
  write_file(fs::path(a.out) / "results.json", eval::results_json(task_infos, summaries, info).dump(2) + "\n");
  std::printf("wrote %s\n", (fs::path(a.out) / "results.json").c_str());
  if (failed > 0)
    throw Error("eval: " + std::to_string(failed) + " examples failed and are not recorded (a rerun with the same --out " +
                "retries them); first: " + first_error);
}

}  // namespace

void add_eval_harness_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "Evaluate models on tasks: records, results.json (lm-eval layout), resumable");
  cmd->add_option("--config", a->config, "Configuration file naming the models (YAML; see configs/README.md)");
  cmd->add_option("--models", a->models, "Comma-separated config model names or GGUF files")->required()->delimiter(',');
  cmd->add_option("--task", a->tasks, "Comma-separated built-in task names (tasks/) or task files")->required()->delimiter(',');
  cmd->add_option("--limit", a->limit, "At most N examples per task (after --offset)")->check(int_range(0, kMaxProblems));
  cmd->add_option("--offset", a->offset, "Skip the first N examples of each task")->check(int_range(0, kMaxProblems));
  cmd->add_option("--seed", a->seed, "Seed of the few-shot draws and of the requests")->capture_default_str()->check(uint64_any());
  cmd->add_option("--concurrency", a->concurrency, "Examples evaluated at once (threads calling the model)")
      ->capture_default_str()->check(int_range(1, 256));
  cmd->add_option("--subset", a->subset, "'tiny': the fixed stratified 100-example subset of each task");
  cmd->add_option("--out", a->out, "Run directory (records.sqlite, results.json, samples); reruns resume")->capture_default_str();
  cmd->add_option("--shared-dir", a->shared_dir, "The shared data folder of the built-in tasks (default: $TANDEM_SHARED_DIR, else ../shared)");
  cmd->add_flag("--probe", a->probe,
                "Ask every stage of each cascade among --models on every example (records hold each stage's graded "
                "answer and signal: what threshold sweeps in `tandem report` and `tandem calibrate` read)");
  cmd->add_option("-t,--threads", a->threads, "Threads of local models whose config sets none (default: all cores)")
      ->check(int_range(0, kMaxThreads));
  cmd->callback([a] { run_eval(*a); });
}

}  // namespace tandem::cli
