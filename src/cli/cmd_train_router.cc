// tandem train-router: a router table (compose/router_table.h) from eval
// records of every candidate on a labelled task: each candidate answers the
// training prompts (records resumed from --records), the embedder embeds
// them, and the table is written with each candidate's mean cost. Prints the
// router's held-out accuracy and cost at several cost weights (leave-one-out
// for knn, 10-fold cross-validation for logistic), its APGR and CPT against
// the random router and the oracle (compose/route_curve.h), and the config
// entry that serves it.
//
//   tandem train-router --config configs/experiment.yaml --models tiny,small,base --embedder tiny
//       --task arith-d2 --limit 200 --out configs/routers/arith-d2.json
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/eval_models.h"
#include "cli/numeric_options.h"
#include "compose/route_curve.h"
#include "compose/router_logistic.h"
#include "compose/router_table.h"
#include "eval/task.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

namespace fs = std::filesystem;

struct TrainRouterArgs {
  std::string config, embedder, task, out, records = "train-router-run", shared_dir, learner = "knn";
  double l2 = 1e-3;
  std::vector<std::string> models;
  int64_t limit = -1, offset = 0, k = 16;
  uint64_t seed = 1234;
  int concurrency = 1, threads = 0;
};

// Every candidate's records of the selected examples (run now or resumed),
// by model, by example id.
std::map<std::string, std::map<std::string, eval::Record>> candidate_records(const TrainRouterArgs& a,
                                                                             const eval::PreparedTask& task,
                                                                             const EvalModels& models) {
  fs::create_directories(a.records);
  eval::RecordStore store((fs::path(a.records) / "records.sqlite").string());
  std::map<std::string, std::map<std::string, eval::Record>> out;
  for (size_t i = 0; i < a.models.size(); ++i) {
    const eval::RunOptions o{a.seed, a.concurrency, models.prices[i], models.parameters, models.truncators[i], false};
    const eval::RunSummary r = eval::run_task(task, *models.list[i], store, o, progress_line);
    std::fprintf(stderr, "\n");
    if (r.failed > 0)
      throw Error("train-router: " + std::to_string(r.failed) + " examples of " + a.models[i] +
                  " failed (a rerun retries them); first: " + r.first_error);
    const std::string& name = models.list[i]->name();  // a GGUF answers to its file stem
    for (eval::Record& rec : store.all(task.spec.name, name)) out[name][rec.example_id] = std::move(rec);
  }
  return out;
}

// The table: one row per selected example, embeddings in batches.
compose::RouterTable make_table(const TrainRouterArgs& a, const eval::PreparedTask& task, const EvalModels& models,
                                const api::Model& embedder,
                                const std::map<std::string, std::map<std::string, eval::Record>>& records) {
  compose::RouterTable t;
  t.embedder = embedder.name();
  t.task = task.spec.name;
  for (size_t m = 0; m < a.models.size(); ++m) t.models.push_back(models.list[m]->name());
  t.cost.assign(a.models.size(), 0.0);
  std::vector<std::string> prompts;
  for (const eval::Example& e : task.examples) {
    std::vector<int> row;
    for (size_t m = 0; m < a.models.size(); ++m) {
      const eval::Record& r = records.at(t.models[m]).at(e.id);
      if (!r.correct) throw Error("train-router: task " + task.spec.name + " gives no correctness per example");
      row.push_back(*r.correct);
      t.cost[m] += r.cost / static_cast<double>(task.examples.size());
    }
    t.correct.push_back(std::move(row));
    prompts.push_back(eval::build_prompt(task.spec, e, task.fewshot, a.seed));
    t.lengths.push_back(static_cast<double>(prompts.back().size()));
  }
  constexpr size_t kBatch = 16;
  for (size_t i = 0; i < prompts.size(); i += kBatch) {
    const size_t n = std::min(kBatch, prompts.size() - i);
    for (std::vector<float>& v : embedder.embed(std::span<const std::string>(prompts.data() + i, n)))
      t.embeddings.push_back(compose::normalised(std::move(v)));
    std::fprintf(stderr, "\rembedding %zu/%zu", i + n, prompts.size());
  }
  std::fprintf(stderr, "\n");
  t.dim = t.embeddings.empty() ? 0 : t.embeddings[0].size();
  return t;
}

void print_quality(const compose::RouterTable& t, const std::vector<std::vector<double>>& held_out) {
  std::vector<compose::OperatingPoint> points;
  for (int i = 0; i <= 400; ++i) {  // cost_weight 0 .. 4
    const compose::RouteEstimate r = compose::route_estimate(t, held_out, 0.01 * i);
    points.push_back({r.mean_cost, r.accuracy});
  }
  const compose::RouteQuality q = compose::route_quality(t, points);
  if (std::isnan(q.apgr)) {
    std::printf("APGR: undefined (the most accurate model, %s, is not costlier and more accurate than the cheapest, %s)\n",
                t.models[q.strong].c_str(), t.models[q.weak].c_str());
    return;
  }
  auto cpt = [](const std::optional<double>& x) { return x ? std::to_string(static_cast<int>(std::lround(100 * *x))) + "%" : std::string("never"); };
  std::printf("weak %s, strong %s: APGR %.3f (random router 0.500, oracle %.3f); cost share to recover 50%% of the gap "
              "(CPT50) %s, 80%% (CPT80) %s; oracle %.1f%% at mean cost %.4g\n",
              t.models[q.weak].c_str(), t.models[q.strong].c_str(), q.apgr, q.oracle_apgr, cpt(q.cpt50).c_str(),
              cpt(q.cpt80).c_str(), 100.0 * q.oracle.accuracy, q.oracle.cost);
}

void print_estimates(const TrainRouterArgs& a, const compose::RouterTable& t) {
  const std::vector<double> acc = t.accuracy();
  std::printf("%zu training examples of %s; accuracy and mean cost per model:", t.correct.size(), t.task.c_str());
  for (size_t m = 0; m < t.models.size(); ++m)
    std::printf(" %s %.1f%% %.4g%s", t.models[m].c_str(), 100.0 * acc[m], t.cost[m], m + 1 < t.models.size() ? "," : "\n");
  const std::vector<std::vector<double>> held_out =
      compose::held_out_predictions(t, a.learner, static_cast<size_t>(a.k), a.l2);
  if (a.learner == "knn")
    std::printf("leave-one-out estimate of the knn router (k = %lld), by cost_weight:\n", static_cast<long long>(a.k));
  else
    std::printf("10-fold cross-validated estimate of the logistic router (l2 = %g), by cost_weight:\n", a.l2);
  std::printf("  cost_weight  accuracy  mean cost  routed to\n");
  for (double w : {0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0}) {
    const compose::RouteEstimate r = compose::route_estimate(t, held_out, w);
    std::printf("  %11.2f  %7.1f%%  %9.4g ", w, 100.0 * r.accuracy, r.mean_cost);
    for (size_t m = 0; m < t.models.size(); ++m) std::printf(" %s %.0f%%", t.models[m].c_str(), 100.0 * r.share[m]);
    std::printf("\n");
  }
  print_quality(t, held_out);
}

void run_train_router(const TrainRouterArgs& a) {
  std::set<std::string> seen;
  for (const std::string& m : a.models)
    if (!seen.insert(m).second) throw Error("train-router: model '" + m + "' is named twice in --models");
  std::vector<std::string> names = a.models;
  if (!seen.count(a.embedder)) names.push_back(a.embedder);
  const eval::PreparedTask task =
      eval::prepare_task(eval::load_task(task_file(a.task, "train-router"), task_load_options(a.shared_dir)),
                         {a.offset, a.limit, false});
  if (task.examples.empty()) throw Error("train-router: no training examples selected");
  const EvalModels models = open_eval_models(a.config, names, a.threads);
  const auto at = std::find(names.begin(), names.end(), a.embedder);
  const api::Model& embedder = *models.list[static_cast<size_t>(at - names.begin())];
  if (!embedder.capabilities().embeddings)
    throw Error("train-router: embedder '" + a.embedder + "' gives no embeddings (use a local model)");
  compose::RouterTable t = make_table(a, task, models, embedder, candidate_records(a, task, models));
  if (a.learner == "logistic") {
    t.learner = "logistic";
    t.weights = compose::fit_logistic(t, a.l2);
  }
  if (fs::path(a.out).has_parent_path()) fs::create_directories(fs::path(a.out).parent_path());
  std::ofstream(a.out, std::ios::binary) << compose::router_table_json(t);
  if (!fs::is_regular_file(a.out)) throw Error("train-router: cannot write " + a.out);
  print_estimates(a, t);
  std::string list;
  for (const std::string& m : t.models) list += (list.empty() ? "" : ", ") + m;
  std::printf("wrote %s; serve it with a config entry (table relative to the config's folder):\n"
              "  router:\n    type: router\n    candidates: [%s]\n    embedder: %s\n    table: %s\n    k: %lld\n"
              "    cost_weight: 0.1\n",
              a.out.c_str(), list.c_str(), t.embedder.c_str(), a.out.c_str(), static_cast<long long>(a.k));
}

}  // namespace

void add_train_router_command(CLI::App& app) {
  auto a = std::make_shared<TrainRouterArgs>();
  CLI::App* cmd = app.add_subcommand("train-router", "A learned router's table from eval records of its candidates");
  cmd->add_option("--config", a->config, "The configuration file naming the models (or give GGUF paths)");
  cmd->add_option("--models", a->models, "The candidates, cheapest first by convention (config names or GGUFs)")
      ->required()->delimiter(',');
  cmd->add_option("--embedder", a->embedder, "The local model that embeds prompts (a config name or GGUF)")->required();
  cmd->add_option("--task", a->task, "Built-in task name or task file: the labelled training rows")->required();
  cmd->add_option("--limit", a->limit, "At most N training examples (after --offset)")->check(int_range(1, kMaxProblems));
  cmd->add_option("--offset", a->offset, "Skip the first N rows of the task")->check(int_range(0, kMaxProblems));
  cmd->add_option("-k", a->k, "knn: neighbours per prediction (the estimate printed; the config sets the router's)")
      ->capture_default_str()->check(int_range(1, 1 << 20));
  cmd->add_option("--learner", a->learner, "knn (nearest training prompts) or logistic (a regression per candidate)")
      ->capture_default_str()->check(CLI::IsMember({"knn", "logistic"}));
  cmd->add_option("--l2", a->l2, "logistic: the L2 penalty of the weights (> 0)")
      ->capture_default_str()->check(real_range(1e-12, 1e12));
  cmd->add_option("--records", a->records, "Run directory of the candidates' records (reused and resumed when present)")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "The router table to write (JSON)")->required();
  cmd->add_option("--seed", a->seed, "Seed of the requests and few-shot draws")->capture_default_str()->check(uint64_any());
  cmd->add_option("--concurrency", a->concurrency, "Examples evaluated at once")->capture_default_str()->check(int_range(1, 256));
  cmd->add_option("--shared-dir", a->shared_dir, "The shared data folder of the built-in tasks");
  cmd->add_option("-t,--threads", a->threads, "Threads of local models whose config sets none (default: all cores)")
      ->check(int_range(0, kMaxThreads));
  cmd->callback([a] { run_train_router(*a); });
}

}  // namespace tandem::cli
