// Shared by the config tests: a temporary folder with stand-in GGUF files
// (only the "GGUF" magic is read at load time) and helpers to write configs
// into it and collect load()'s error message.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "config/engine.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::config::testing {

namespace fs = std::filesystem;

class ConfigDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("tandem_config_" + std::to_string(getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const char* m : {"tiny.gguf", "small.gguf", "base.gguf"}) write(m, std::string("GGUF") + std::string(28, '\0'));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `text` to dir/name (folders created) and returns the path.
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  // load()'s error for `text` written to dir/c.yaml, with the folder stripped
  // from the front ("c.yaml:3:5: ..."); "(loaded)" when it loads.
  std::string error_of(const std::string& text) const {
    const std::string path = write("c.yaml", text);
    try {
      load(path);
    } catch (const Error& e) {
      std::string m = e.what();
      const std::string prefix = dir_.string() + "/";
      if (m.rfind(prefix, 0) == 0) m = m.substr(prefix.size());
      return m;
    }
    return "(loaded)";
  }

  Config load_text(const std::string& text) const { return load(write("c.yaml", text)); }

  fs::path dir_;
};

// The bundled tandem-tiny GGUF's embeddings of `texts`, through a config of
// that model alone (named "tiny") written to dir/m.yaml.
inline std::vector<std::vector<float>> tiny_embeddings(const fs::path& dir, const std::vector<std::string>& texts) {
  std::ofstream(dir / "m.yaml") << "models:\n  tiny: {type: local, path: "
                                << tandem::testing::source_path("models/tandem-tiny.gguf") << "}\n"
                                << "prices: {default_local: {per_second: 0}}\n";
  return open((dir / "m.yaml").string(), {{"tiny"}}, {.threads = 1}).get("tiny")->embed(texts);
}

}  // namespace tandem::config::testing
