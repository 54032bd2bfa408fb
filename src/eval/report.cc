#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "eval/sweep.h"
#include "util/error.h"

namespace tandem::eval {
namespace {

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

std::string escape_xml(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

double accuracy(const Summary& s) { return s.metrics.at(s.primary).value; }

// Round axis ticks: 1, 2 or 5 times a power of ten, about 5 of them.
double tick_step(double range) {
  const double raw = range / 5.0, p = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0})
    if (raw <= m * p) return m * p;
  return 10.0 * p;
}

// A point's label: placed above-right of the point, moved up one line at a
// time while it would overlap a label already placed (close points: their
// names stay readable). Widths estimated at 7.5 px per character (13 px sans).
struct LabelBox {
  double x0, x1, y0, y1;
};
double label_y(std::vector<LabelBox>& placed, double x, double y, size_t chars) {
  const double w = 7.5 * static_cast<double>(chars);
  auto clash = [&](double ty) {
    return std::any_of(placed.begin(), placed.end(), [&](const LabelBox& b) {
      return x < b.x1 && b.x0 < x + w && ty - 12 < b.y1 && b.y0 < ty + 3;
    });
  };
  // Above the point, else below it, else one line further up or down at a time.
  double pick = y;
  for (int k = 0; k < 12 && clash(pick); ++k) pick = k % 2 == 0 ? y + 22 + 15.0 * (k / 2) : y - 15.0 * (k / 2 + 1);
  placed.push_back({x, x + w, pick - 12, pick + 3});
  return pick;
}

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

}  // namespace

CostAxis cost_axis(const std::vector<Summary>& ss) {
  bool flops = true;
  for (const Summary& s : ss) {
    if (s.total.cost > 0.0) return CostAxis::kMoney;
    flops = flops && s.total.flops_known();
  }
  return flops ? CostAxis::kFlops : CostAxis::kSeconds;
}

CostAxis parse_cost_axis(const std::string& name) {
  if (name == "money") return CostAxis::kMoney;
  if (name == "seconds") return CostAxis::kSeconds;
  if (name == "flops") return CostAxis::kFlops;
  throw Error("report: --cost takes money, seconds or flops (got '" + name + "')");
}

double cost_per_example(const Summary& s, CostAxis axis) {
  const double n = static_cast<double>(std::max<size_t>(1, s.n));
  switch (axis) {
    case CostAxis::kMoney: return s.total.cost / n;
    case CostAxis::kSeconds: return s.total.seconds / n;
    case CostAxis::kFlops: return s.total.flops_known() ? s.total.flops / n : std::numeric_limits<double>::quiet_NaN();
  }
  return 0.0;
}

std::vector<size_t> pareto_front(const std::vector<double>& cost, const std::vector<double>& acc) {
  std::vector<size_t> out;
  for (size_t i = 0; i < cost.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < cost.size() && !dominated; ++j)
      dominated = j != i && cost[j] <= cost[i] && acc[j] >= acc[i] && (cost[j] < cost[i] || acc[j] > acc[i]);
    if (!dominated) out.push_back(i);
  }
  std::sort(out.begin(), out.end(), [&](size_t a, size_t b) { return cost[a] != cost[b] ? cost[a] < cost[b] : a < b; });
  return out;
}

std::string report_markdown(const std::vector<Summary>& ss, const std::vector<std::string>& plots) {
  std::string md = "# tandem eval report\n\n";
  md += "| model | task | n | metric | value | 95% CI (Wilson) | cost (money) | cost / example | FLOPs | FLOPs / example "
        "| tokens in + out (+ scored) | model seconds | mean latency (ms) |\n";
  md += "|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Summary& s : ss) {
    const MetricValue& v = s.metrics.at(s.primary);
    std::string ci = "—", value;
    if (s.primary == "perplexity") {
      value = fmt("%.3f", v.value);
    } else {
      const auto [lo, hi] = wilson_interval(s.correct, static_cast<int64_t>(s.n));
      value = fmt("%.1f%%", 100.0 * v.value);
      ci = fmt("[%.1f", 100.0 * lo) + fmt(", %.1f]%%", 100.0 * hi);
    }
    std::string tokens = std::to_string(s.total.prompt_tokens) + " + " + std::to_string(s.total.completion_tokens);
    if (s.total.scored_tokens > 0) tokens += " (+ " + std::to_string(s.total.scored_tokens) + ")";
    const std::string flops = s.total.flops_known() ? fmt("%.3g", s.total.flops) : "unknown";
    const std::string flops_each =
        s.total.flops_known() ? fmt("%.3g", s.total.flops / static_cast<double>(s.n)) : "unknown";
    md += "| " + s.model + " | " + s.task + " | " + std::to_string(s.n) + " | " + s.primary + " | " + value + " | " +
          ci + " | " + fmt("%.6g", s.total.cost) + " | " + fmt("%.3g", s.total.cost / static_cast<double>(s.n)) +
          " | " + flops + " | " + flops_each + " | " + tokens + " | " + fmt("%.1f", s.total.seconds) + " | " + fmt("%.0f", s.latency_ms_mean) + " |\n";
  }
  md += "\nCosts: **money** is in the currency of the config's price table (local models are priced per second of "
        "their measured wall time, remote ones per token; models given as GGUF paths have no price, so 0); "
        "**tokens** are prompt + completion tokens of every underlying model (a cascade counts each stage it "
        "called; scored = tokens evaluated by log-likelihood scoring); **FLOPs** are estimated per underlying model as "
        "2 × parameter count × (prompt + completion + scored tokens) (parameters: every weight of a local GGUF; a "
        "remote model's `params` in the config, else unknown), deterministic unlike seconds; **model seconds** is "
        "the models' summed wall time. Accuracy intervals are 95% Wilson score intervals.\n";
  for (const Summary& s : ss) {
    if (s.total.flops_known()) continue;
    std::string missing;
    for (const auto& [name, t] : s.per_model)
      if (!t.flops_known()) missing += (missing.empty() ? "" : ", ") + name;
    md += "\nNote: " + s.model + " on " + s.task + ": FLOPs unknown (no parameter count for " + missing + ").\n";
  }
  for (const Summary& s : ss) {
    if (s.failed > 0)
      md += "\nNote: " + s.model + " on " + s.task + ": " + std::to_string(s.failed) + " of " + std::to_string(s.n) +
            " examples failed (the prompt does not fit the model's context) and are counted wrong.\n";
    if (s.truncated > 0)
      md += "\nNote: " + s.model + " on " + s.task + ": " + std::to_string(s.truncated) + " of " +
            std::to_string(s.n) + " prompts were left-truncated to fit the context (context - max_gen_toks tokens).\n";
  }
  for (const Summary& s : ss)
    if (s.letter_fallback > 0)
      md += "\nNote: " + s.model + " on " + s.task + ": " + std::to_string(s.letter_fallback) +
            " examples answered by a generated letter (the model cannot score choices).\n";
  if (!plots.empty()) md += "\n## Accuracy against cost\n\n";
  for (const std::string& p : plots) md += "![" + p + "](" + p + ")\n\n";
  return md;
}

namespace {

// The plot area and its scales.
struct Frame {
  double W = 0, H = 500, left = 80, top = 50, bottom = 70, right = 240, xmax = 1;
  double pw() const { return W - left - right; }
  double ph() const { return H - top - bottom; }
  double X(double c) const { return left + pw() * c / xmax; }
  double Y(double a) const { return top + ph() * (1.0 - a / 100.0); }
};

// Title, grid, ticks, frame and axis labels.
std::string svg_frame(const Frame& f, double xstep, const std::string& title, CostAxis axis, const std::string& metric) {
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", f.W) + "\" height=\"" +
                    fmt("%.0f", f.H) + "\" font-family=\"sans-serif\" font-size=\"13\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + fmt("%.0f", f.left + f.pw() / 2) + "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" +
         escape_xml(title) + "</text>\n";
  for (double a = 0; a <= 100.0001; a += 20) {  // y grid and ticks
    svg += "<line x1=\"" + fmt("%.1f", f.left) + "\" x2=\"" + fmt("%.1f", f.left + f.pw()) + "\" y1=\"" +
           fmt("%.1f", f.Y(a)) + "\" y2=\"" + fmt("%.1f", f.Y(a)) + "\" stroke=\"#ddd\"/>\n";
    svg += "<text x=\"" + fmt("%.0f", f.left - 8) + "\" y=\"" + fmt("%.1f", f.Y(a) + 4) + "\" text-anchor=\"end\">" +
           fmt("%.0f", a) + "</text>\n";
  }
  for (double c = 0; c <= f.xmax * 1.0001; c += xstep) {  // x grid and ticks
    svg += "<line x1=\"" + fmt("%.1f", f.X(c)) + "\" x2=\"" + fmt("%.1f", f.X(c)) + "\" y1=\"" + fmt("%.1f", f.top) +
           "\" y2=\"" + fmt("%.1f", f.top + f.ph()) + "\" stroke=\"#eee\"/>\n";
    svg += "<text x=\"" + fmt("%.1f", f.X(c)) + "\" y=\"" + fmt("%.1f", f.top + f.ph() + 18) +
           "\" text-anchor=\"middle\">" + fmt("%.3g", c) + "</text>\n";
  }
  svg += "<rect x=\"" + fmt("%.0f", f.left) + "\" y=\"" + fmt("%.0f", f.top) + "\" width=\"" + fmt("%.0f", f.pw()) +
         "\" height=\"" + fmt("%.0f", f.ph()) + "\" fill=\"none\" stroke=\"black\"/>\n";
  const std::string xlabel = axis == CostAxis::kMoney   ? "cost per example (money, at the config's prices)"
                             : axis == CostAxis::kFlops ? "FLOPs per example (estimate: 2 × parameters × tokens)"
                                                        : "model wall time per example (seconds)";
  svg += "<text x=\"" + fmt("%.0f", f.left + f.pw() / 2) + "\" y=\"" + fmt("%.0f", f.H - 22) +
         "\" text-anchor=\"middle\">" + xlabel + "</text>\n";
  svg += "<text transform=\"translate(24," + fmt("%.0f", f.top + f.ph() / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         "accuracy (" + metric + ", %)</text>\n";
  return svg;
}

// The frontier as a staircase: accuracy holds until the next frontier point.
std::string svg_frontier(const Frame& f, const std::vector<double>& cost, const std::vector<double>& acc) {
  const std::vector<size_t> front = pareto_front(cost, acc);
  std::string path;
  for (size_t k = 0; k < front.size(); ++k) {
    const size_t i = front[k];
    if (k > 0) path += " L" + fmt("%.1f", f.X(cost[i])) + "," + fmt("%.1f", f.Y(acc[front[k - 1]]));
    path += (k == 0 ? "M" : " L") + fmt("%.1f", f.X(cost[i])) + "," + fmt("%.1f", f.Y(acc[i]));
  }
  return "<path d=\"" + path + "\" fill=\"none\" stroke=\"#555\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>\n";
}

double sweep_cost(const SweepPoint& p, int64_t n, CostAxis axis) {
  const double k = static_cast<double>(std::max<int64_t>(1, n));
  return axis == CostAxis::kMoney ? p.cost / k : axis == CostAxis::kSeconds ? p.seconds / k : p.flops / k;
}

std::string legend_entry(const Frame& f, double y, const std::string& color, const std::string& text, bool line) {
  std::string svg = line ? "<line x1=\"" + fmt("%.0f", f.W - f.right + 14) + "\" x2=\"" + fmt("%.0f", f.W - f.right + 34) +
                               "\" y1=\"" + fmt("%.1f", y - 4) + "\" y2=\"" + fmt("%.1f", y - 4) + "\" stroke=\"" +
                               color + "\" stroke-width=\"2\"/>\n"
                         : "<circle cx=\"" + fmt("%.0f", f.W - f.right + 24) + "\" cy=\"" + fmt("%.1f", y - 4) +
                               "\" r=\"6\" fill=\"" + color + "\"/>\n";
  return svg + "<text x=\"" + fmt("%.0f", f.W - f.right + 40) + "\" y=\"" + fmt("%.1f", y) + "\">" + escape_xml(text) +
         "</text>\n";
}

}  // namespace

std::string pareto_svg(const std::vector<Summary>& ss, CostAxis axis, const std::vector<Sweep>& sweeps) {
  if (ss.empty()) throw Error("report: no models to plot");
  std::vector<double> cost, acc;  // every point: the summaries', then the sweeps'
  for (const Summary& s : ss) {
    if (axis == CostAxis::kFlops && !s.total.flops_known())
      throw Error("report: FLOPs of " + s.model + " on " + s.task +
                  " are unknown (a model without a parameter count: give remote models params: in the config); "
                  "use --cost money or seconds");
    cost.push_back(cost_per_example(s, axis));
    acc.push_back(100.0 * accuracy(s));
  }
  size_t longest = 0, n_min = ss.front().n, n_max = ss.front().n;
  for (const Summary& s : ss) {
    longest = std::max(longest, s.model.size() + 7);
    n_min = std::min(n_min, s.n);
    n_max = std::max(n_max, s.n);
  }
  for (const Sweep& sw : sweeps) {
    longest = std::max(longest, sw.model.size() + 20);
    for (const SweepPoint& p : sw.points) {
      if (std::isnan(sweep_cost(p, sw.n, axis))) continue;
      cost.push_back(sweep_cost(p, sw.n, axis));
      acc.push_back(100.0 * static_cast<double>(p.correct) / static_cast<double>(std::max<int64_t>(1, sw.n)));
    }
  }
  Frame f;
  f.right = std::max(240.0, 50.0 + 7.5 * static_cast<double>(longest));  // the legend follows the longest name
  f.W = 520 + f.right;
  f.xmax = std::max(1e-300, *std::max_element(cost.begin(), cost.end()));
  const double xstep = tick_step(f.xmax);
  f.xmax = std::ceil(f.xmax * 1.08 / xstep) * xstep;
  const std::string n_text =
      n_min == n_max ? std::to_string(n_min) : std::to_string(n_min) + "–" + std::to_string(n_max);
  std::string svg = svg_frame(f, xstep, ss.front().task + ": accuracy against cost (n = " + n_text + ")", axis,
                               ss.front().primary);
  svg += svg_frontier(f, cost, acc);
  const std::vector<size_t> front = pareto_front(cost, acc);
  std::vector<LabelBox> labels;
  double ly = f.top + 20;
  for (size_t i = 0; i < ss.size(); ++i, ly += 22) {
    const char* color = kColors[i % (sizeof kColors / sizeof kColors[0])];
    const bool on_front = std::find(front.begin(), front.end(), i) != front.end();
    svg += "<circle cx=\"" + fmt("%.1f", f.X(cost[i])) + "\" cy=\"" + fmt("%.1f", f.Y(acc[i])) + "\" r=\"6\" fill=\"" +
           color + "\" stroke=\"black\" stroke-width=\"" + (on_front ? "2" : "0.5") + "\"/>\n";
    const double ty = label_y(labels, f.X(cost[i]) + 9, f.Y(acc[i]) - 8, ss[i].model.size());
    svg += "<text x=\"" + fmt("%.1f", f.X(cost[i]) + 9) + "\" y=\"" + fmt("%.1f", ty) + "\">" +
           escape_xml(ss[i].model) + "</text>\n";
    svg += legend_entry(f, ly, color, ss[i].model + fmt(" (%.0f%%)", acc[i]), false);
  }
  size_t k = ss.size();
  for (size_t j = 0; j < sweeps.size(); ++j, ly += 22) {
    const char* color = kColors[(ss.size() + j) % (sizeof kColors / sizeof kColors[0])];
    std::string path;
    for (const SweepPoint& p : sweeps[j].points) {
      if (std::isnan(sweep_cost(p, sweeps[j].n, axis))) continue;
      path += (path.empty() ? "M" : " L") + fmt("%.1f", f.X(cost[k])) + "," + fmt("%.1f", f.Y(acc[k]));
      svg += "<circle cx=\"" + fmt("%.1f", f.X(cost[k])) + "\" cy=\"" + fmt("%.1f", f.Y(acc[k])) + "\" r=\"2.5\" fill=\"" +
             color + "\"/>\n";
      ++k;
    }
    svg += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.5\"/>\n";
    svg += legend_entry(f, ly, color, sweeps[j].model + ": threshold sweep", true);
    // The oracle (not reachable by a rule, so not on the frontier): a hollow point.
    const double oc = sweep_cost(sweeps[j].oracle, sweeps[j].n, axis);
    if (!std::isnan(oc)) {
      const double oa = 100.0 * static_cast<double>(sweeps[j].oracle.correct) / static_cast<double>(std::max<int64_t>(1, sweeps[j].n));
      svg += "<circle cx=\"" + fmt("%.1f", f.X(oc)) + "\" cy=\"" + fmt("%.1f", f.Y(oa)) + "\" r=\"6\" fill=\"white\" stroke=\"" +
             color + "\" stroke-width=\"2\"/>\n";
      const std::string label = sweeps[j].model + " oracle";
      const double ty = label_y(labels, f.X(oc) + 9, f.Y(oa) - 8, label.size());
      svg += "<text x=\"" + fmt("%.1f", f.X(oc) + 9) + "\" y=\"" + fmt("%.1f", ty) + "\">" + escape_xml(label) + "</text>\n";
      ly += 22;
      svg += "<circle cx=\"" + fmt("%.0f", f.W - f.right + 24) + "\" cy=\"" + fmt("%.1f", ly - 4) + "\" r=\"6\" fill=\"white\" stroke=\"" +
             color + "\" stroke-width=\"2\"/>\n<text x=\"" + fmt("%.0f", f.W - f.right + 40) + "\" y=\"" + fmt("%.1f", ly) +
             "\">" + escape_xml(label) + fmt(" (%.0f%%)", oa) + "</text>\n";
    }
  }
  svg += "<line x1=\"" + fmt("%.0f", f.W - f.right + 14) + "\" x2=\"" + fmt("%.0f", f.W - f.right + 34) + "\" y1=\"" +
         fmt("%.1f", ly + 4) + "\" y2=\"" + fmt("%.1f", ly + 4) + "\" stroke=\"#555\" stroke-dasharray=\"6,4\"/>\n";
  svg += "<text x=\"" + fmt("%.0f", f.W - f.right + 40) + "\" y=\"" + fmt("%.1f", ly + 8) + "\">Pareto frontier</text>\n";
  return svg + "</svg>\n";
}

std::string sweep_markdown(const std::vector<Sweep>& sweeps) {
  if (sweeps.empty()) return {};
  std::string md = "\n## Threshold sweeps\n\nEach cascade run with `--probe` (every stage answered every example), "
                   "evaluated offline at each threshold of its first rule: the share of examples passed on from the "
                   "first stage, accuracy with its 95% Wilson interval, and cost per example. Rows: the thresholds "
                   "where the deferred share first reaches 0%, 10%, ..., 100%, the configured threshold (*), and the "
                   "oracle (keeps the first stage's answer exactly when it is right).\n";
  for (const Sweep& sw : sweeps) {
    md += "\n" + sw.model + " on " + sw.task + " (" + sw.signal + " of " + sw.first_stage + ", n = " +
          std::to_string(sw.n) + "):\n\n| threshold | deferred | accuracy | 95% CI | cost / example | FLOPs / example | "
          "seconds / example |\n|---:|---:|---:|---|---:|---:|---:|\n";
    const double n = static_cast<double>(std::max<int64_t>(1, sw.n));
    auto row = [&](const SweepPoint& p, const std::string& label) {
      const auto [lo, hi] = wilson_interval(p.correct, sw.n);
      md += "| " + label + " | " + fmt("%.0f%%", 100.0 * static_cast<double>(p.deferred) / n) + " | " +
            fmt("%.1f%%", 100.0 * static_cast<double>(p.correct) / n) + " | " + fmt("[%.1f", 100.0 * lo) +
            fmt(", %.1f]%%", 100.0 * hi) + " | " + fmt("%.3g", p.cost / n) + " | " +
            (std::isnan(p.flops) ? std::string("unknown") : fmt("%.3g", p.flops / n)) + " | " + fmt("%.3g", p.seconds / n) +
            " |\n";
    };
    std::vector<const SweepPoint*> shown;
    for (int decile = 10; decile >= 0; --decile) {  // from all deferred down to none
      const SweepPoint* pick = nullptr;
      for (const SweepPoint& p : sw.points)
        if (10.0 * static_cast<double>(p.deferred) <= decile * n) {
          pick = &p;
          break;
        }
      if (pick && std::find(shown.begin(), shown.end(), pick) == shown.end()) shown.push_back(pick);
    }
    const SweepPoint configured = point_at(sw, sw.configured);
    bool configured_shown = false;
    for (const SweepPoint* p : shown) {
      if (!configured_shown && p->threshold <= sw.configured) {
        row(configured, fmt("%.4g *", sw.configured));
        configured_shown = true;
        if (p->threshold == sw.configured) continue;
      }
      row(*p, std::isinf(p->threshold) ? "+inf" : fmt("%.4g", p->threshold));
    }
    if (!configured_shown) row(configured, fmt("%.4g *", sw.configured));
    row(sw.oracle, "oracle");
  }
  return md;
}

Coverage coverage(const nlohmann::json& results, const std::string& task) {
  const nlohmann::json* n = nullptr;
  if (results.contains("n-samples") && results["n-samples"].contains(task)) n = &results["n-samples"][task];
  if (n == nullptr) return Coverage::kUnknown;
  const nlohmann::json& config = results.value("config", nlohmann::json::object());
  if (config.value("subset", std::string()) == "tiny") return Coverage::kSubset;
  return n->value("original", int64_t{-1}) == n->value("effective", int64_t{-2}) ? Coverage::kFull : Coverage::kPartial;
}

std::string fidelity_markdown(const std::vector<Fidelity>& pairs) {
  if (pairs.empty()) return {};
  std::string md = "\n## Subset fidelity\n\nThe tiny subset's estimate against the full set's value, where both were run: "
                   "difference = subset - full, in points and in standard errors of the subset's estimate (sample "
                   "standard deviation / sqrt(n), as lm-eval's _stderr); |difference| under 2 SE is what sampling "
                   "alone explains about 95% of the time.\n\n";
  md += "| model | task | metric | subset n | subset estimate ± SE | full n | full value | difference | difference / SE |\n";
  md += "|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const Fidelity& f : pairs) {
    const std::string& metric = f.full.primary;
    const MetricValue& sub = f.subset.metrics.at(metric);
    const double full = f.full.metrics.at(metric).value, diff = sub.value - full;
    const bool pct = metric != "perplexity";
    const double k = pct ? 100.0 : 1.0;
    const char* unit = pct ? "%" : "";
    const std::string se = sub.standard_error ? fmt("%.1f", k * *sub.standard_error) : "—";
    const std::string z = sub.standard_error && *sub.standard_error > 0 ? fmt("%+.2f", diff / *sub.standard_error)
                                                                        : "—";
    md += "| " + f.full.model + " | " + f.full.task + " | " + metric + " | " + std::to_string(f.subset.n) + " | " +
          fmt("%.1f", k * sub.value) + " ± " + se + unit + " | " + std::to_string(f.full.n) + " | " +
          fmt("%.1f", k * full) + unit + " | " + fmt("%+.1f", k * diff) + (pct ? " points" : "") + " | " + z + " |\n";
  }
  return md;
}

}  // namespace tandem::eval
