// tandem index build | query: a retrieval index (compose/retrieval_index.h)
// of a document collection (compose/documents.h), and its nearest passages
// to a text.
//
//   tandem index build --embedder models/tandem-tiny.gguf --docs docs.jsonl --out docs.idx
//   tandem index query --index docs.idx --embedder models/tandem-tiny.gguf -k 3 "how do cascades defer?"
//
// build embeds each passage whole, or its first --max-chars bytes (a passage
// longer than the embedder's context is an error naming it), with a progress
// line (rate, ETA) on stderr and one summary line on stdout. query prints one
// line per passage (rank, cosine, id, text with its newlines as spaces,
// tab-separated), or with --json one object {"index", "embedder", "query",
// "results": [{"rank", "cosine", "id", "text"}]}.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/eval_models.h"
#include "cli/numeric_options.h"
#include "compose/documents.h"
#include "compose/embedding.h"
#include "compose/retrieval_index.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct IndexArgs {
  std::string config, embedder, docs, out, index, query;
  int threads = 0;
  int64_t k = 5, max_chars = 0;
  bool json = false;
};

// The embedder, by config name or GGUF path; it must give embeddings.
EvalModels open_embedder(const IndexArgs& a, const std::string& command) {
  EvalModels m = open_eval_models(a.config, {a.embedder}, a.threads);
  if (!m.list[0]->capabilities().embeddings)
    throw Error(command + ": embedder '" + a.embedder + "' gives no embeddings (use a local model)");
  return m;
}

// What the embedder sees of a passage: at most max_chars bytes (0: all), cut
// at a UTF-8 character boundary. The index keeps the whole text.
std::string embedded_text(const std::string& text, size_t max_chars) {
  if (max_chars == 0 || text.size() <= max_chars) return text;
  size_t n = max_chars;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // not inside a character
  return text.substr(0, n);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void run_build(const IndexArgs& a) {
  std::vector<compose::Passage> passages = compose::read_documents(a.docs);
  const EvalModels models = open_embedder(a, "index build");
  const api::Model& embedder = *models.list[0];
  const auto start = Clock::now();
  std::unique_ptr<compose::RetrievalIndex> index;
  double shown = -1.0;
  for (size_t i = 0; i < passages.size(); ++i) {
    // One passage per call: LocalModel::embed() runs one forward pass per text
    // anyway, and an error then names the passage.
    const std::string id = passages[i].id;
    try {
      const std::string text = embedded_text(passages[i].text, static_cast<size_t>(a.max_chars));
      const std::vector<float> e = compose::embed_one(embedder, text, "embedding");
      if (!index) index = std::make_unique<compose::RetrievalIndex>(embedder.name(), e.size());
      index->add(std::move(passages[i]), e);
    } catch (const ContextError& err) {
      if (shown >= 0.0) std::fprintf(stderr, "\n");  // end the progress line
      throw Error("index build: " + a.docs + ": passage '" + id + "': " + err.what() +
                  "; split it into shorter passages or embed only their start (--max-chars)");
    } catch (const Error& err) {
      if (shown >= 0.0) std::fprintf(stderr, "\n");
      throw Error("index build: " + a.docs + ": passage '" + id + "': " + err.what());
    }
    const double t = seconds_since(start);
    if (t - shown >= 0.5 || i + 1 == passages.size()) {
      const double rate = static_cast<double>(i + 1) / std::max(t, 1e-9);
      std::fprintf(stderr, "\rindex build: embedded %zu/%zu passages, %.1f/s, ETA %.0fs   ", i + 1, passages.size(),
                   rate, static_cast<double>(passages.size() - i - 1) / rate);
      shown = t;
    }
  }
  std::fprintf(stderr, "\n");
  if (fs::path(a.out).has_parent_path()) fs::create_directories(fs::path(a.out).parent_path());
  index->save(a.out);
  const double t = seconds_since(start);
  std::printf("wrote %s: %zu passages of %s, embedder %s (dimension %zu), in %.2f s (%.1f passages/s)\n",
              a.out.c_str(), index->size(), a.docs.c_str(), index->embedder().c_str(), index->dim(), t,
              static_cast<double>(index->size()) / std::max(t, 1e-9));
}

void print_hits(const IndexArgs& a, const compose::RetrievalIndex& index, const std::vector<compose::RetrievalHit>& hits) {
  if (a.json) {
    nlohmann::json j = {{"index", a.index}, {"embedder", index.embedder()}, {"query", a.query},
                        {"results", nlohmann::json::array()}};
    for (size_t r = 0; r < hits.size(); ++r) {
      const compose::Passage& p = index.passage(hits[r].index);
      j["results"].push_back({{"rank", r + 1}, {"cosine", hits[r].cosine}, {"id", p.id}, {"text", p.text}});
    }
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  for (size_t r = 0; r < hits.size(); ++r) {
    const compose::Passage& p = index.passage(hits[r].index);
    std::string text = p.text;
    for (char& c : text)
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    std::printf("%zu\t%.4f\t%s\t%s\n", r + 1, static_cast<double>(hits[r].cosine), p.id.c_str(), text.c_str());
  }
}

void run_query(const IndexArgs& a) {
  const compose::RetrievalIndex index = compose::RetrievalIndex::load(a.index);
  const EvalModels models = open_embedder(a, "index query");
  const api::Model& embedder = *models.list[0];
  if (embedder.name() != index.embedder())
    throw Error("index query: " + a.index + " was built with embedder '" + index.embedder() + "', not '" +
                embedder.name() + "' (give that one as --embedder)");
  print_hits(a, index, index.search(compose::embed_one(embedder, a.query, "index query"), static_cast<size_t>(a.k)));
}

void add_model_options(CLI::App* cmd, IndexArgs& a) {
  cmd->add_option("--embedder", a.embedder, "The local model that embeds (a config name or a GGUF path)")->required();
  cmd->add_option("--config", a.config, "The configuration file naming the embedder (or give a GGUF path)");
  cmd->add_option("-t,--threads", a.threads, "Threads of a local embedder whose config sets none (default: all cores)")
      ->check(int_range(0, kMaxThreads));
}

}  // namespace

void add_index_command(CLI::App& app) {
  auto a = std::make_shared<IndexArgs>();
  CLI::App* cmd = app.add_subcommand("index", "Retrieval indexes: embed a document collection, query it");
  cmd->require_subcommand(1);

  CLI::App* build = cmd->add_subcommand("build", "Embed a document collection (.jsonl or text) into an index file");
  add_model_options(build, *a);
  build->add_option("--docs", a->docs, "The documents: .jsonl with \"text\" (and \"id\"), or text split at blank lines")
      ->required();
  build->add_option("--out", a->out, "The index file to write")->required();
  build->add_option("--max-chars", a->max_chars,
                    "Embed only the first N bytes of each passage (its whole text is kept); 0: all of it")
      ->capture_default_str()->check(int_range(0, int64_t{1} << 30));
  build->callback([a] { run_build(*a); });

  CLI::App* query = cmd->add_subcommand("query", "The passages of an index nearest to a text, by cosine similarity");
  query->add_option("--index", a->index, "The index file (tandem index build)")->required();
  add_model_options(query, *a);
  query->add_option("-k", a->k, "Passages to print")->capture_default_str()->check(int_range(1, 1 << 20));
  query->add_flag("--json", a->json, "Print one JSON object with the results");
  query->add_option("text", a->query, "The text to look up")->required();
  query->callback([a] { run_query(*a); });
}

}  // namespace tandem::cli
