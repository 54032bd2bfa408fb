#include "eval/sweep.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "util/error.h"

namespace tandem::eval {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One probed example: per stage, its signal, threshold, correctness and costs.
struct StageCost {
  double value = kNaN, threshold = kNaN;
  int correct = 0;
  double cost = 0.0, seconds = 0.0, flops = 0.0;
};

StageCost read_stage(const nlohmann::json& s, bool last, const Record& r) {
  const std::string where = r.task + "/" + r.model + " example " + r.example_id;
  if (!s.is_object() || !s.contains("tokens") || !s.contains("correct"))
    throw Error("sweep: " + where + ": a stage without tokens or correct");
  StageCost c;
  if (!last) {
    if (!s.contains("value") || !s.contains("threshold")) throw Error("sweep: " + where + ": a stage without its signal");
    c.value = json_number(s["value"]);
    c.threshold = json_number(s["threshold"]);
  }
  c.correct = s["correct"].get<int>();
  c.cost = s.value("cost", 0.0);
  for (auto it = s["tokens"].begin(); it != s["tokens"].end(); ++it) {
    c.seconds += it.value().value("seconds", 0.0);
    c.flops = it.value().contains("flops") && !std::isnan(c.flops) ? c.flops + it.value()["flops"].get<double>() : kNaN;
  }
  return c;
}

// The outcome of one example when the first stage's threshold is t (oracle:
// the first stage's answer is kept when it is right).
void add_outcome(const std::vector<StageCost>& stages, double t, SweepPoint& p, bool oracle = false) {
  for (size_t i = 0; i < stages.size(); ++i) {
    const StageCost& s = stages[i];
    p.cost += s.cost;
    p.seconds += s.seconds;
    p.flops += s.flops;
    const bool last = i + 1 == stages.size();
    const bool keep = last || (i == 0 && oracle ? s.correct == 1 : s.value >= (i == 0 ? t : s.threshold));
    if (i == 0 && !keep) ++p.deferred;
    if (keep) {
      p.correct += s.correct;
      return;
    }
  }
}

}  // namespace

double json_number(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "nan" || s == "-nan") return kNaN;
    if (s == "inf") return kInf;
    if (s == "-inf") return -kInf;
  }
  throw Error("sweep: not a number: " + j.dump());
}

std::optional<Sweep> cascade_sweep(const std::vector<Record>& records) {
  size_t probed = 0;
  for (const Record& r : records) probed += r.stages.empty() ? 0 : 1;
  if (probed == 0) return std::nullopt;
  if (probed != records.size())
    throw Error("sweep: " + records.front().task + "/" + records.front().model + ": " + std::to_string(probed) + " of " +
                std::to_string(records.size()) + " records are probed: run every example with --probe (a new --out)");
  Sweep sw;
  sw.task = records.front().task;
  sw.model = records.front().model;
  sw.n = static_cast<int64_t>(records.size());
  std::vector<std::vector<StageCost>> examples;
  std::set<double, std::greater<>> grid{kInf};
  for (const Record& r : records) {
    if (r.stages.size() < 2) throw Error("sweep: " + r.task + "/" + r.model + " example " + r.example_id + ": fewer than two stages");
    std::vector<StageCost> stages;
    for (size_t i = 0; i < r.stages.size(); ++i) stages.push_back(read_stage(r.stages[i], i + 1 == r.stages.size(), r));
    if (std::isfinite(stages[0].value)) grid.insert(stages[0].value);
    examples.push_back(std::move(stages));
  }
  const nlohmann::json& first = records.front().stages.front();
  sw.signal = first.value("signal", "");
  sw.first_stage = first.value("stage", "");
  sw.last_stage = records.front().stages.back().value("stage", "");
  sw.configured = examples.front()[0].threshold;
  for (const double t : grid) {
    SweepPoint p;
    p.threshold = t;
    for (const auto& e : examples) add_outcome(e, t, p);
    sw.points.push_back(p);
  }
  sw.oracle.threshold = kNaN;
  for (const auto& e : examples) add_outcome(e, 0.0, sw.oracle, /*oracle=*/true);
  return sw;
}

SweepPoint point_at(const Sweep& sweep, double threshold) {
  // points run from +inf down; the decisions at t are those of the smallest grid value >= t.
  const SweepPoint* best = &sweep.points.front();
  for (const SweepPoint& p : sweep.points)
    if (p.threshold >= threshold) best = &p;
  SweepPoint out = *best;
  out.threshold = threshold;
  return out;
}

}  // namespace tandem::eval
