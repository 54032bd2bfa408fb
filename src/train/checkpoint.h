// Training checkpoints: everything needed to continue a run bit for bit
// (parameters, AdamW moments and step, the data sampler's Rng state, the loss
// history), in one binary file written atomically (temporary file + rename),
// so a run killed mid-write leaves the previous checkpoint intact.
//
// Format: "TDCK" u32 version, u64 header length, JSON header (shape, step,
// counters, histories, sizes, and from version 2 the run's settings), then
// params, m, v as little-endian F32 arrays. Version 1 files (no settings) are
// still read; resuming one needs an explicit override (see Trainer::resume).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "train/model.h"

namespace tandem::train {

struct Checkpoint {
  ModelShape shape;
  int64_t step = 0;          // optimizer steps completed
  int64_t adam_t = 0;
  uint64_t data_rng = 0;     // state of the data sampler's Rng
  int64_t tokens_seen = 0;
  double elapsed_s = 0;      // training time so far (for reporting)
  std::vector<std::pair<int64_t, float>> train_loss, val_loss;
  std::vector<float> params, m, v;
  // The settings of the run that wrote it (train/run_settings.h): option name
  // -> canonical value. Empty for a version 1 checkpoint, which has none.
  std::map<std::string, std::string> settings;
  uint32_t version = 0;      // the format version read (written: the newest)
};

void write_checkpoint(const Checkpoint& ck, const std::string& path);
// Throws tandem::Error naming the file on a missing, truncated or corrupt file.
Checkpoint read_checkpoint(const std::string& path);

}  // namespace tandem::train
