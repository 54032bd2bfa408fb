// config::open() with the engine's builders: the shipped configs build real
// models (LocalModel, RemoteModel, Cascade), a model named twice is loaded
// once, and a config with a local small model and a remote large one answers
// through a local model served on 127.0.0.1.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "api/openai_test_server.h"
#include "config/engine.h"
#include "local/local_model.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::config {
namespace {

using ::tandem::testing::source_path;

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const local::LocalModel& as_local(const ModelSet& set, const std::string& name) {
  const auto* m = dynamic_cast<const local::LocalModel*>(set.get(name).get());
  if (m == nullptr) throw Error(name + " is not a LocalModel");
  return *m;
}

TEST(ConfigEngine, AModelNamedTwiceIsLoadedOnce) {
  const ModelSet set = open(source_path("configs/cascade.yaml"), {}, {.threads = 1});
  const local::LocalModel& tiny = as_local(set, "tiny");
  const local::LocalModel& base = as_local(set, "base");
  // base drafts with the very weights that answer as `tiny`.
  EXPECT_EQ(base.strategy().models.draft.get(), tiny.shared_transformer().get());
  EXPECT_EQ(base.strategy().strategy, "speculative");
  EXPECT_EQ(base.strategy().draft_max, 8);
  EXPECT_EQ(set.default_model, "tiny-then-base");
  EXPECT_EQ(tiny.capabilities().vocabulary, base.capabilities().vocabulary);
  // A second open() of the same files shares them too (load_shared's cache).
  const ModelSet again = open(source_path("configs/cascade.yaml"), {{"tiny"}}, {.threads = 1});
  EXPECT_EQ(as_local(again, "tiny").shared_transformer().get(), tiny.shared_transformer().get());
}

// configs/remote.yaml with its endpoint pointed at tandem-base served here.
class RemoteConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    auto base = std::make_shared<local::LocalModel>(
        "base", local::load_shared(source_path("models/tandem-base.gguf"), {.n_threads = 1}));
    reference_ = base;
    ::tandem::testing::serve_completions(server_, base, authorization_);
    server_.start();
    ::setenv("TANDEM_REMOTE_KEY", "sk-test-123", 1);
  }
  void TearDown() override { ::unsetenv("TANDEM_REMOTE_KEY"); }

  Config config(const std::string& threshold) const {
    std::string text = read(source_path("configs/remote.yaml"));
    const std::string url = "http://127.0.0.1:8080/v1";
    text.replace(text.find(url), url.size(), server_.url() + "/v1");
    const std::string rule = "threshold: -0.5";
    text.replace(text.find(rule), rule.size(), "threshold: " + threshold);
    return load_from_string(text, "remote.yaml", source_path("configs"));
  }

  remote::testing::TestServer server_;
  std::shared_ptr<std::string> authorization_ = std::make_shared<std::string>();
  std::shared_ptr<const api::Model> reference_;
};

api::Request greedy(const std::string& prompt) {
  api::Request q;
  q.prompt = prompt;
  q.sampling.temperature = 0.0f;
  q.max_tokens = 16;
  return q;
}

TEST_F(RemoteConfig, TheRemoteStageAnswersLikeTheLocalModelItServes) {
  const ModelSet set = build(config(".inf"), engine_builders({.threads = 1}), std::vector<std::string>{"small-then-large"});
  const api::Response r = set.get("small-then-large")->complete(greedy("Lily and Tom"));
  EXPECT_EQ(r.answered_by, "large");
  EXPECT_EQ(r.text, reference_->complete(greedy("Lily and Tom")).text);
  EXPECT_EQ(*authorization_, "Bearer sk-test-123");
  // large is priced per token (0.5 / 1.5 per million), small per second.
  const api::Usage& large = r.usage.at("large");
  EXPECT_DOUBLE_EQ(large.cost, (large.prompt_tokens * 0.5 + large.completion_tokens * 1.5) / 1e6);
  EXPECT_GT(r.usage.at("small").cost, 0.0);
}

TEST_F(RemoteConfig, WithAThresholdOfMinusInfinityTheSmallModelAnswers) {
  const ModelSet set = build(config("-.inf"), engine_builders({.threads = 1}), std::vector<std::string>{"small-then-large"});
  const api::Response r = set.get("small-then-large")->complete(greedy("Lily and Tom"));
  EXPECT_EQ(r.answered_by, "small");
  EXPECT_FALSE(r.usage.contains("large"));
  EXPECT_TRUE(authorization_->empty());  // never called
}

TEST(ConfigEngine, ARemoteHelperIsAnErrorAtItsPlace) {
  const std::string text =
      "models:\n"
      "  big: {type: remote, base_url: \"http://127.0.0.1:9/v1\", model: m}\n"
      "  base: {type: local, path: ../models/tandem-base.gguf, strategy: speculative, draft: big}\n"
      "prices: {big: {input_per_mtok: 1, output_per_mtok: 1}, default_local: {per_second: 0}}\n";
  try {
    const Config c = load_from_string(text, "c.yaml", source_path("configs"));
    build(c, engine_builders({.threads = 1}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c.yaml:3:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("must be a local model"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem::config
