// The training loop: micro-batches with gradient accumulation, global-norm
// clipping, AdamW with warm-up + cosine schedule, periodic evaluation,
// atomic checkpoints, a progress line (loss, tokens/s, ETA) and a loss curve.
//
// Determinism: given the same options and data, a run produces bit-identical
// parameters whatever the number of threads, and a run resumed from a
// checkpoint continues exactly as the uninterrupted run would have (resume
// refuses a run whose settings differ from the checkpoint's unless told to).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "train/data.h"
#include "train/distill.h"
#include "train/model.h"
#include "train/optimizer.h"

namespace tandem {
class Transformer;
}

namespace tandem::train {

struct TrainOptions {
  ModelShape shape;
  int64_t batch = 8;          // rows per micro-batch
  int64_t seq_len = 128;      // tokens per row (<= shape.n_ctx)
  int64_t accum = 1;          // micro-batches per optimizer step
  int64_t steps = 1000;       // optimizer steps in the whole run
  LrSchedule schedule;        // total_steps is set to `steps` by the Trainer
  AdamWConfig adam;
  double clip = 1.0;          // max global gradient norm (<= 0: off)
  uint64_t seed = 1;          // model init and data sampling
  int64_t eval_every = 100;   // steps between evaluations (0: only at the end)
  int64_t eval_batches = 4;
  int64_t log_every = 10;
  int64_t checkpoint_every = 0;  // steps (0: only at the end when a path is set)
  std::string checkpoint_path;
  std::string svg_path;       // loss curve, rewritten at each evaluation
  bool quiet = false;
  // Distillation, when a teacher is set: per scored position the loss is
  // (1 - kd_alpha) * cross-entropy + kd_alpha * kd_tau^2 * KL(teacher, student).
  double kd_alpha = 0.5;
  double kd_tau = 1.0;
  KlDirection kd_direction = KlDirection::kForward;
  // LoRA fine-tuning (rank > 0): only the adapters are trained; load the base
  // weights into model() before run().
  LoraConfig lora;
  // Resuming (train/run_settings.h): the settings whose change from the
  // checkpoint's is deliberate, by name ("all": every one but the model's
  // shape). The constructor rejects a name that is no setting.
  std::vector<std::string> overrides;
  // Identities of inputs the trainer does not see whole, recorded in
  // checkpoints and compared on resume like the options (the CLI's "init" and
  // "teacher" file fingerprints, ...). Keys must differ from the settings' names.
  std::map<std::string, std::string> inputs;
};

class Trainer {
 public:
  // `train` must not be empty; `valid` may be null (then no evaluation).
  Trainer(TrainOptions options, DataMix train, std::shared_ptr<const DataSource> valid);

  // Initializes parameters randomly from options.seed (the default), or from
  // a checkpoint written by an earlier run with the same options. Throws
  // tandem::Error naming the first setting (train/run_settings.h: option,
  // training data, input) that differs from the checkpoint's, with both
  // values, unless options.overrides names it; the shape never may differ.
  // A version 1 checkpoint records no settings: only its shape is checked,
  // and only with the override "all". Call set_teacher first when distilling.
  // Prints the overridden changes unless options.quiet.
  void resume(const std::string& checkpoint_path);

  // Distills from `teacher` (same vocabulary as the model; shared, read-only).
  void set_teacher(std::shared_ptr<Transformer> teacher);

  // Trains until options.steps, or until `stop_after` steps are done
  // (stop_after >= 0; used to simulate an interrupted run). Writes the final
  // checkpoint when a path is set.
  void run(int64_t stop_after = -1);

  // Mean NLL per scored token on `eval_batches` fixed batches of `valid`.
  double evaluate();

  TrainModel<float>& model() { return model_; }
  int64_t step() const { return step_; }
  const std::vector<std::pair<int64_t, float>>& train_loss() const { return train_loss_; }
  const std::vector<std::pair<int64_t, float>>& val_loss() const { return val_loss_; }
  double elapsed_seconds() const { return elapsed_s_; }
  int64_t tokens_seen() const { return tokens_seen_; }

  // Called after every optimizer step (step, loss) — e.g. for tests.
  std::function<void(int64_t, double)> on_step;

 private:
  void save_checkpoint();
  std::vector<float>& trainable() { return model_.lora_enabled() ? model_.lora_params : model_.params; }
  std::vector<float>& trainable_grads() { return model_.lora_enabled() ? model_.lora_grads : model_.grads; }

  TrainOptions opt_;
  DataMix train_;
  std::shared_ptr<const DataSource> valid_;
  uint64_t data_fingerprint_ = 0;  // of train_, for the checkpoints' settings
  TrainModel<float> model_;
  AdamW adam_;
  Rng data_rng_;
  int64_t step_ = 0, tokens_seen_ = 0;
  double elapsed_s_ = 0;
  std::vector<std::pair<int64_t, float>> train_loss_, val_loss_;
  std::vector<int32_t> tokens_, targets_;
  std::shared_ptr<Transformer> teacher_;
  std::vector<float> teacher_logits_;
  std::vector<uint8_t> mask_;
};

// A line chart of training (and validation) loss against step, as SVG.
void write_loss_svg(const std::string& path, const std::vector<std::pair<int64_t, float>>& train,
                    const std::vector<std::pair<int64_t, float>>& val, const std::string& title);

}  // namespace tandem::train
