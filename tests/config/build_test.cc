// build(): recording fake builders see every model once, dependencies first,
// with the very objects built for the models they name.
#include "config/build.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <string>
#include <vector>

#include "config_fixture.h"

namespace tandem::config::testing {
namespace {

class FakeModel : public api::Model {
 public:
  explicit FakeModel(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  api::Capabilities capabilities() const override { return {}; }
  api::Response complete(const api::Request&, const api::StreamCallback&) const override { return {}; }

 private:
  std::string name_;
};

// Builders that record each call: "type:name" in call order, and what each
// got as dependencies.
struct Recorder {
  std::vector<std::string> calls;
  std::map<std::string, LocalHelpers> helpers;
  std::map<std::string, std::vector<ModelPtr>> stages;
  std::map<std::string, LocalSpec> local_specs;

  Builders builders() {
    Builders b;
    b.local = [this](const std::string& name, const LocalSpec& spec, const LocalHelpers& h) {
      calls.push_back("local:" + name);
      helpers[name] = h;
      local_specs[name] = spec;
      return std::make_shared<FakeModel>(name);
    };
    b.remote = [this](const std::string& name, const RemoteSpec&) {
      calls.push_back("remote:" + name);
      return std::make_shared<FakeModel>(name);
    };
    b.cascade = [this](const std::string& name, const CascadeSpec&, const std::vector<ModelPtr>& s,
                       const std::vector<ModelPtr>&) {
      calls.push_back("cascade:" + name);
      stages[name] = s;
      return std::make_shared<FakeModel>(name);
    };
    return b;
  }
};

// Defined in an order that is not the build order: the cascades first.
const char* kConfig = R"(models:
  outer: {type: cascade, stages: [tiny-then-base, big], rule: {signal: min_logprob, threshold: -3}}
  tiny-then-base: {type: cascade, stages: [tiny, base], rule: {signal: mean_logprob, threshold: -0.35}}
  base: {type: local, path: base.gguf, strategy: speculative, draft: tiny}
  judged: {type: local, path: small.gguf, strategy: best-of-n, n_samples: 3, scorer: base}
  tiny: {type: local, path: tiny.gguf}
  big: {type: remote, base_url: "http://127.0.0.1:8080/v1", api_key_env: TANDEM_CONFIG_TEST_KEY, params: 7e9}
prices: {big: {input_per_mtok: 0.5, output_per_mtok: 1.5}, judged: {per_second: 0.25}, default_local: {per_second: 0.0001}}
defaults: {model: outer}
)";

// Sets an environment variable for one scope (unset: nullptr).
class Env {
 public:
  Env(const char* name, const char* value) : name_(name) {
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~Env() { unsetenv(name_); }

 private:
  const char* name_;
};

using ConfigBuild = ConfigDir;

TEST_F(ConfigBuild, DependenciesFirstEachOnceShared) {
  Env key("TANDEM_CONFIG_TEST_KEY", "secret");
  const Config c = load_text(kConfig);
  Recorder r;
  const ModelSet set = build(c, r.builders());

  // Post-order over the models in file order: outer's dependencies first.
  EXPECT_EQ(r.calls, (std::vector<std::string>{"local:tiny", "local:base", "cascade:tiny-then-base", "remote:big",
                                               "cascade:outer", "local:judged"}));
  ASSERT_EQ(set.models.size(), 6u);
  // One object per name, shared by every reference.
  const ModelPtr tiny = set.get("tiny");
  EXPECT_EQ(r.helpers["base"].draft, tiny);
  EXPECT_EQ(r.helpers["base"].amateur, nullptr);
  EXPECT_EQ(r.stages["tiny-then-base"][0], tiny);
  EXPECT_EQ(r.stages["tiny-then-base"][1], set.get("base"));
  EXPECT_EQ(r.helpers["judged"].scorer, set.get("base"));
  EXPECT_EQ(r.stages["outer"][0], set.get("tiny-then-base"));
  EXPECT_EQ(r.stages["outer"][1], set.get("big"));
  EXPECT_EQ(r.local_specs["judged"].n_samples, 3);

  // Prices of local and remote models: own, default_local; none for cascades.
  EXPECT_EQ(set.prices.size(), 4u);
  EXPECT_EQ(set.prices.at("tiny").per_second, 0.0001);
  EXPECT_EQ(set.prices.at("base").per_second, 0.0001);
  EXPECT_EQ(set.prices.at("judged").per_second, 0.25);
  EXPECT_EQ(set.prices.at("big").output_per_mtok, 1.5);
  EXPECT_EQ(set.prices.count("outer"), 0u);
  // Parameter counts: the remote models whose spec states `params`.
  EXPECT_EQ(set.parameters, (std::map<std::string, double>{{"big", 7e9}}));
  EXPECT_EQ(set.default_model, "outer");
}

TEST_F(ConfigBuild, RootsBuildOnlyWhatTheyNeed) {
  const Config c = load_text(kConfig);
  Recorder r;
  const std::vector<std::string> roots = {"tiny-then-base"};
  // big is not needed, so its unset key variable does not matter.
  Env key("TANDEM_CONFIG_TEST_KEY", nullptr);
  const ModelSet set = build(c, r.builders(), roots);
  EXPECT_EQ(r.calls, (std::vector<std::string>{"local:tiny", "local:base", "cascade:tiny-then-base"}));
  EXPECT_EQ(set.models.count("big"), 0u);
  try {
    set.get("big");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "no model named 'big' in this configuration");
  }
  const std::vector<std::string> unknown = {"tiny-than-base"};
  try {
    build(c, r.builders(), unknown);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir_ / "c.yaml").string() + ": unknown model 'tiny-than-base' (did you mean "
                                                                   "'tiny-then-base'?)");
  }
}

TEST_F(ConfigBuild, MissingApiKeyVariableFailsAtBuildBeforeAnythingIsBuilt) {
  const Config c = load_text(kConfig);  // loads without the variable
  for (const char* value : {static_cast<const char*>(nullptr), ""}) {
    Env key("TANDEM_CONFIG_TEST_KEY", value);
    Recorder r;
    try {
      build(c, r.builders());
      FAIL() << "no error";
    } catch (const Error& e) {
      // Line 7, column 74: the value of api_key_env.
      EXPECT_EQ(std::string(e.what()), (dir_ / "c.yaml").string() +
                                           ":7:74: environment variable TANDEM_CONFIG_TEST_KEY (api_key_env of remote "
                                           "model 'big') is " + (value ? "empty" : "not set") +
                                           ": export it with the API key before using this model");
    }
    EXPECT_TRUE(r.calls.empty());
  }
}

TEST_F(ConfigBuild, BuilderErrorsArePlacedAtTheModel) {
  Env key("TANDEM_CONFIG_TEST_KEY", "secret");
  const Config c = load_text(kConfig);
  const std::string file = (dir_ / "c.yaml").string();
  auto error = [&](const Builders& b) -> std::string {
    try {
      build(c, b);
    } catch (const Error& e) {
      return e.what();
    }
    return "(built)";
  };
  Recorder r;
  Builders b = r.builders();
  b.local = [](const std::string& name, const LocalSpec&, const LocalHelpers&) -> ModelPtr {
    if (name == "base") throw Error("draft 'tiny' has another vocabulary");
    return std::make_shared<FakeModel>(name);
  };
  EXPECT_EQ(error(b), file + ":4:3: model 'base': draft 'tiny' has another vocabulary");
  b.local = [](const std::string&, const LocalSpec&, const LocalHelpers&) { return std::make_shared<FakeModel>("x"); };
  EXPECT_EQ(error(b), file + ":6:3: the builder of model 'tiny' returned a model named 'x'");
  b.local = [](const std::string&, const LocalSpec&, const LocalHelpers&) { return nullptr; };
  EXPECT_EQ(error(b), file + ":6:3: the builder of model 'tiny' returned no model");
  b = r.builders();
  b.remote = nullptr;
  EXPECT_EQ(error(b), file + ":7:3: no builder for remote models here (model 'big')");
}

}  // namespace
}  // namespace tandem::config::testing
