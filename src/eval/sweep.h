// A cascade's threshold sweep from probed records (`tandem eval --probe`,
// Record::stages): the accuracy and cost the cascade would have had at every
// threshold of its first rule, computed offline from one run in which every
// stage answered every example.
//
// At threshold t the first stage's answer is kept when its recorded signal
// value >= t (never for NaN); otherwise the example goes on through the later
// stages at their recorded thresholds (a cascade of more than two stages
// sweeps only its first rule). Cost per example = the costs of the stages
// asked. The grid: +inf (every example deferred) and each distinct finite
// signal value, from strict (high) to lenient (low); a value is the strictest
// threshold that keeps the examples it keeps.
//
// For greedy stages this is exactly what the cascade built with that
// threshold would score on the same examples (tests/eval/sweep_test.cc checks
// it against such runs); seconds and latency are the probe run's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eval/records.h"

namespace tandem::eval {

struct SweepPoint {
  double threshold = 0.0;
  int64_t correct = 0;
  int64_t deferred = 0;   // examples the first stage did not keep
  double cost = 0.0;      // money, summed over the examples
  double seconds = 0.0;   // model wall time, summed
  double flops = 0.0;     // summed; NaN when a stage's FLOPs are unknown
};

struct Sweep {
  std::string task;
  std::string model;       // the cascade
  std::string signal;      // of its first rule
  std::string first_stage, last_stage;
  double configured = 0.0;  // the first rule's threshold in the run
  int64_t n = 0;
  std::vector<SweepPoint> points;  // strict to lenient: deferred falls, +inf first
  // The oracle of the first rule: it keeps the first stage's answer exactly
  // when that answer is right (threshold NaN); the best any signal could do.
  SweepPoint oracle;
};

// The sweep of one (task, model)'s records, nullopt when they are not probed
// (no stages). Throws tandem::Error when only some records are probed or a
// record's stages are malformed (naming the example).
std::optional<Sweep> cascade_sweep(const std::vector<Record>& records);

// A JSON number, or the strings "nan", "inf", "-inf" the harness writes for
// non-finite values. Throws tandem::Error for anything else.
double json_number(const nlohmann::json& j);

// The point at `threshold` (the cascade's decisions at any t equal those at
// the smallest grid value >= t).
SweepPoint point_at(const Sweep& sweep, double threshold);

}  // namespace tandem::eval
