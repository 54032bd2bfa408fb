// `tandem train` with tandem's synthetic arithmetic task: train::run_pipeline()
// with N generated problems as prompt/completion pairs, then the accuracy of
// the trained model on held-out problems (another seed stream, see
// arith_heldout_seed()), added to the run's JSON report.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "train/pipeline.h"

namespace tandem::eval {

struct MathTrainingPlan {
  train::TrainPlan train;       // train.synthetic is filled here from the fields below
  int64_t synth_math = 0;       // synthetic problems to train on (seed: train.seed)
  int synth_difficulty = 2;     // 1..10
  double synth_weight = 1.0;    // their sampling weight in the data mix
  int64_t eval_math = -1;       // held-out problems scored after training; -1: 100 with synth_math, else 0
  int eval_max_tokens = 0;      // tokens generated per problem; 0: arith_answer_tokens(synth_difficulty)
  std::string report;           // write the JSON report here (empty: not written)
};

struct MathTrainingOutcome {
  bool finished = false;  // false: stopped early (train.stop_after); no model, no report
  nlohmann::json report;  // train::TrainOutcome::report plus math_difficulty, math_heldout, math_accuracy
};

// Runs the pipeline and the held-out evaluation (skipped when no full model
// was written: a LoRA run without merged_out). Progress lines as
// train::run_pipeline(), plus the accuracy line and the first sample
// generations. Throws tandem::Error as train::run_pipeline() does, and when
// the report cannot be written. Not reentrant (see train::run_pipeline()).
MathTrainingOutcome run_math_training(MathTrainingPlan plan, const train::Progress& progress = {});

}  // namespace tandem::eval
