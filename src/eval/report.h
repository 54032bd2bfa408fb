// `tandem report`: the summaries of one or more eval runs (eval/results.h) as
// a markdown table and, per task, an SVG plot of accuracy against cost with
// the Pareto frontier across every model evaluated on it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/results.h"
#include "eval/sweep.h"

namespace tandem::eval {

// Which cost a plot's x axis shows: money (the config's prices), the models'
// wall time in seconds, or the FLOPs estimate (eval/harness.h flops_estimate).
enum class CostAxis { kMoney, kSeconds, kFlops };
// The default: money when any model of the task has a price (cost > 0), else
// FLOPs when every model's are known, else seconds.
CostAxis cost_axis(const std::vector<Summary>& task_summaries);
// "money", "seconds" or "flops"; throws tandem::Error for another name.
CostAxis parse_cost_axis(const std::string& name);
// Per example; FLOPs: NaN when unknown.
double cost_per_example(const Summary& s, CostAxis axis);

// Indices of the points not dominated by another (lower or equal cost and
// higher or equal accuracy, one of them strictly), by increasing cost.
std::vector<size_t> pareto_front(const std::vector<double>& cost, const std::vector<double>& accuracy);

// The markdown report: one table row per summary (model, task, n, accuracy
// with its 95% Wilson interval, cost, tokens, seconds, mean latency), with the
// units stated, then the plots (image links to `plots`, file names).
std::string report_markdown(const std::vector<Summary>& summaries, const std::vector<std::string>& plots);

// The SVG plot of one task's summaries (all of one task, accuracy tasks only)
// against `axis`. Throws tandem::Error naming the model for FLOPs where a
// summary's are unknown.
// Sweeps (eval/sweep.h) of the task's probed cascades are drawn as lines of
// small points, and the frontier runs across them too.
std::string pareto_svg(const std::vector<Summary>& task_summaries, CostAxis axis, const std::vector<Sweep>& sweeps = {});

// "## Threshold sweeps": per sweep a table at the thresholds where the share
// deferred by the first stage first reaches 0%, 10%, ..., 100%, the configured
// threshold (marked *) and the oracle; empty for no sweeps.
std::string sweep_markdown(const std::vector<Sweep>& sweeps);

// What part of a task's dataset a run evaluated, from its results.json:
// kSubset with `--subset tiny` (config.subset), kFull when every row was
// selected (n-samples original == effective), kPartial otherwise (--limit,
// --offset), kUnknown when results.json does not name the task.
enum class Coverage { kUnknown, kSubset, kFull, kPartial };
Coverage coverage(const nlohmann::json& results, const std::string& task);

// A (model, task) run on the tiny subset and on the full set: how well the
// subset's estimate matches the full value.
struct Fidelity {
  Summary subset;
  Summary full;
};

// "## Subset fidelity": per pair, the subset's estimate with its standard
// error, the full value, their difference (subset - full) and the difference
// in standard errors; empty for no pairs.
std::string fidelity_markdown(const std::vector<Fidelity>& pairs);

}  // namespace tandem::eval
