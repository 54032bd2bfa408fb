// tandem train-router end to end on the bundled models and the shipped
// arith-mix task: the table it writes holds, per model, the correctness that
// `tandem eval` (another command, its own records) reports for the same rows,
// and it routes; bad lines are one error each.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compose/router_table.h"
#include "test_util.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using testing::run_command;
using testing::shell_quote;
using testing::source_path;
using testing::tandem_binary;

TEST(TrainRouter, TheTableAgreesWithTandemEvalOnTheSameRows) {
  const fs::path dir = fs::temp_directory_path() / ("tandem-train-router-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string models = shell_quote(source_path("models/tandem-tiny.gguf")) + "," +
                             shell_quote(source_path("models/tandem-small.gguf"));
  const auto r = run_command(tandem_binary() + " train-router --models " + models + " --embedder " +
                             shell_quote(source_path("models/tandem-tiny.gguf")) + " --task arith-mix --limit 12 -t 1" +
                             " --records " + shell_quote((dir / "train").string()) + " --out " +
                             shell_quote((dir / "r.json").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("leave-one-out estimate"), std::string::npos) << r.out;
  const compose::RouterTable t = compose::load_router_table((dir / "r.json").string());
  ASSERT_EQ(t.models, (std::vector<std::string>{"tandem-tiny", "tandem-small"}));
  EXPECT_EQ(t.embedder, "tandem-tiny");
  ASSERT_EQ(t.correct.size(), 12u);

  const auto e = run_command(tandem_binary() + " eval --models " + models +
                             " --task arith-mix --limit 12 -t 1 --out " + shell_quote((dir / "eval").string()));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  std::ifstream in(dir / "eval" / "results.json");
  const nlohmann::json results = nlohmann::json::parse(in);
  const std::vector<double> acc = t.accuracy();
  for (size_t m = 0; m < 2; ++m) {
    // results.json, as lm-evaluation-harness: results["<model>/<task>"]["exact_match,none"].
    const nlohmann::json& row = results["results"][t.models[m] + "/arith-mix"];
    ASSERT_TRUE(row.is_object()) << results.dump();
    EXPECT_NEAR(row["exact_match,none"].get<double>(), acc[m], 1e-12) << t.models[m];
  }
  fs::remove_all(dir);
}

TEST(TrainRouter, BadLinesAreOneError) {
  const std::string tiny = shell_quote(source_path("models/tandem-tiny.gguf"));
  const auto twice = run_command(tandem_binary() + " train-router --models " + tiny + "," + tiny + " --embedder " + tiny +
                                 " --task arith-mix --limit 2 --out /nonexistent/r.json");
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("named twice"), std::string::npos) << twice.err;
  const auto task = run_command(tandem_binary() + " train-router --models " + tiny + " --embedder " + tiny +
                                " --task no-such-task --out /nonexistent/r.json");
  EXPECT_EQ(task.exit_code, 1);
  EXPECT_NE(task.err.find("no-such-task"), std::string::npos) << task.err;
}

}  // namespace
}  // namespace tandem
