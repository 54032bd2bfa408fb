// libFuzzer target for the configuration loader. Properties:
// config::load_from_string() either throws tandem::Error with one line that
// starts with the file's name, or returns a Config whose references all name
// defined models, whose local GGUFs exist, whose prices are >= 0; build()
// with fake builders then builds every model once (or refuses with the one
// error it may give after load: an unset API key variable). Any other
// exception, a crash, a hang or a sanitizer report is a finding.
//
// GGUF paths resolve in a scratch folder made at start-up:
//   <tmp>/tandem_config_fuzz_<pid>/configs/      the config's folder
//   <tmp>/tandem_config_fuzz_<pid>/configs/{tiny,small,base}.gguf
//   <tmp>/tandem_config_fuzz_<pid>/models/tandem-{tiny,small,base}.gguf
// so the shipped configs/ (the seed corpus) load as they do in the repository.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "config/build.h"
#include "config/config.h"
#include "util/error.h"

namespace {

namespace fs = std::filesystem;
using namespace tandem;

fs::path g_dir;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "config_fuzz: %s\n", what.c_str());
  std::abort();
}

void make_scratch() {
  const fs::path root = fs::temp_directory_path() / ("tandem_config_fuzz_" + std::to_string(getpid()));
  g_dir = root / "configs";
  fs::create_directories(g_dir);
  fs::create_directories(root / "models");
  for (const char* size : {"tiny", "small", "base"}) {
    std::ofstream(g_dir / (std::string(size) + ".gguf")) << "GGUF stand-in";
    std::ofstream(root / "models" / ("tandem-" + std::string(size) + ".gguf")) << "GGUF stand-in";
  }
  std::atexit([] { std::error_code ec; fs::remove_all(g_dir.parent_path(), ec); });
}

class Fake : public api::Model {
 public:
  explicit Fake(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  api::Capabilities capabilities() const override { return {}; }
  api::Response complete(const api::Request&, const api::StreamCallback&) const override { return {}; }

 private:
  std::string name_;
};

void check_price(const api::Price& p) {
  if (!(p.input_per_mtok >= 0 && p.output_per_mtok >= 0 && p.per_second >= 0)) finding("negative or NaN price");
}

void check_config(const config::Config& c) {
  std::set<std::string> names;
  for (const config::ModelSpec& m : c.models) {
    if (!names.insert(m.name).second) finding("model defined twice: " + m.name);
    for (const config::Reference* r : m.references())
      if (c.find(r->name) == nullptr) finding("dangling reference: " + r->name);
    if (const auto* l = std::get_if<config::LocalSpec>(&m.spec)) {
      if (!fs::exists(l->path)) finding("local path does not exist: " + l->path);
      check_price(l->price);
    } else if (const auto* r = std::get_if<config::RemoteSpec>(&m.spec)) {
      check_price(r->price);
    } else if (const auto* router = std::get_if<config::RouterSpec>(&m.spec)) {
      if (router->candidates.empty() || router->k < 1 || !(router->cost_weight >= 0)) finding("a router out of range");
    } else if (const auto* stack = std::get_if<config::StackSpec>(&m.spec)) {
      if (stack->steps.empty()) finding("a stack without steps");
      if (stack->steps.back().max_tokens || !stack->steps.back().stop.empty()) finding("limits on a stack's last step");
    } else if (const auto* retrieval = std::get_if<config::RetrievalSpec>(&m.spec)) {
      if (!retrieval->index_data || retrieval->k < 1) finding("a retrieval without its index or k");
    } else {
      const auto& cascade = std::get<config::CascadeSpec>(m.spec);
      if (cascade.stages.size() < 2 || cascade.rules.empty()) finding("cascade without stages or rules");
      for (const config::RuleSpec& rule : cascade.rules)
        if (std::isnan(rule.threshold)) finding("NaN threshold");
    }
  }
  if (c.defaults.model && c.find(c.defaults.model->name) == nullptr) finding("dangling default model");
}

void check_build(const config::Config& c) {
  std::set<std::string> built;
  auto record = [&](const std::string& name) {
    if (!built.insert(name).second) finding("model built twice: " + name);
    return std::make_shared<Fake>(name);
  };
  config::Builders b;
  b.local = [&](const std::string& n, const config::LocalSpec&, const config::LocalHelpers&) { return record(n); };
  b.remote = [&](const std::string& n, const config::RemoteSpec&) { return record(n); };
  b.cascade = [&](const std::string& n, const config::CascadeSpec& spec, const std::vector<config::ModelPtr>& stages,
                  const std::vector<config::ModelPtr>& judges) {
    for (const auto& s : stages)
      if (s == nullptr) finding("null stage");
    if (judges.size() != spec.rules.size()) finding("one judge slot per rule expected");
    return record(n);
  };
  b.router = [&](const std::string& n, const config::RouterSpec& spec, const std::vector<config::ModelPtr>& candidates,
                 const config::ModelPtr& embedder) {
    if (candidates.size() != spec.candidates.size() || embedder == nullptr) finding("router dependencies missing");
    return record(n);
  };
  b.retrieval = [&](const std::string& n, const config::RetrievalSpec&, const config::ModelPtr& model,
                    const config::ModelPtr& embedder) {
    if (model == nullptr || embedder == nullptr) finding("retrieval dependencies missing");
    return record(n);
  };
  b.stack = [&](const std::string& n, const config::StackSpec& spec, const std::vector<config::ModelPtr>& steps) {
    if (steps.size() != spec.steps.size()) finding("stack dependencies missing");
    return record(n);
  };
  try {
    const config::ModelSet set = config::build(c, b);
    if (set.models.size() != c.models.size()) finding("build() did not build every model");
  } catch (const Error& e) {
    if (std::string(e.what()).find("environment variable") == std::string::npos)
      finding(std::string("build() failed after load() succeeded: ") + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  make_scratch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  config::Config c;
  try {
    c = config::load_from_string(text, "fuzz.yaml", g_dir);
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.rfind("fuzz.yaml", 0) != 0) finding("error without the file name: " + m);
    if (m.find('\n') != std::string::npos) finding("error of more than one line: " + m);
    return 0;
  }
  check_config(c);
  check_build(c);
  return 0;
}
