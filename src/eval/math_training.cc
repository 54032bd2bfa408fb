#include "eval/math_training.h"

#include <cstdio>
#include <fstream>

#include "eval/arith_eval.h"
#include "eval/arith_task.h"
#include "model/transformer.h"
#include "util/error.h"

namespace tandem::eval {

namespace {

train::SyntheticPairs synthetic_pairs(const MathTrainingPlan& p) {
  train::SyntheticPairs s;
  for (const ArithProblem& problem : generate_arith(p.synth_math, p.synth_difficulty, p.train.seed))
    s.pairs.emplace_back(arith_prompt(problem), arith_completion(problem));
  s.label = "synthetic math (difficulty " + std::to_string(p.synth_difficulty) + ")";
  s.weight = p.synth_weight;
  return s;
}

// Scores `model_path` on n held-out problems and adds the result to `report`.
void evaluate_heldout(const MathTrainingPlan& p, const std::string& model_path, int64_t n, nlohmann::json& report,
                      const train::Progress& progress) {
  LoadOptions lo;
  lo.n_threads = p.train.threads;
  auto model = Transformer::load(model_path, lo);
  const int max_new = p.eval_max_tokens > 0 ? p.eval_max_tokens : arith_answer_tokens(p.synth_difficulty);
  const auto problems = generate_arith(n, p.synth_difficulty, arith_heldout_seed(p.train.seed));
  const ArithEvalResult r = evaluate_arith(*model, problems, max_new);
  if (progress) {
    char line[160];
    std::snprintf(line, sizeof line, "synthetic math (difficulty %d), %ld held-out problems: accuracy %.3f",
                  p.synth_difficulty, static_cast<long>(r.n), r.accuracy());
    progress(line);
    for (const auto& sample : r.samples) progress("--- sample ---\n" + sample);
  }
  report["math_difficulty"] = p.synth_difficulty;
  report["math_heldout"] = r.n;
  report["math_accuracy"] = r.accuracy();
}

}  // namespace

MathTrainingOutcome run_math_training(MathTrainingPlan p, const train::Progress& progress) {
  p.train.synthetic = synthetic_pairs(p);
  const train::TrainOutcome trained = train::run_pipeline(p.train, progress);
  MathTrainingOutcome outcome;
  if (!trained.finished) return outcome;
  outcome.finished = true;
  outcome.report = trained.report;
  const int64_t n_eval = p.eval_math >= 0 ? p.eval_math : (p.synth_math > 0 ? 100 : 0);
  if (n_eval > 0 && !trained.model_path.empty()) evaluate_heldout(p, trained.model_path, n_eval, outcome.report, progress);
  if (!p.report.empty()) {
    std::ofstream out(p.report);
    if (!out) throw Error(p.report + ": cannot write the report");
    out << outcome.report.dump(2) << "\n";
  }
  return outcome;
}

}  // namespace tandem::eval
