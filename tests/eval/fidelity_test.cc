// Subset fidelity (eval/report.h): a run's coverage read from its
// results.json, the fidelity table against hand-computed numbers, and
// `tandem report` over a full and a --subset tiny run of one model showing
// the subset's estimate, the full value and their difference.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "eval/report.h"
#include "eval/results.h"
#include "test_util.h"

namespace tandem::eval {
namespace {

namespace fs = std::filesystem;
using testing::run_command;
using testing::shell_quote;
using testing::source_path;

TEST(Fidelity, CoverageFromResultsJson) {
  const nlohmann::json sub = {{"n-samples", {{"t", {{"original", 200}, {"effective", 100}}}}},
                              {"config", {{"subset", "tiny"}}}};
  const nlohmann::json full = {{"n-samples", {{"t", {{"original", 200}, {"effective", 200}}}}},
                               {"config", {{"subset", ""}}}};
  const nlohmann::json part = {{"n-samples", {{"t", {{"original", 200}, {"effective", 100}}}}},
                               {"config", {{"subset", ""}}}};
  EXPECT_EQ(coverage(sub, "t"), Coverage::kSubset);
  EXPECT_EQ(coverage(full, "t"), Coverage::kFull);
  EXPECT_EQ(coverage(part, "t"), Coverage::kPartial);
  EXPECT_EQ(coverage(full, "other"), Coverage::kUnknown);
  EXPECT_EQ(coverage(nlohmann::json::object(), "t"), Coverage::kUnknown);
}

std::vector<Record> records(const std::vector<int>& correct) {
  std::vector<Record> rs;
  for (size_t i = 0; i < correct.size(); ++i) {
    Record r;
    r.task = "t";
    r.model = "m";
    r.example_id = std::to_string(i);
    r.correct = correct[i];
    r.metrics = {{"exact_match", correct[i]}};
    rs.push_back(r);
  }
  return rs;
}

TEST(Fidelity, TableAgainstHandComputedNumbers) {
  // Subset: 3 of 4 right: 75%, sample sd 0.5, SE 0.5 / sqrt(4) = 25 points.
  // Full: 4 of 8: 50%. Difference +25 points = +1.00 SE.
  const std::string md = fidelity_markdown({{summarize(records({1, 1, 1, 0})), summarize(records({1, 0, 1, 0, 1, 0, 1, 0}))}});
  EXPECT_NE(md.find("## Subset fidelity"), std::string::npos);
  EXPECT_NE(md.find("| m | t | exact_match | 4 | 75.0 ± 25.0% | 8 | 50.0% | +25.0 points | +1.00 |"), std::string::npos)
      << md;
  EXPECT_EQ(fidelity_markdown({}), "");
}

TEST(Fidelity, ReportOfAFullAndASubsetRun) {
  const fs::path dir = fs::temp_directory_path() / ("tandem-eval-fidelity-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string bin = shell_quote(testing::tandem_binary());
  const std::string eval = bin + " eval --models " + shell_quote(source_path("models/tandem-tiny.gguf")) +
                           " --task arith-d2 -t 1 --out ";
  const testing::CommandResult f = run_command(eval + shell_quote((dir / "full").string()));
  ASSERT_EQ(f.exit_code, 0) << f.err;
  const testing::CommandResult s = run_command(eval + shell_quote((dir / "tiny").string()) + " --subset tiny");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const std::string md = (dir / "r.md").string();
  const testing::CommandResult r = run_command(bin + " report " + shell_quote((dir / "full").string()) + " " +
                                               shell_quote((dir / "tiny").string()) + " --out " + shell_quote(md));
  ASSERT_EQ(r.exit_code, 0) << r.err;

  auto value = [&](const char* run) {
    return testing::read_json((dir / run / "results.json").string())["results"]["tandem-tiny/arith-d2"]["exact_match,none"]
        .get<double>();
  };
  const double sub = value("tiny"), full = value("full");
  char want[128];
  std::snprintf(want, sizeof want, "| tandem-tiny | arith-d2 | exact_match | 100 | %.1f ± ", 100.0 * sub);
  const std::string table = testing::read_file(md);
  const size_t at = table.find(want);
  ASSERT_NE(at, std::string::npos) << want << "\n" << table;
  std::snprintf(want, sizeof want, "| 200 | %.1f%% | %+.1f points |", 100.0 * full, 100.0 * (sub - full));
  EXPECT_NE(table.find(want, at), std::string::npos) << want << "\n" << table;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::eval
