// load(): a `type: retrieval` entry of `models:` (compose/retrieval.h). The
// index is read here, so that a missing or corrupt index or one built by
// another embedder is an error at the entry's place, before any model loads.
#include <filesystem>
#include <memory>

#include "compose/retrieval.h"
#include "compose/retrieval_index.h"
#include "config/load_internal.h"
#include "util/error.h"

namespace tandem::config::detail {

RetrievalSpec parse_retrieval(const Fields& f, const ModelSpec& m, const std::filesystem::path& dir) {
  RetrievalSpec s;
  f.require("model", m.at);
  s.model = *f.reference("model");
  f.require("embedder", m.at);
  s.embedder = *f.reference("embedder");
  f.require("index", m.at);
  s.index = resolve_data_file(*f.string("index"), dir, f.value_at("index"), "the index of " + f.what(),
                              "build one with `tandem index build`");
  try {
    s.index_data = std::make_shared<const compose::RetrievalIndex>(compose::RetrievalIndex::load(s.index));
  } catch (const Error& e) {
    fail(f.value_at("index"), e.what());
  }
  if (s.index_data->size() == 0) fail(f.value_at("index"), "the index of " + f.what() + " has no passages");
  if (s.index_data->embedder() != s.embedder.name)
    fail(s.embedder.at, "the embedder of " + f.what() + " is '" + s.embedder.name + "' but its index was built with '" +
                            s.index_data->embedder() + "'");
  if (auto k = f.integer("k", 1, 1 << 16)) s.k = static_cast<int>(*k);
  if (auto t = f.string("template")) {
    if (const std::string missing = compose::missing_placeholder(*t); !missing.empty())
      fail(f.value_at("template"), "the template of " + f.what() + " has no " + missing);
    s.templ = *t;
  }
  return s;
}

}  // namespace tandem::config::detail
