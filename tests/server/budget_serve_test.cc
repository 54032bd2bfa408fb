// tandem serve over a config with budgets: once every stage of a cascade is
// over budget, a request is a 429 with Retry-After and an OpenAI error body
// (not a 500), and the earlier answers carry the trace of what was skipped.
#include <gtest/gtest.h>

#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "api/serve_process.h"
#include "test_util.h"

namespace tandem::server {
namespace {

namespace fs = std::filesystem;
using tandem::testing::source_path;

TEST(ServeBudgets, ACascadeWithEveryStageOverBudgetIsA429) {
  const fs::path dir = fs::temp_directory_path() / ("tandem-serve-budget-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "b.yaml") << "models:\n"
                                   "  tiny: {type: local, path: " << source_path("models/tandem-tiny.gguf") << "}\n"
                                   "  base: {type: local, path: " << source_path("models/tandem-base.gguf") << "}\n"
                                   "  c: {type: cascade, stages: [tiny, base], rule: {signal: mean_logprob, threshold: .inf}}\n"
                                   "prices: {default_local: {per_second: 0}}\n"
                                   "budgets: {tiny: {max_tokens: 1}, base: {max_tokens: 1}}\n";
  tandem::testing::ServeProcess serve(tandem::testing::tandem_binary(),
                                      {"--config", (dir / "b.yaml").string(), "-t", "1"});
  httplib::Client client(serve.url());
  const std::string body = R"({"model": "c", "prompt": "Once upon a time", "max_tokens": 4, "temperature": 0})";
  auto first = client.Post("/v1/completions", body, "application/json");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200) << first->body;  // both under budget before their calls
  auto second = client.Post("/v1/completions", body, "application/json");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 429) << second->body;
  EXPECT_EQ(second->get_header_value("Retry-After"), "1");
  const nlohmann::json e = nlohmann::json::parse(second->body);
  EXPECT_EQ(e["error"]["code"], "budget_exceeded");
  EXPECT_NE(e["error"]["message"].get<std::string>().find("over budget"), std::string::npos) << second->body;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::server
