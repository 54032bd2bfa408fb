#include "compose/retrieval.h"

#include <chrono>
#include <optional>

#include "compose/embedding.h"
#include "compose/request_text.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

// The template with {passages} and {input} replaced, left to right in one
// pass.
std::string fill(const std::string& tmpl, const std::string& passages, const std::string& input) {
  static const std::string kPassages = "{passages}", kInput = "{input}";
  std::string out;
  size_t at = 0;
  while (at < tmpl.size()) {
    if (tmpl.compare(at, kPassages.size(), kPassages) == 0) {
      out += passages;
      at += kPassages.size();
    } else if (tmpl.compare(at, kInput.size(), kInput) == 0) {
      out += input;
      at += kInput.size();
    } else {
      out += tmpl[at++];
    }
  }
  return out;
}

}  // namespace

std::string missing_placeholder(const std::string& prompt_template) {
  for (const char* placeholder : {"{input}", "{passages}"})
    if (prompt_template.find(placeholder) == std::string::npos) return placeholder;
  return "";
}

Retrieval::Retrieval(RetrievalOptions options, std::shared_ptr<Budgets> budgets)
    : options_(std::move(options)), budgets_(std::move(budgets)) {
  const std::string self = "retrieval '" + options_.name + "'";
  if (!options_.model) throw Error(self + ": no model to answer (null)");
  if (!options_.index) throw Error(self + ": no retrieval index");
  if (options_.index->size() == 0) throw Error(self + ": its retrieval index has no passages");
  if (!options_.embedder) throw Error(self + ": no embedder");
  if (options_.embedder->name() != options_.index->embedder())
    throw Error(self + ": its embedder is '" + options_.embedder->name() + "' but its index was built with '" +
                options_.index->embedder() + "'");
  if (!options_.embedder->capabilities().embeddings)
    throw Error(self + ": embedder '" + options_.embedder->name() + "' gives no embeddings (use a local model)");
  if (options_.k < 1) throw Error(self + ": k must be >= 1");
  if (const std::string missing = missing_placeholder(options_.prompt_template); !missing.empty())
    throw Error(self + ": its template has no " + missing);
}

api::Capabilities Retrieval::capabilities() const {
  api::Capabilities c = options_.model->capabilities();
  c.scoring = false;
  c.embeddings = false;
  return c;
}

std::string Retrieval::retrieval_text(const api::Request& request) {
  return request_text(request, "a retrieval");
}

std::vector<RetrievalHit> Retrieval::retrieve(const std::string& text) const {
  const std::string self = "retrieval '" + options_.name + "'";
  const std::vector<float> e = embed_one(*options_.embedder, text, self);
  try {
    return options_.index->search(e, options_.k);
  } catch (const Error& err) {
    throw Error(self + ": " + err.what());
  }
}

api::Request Retrieval::augment(const api::Request& request, const std::vector<RetrievalHit>& hits) const {
  std::string passages;
  for (size_t j = 0; j < hits.size(); ++j)
    passages += (j ? "\n\n[" : "[") + std::to_string(j + 1) + "] " + options_.index->passage(hits[j].index).text;
  api::Request out = request;
  std::string& text = request_text(out, "retrieval '" + options_.name + "'");
  text = fill(options_.prompt_template, passages, text);
  return out;
}

api::Response Retrieval::complete(const api::Request& request, const api::StreamCallback& on_text) const {
  const auto start = std::chrono::steady_clock::now();
  const std::string& text = request_text(request, "retrieval '" + options_.name + "'");
  if (budgets_) {
    if (const std::optional<std::string> why = budgets_->refusal(options_.model->name()))
      throw UnavailableError("retrieval '" + options_.name + "': model '" + options_.model->name() + "' is " + *why);
  }
  const std::vector<RetrievalHit> hits = retrieve(text);
  api::Response out = options_.model->complete(augment(request, hits), on_text);
  if (budgets_) budgets_->charge(out.usage);
  if (out.answered_by.empty()) out.answered_by = options_.model->name();
  std::string ids;
  for (const RetrievalHit& h : hits) ids += (ids.empty() ? "" : ",") + options_.index->passage(h.index).id;
  out.trace.push_back({options_.name, "retrieval_cosine", hits[0].cosine, 0.0, "retrieve: " + ids, ""});
  out.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace tandem::compose
