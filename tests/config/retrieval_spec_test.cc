// `type: retrieval` in a config: what loads, each error with its place (the
// index is read at load time), and a retrieval opened with the engine over
// the bundled models that puts the nearest passage into base's prompt.
#include <gtest/gtest.h>

#include <fstream>

#include "compose/retrieval_index.h"
#include "config/config_fixture.h"
#include "config/engine.h"
#include "test_util.h"

namespace tandem::config {
namespace {

using RetrievalConfig = testing::ConfigDir;

const std::string kModels =
    "models:\n"
    "  tiny: {type: local, path: tiny.gguf}\n"
    "  base: {type: local, path: base.gguf}\n"
    "  c: {type: cascade, stages: [tiny, base], rule: {signal: mean_logprob, threshold: -0.5}}\n";
const std::string kPrices = "prices: {default_local: {per_second: 0}}\n";

std::string index_bytes(const std::string& embedder) {
  compose::RetrievalIndex index(embedder, 2);
  const float a[] = {1.0f, 0.0f}, b[] = {0.0f, 1.0f};
  index.add({"p1", "first passage"}, a);
  index.add({"p2", "second passage"}, b);
  return index.serialize();
}

TEST_F(RetrievalConfig, LoadsARetrievalWithItsIndex) {
  write("indexes/d.idx", index_bytes("tiny"));
  const Config c = load_text(kModels +
                             "  r: {type: retrieval, model: c, embedder: tiny, index: indexes/d.idx, k: 2, "
                             "template: \"{passages}|{input}\"}\n" +
                             kPrices);
  const ModelSpec* r = c.find("r");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->type(), "retrieval");
  const auto& s = std::get<RetrievalSpec>(r->spec);
  EXPECT_EQ(s.k, 2);
  EXPECT_EQ(s.templ, "{passages}|{input}");
  ASSERT_TRUE(s.index_data);
  EXPECT_EQ(s.index_data->size(), 2u);
  ASSERT_EQ(r->references().size(), 2u);
  EXPECT_EQ(r->references()[0]->name, "c");  // any model answers, a cascade too
}

TEST_F(RetrievalConfig, EachErrorPointsAtItsPlace) {
  write("d.idx", index_bytes("tiny"));
  write("other.idx", index_bytes("base"));
  const std::string head = kModels + "  r: {type: retrieval, ";
  auto err = [&](const std::string& fields) { return error_of(head + fields + "}\n" + kPrices); };
  EXPECT_EQ(err("model: base, embedder: tiny, index: other.idx"),
            "c.yaml:5:47: the embedder of retrieval 'r' is 'tiny' but its index was built with 'base'");
  write("c.idx", index_bytes("c"));  // an index "by" the cascade: the type check still refuses it
  EXPECT_NE(err("model: base, embedder: c, index: c.idx").find("embedder 'c' of retrieval 'r' must be a local model"),
            std::string::npos);
  EXPECT_NE(err("model: base, embedder: tiny, index: missing.idx").find("build one with `tandem index build`"),
            std::string::npos);
  write("bad.idx", "TNDMRIDX\x01");
  EXPECT_EQ(err("model: base, embedder: tiny, index: bad.idx").find("c.yaml:5:60: "), 0u)
      << err("model: base, embedder: tiny, index: bad.idx");
  EXPECT_NE(err("model: base, embedder: tiny, index: d.idx, k: 0").find("k"), std::string::npos);
  EXPECT_NE(err("model: base, embedder: tiny, index: d.idx, template: \"{input}\"").find("has no {passages}"),
            std::string::npos);
  EXPECT_NE(err("model: bsae, embedder: tiny, index: d.idx").find("unknown model 'bsae' (did you mean 'base'?)"),
            std::string::npos);
  EXPECT_NE(err("embedder: tiny, index: d.idx").find("needs 'model'"), std::string::npos) << err("embedder: tiny, index: d.idx");
  EXPECT_NE(err("model: base, embedder: tiny, index: d.idx, top_k: 3").find("top_k"), std::string::npos);
  EXPECT_NE(error_of(kModels + "  r: {type: retrieval, model: r, embedder: tiny, index: d.idx}\n" + kPrices).find("cycle"),
            std::string::npos);
  EXPECT_NE(error_of(kModels + "  r: {type: retrieval, model: base, embedder: tiny, index: d.idx}\n" +
                     "prices: {default_local: {per_second: 0}, r: {per_second: 1}}\n")
                .find("retrieval 'r' has no price of its own"),
            std::string::npos);
}

TEST(RetrievalEngine, TheNearestPassageGoesIntoTheAnsweringModelsPrompt) {
  const auto dir = std::filesystem::temp_directory_path() / ("tandem-retrieval-cfg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string tiny = tandem::testing::source_path("models/tandem-tiny.gguf");
  const std::string base = tandem::testing::source_path("models/tandem-base.gguf");
  const std::vector<std::string> passages = {"The cat sat on the mat and purred.", "Tom has 12 apples. He eats 3."};
  const auto e = testing::tiny_embeddings(dir, passages);
  compose::RetrievalIndex index("tiny", e[0].size());
  index.add({"cat", passages[0]}, e[0]);
  index.add({"apples", passages[1]}, e[1]);
  index.save((dir / "d.idx").string());
  std::ofstream(dir / "c.yaml") << "models:\n  tiny: {type: local, path: " << tiny << "}\n  base: {type: local, path: "
                                << base << "}\n  r: {type: retrieval, model: base, embedder: tiny, index: d.idx, k: 1, "
                                << "template: \"{passages}\\nQ: {input}\\nA:\"}\n"
                                << "prices: {default_local: {per_second: 0}}\n";
  const ModelSet set = open((dir / "c.yaml").string(), {{"r"}}, {.threads = 1});
  api::Request q;
  q.prompt = passages[1];  // its own passage is the nearest (cosine 1)
  q.max_tokens = 4;
  q.sampling.temperature = 0.0f;
  const api::Response r = set.get("r")->complete(q);
  ASSERT_FALSE(r.trace.empty());
  EXPECT_EQ(r.trace.back().decision, "retrieve: apples");
  EXPECT_NEAR(r.trace.back().value, 1.0, 1e-5);
  api::Request by_hand = q;
  by_hand.prompt = "[1] " + passages[1] + "\nQ: " + passages[1] + "\nA:";
  EXPECT_EQ(r.text, set.get("base")->complete(by_hand).text);
  EXPECT_EQ(r.answered_by, "base");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tandem::config
