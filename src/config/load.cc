// load(): the document, its three sections, prices and defaults. The model
// entries are read by models.cc, references checked by check.cc.
#include <yaml-cpp/eventhandler.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "config/config.h"
#include "config/load_internal.h"
#include "config/yaml_fields.h"
#include "util/error.h"

namespace tandem::config {

namespace detail {

namespace {

constexpr double kMaxDouble = std::numeric_limits<double>::max();
constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

// Records where documents start; ignores everything else.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The one document of the text; yaml-cpp's syntax errors become ours. Not
// YAML::LoadAll: yaml-cpp 0.7 loops forever, allocating, on a document that
// starts with a stray ',' (yaml-cpp issue #1040, fixed after 0.8). The second
// document is looked for with at most two parser steps instead.
YAML::Node parse_document(std::string_view text, const std::string& file) {
  const std::string s(text);
  YAML::Node doc;
  DocumentStarts starts;
  bool second = false;
  try {
    doc = YAML::Load(s);
    std::istringstream in(s);
    YAML::Parser parser(in);
    second = parser.HandleNextDocument(starts) && parser.HandleNextDocument(starts);
  } catch (const YAML::Exception& e) {
    fail(location(file, e.mark), e.msg);
  }
  if ((!doc.IsDefined() || doc.IsNull()) && second) {
    // A document yaml-cpp reads as empty but cannot get past: the text at the
    // mark cannot start a node (a stray ',' for one).
    const YAML::Mark& m = starts.marks.back();
    const std::string what = m.pos >= 0 && static_cast<size_t>(m.pos) < s.size() ? std::string(1, s[m.pos]) : "";
    fail(location(file, m), "'" + what + "' cannot start a YAML value: the config is a map with 'models'");
  }
  if (!doc.IsDefined() || doc.IsNull())
    fail({file, 0, 0}, "the config is empty: it needs a 'models' map (see configs/README.md)");
  if (second)
    fail(location(file, starts.marks.back()), "a second YAML document starts here: a config is one document");
  return doc;
}

api::Price parse_price(const Fields& prices, const std::string& name) {
  const Fields f(prices.file(), *prices.find(name), "the price of '" + name + "'",
                 {"input_per_mtok", "output_per_mtok", "per_second"});
  if (f.entries().empty())
    fail(f.at(), "the price of '" + name +
                     "' is empty: give input_per_mtok, output_per_mtok or per_second (0 to price it free)");
  api::Price p;
  p.input_per_mtok = f.number("input_per_mtok", 0, kMaxDouble).value_or(0);
  p.output_per_mtok = f.number("output_per_mtok", 0, kMaxDouble).value_or(0);
  p.per_second = f.number("per_second", 0, kMaxDouble).value_or(0);
  return p;
}

// Resolves every local and remote model's price: its own entry, else (local
// models) default_local, else an error naming it. Cascades have none.
void parse_prices(const Fields* prices, Config& config) {
  std::map<std::string, api::Price> table;
  if (prices != nullptr) {
    for (const auto& [key, value] : prices->entries()) {
      const std::string& name = key.Scalar();
      const Location at = location(config.file, key.Mark());
      if (name != "default_local") {
        const ModelSpec* m = config.find(name);
        if (m == nullptr) fail(at, "a price for " + unknown_model(name, config));
        if (m->type() != "local" && m->type() != "remote")
          fail(at, std::string(m->type()) + " '" + name + "' has no price of its own: its cost is the sum of its " +
                       (m->type() == "cascade"  ? "stages'"
                        : m->type() == "router" ? "candidates'"
                        : m->type() == "stack"  ? "steps'"
                                                : "model's") +
                       " costs");
      }
      table[name] = parse_price(*prices, name);
    }
  }
  const auto default_local = table.find("default_local");
  for (ModelSpec& m : config.models) {
    const auto own = table.find(m.name);
    if (auto* local = std::get_if<LocalSpec>(&m.spec)) {
      if (own == table.end() && default_local == table.end())
        fail(m.at, "local model '" + m.name + "' has no price: add prices: {" + m.name +
                       ": {per_second: ...}} or a default_local price (0 prices it free; nothing is free by default)");
      local->price = own != table.end() ? own->second : default_local->second;
    } else if (auto* remote = std::get_if<RemoteSpec>(&m.spec)) {
      if (own == table.end())
        fail(m.at, "remote model '" + m.name + "' has no price: add prices: {" + m.name +
                       ": {input_per_mtok: ..., output_per_mtok: ...}} (0 prices it free; nothing is free by default)");
      remote->price = own->second;
    }
  }
}

void parse_defaults(const Fields& f, Config& config) {
  Defaults& d = config.defaults;
  d.model = f.reference("model");
  if (auto n = f.integer("max_tokens", -1, kMaxInt)) d.max_tokens = static_cast<int>(*n);
  if (const YAML::Node* s = f.find("sampling")) d.sampling = parse_sampling(config.file, *s, "defaults", d.sampling);
}

}  // namespace

api::SamplingOptions parse_sampling(const std::string& file, const YAML::Node& node, const std::string& owner,
                                    api::SamplingOptions base) {
  const Fields f(file, node, "the sampling of " + owner,
                 {"temperature", "top_k", "top_p", "min_p", "typical_p", "repeat_penalty", "penalty_last_n",
                  "frequency_penalty", "presence_penalty", "seed"});
  auto set_float = [&](const char* key, float& out, double min, double max) {
    if (auto x = f.number(key, min, max)) out = static_cast<float>(*x);
  };
  set_float("temperature", base.temperature, 0, kMaxDouble);
  if (auto x = f.integer("top_k", 0, kMaxInt)) base.top_k = static_cast<int>(*x);
  set_float("top_p", base.top_p, 0, 1);
  set_float("min_p", base.min_p, 0, 1);
  set_float("typical_p", base.typical_p, 0, 1);
  set_float("repeat_penalty", base.repeat_penalty, 0, kMaxDouble);
  if (auto x = f.integer("penalty_last_n", -1, kMaxInt)) base.penalty_last_n = static_cast<int>(*x);
  set_float("frequency_penalty", base.frequency_penalty, -kMaxDouble, kMaxDouble);
  set_float("presence_penalty", base.presence_penalty, -kMaxDouble, kMaxDouble);
  if (auto x = f.integer("seed", 0, std::numeric_limits<int64_t>::max())) base.seed = static_cast<uint64_t>(*x);
  return base;
}

std::string unknown_model(const std::string& name, const Config& config) {
  std::vector<std::string> names;
  for (const ModelSpec& m : config.models) names.push_back(m.name);
  const auto [best, distance] = closest(name, names);
  std::string s = "unknown model '" + name + "'";
  if (!best.empty() && distance <= std::max<size_t>(1, name.size() / 2)) return s + " (did you mean '" + best + "'?)";
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return s + " (models: " + list + ")";
}

Config load_document(std::string_view text, const std::string& file, const std::filesystem::path& dir) {
  const YAML::Node root = parse_document(text, file);
  const Fields top(file, root, "the config", {"models", "prices", "defaults", "budgets"});
  top.require("models", top.at());
  Config config;
  config.file = file;
  // Defaults first: local models start from defaults.sampling.
  std::optional<Fields> defaults;
  if (const YAML::Node* d = top.find("defaults")) defaults.emplace(file, *d, "defaults", std::vector<std::string>{
                                                                      "model", "max_tokens", "sampling"});
  if (defaults) parse_defaults(*defaults, config);
  parse_models(Fields(file, *top.find("models"), "models", {}), dir, config);
  std::optional<Fields> prices;
  if (const YAML::Node* p = top.find("prices")) prices.emplace(file, *p, "prices", std::vector<std::string>{});
  check_references(config);
  parse_prices(prices ? &*prices : nullptr, config);
  if (const YAML::Node* b = top.find("budgets")) parse_budgets(Fields(file, *b, "budgets", {}), config);
  return config;
}

}  // namespace detail

const ModelSpec* Config::find(std::string_view name) const {
  for (const ModelSpec& m : models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Config load_from_string(std::string_view text, const std::string& name, const std::filesystem::path& dir) {
  return detail::load_document(text, name, dir);
}

Config load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read the config file (does it exist?)");
  std::ostringstream text;
  text << in.rdbuf();
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  return detail::load_document(text.str(), path, dir);
}

}  // namespace tandem::config
