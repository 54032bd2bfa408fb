// Retrieval-augmented answering: a Model that wraps any other Model (the
// inner model) and puts the passages of a retrieval index
// (compose/retrieval_index.h) most similar to the request into its prompt.
//
// Per request: the embedder embeds the request's text (the prompt, or for a
// chat the last user message), the index gives the k passages of highest
// cosine similarity, and the text is replaced by the template with
//
//   {passages}  the passages, best first, each as "[n] text", joined by a
//               blank line
//   {input}     the original prompt or last user message
//
// (each placeholder replaced wherever it occurs, in one pass: text that came
// in through a passage is never substituted again). For a chat only the last
// user message's content changes. Everything else of the request (sampling,
// stop strings, grammar, other messages) goes to the inner model unchanged,
// and its answer streams live through the caller's callback. A config entry
// (RetrievalOptions below; config/ builds it) could read:
//
//   docs-tiny:
//     type: retrieval
//     model: base                       # the inner model
//     embedder: tiny                    # a local model (embed())
//     index: indexes/docs.idx           # tandem index build
//     k: 3
//     template: "Context:\n{passages}\n\nQuestion: {input}"   # optional
//
// The Response is the inner model's, plus one trace step: model = the
// wrapper's name, signal "retrieval_cosine", value = the best passage's
// cosine, threshold 0, decision "retrieve: " and the ids retrieved, best
// first, comma-separated ("retrieve: 3,7,1"). latency_ms includes the
// embedding. The embedder's forward pass is not in usage (embed() reports
// none).
//
// Errors: construction throws tandem::Error naming the wrapper for a null
// inner model, embedder or index, an index without passages, an embedder
// without embeddings or not the index's (by name), k < 1, or a template
// without {input} or {passages}.
// complete() throws tandem::Error naming the wrapper for a chat request
// without a user message or an embedding of the wrong dimension; the inner
// model's errors propagate.
//
// Thread-safety: immutable after construction; complete() may run
// concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "api/model.h"
#include "compose/budget.h"
#include "compose/retrieval_index.h"

namespace tandem::compose {

inline constexpr const char* kDefaultRetrievalTemplate = "Use these passages to answer.\n\n{passages}\n\n{input}";

// The placeholder a retrieval template lacks, "{input}" or "{passages}"
// (first missing), or empty when it holds both. The constructor and config
// load (which points at the template) both refuse such a template.
std::string missing_placeholder(const std::string& prompt_template);

struct RetrievalOptions {
  std::string name;
  std::shared_ptr<const api::Model> model;     // the inner model, which answers
  std::shared_ptr<const api::Model> embedder;  // named index->embedder()
  std::shared_ptr<const RetrievalIndex> index;
  size_t k = 3;
  std::string prompt_template = kDefaultRetrievalTemplate;
};

class Retrieval : public api::Model {
 public:
  // With `budgets`, an inner model whose budget is spent is not asked:
  // complete() throws tandem::UnavailableError (tandem serve: 429), and its
  // usage is charged as the call returns.
  explicit Retrieval(RetrievalOptions options, std::shared_ptr<Budgets> budgets = nullptr);

  const std::string& name() const override { return options_.name; }
  // The inner model's logprobs, chat, context and vocabulary; no scoring or
  // embeddings (score() and embed() are not passed on).
  api::Capabilities capabilities() const override;
  api::Response complete(const api::Request& request, const api::StreamCallback& on_text = {}) const override;

  // The passages for a text, best first (the embedder called, no model).
  std::vector<RetrievalHit> retrieve(const std::string& text) const;
  // The request the inner model gets (`hits` from retrieve()).
  api::Request augment(const api::Request& request, const std::vector<RetrievalHit>& hits) const;

  // The text a request retrieves with: the prompt, or the content of a chat's
  // last user message. Throws tandem::Error for a chat without a user message.
  static std::string retrieval_text(const api::Request& request);

 private:
  RetrievalOptions options_;
  std::shared_ptr<Budgets> budgets_;
};

}  // namespace tandem::compose
