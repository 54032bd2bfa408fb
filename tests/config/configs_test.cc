// The example configs shipped in configs/ load, name the bundled models, and
// (remote.yaml) validate without the API key, which build() then asks for.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/build.h"
#include "config/config.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::config {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> shipped_configs() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(tandem::testing::source_path("configs"))) {
    const std::string ext = entry.path().extension().string();
    if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(entry.path());
  }
  return files;
}

bool is_bundled(const std::string& path, const char* name) {
  return fs::equivalent(path, tandem::testing::source_path(std::string("models/") + name));
}

TEST(ShippedConfigs, EveryFileLoads) {
  const auto files = shipped_configs();
  EXPECT_GE(files.size(), 3u);
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    const Config c = load(f.string());
    EXPECT_FALSE(c.models.empty());
    for (const ModelSpec& m : c.models) {
      if (const auto* l = std::get_if<LocalSpec>(&m.spec)) {
        EXPECT_TRUE(fs::path(l->path).is_absolute()) << l->path;
        EXPECT_TRUE(fs::exists(l->path)) << l->path;
      }
    }
  }
}

TEST(ShippedConfigs, CascadeYaml) {
  const Config c = load(tandem::testing::source_path("configs/cascade.yaml"));
  const auto& base = std::get<LocalSpec>(c.find("base")->spec);
  EXPECT_TRUE(is_bundled(base.path, "tandem-base.gguf"));
  EXPECT_EQ(base.strategy, "speculative");
  EXPECT_EQ(base.draft->name, "tiny");
  EXPECT_TRUE(is_bundled(std::get<LocalSpec>(c.find("tiny")->spec).path, "tandem-tiny.gguf"));
  EXPECT_TRUE(is_bundled(std::get<LocalSpec>(c.find("small")->spec).path, "tandem-small.gguf"));
  const auto& cascade = std::get<CascadeSpec>(c.find("tiny-then-base")->spec);
  ASSERT_EQ(cascade.stages.size(), 2u);
  EXPECT_EQ(cascade.stages[0].name, "tiny");
  EXPECT_EQ(cascade.stages[1].name, "base");
  EXPECT_EQ(cascade.rules[0].signal, "mean_logprob");
  EXPECT_EQ(cascade.rules[0].threshold, -0.06);
  EXPECT_EQ(std::get<LocalSpec>(c.find("tiny")->spec).price.per_second, 0.00005);  // default_local
  EXPECT_EQ(base.price.per_second, 0.0001);                                         // its own
}

class FakeModel : public api::Model {
 public:
  explicit FakeModel(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  api::Capabilities capabilities() const override { return {}; }
  api::Response complete(const api::Request&, const api::StreamCallback&) const override { return {}; }

 private:
  std::string name_;
};

TEST(ShippedConfigs, RemoteYamlValidatesWithoutTheKeyAndBuildAsksForIt) {
  const std::string path = tandem::testing::source_path("configs/remote.yaml");
  unsetenv("TANDEM_REMOTE_KEY");
  const Config c = load(path);  // no key needed to validate
  const auto& large = std::get<RemoteSpec>(c.find("large")->spec);
  EXPECT_EQ(large.base_url, "http://127.0.0.1:8080/v1");
  EXPECT_EQ(large.api_key_env, "TANDEM_REMOTE_KEY");
  EXPECT_EQ(large.price.output_per_mtok, 1.5);

  Builders b;
  std::vector<std::string> built;
  b.local = [&](const std::string& n, const LocalSpec&, const LocalHelpers&) {
    built.push_back(n);
    return std::make_shared<FakeModel>(n);
  };
  b.remote = [&](const std::string& n, const RemoteSpec&) {
    built.push_back(n);
    return std::make_shared<FakeModel>(n);
  };
  b.cascade = [&](const std::string& n, const CascadeSpec&, const std::vector<ModelPtr>&, const std::vector<ModelPtr>&) {
    built.push_back(n);
    return std::make_shared<FakeModel>(n);
  };
  try {
    build(c, b);
    FAIL() << "built without the key";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("environment variable TANDEM_REMOTE_KEY (api_key_env of remote model 'large') is not set"),
              std::string::npos)
        << m;
    EXPECT_EQ(m.rfind(path + ":", 0), 0u) << m;
  }
  EXPECT_TRUE(built.empty());
  // The local model alone needs no key.
  const std::vector<std::string> roots = {"small"};
  EXPECT_EQ(build(c, b, roots).models.size(), 1u);
  setenv("TANDEM_REMOTE_KEY", "test", 1);
  EXPECT_EQ(build(c, b).models.size(), 3u);
  unsetenv("TANDEM_REMOTE_KEY");
}

}  // namespace
}  // namespace tandem::config
