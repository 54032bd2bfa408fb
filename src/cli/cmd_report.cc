// tandem report: the records of one or more `tandem eval` runs as a markdown
// table (accuracy with 95% Wilson intervals, cost, tokens, latency) and one
// SVG plot per task of accuracy against cost with the Pareto frontier
// (src/eval/report.h).
//
//   tandem report runs/a runs/b --out report.md    # writes report.md and report-<task>.svg
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "eval/records.h"
#include "eval/report.h"
#include "eval/sweep.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

namespace fs = std::filesystem;

struct ReportArgs {
  std::vector<std::string> runs;
  std::string out;
  std::string cost;  // empty: per task, money when priced, else FLOPs when known, else seconds
};

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) throw Error(path.string() + ": cannot write");
}

void run_report(const ReportArgs& a) {
  // (task, model) -> records; a pair found in several runs is shown per run.
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::vector<eval::Record>>> groups;
  for (const std::string& run : a.runs) {
    const fs::path db = fs::path(run) / "records.sqlite";
    if (!fs::is_regular_file(db)) throw Error("report: " + db.string() + " not found (give RUN_DIRs of tandem eval)");
    for (eval::Record& r : eval::RecordStore(db.string()).all())
      groups[{r.task, r.model}][run].push_back(std::move(r));
  }
  if (groups.empty()) throw Error("report: the runs hold no records");
  std::map<std::string, nlohmann::json> results;  // run -> its results.json (absent: a run that did not finish)
  for (const std::string& run : a.runs) {
    const fs::path file = fs::path(run) / "results.json";
    if (!fs::is_regular_file(file)) continue;
    std::ifstream in(file);
    results[run] = nlohmann::json::parse(in, nullptr, false);
    if (results[run].is_discarded()) throw Error("report: " + file.string() + " is not valid JSON");
  }
  std::map<std::string, std::vector<eval::Summary>> by_task;
  std::map<std::string, std::vector<eval::Sweep>> sweeps;  // by task: the probed cascades' threshold sweeps
  std::vector<eval::Summary> all;
  std::vector<eval::Fidelity> fidelity;
  for (auto& [key, runs] : groups) {
    const eval::Summary* subset = nullptr;
    const eval::Summary* full = nullptr;
    std::vector<eval::Summary> here;
    here.reserve(runs.size());
    for (auto& [run, rows] : runs) {
      here.push_back(eval::summarize(rows));
      if (std::optional<eval::Sweep> sw = eval::cascade_sweep(rows)) {
        if (runs.size() > 1) sw->model += " (" + fs::path(run).filename().string() + ")";
        sweeps[key.first].push_back(std::move(*sw));
      }
      const auto r = results.find(run);
      const eval::Coverage c = r == results.end() ? eval::Coverage::kUnknown : eval::coverage(r->second, key.first);
      if (c == eval::Coverage::kSubset && subset == nullptr) subset = &here.back();
      if (c == eval::Coverage::kFull && full == nullptr) full = &here.back();
    }
    if (subset != nullptr && full != nullptr && subset->primary == full->primary) fidelity.push_back({*subset, *full});
    size_t i = 0;
    for (auto& [run, rows] : runs) {
      eval::Summary s = here[i++];
      if (runs.size() > 1) s.model += " (" + fs::path(run).filename().string() + ")";
      by_task[s.task].push_back(s);
      all.push_back(s);
    }
  }
  const fs::path out = a.out.empty() ? fs::path(a.runs[0]) / "report.md" : fs::path(a.out);
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  std::vector<std::string> plots;
  for (const auto& [task, ss] : by_task) {
    if (ss.front().primary == "perplexity") continue;
    std::string safe = task;
    for (char& c : safe)
      if (c == '/' || c == '\\' || c == ' ') c = '_';
    const std::string name = out.stem().string() + "-" + safe + ".svg";
    const eval::CostAxis axis = a.cost.empty() ? eval::cost_axis(ss) : eval::parse_cost_axis(a.cost);
    write_file(out.parent_path() / name, eval::pareto_svg(ss, axis, sweeps[task]));
    plots.push_back(name);
  }
  std::vector<eval::Sweep> every_sweep;
  for (auto& [task, list] : sweeps) every_sweep.insert(every_sweep.end(), list.begin(), list.end());
  write_file(out, eval::report_markdown(all, plots) + eval::sweep_markdown(every_sweep) + eval::fidelity_markdown(fidelity));
  std::printf("wrote %s", out.c_str());
  for (const std::string& p : plots) std::printf(" and %s", (out.parent_path() / p).c_str());
  std::printf("\n");
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand("report", "Markdown table and accuracy-vs-cost plots of tandem eval runs");
  cmd->add_option("runs", a->runs, "Run directories of tandem eval")->required();
  cmd->add_option("--out", a->out, "The markdown file (default: RUN_DIR/report.md); plots go beside it");
  cmd->add_option("--cost", a->cost, "The plots' x axis: money, seconds or flops (default: money when priced, else flops)")
      ->check(CLI::IsMember({"money", "seconds", "flops"}));
  cmd->callback([a] { run_report(*a); });
}

}  // namespace tandem::cli
