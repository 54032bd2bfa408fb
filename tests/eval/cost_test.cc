// FLOPs as a cost (eval/harness.h flops_estimate, eval/report.h CostAxis):
// every usage entry of a model with a known parameter count carries
// 2 × params × tokens; `tandem eval` takes a local model's count from its GGUF
// (checked against the count computed here from the architecture's shapes);
// `tandem report --cost flops` plots FLOPs and tables them; unknown FLOPs are
// said so, never plotted as 0.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "eval/harness.h"
#include "eval/report.h"
#include "eval/results.h"
#include "local/local_model.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::eval {
namespace {

namespace fs = std::filesystem;
using testing::run_command;
using testing::shell_quote;
using testing::source_path;

// A llama-architecture model's weights from its shapes: token embedding and
// (untied) output matrix, the final norm, and per layer two norms, Q K V O and
// the gated feed-forward's three matrices.
double llama_parameters(const ModelConfig& c) {
  const double d = static_cast<double>(c.n_embd), v = static_cast<double>(c.n_vocab);
  const double q = static_cast<double>(c.n_head * c.head_dim_k), kv = static_cast<double>(c.n_head_kv * c.head_dim_k);
  const double o = static_cast<double>(c.n_head * c.head_dim_v), ff = static_cast<double>(c.n_ff);
  const double layer = 2 * d + d * q + d * kv + d * static_cast<double>(c.n_head_kv * c.head_dim_v) + o * d + 3 * d * ff;
  return 2 * v * d + d + static_cast<double>(c.n_layer) * layer;
}

TEST(Flops, TinysParameterCountFromItsShapes) {
  const auto tiny = local::load_shared(source_path("models/tandem-tiny.gguf"));
  EXPECT_EQ(llama_parameters(tiny->config()), 504672.0);  // 2·512·96 + 96 + 4·(2·96 + 96·96 + 2·96·48 + 96·96 + 3·96·256)
}

TEST(Flops, EveryUsageEntryOfAKnownModelCarriesTwiceParamsTimesTokens) {
  const PreparedTask t = prepare_task(load_task(source_path("tasks/arith-d2.yaml")), {.offset = 0, .limit = 3});
  const local::LocalModel tiny("tiny", local::load_shared(source_path("models/tandem-tiny.gguf")));
  RunOptions o;
  o.parameters = {{"tiny", 1000.0}};
  const Record known = evaluate_example(t, t.examples[0], tiny, o);
  const nlohmann::json& u = known.tokens["tiny"];
  const int64_t tokens = u["prompt_tokens"].get<int64_t>() + u["completion_tokens"].get<int64_t>();
  ASSERT_GT(tokens, 0);
  EXPECT_EQ(u["params"].get<double>(), 1000.0);
  EXPECT_EQ(u["flops"].get<double>(), 2.0 * 1000.0 * static_cast<double>(tokens));
  EXPECT_TRUE(summarize({known}).total.flops_known());
  EXPECT_EQ(summarize({known}).total.flops, 2000.0 * static_cast<double>(tokens));

  // Another model's count does not apply: unknown, not 0.
  o.parameters = {{"base", 1000.0}};
  const Record unknown = evaluate_example(t, t.examples[0], tiny, o);
  EXPECT_FALSE(unknown.tokens["tiny"].contains("flops"));
  const Summary s = summarize({known, unknown});
  EXPECT_FALSE(s.total.flops_known());
  EXPECT_EQ(s.total.flops_missing, 1);
  EXPECT_TRUE(std::isnan(cost_per_example(s, CostAxis::kFlops)));
  EXPECT_THROW(pareto_svg({s}, CostAxis::kFlops), Error);
  EXPECT_EQ(cost_axis({s}), CostAxis::kSeconds);  // no prices, FLOPs unknown
  EXPECT_EQ(cost_axis({summarize({known})}), CostAxis::kFlops);
  const std::string md = report_markdown({s}, {});
  EXPECT_NE(md.find("| unknown | unknown |"), std::string::npos) << md;
  EXPECT_NE(md.find("FLOPs unknown (no parameter count for tiny)"), std::string::npos) << md;
}

TEST(Flops, EvalCountsTheGgufsParametersAndReportPlotsFlops) {
  const fs::path dir = fs::temp_directory_path() / ("tandem-eval-flops-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string bin = shell_quote(testing::tandem_binary());
  const testing::CommandResult ev =
      run_command(bin + " eval --models " + shell_quote(source_path("models/tandem-tiny.gguf")) +
                  " --task arith-d2 --limit 3 -t 1 --out " + shell_quote((dir / "run").string()));
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  const nlohmann::json res = testing::read_json((dir / "run" / "results.json").string());
  const nlohmann::json& total = res["tandem"]["summaries"]["tandem-tiny/arith-d2"]["total"];
  const double params = llama_parameters(local::load_shared(source_path("models/tandem-tiny.gguf"))->config());
  const int64_t tokens = total["prompt_tokens"].get<int64_t>() + total["completion_tokens"].get<int64_t>();
  ASSERT_GT(tokens, 0);
  EXPECT_DOUBLE_EQ(total["flops"].get<double>(), 2.0 * params * static_cast<double>(tokens));

  const std::string md = (dir / "r.md").string();
  const testing::CommandResult rep =
      run_command(bin + " report " + shell_quote((dir / "run").string()) + " --cost flops --out " + shell_quote(md));
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  const std::string svg = testing::read_file((dir / "r-arith-d2.svg").string());
  EXPECT_NE(svg.find("FLOPs per example"), std::string::npos);
  const std::string table = testing::read_file(md);
  char want[64];
  std::snprintf(want, sizeof want, "| %.3g | %.3g |", 2.0 * params * static_cast<double>(tokens),
                2.0 * params * static_cast<double>(tokens) / 3.0);
  EXPECT_NE(table.find(want), std::string::npos) << want << "\n" << table;

  const testing::CommandResult bad = run_command(bin + " report " + shell_quote((dir / "run").string()) +
                                                 " --cost joules --out " + shell_quote(md));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--cost"), std::string::npos) << bad.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::eval
