// tandem calibrate: a cascade's threshold chosen from measured records of
// every stage on a labelled calibration set, written into a copy of the config
// (compose/calibration.h for the methods, eval/harness.h --probe records).
//
//   tandem calibrate --config configs/cascade.yaml --model tiny-then-base --task arith-d2 --limit 100
//       --max-loss 0.05 --delta 0.1 --out build/calibrated.yaml
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "cli/commands.h"
#include "cli/eval_models.h"
#include "cli/numeric_options.h"
#include "compose/calibration.h"
#include "config/rewrite.h"
#include "eval/scoring.h"
#include "eval/sweep.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

namespace fs = std::filesystem;

struct CalibrateArgs {
  std::string config, model, task, out, records = "calibrate-run", loss = "labelled", shared_dir;
  int64_t limit = -1, offset = 0;
  uint64_t seed = 1234;
  int concurrency = 1, threads = 0;
  std::optional<double> target_accuracy, max_loss, delta, budget, large_share;
};

// The two-stage cascade `model` of the config, and its rule.
const config::RuleSpec& cascade_rule(const config::Config& c, const std::string& model) {
  const config::ModelSpec* m = c.find(model);
  if (m == nullptr) throw Error("calibrate: the config " + c.file + " has no model '" + model + "'");
  const auto* cascade = std::get_if<config::CascadeSpec>(&m->spec);
  if (cascade == nullptr)
    throw Error("calibrate: '" + model + "' is a " + std::string(m->type()) + " model, not a cascade");
  if (cascade->stages.size() != 2)
    throw Error("calibrate: '" + model + "' has " + std::to_string(cascade->stages.size()) +
                " stages; calibrate takes two-stage cascades (a stage may itself be a cascade: calibrate the inner "
                "one first, then the outer)");
  return cascade->rules.front();
}

// Probed records of the selected examples (run now, or resumed from --records).
std::vector<eval::Record> probe_records(const CalibrateArgs& a, const eval::PreparedTask& task) {
  const EvalModels models = open_eval_models(a.config, {a.model}, a.threads);
  fs::create_directories(a.records);
  eval::RecordStore store((fs::path(a.records) / "records.sqlite").string());
  const eval::RunOptions o{a.seed, a.concurrency, models.prices[0], models.parameters, models.truncators[0], true};
  const eval::RunSummary r = eval::run_task(task, *models.list[0], store, o, progress_line);
  std::fprintf(stderr, "\n");
  if (r.failed > 0)
    throw Error("calibrate: " + std::to_string(r.failed) + " examples failed (a rerun retries them); first: " +
                r.first_error);
  std::set<std::string> ids;
  for (const eval::Example& e : task.examples) ids.insert(e.id);
  std::vector<eval::Record> rows;
  for (eval::Record& rec : store.all(task.spec.name, a.model))
    if (ids.count(rec.example_id)) {
      if (rec.stages.size() != 2)
        throw Error("calibrate: " + a.records + " holds records of " + a.model + " on " + task.spec.name +
                    " that were not probed (tandem eval without --probe): give another --records");
      rows.push_back(std::move(rec));
    }
  return rows;
}

compose::CalibrationSet calibration_set(const std::vector<eval::Record>& rows, compose::LossKind loss) {
  compose::CalibrationSet set;
  set.loss = loss;
  for (const eval::Record& r : rows) {
    const nlohmann::json& small = r.stages[0];
    const nlohmann::json& large = r.stages[1];
    compose::CalibrationExample e;
    e.signal = eval::json_number(small["value"]);
    e.small_correct = small["correct"].get<int>() == 1;
    e.large_correct = large["correct"].get<int>() == 1;
    const nlohmann::json& x = small["extracted"];
    const nlohmann::json& y = large["extracted"];
    e.agree = x.is_string() && y.is_string() ? eval::answers_equal(x.get<std::string>(), y.get<std::string>())
                                               : small["output"] == large["output"];
    e.small_cost = small.value("cost", 0.0);
    e.large_cost = large.value("cost", 0.0);
    set.examples.push_back(e);
  }
  return set;
}

// The method the options ask for, and the line describing its bound.
compose::CalibrationResult calibrate(const CalibrateArgs& a, const compose::CalibrationSet& set, std::string& how) {
  char buf[256];
  if (a.max_loss) {
    const compose::CalibrationResult r = compose::calibrate_max_loss(set, *a.max_loss, *a.delta);
    std::snprintf(buf, sizeof buf,
                  "guarantee: with probability >= %.4g over the calibration draw, P[accepted and %s] <= %.4g on "
                  "traffic like the calibration set (Learn-then-Test, %lld thresholds tested, p = %.3g)",
                  1.0 - *a.delta, set.loss == compose::LossKind::kLabelled ? "wrong while the last stage is right"
                                                                          : "differs from the last stage",
                  *a.max_loss, static_cast<long long>(r.tested), r.p_value);
    how = buf;
    return r;
  }
  how = "no guarantee beyond the calibration set";
  if (a.target_accuracy) return compose::calibrate_target_accuracy(set, *a.target_accuracy);
  if (a.budget) return compose::calibrate_budget(set, *a.budget);
  return compose::calibrate_large_share(set, *a.large_share);
}

void run_calibrate(const CalibrateArgs& a) {
  const int methods = (a.target_accuracy ? 1 : 0) + (a.max_loss ? 1 : 0) + (a.budget ? 1 : 0) + (a.large_share ? 1 : 0);
  if (methods != 1)
    throw Error("calibrate: give exactly one of --target-accuracy, --max-loss (with --delta), --budget, --large-share");
  if (a.max_loss.has_value() != a.delta.has_value()) throw Error("calibrate: --max-loss and --delta go together");
  const compose::LossKind loss = a.loss == "agreement" ? compose::LossKind::kAgreement : compose::LossKind::kLabelled;
  if (loss == compose::LossKind::kAgreement && (a.target_accuracy || a.budget || a.large_share))
    throw Error("calibrate: --loss agreement applies to --max-loss only (the others read the labels or no loss)");
  const config::Config cfg = config::load(a.config);
  const config::RuleSpec& rule = cascade_rule(cfg, a.model);
  const eval::TaskLoadOptions load = task_load_options(a.shared_dir);
  const eval::PreparedTask task =
      eval::prepare_task(eval::load_task(task_file(a.task, "calibrate"), load), {a.offset, a.limit, false});
  if (task.spec.output_type != eval::OutputType::kGenerateUntil)
    throw Error("calibrate: task " + task.spec.name + " is not a generate_until task");
  if (task.examples.empty()) throw Error("calibrate: no calibration examples selected");
  const compose::CalibrationSet set = calibration_set(probe_records(a, task), loss);
  std::string how;
  const compose::CalibrationResult r = calibrate(a, set, how);
  std::ifstream in(a.config, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string edited = config::with_threshold(text.str(), rule, r.threshold);
  if (fs::path(a.out).has_parent_path()) fs::create_directories(fs::path(a.out).parent_path());
  std::ofstream(a.out, std::ios::binary) << edited;
  if (!fs::is_regular_file(a.out)) throw Error("calibrate: cannot write " + a.out);
  try {
    config::load(a.out);  // relative paths resolve from the new file's folder
  } catch (const Error& e) {
    fs::remove(a.out);
    throw Error("calibrate: the new config does not load where it was written (" + std::string(e.what()) +
                "): relative paths in a config resolve from its folder, so write --out beside " + a.config);
  }
  const double n = static_cast<double>(r.n);
  char accuracy[32] = "unknown (no labels)";
  if (!std::isnan(r.accuracy)) std::snprintf(accuracy, sizeof accuracy, "%.1f%%", 100.0 * r.accuracy);
  std::printf("%s: threshold %s (%s, was %s) on %lld calibration examples of %s: %.1f%% deferred, accuracy %s, loss "
              "%lld/%lld = %.2f%%, mean cost %.4g; %s; wrote %s\n",
              a.model.c_str(), config::yaml_number(r.threshold).c_str(), rule.signal.c_str(),
              config::yaml_number(rule.threshold).c_str(), static_cast<long long>(r.n), task.spec.name.c_str(),
              100.0 * static_cast<double>(r.deferred) / n, accuracy,
              static_cast<long long>(r.losses), static_cast<long long>(r.n), 100.0 * r.empirical_loss, r.cost, how.c_str(),
              a.out.c_str());
}

}  // namespace

void add_calibrate_command(CLI::App& app) {
  auto a = std::make_shared<CalibrateArgs>();
  auto* cmd = app.add_subcommand("calibrate", "Choose a cascade's threshold from measured records; write a new config");
  cmd->add_option("--config", a->config, "The configuration file holding the cascade")->required();
  cmd->add_option("--model", a->model, "The cascade to calibrate (two stages)")->required();
  cmd->add_option("--task", a->task, "Built-in task name or task file: the labelled calibration rows")->required();
  cmd->add_option("--limit", a->limit, "At most N calibration examples (after --offset)")->check(int_range(1, kMaxProblems));
  cmd->add_option("--offset", a->offset, "Skip the first N rows of the task")->check(int_range(0, kMaxProblems));
  cmd->add_option("--target-accuracy", a->target_accuracy, "The most lenient threshold with cascade accuracy >= A")
      ->check(real_range(0, 1));
  cmd->add_option("--max-loss", a->max_loss, "Learn-then-Test: risk of a harmful acceptance <= EPS ...")
      ->check(real_range(0, 1));
  cmd->add_option("--delta", a->delta, "... with probability >= 1 - D over the calibration draw")->check(real_range(0, 1));
  cmd->add_option("--budget", a->budget, "The most accurate threshold whose mean cost per example <= COST (money)")
      ->check(real_range(0, 1e30));
  cmd->add_option("--large-share", a->large_share, "Send a share P of prompts to the last stage (as RouteLLM)")
      ->check(real_range(0, 1));
  cmd->add_option("--loss", a->loss, "--max-loss's loss: labelled (wrong while the last stage is right) or agreement "
                                     "(differs from the last stage's answer; no labels needed)")
      ->capture_default_str()->check(CLI::IsMember({"labelled", "agreement"}));
  cmd->add_option("--records", a->records, "Run directory of the probe records (reused and resumed when present)")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "The new config file (the old one with the calibrated threshold)")->required();
  cmd->add_option("--seed", a->seed, "Seed of the requests")->capture_default_str()->check(uint64_any());
  cmd->add_option("--concurrency", a->concurrency, "Examples evaluated at once")->capture_default_str()->check(int_range(1, 256));
  cmd->add_option("--shared-dir", a->shared_dir, "The shared data folder of the built-in tasks");
  cmd->add_option("-t,--threads", a->threads, "Threads of local models whose config sets none (default: all cores)")
      ->check(int_range(0, kMaxThreads));
  cmd->callback([a] { run_calibrate(*a); });
}

}  // namespace tandem::cli
