// The settings that decide a training run's result, recorded in every
// checkpoint, and the check a resume makes against them. A run resumed with
// the same settings continues bit for bit as the uninterrupted run would have;
// one resumed with other settings would silently be neither run, so resuming
// refuses it unless the change is named as deliberate (an override).
//
// A setting has a name (the CLI option without its dashes, where there is
// one) and a canonical string value: integers in decimal, reals in %g style
// with the fewest digits that read back exactly (0.0003, 1e-08), so equal
// strings mean equal values.
//
// Recorded: the model's shape (vocab-size, dim, layers, heads, kv-heads, ff,
// tied, ctx, rope-base, norm-eps); batch, seq, accum, steps; the schedule
// (lr, min-lr, warmup, each as resolved: a default derived from another
// option is compared as its own value); AdamW (wd, beta1, beta2, adam-eps);
// clip; seed; LoRA (lora-rank, lora-alpha, lora-targets; "-" without
// adapters); distillation (kd-alpha, kd-temp, kd-reverse; "-" without a
// teacher); "data", the training mix's fingerprint (DataMix::fingerprint:
// its token streams, scoring and weights); and the caller's
// TrainOptions::inputs. Not recorded, since no weight depends on them:
// evaluation, logging, checkpoint and output options, and the thread count.
//
// The settings that fix the checkpoint's parameter layout (vocab-size, dim,
// layers, heads, kv-heads, ff, tied, lora-rank, lora-targets) cannot be
// overridden. "steps" can, but the cosine schedule then spans the new total,
// so the run is no longer the uninterrupted run of either length.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "train/trainer.h"

namespace tandem::train {

using RunSettings = std::map<std::string, std::string>;

// The settings of a run with options `o`, training data of fingerprint
// `data_fingerprint`, distilling from a teacher or not.
RunSettings run_settings(const TrainOptions& o, uint64_t data_fingerprint, bool distilling);

// Throws tandem::Error when an override names no setting of `known` and is
// not "all" (the error lists the valid names), or names a shape setting.
void check_override_names(const std::vector<std::string>& overrides, const RunSettings& known);

struct SettingChange {
  std::string name, label, checkpoint, now;
};

// Compares a checkpoint's settings with this run's (a setting only one side
// records counts as changed, its missing value shown as "not recorded").
// Throws tandem::Error "<where>: <label> differs from the checkpoint
// (checkpoint X, now Y); use --override NAME to change it deliberately" for
// the first change, shape settings first, that `overrides` does not name
// ("all" names every setting but the shape's). Returns the overridden changes.
std::vector<SettingChange> compare_run_settings(const RunSettings& checkpoint, const RunSettings& now,
                                                const std::vector<std::string>& overrides, const std::string& where);

}  // namespace tandem::train
