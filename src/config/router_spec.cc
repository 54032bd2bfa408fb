// load(): a `type: router` entry of `models:` (compose/router.h). The table
// is read here, so that a table of other models, another embedder or a
// corrupt file is an error at the router's place in the config, before any
// model is loaded.
#include <filesystem>
#include <memory>
#include <system_error>

#include "compose/router_table.h"
#include "config/load_internal.h"
#include "util/error.h"

namespace tandem::config::detail {

namespace fs = std::filesystem;

namespace {

std::string names(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& n : v) s += (s.empty() ? "" : ", ") + n;
  return "[" + s + "]";
}

}  // namespace

std::string resolve_data_file(const std::string& text, const fs::path& dir, const Location& at, const std::string& what,
                              const std::string& hint) {
  const fs::path p(text);
  std::vector<fs::path> tried = {p.is_absolute() ? p : (dir / p).lexically_normal()};
  if (!p.is_absolute()) tried.push_back(fs::absolute(p).lexically_normal());
  for (const fs::path& c : tried) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return fs::absolute(c, ec).string();
  }
  std::string list;
  for (const fs::path& t : tried) list += (list.empty() ? "" : ", ") + t.string();
  fail(at, what + " was not found (tried " + list + "); " + hint);
}

RouterSpec parse_router(const Fields& f, const ModelSpec& m, const fs::path& dir) {
  RouterSpec s;
  f.require("candidates", m.at);
  const YAML::Node& list = *f.find("candidates");
  if (!list.IsSequence() || list.size() == 0)
    fail(f.value_at("candidates"), "'candidates' of " + f.what() + " must be a non-empty list of model names, got " +
                                       describe(list));
  std::vector<std::string> given;
  for (const YAML::Node& c : list) {
    const Location at = location(f.file(), c.Mark());
    if (!c.IsScalar() || c.Scalar().empty()) fail(at, "a candidate of " + f.what() + " must be a model name, got " + describe(c));
    s.candidates.push_back({c.Scalar(), at});
    given.push_back(c.Scalar());
  }
  f.require("embedder", m.at);
  s.embedder = *f.reference("embedder");
  f.require("table", m.at);
  s.table = resolve_data_file(*f.string("table"), dir, f.value_at("table"), "the table of " + f.what(),
                              "write one with `tandem train-router`");
  compose::RouterTable table;
  try {
    table = compose::load_router_table(s.table);
  } catch (const Error& e) {
    fail(f.value_at("table"), e.what());
  }
  if (table.models != given)
    fail(f.value_at("candidates"), "the candidates of " + f.what() + " " + names(given) + " differ from the models of its table " +
                                       names(table.models) + " (same names, same order)");
  if (table.embedder != s.embedder.name)
    fail(s.embedder.at, "the embedder of " + f.what() + " is '" + s.embedder.name + "' but its table was made with '" +
                            table.embedder + "'");
  s.table_data = std::make_shared<const compose::RouterTable>(std::move(table));
  if (auto k = f.integer("k", 1, 1 << 20)) s.k = static_cast<int>(*k);
  s.cost_weight = f.number("cost_weight", 0, 1e9).value_or(0.0);
  s.large_share = f.number("large_share", 0, 1);
  if (s.large_share && f.has("cost_weight"))
    fail(f.key_at("large_share"), f.what() + " has both 'cost_weight' and 'large_share': give the knob or the share it "
                                             "should give, not both");
  if (s.large_share)
    s.cost_weight = compose::cost_weight_for_share(*s.table_data, static_cast<size_t>(s.k), *s.large_share);
  return s;
}

}  // namespace tandem::config::detail
