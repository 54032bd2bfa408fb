// `type: router` in a config: what loads, each error with its place (the
// table is read at load time), and a router opened with the engine over the
// bundled models that routes as its table says.
#include <gtest/gtest.h>

#include <fstream>

#include "compose/router_table.h"
#include "config/config_fixture.h"
#include "config/engine.h"
#include "test_util.h"

namespace tandem::config {
namespace {

using RouterConfig = testing::ConfigDir;

const std::string kTable = R"({"format": "tandem-router", "version": 1, "embedder": "tiny", "models": ["tiny", "base"],
  "cost": [1, 3], "examples": [{"embedding": [1, 0], "correct": [1, 1]}]})";

const std::string kModels =
    "models:\n"
    "  tiny: {type: local, path: tiny.gguf}\n"
    "  base: {type: local, path: base.gguf}\n"
    "  c: {type: cascade, stages: [tiny, base], rule: {signal: mean_logprob, threshold: -0.5}}\n";
const std::string kPrices = "prices: {default_local: {per_second: 0}}\n";

TEST_F(RouterConfig, LoadsARouterWithItsTableFromTheConfigsFolder) {
  write("routers/r.json", kTable);
  const Config c = load_text(kModels + "  r: {type: router, candidates: [tiny, base], embedder: tiny, table: routers/r.json, "
                                       "k: 4, cost_weight: 0.2}\n" + kPrices);
  const ModelSpec* r = c.find("r");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->type(), "router");
  const auto& s = std::get<RouterSpec>(r->spec);
  EXPECT_EQ(s.k, 4);
  EXPECT_EQ(s.cost_weight, 0.2);
  EXPECT_EQ(s.table, (dir_ / "routers/r.json").string());
  ASSERT_EQ(r->references().size(), 3u);  // tiny, base, and the embedder tiny
}

TEST_F(RouterConfig, ErrorsNameThePlace) {
  write("r.json", kTable);
  const std::string head = kModels + "  r: {type: router, ";
  EXPECT_NE(error_of(head + "candidates: [base, tiny], embedder: tiny, table: r.json}\n" + kPrices)
                .find("c.yaml:5:33: the candidates of router 'r' [base, tiny] differ from the models of its table [tiny, base]"),
            std::string::npos);
  std::string by_c = kTable;
  by_c.replace(by_c.find("\"embedder\": \"tiny\""), 18, "\"embedder\": \"c\"");
  write("rc.json", by_c);
  EXPECT_NE(error_of(head + "candidates: [tiny, base], embedder: c, table: rc.json}\n" + kPrices)
                .find("embedder 'c' of router 'r' must be a local model"),
            std::string::npos);
  EXPECT_NE(error_of(head + "candidates: [tiny, base], embedder: base, table: r.json}\n" + kPrices)
                .find("its table was made with 'tiny'"),
            std::string::npos);
  EXPECT_NE(error_of(head + "candidates: [tiny, base], embedder: tiny, table: none.json}\n" + kPrices)
                .find("write one with `tandem train-router`"),
            std::string::npos);
  write("bad.json", "{\"format\": \"tandem-router\"");
  EXPECT_NE(error_of(head + "candidates: [tiny, base], embedder: tiny, table: bad.json}\n" + kPrices).find("not JSON"),
            std::string::npos);
  EXPECT_NE(error_of(head + "candidates: [tiny, base], embedder: tiny, table: r.json, k: 0}\n" + kPrices).find("'k'"),
            std::string::npos);
  EXPECT_NE(error_of(head + "candidates: [tiny, base], embedder: tiny, table: r.json, cost_weight: -1}\n" + kPrices)
                .find("'cost_weight'"),
            std::string::npos);
  EXPECT_NE(error_of(head + "candidates: [tiny, base], embedder: tiny, table: r.json, knob: 1}\n" + kPrices).find("unknown key 'knob'"),
            std::string::npos);
  EXPECT_EQ(error_of(kModels + "  r: {type: router, candidates: [tiny, base], embedder: tiny, table: r.json}\n"
                               "  base2: {type: cascade, stages: [r, base], rule: {signal: mean_logprob, threshold: -1}}\n" + kPrices),
            "(loaded)");  // a router nests in a cascade
}

TEST_F(RouterConfig, ALargeShareSetsTheKnobFromTheTable) {
  write("r.json", kTable);
  const Config c = load_text(kModels + "  r: {type: router, candidates: [tiny, base], embedder: tiny, table: r.json, "
                                       "large_share: 0.5}\n" + kPrices);
  const auto& s = std::get<RouterSpec>(c.find("r")->spec);
  ASSERT_TRUE(s.large_share);
  EXPECT_EQ(s.cost_weight, compose::cost_weight_for_share(*s.table_data, 16, 0.5));
  EXPECT_NE(error_of(kModels + "  r: {type: router, candidates: [tiny, base], embedder: tiny, table: r.json, "
                               "large_share: 0.5, cost_weight: 0.1}\n" + kPrices)
                .find("both 'cost_weight' and 'large_share'"),
            std::string::npos);
  EXPECT_NE(error_of(kModels + "  r: {type: router, candidates: [tiny, base], embedder: tiny, table: r.json, "
                               "large_share: 1.5}\n" + kPrices)
                .find("large_share"),
            std::string::npos);
}

TEST(RouterEngine, ARouterOverTheBundledModelsRoutesAsItsTableSays) {
  const auto dir = std::filesystem::temp_directory_path() / ("tandem-router-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string tiny = tandem::testing::source_path("models/tandem-tiny.gguf");
  const std::string base = tandem::testing::source_path("models/tandem-base.gguf");
  const std::vector<std::string> prompts = {"Once upon a time, a cat", "3 + 4 = 7. 10 - 2 ="};
  const std::vector<std::vector<float>> e = testing::tiny_embeddings(dir, prompts);
  compose::RouterTable t;
  t.embedder = "tiny";
  t.models = {"tiny", "base"};
  t.cost = {1.0, 3.0};
  t.embeddings = e;
  t.dim = e[0].size();
  t.correct = {{1, 1}, {0, 1}};  // tiny right on the story only: p = (0.75, 1) and (0.25, 1)
  std::ofstream(dir / "r.json") << compose::router_table_json(t);
  std::ofstream(dir / "c.yaml") << "models:\n  tiny: {type: local, path: " << tiny << "}\n  base: {type: local, path: "
                                << base << "}\n  r: {type: router, candidates: [tiny, base], embedder: tiny, table: r.json, "
                                << "k: 1, cost_weight: 0.5}\nprices: {default_local: {per_second: 0}}\n";
  const ModelSet set = open((dir / "c.yaml").string(), {{"r"}}, {.threads = 1});
  api::Request q;
  q.max_tokens = 3;
  q.sampling.temperature = 0.0f;
  q.prompt = prompts[0];
  EXPECT_EQ(set.get("r")->complete(q).answered_by, "tiny");
  q.prompt = prompts[1];
  const api::Response sum = set.get("r")->complete(q);
  EXPECT_EQ(sum.answered_by, "base");
  EXPECT_EQ(sum.usage.count("tiny"), 0u);  // one candidate answers; nothing else generated
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tandem::config
