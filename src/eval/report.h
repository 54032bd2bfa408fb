// `tandem report`: the summaries of one or more eval runs (eval/results.h) as
// a markdown table and, per task, an SVG plot of accuracy against cost with
// the Pareto frontier across every model evaluated on it.
#pragma once

#include <string>
#include <vector>

#include "eval/results.h"

namespace tandem::eval {

// Which cost a plot's x axis shows: money when any model of the task has a
// price (cost > 0), else the models' wall time.
enum class CostAxis { kMoney, kSeconds };
CostAxis cost_axis(const std::vector<Summary>& task_summaries);
double cost_per_example(const Summary& s, CostAxis axis);

// Indices of the points not dominated by another (lower or equal cost and
// higher or equal accuracy, one of them strictly), by increasing cost.
std::vector<size_t> pareto_front(const std::vector<double>& cost, const std::vector<double>& accuracy);

// The markdown report: one table row per summary (model, task, n, accuracy
// with its 95% Wilson interval, cost, tokens, seconds, mean latency), with the
// units stated, then the plots (image links to `plots`, file names).
std::string report_markdown(const std::vector<Summary>& summaries, const std::vector<std::string>& plots);

// The SVG plot of one task's summaries (all of one task, accuracy tasks only).
std::string pareto_svg(const std::vector<Summary>& task_summaries);

}  // namespace tandem::eval
