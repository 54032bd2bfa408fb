// What a correct config loads into: typed specs, resolved paths and prices.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <string>

#include "config/config.h"
#include "config_fixture.h"

namespace tandem::config::testing {
namespace {

using ConfigLoad = ConfigDir;

const char* kFull = R"(# every type
models:
  tiny: {type: local, path: tiny.gguf}
  base:
    type: local
    path: base.gguf
    strategy: speculative
    draft: tiny
    draft_max: 6
    adaptive_draft: false
    threads: 2
    n_ctx: 512
    sampling: {top_k: 10, seed: 7}
  big: {type: remote, base_url: "http://127.0.0.1:8080/v1", model: default, api: completions,
        api_key_env: TANDEM_REMOTE_KEY, context: 4096, max_retries: 0, read_timeout_s: 2.5,
        params: 70000000000}
  tiny-then-base:
    type: cascade
    stages: [tiny, base]
    rule: {signal: mean_logprob, threshold: -0.35}
  three:
    type: cascade
    stages: [tiny, base, big]
    rules:
      - {signal: agreement, threshold: 0.6, k: 3, mode: text, temperature: 0.9}
      - {signal: min_logprob, threshold: -.inf}
prices: {big: {input_per_mtok: 0.5, output_per_mtok: 1.5}, base: {per_second: 0}, default_local: {per_second: 0.0001}}
defaults: {model: tiny-then-base, max_tokens: 64, sampling: {temperature: 0.5}}
)";

TEST_F(ConfigLoad, EveryTypeIntoItsSpec) {
  const Config c = load_text(kFull);
  ASSERT_EQ(c.models.size(), 5u);
  EXPECT_EQ(c.models[0].name, "tiny");
  EXPECT_EQ(c.models[0].type(), "local");
  EXPECT_EQ(c.models[0].at.line, 3);
  EXPECT_EQ(c.models[0].at.column, 3);

  const auto& base = std::get<LocalSpec>(c.find("base")->spec);
  EXPECT_EQ(base.path, (dir_ / "base.gguf").string());
  EXPECT_EQ(base.strategy, "speculative");
  ASSERT_TRUE(base.draft.has_value());
  EXPECT_EQ(base.draft->name, "tiny");
  EXPECT_EQ(base.draft->at.line, 8);
  EXPECT_EQ(base.draft->at.column, 12);
  EXPECT_EQ(base.draft_max, 6);
  EXPECT_EQ(base.adaptive_draft, false);
  EXPECT_FALSE(base.draft_min.has_value());  // unset: the strategy's default
  EXPECT_FALSE(base.amateur.has_value());
  EXPECT_EQ(base.threads, 2);
  EXPECT_EQ(base.n_ctx, 512);
  // defaults.sampling under the model's own sampling; the rest llama.cpp's.
  EXPECT_EQ(base.sampling.temperature, 0.5f);
  EXPECT_EQ(base.sampling.top_k, 10);
  EXPECT_EQ(base.sampling.seed, 7u);
  EXPECT_EQ(base.sampling.top_p, 0.95f);
  EXPECT_EQ(std::get<LocalSpec>(c.find("tiny")->spec).sampling.temperature, 0.5f);
  EXPECT_EQ(std::get<LocalSpec>(c.find("tiny")->spec).sampling.top_k, 40);

  const auto& big = std::get<RemoteSpec>(c.find("big")->spec);
  EXPECT_EQ(big.base_url, "http://127.0.0.1:8080/v1");
  EXPECT_EQ(big.model, "default");
  EXPECT_EQ(big.api, "completions");
  EXPECT_EQ(big.api_key_env, "TANDEM_REMOTE_KEY");
  EXPECT_EQ(big.api_key_env_at.line, 15);
  EXPECT_EQ(big.api_key_env_at.column, 22);
  EXPECT_EQ(big.context, 4096);
  EXPECT_EQ(big.max_retries, 0);
  EXPECT_EQ(big.read_timeout_s, 2.5);
  EXPECT_FALSE(big.connect_timeout_s.has_value());
  EXPECT_EQ(big.params, 7e10);

  const auto& cascade = std::get<CascadeSpec>(c.find("tiny-then-base")->spec);
  ASSERT_EQ(cascade.stages.size(), 2u);
  EXPECT_EQ(cascade.stages[1].name, "base");
  ASSERT_EQ(cascade.rules.size(), 1u);
  EXPECT_EQ(cascade.rules[0].signal, "mean_logprob");
  EXPECT_EQ(cascade.rules[0].threshold, -0.35);
  EXPECT_FALSE(cascade.rules[0].samples.has_value());

  const auto& three = std::get<CascadeSpec>(c.find("three")->spec);
  ASSERT_EQ(three.rules.size(), 2u);
  EXPECT_EQ(three.rules[0].signal, "agreement");
  EXPECT_EQ(three.rules[0].samples, 3);         // k is samples
  EXPECT_EQ(three.rules[0].agree_on, "text");   // mode is agree_on
  EXPECT_EQ(three.rules[0].temperature, 0.9f);
  EXPECT_TRUE(std::isinf(three.rules[1].threshold) && three.rules[1].threshold < 0);

  ASSERT_TRUE(c.defaults.model.has_value());
  EXPECT_EQ(c.defaults.model->name, "tiny-then-base");
  EXPECT_EQ(c.defaults.max_tokens, 64);
}

TEST_F(ConfigLoad, PricesOwnThenDefaultLocalAndAnExplicitZero) {
  const Config c = load_text(kFull);
  const api::Price tiny = std::get<LocalSpec>(c.find("tiny")->spec).price;  // default_local
  EXPECT_EQ(tiny.per_second, 0.0001);
  EXPECT_EQ(tiny.input_per_mtok, 0.0);
  const api::Price base = std::get<LocalSpec>(c.find("base")->spec).price;  // its own, 0
  EXPECT_EQ(base.per_second, 0.0);
  const api::Price big = std::get<RemoteSpec>(c.find("big")->spec).price;
  EXPECT_EQ(big.input_per_mtok, 0.5);
  EXPECT_EQ(big.output_per_mtok, 1.5);
  EXPECT_EQ(big.per_second, 0.0);
}

TEST_F(ConfigLoad, JsonIsAcceptedAsYaml) {
  const Config c = load_text(R"({
  "models": {
    "tiny": {"type": "local", "path": "tiny.gguf"},
    "base": {"type": "local", "path": "base.gguf", "strategy": "speculative", "draft": "tiny", "draft_max": 4},
    "both": {"type": "cascade", "stages": ["tiny", "base"], "rule": {"signal": "min_logprob", "threshold": "-inf"}}
  },
  "prices": {"default_local": {"per_second": 0.5}}
})");
  ASSERT_EQ(c.models.size(), 3u);
  EXPECT_EQ(std::get<LocalSpec>(c.find("base")->spec).draft_max, 4);
  EXPECT_EQ(std::get<LocalSpec>(c.find("base")->spec).price.per_second, 0.5);
  const double t = std::get<CascadeSpec>(c.find("both")->spec).rules[0].threshold;
  EXPECT_TRUE(std::isinf(t) && t < 0);
  // Places count in JSON too: "base" is on line 4, column 5.
  EXPECT_EQ(c.find("base")->at.str(), (dir_ / "c.yaml").string() + ":4:5");
}

TEST_F(ConfigLoad, LoadFromStringNamesTheTextAndResolvesFromTheGivenFolder) {
  const Config c = load_from_string("models: {tiny: {type: local, path: tiny.gguf}}\n"
                                    "prices: {default_local: {per_second: 0}}\n",
                                    "inline.yaml", dir_);
  EXPECT_EQ(c.file, "inline.yaml");
  EXPECT_EQ(std::get<LocalSpec>(c.models[0].spec).path, (dir_ / "tiny.gguf").string());
  try {
    load_from_string("models: {tiny: {type: local}}\n", "inline.yaml", dir_);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "inline.yaml:1:10: local model 'tiny' needs 'path'");
  }
}

// Changes the working directory for one scope.
class InDirectory {
 public:
  explicit InDirectory(const fs::path& dir) : old_(fs::current_path()) { fs::current_path(dir); }
  ~InDirectory() { fs::current_path(old_); }

 private:
  fs::path old_;
};

TEST_F(ConfigLoad, RelativePathsFromTheConfigFolderFirstThenTheWorkingDirectory) {
  // dir/cfg/c.yaml names only.gguf (in the working directory dir/cwd only) and
  // both.gguf (in dir/cfg and in dir/cwd: the config's folder wins).
  write("cfg/both.gguf", "GGUF config folder");
  write("cwd/both.gguf", "GGUF working directory");
  write("cwd/only.gguf", "GGUF working directory");
  const std::string path = write("cfg/c.yaml",
                                 "models:\n"
                                 "  a: {type: local, path: only.gguf}\n"
                                 "  b: {type: local, path: both.gguf}\n"
                                 "  c: {type: local, path: ../tiny.gguf}\n"
                                 "prices: {default_local: {per_second: 0}}\n");
  InDirectory cwd(dir_ / "cwd");
  const Config c = load(path);
  EXPECT_EQ(std::get<LocalSpec>(c.find("a")->spec).path, (dir_ / "cwd/only.gguf").string());
  EXPECT_EQ(std::get<LocalSpec>(c.find("b")->spec).path, (dir_ / "cfg/both.gguf").string());
  EXPECT_EQ(std::get<LocalSpec>(c.find("c")->spec).path, (dir_ / "tiny.gguf").string());
  // A config named relative to the working directory resolves from its folder too.
  const Config r = load("../cfg/c.yaml");
  EXPECT_EQ(std::get<LocalSpec>(r.find("b")->spec).path, (dir_ / "cwd/../cfg/both.gguf").lexically_normal().string());
}

}  // namespace
}  // namespace tandem::config::testing
