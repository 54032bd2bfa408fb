// A learned router: before any candidate answers, it predicts each candidate
// model's accuracy on the prompt from a table of training prompts
// (compose/router_table.h: k nearest neighbours of the prompt's embedding by
// the embedder model, or the table's logistic regressions over it,
// compose/router_logistic.h) and sends the request to the one with the best
//
//   score_m = p_m - cost_weight * cost_m / max_m cost_m
//
// (ties to the cheaper, then the earlier candidate). cost_weight is the
// router's knob, as RouteLLM's threshold: 0 picks the candidate predicted
// most accurate whatever it costs; larger values trade predicted accuracy for
// cost (at cost_weight 0.2, the costliest candidate is chosen over a free one
// only when its predicted accuracy is more than 0.2 higher).
// Unlike a cascade, one candidate answers (no wasted small-model calls), and
// its answer streams live.
//
//   arith-router:
//     type: router
//     candidates: [tiny, small, base]
//     embedder: tiny                    # a local model (embed())
//     table: routers/arith-d2.json      # tandem train-router
//     k: 16                            # knn tables only
//     cost_weight: 0.3                 # or large_share: 0.3 (config/; compose/router_table.h
//                                      # cost_weight_for_share)
//
// Budgets and failures, as a cascade's (compose/cascade.h): a candidate whose
// budget is spent is skipped (trace "skip: over budget: ...") and the next
// best asked; one that throws tandem::Error before streaming any text is
// skipped ("skip: failed: ...") when candidates remain. With every candidate
// skipped for budget, complete() throws tandem::UnavailableError (the server's
// 429); the last candidate's error propagates.
//
// The Response is the candidate's (text, logprobs, usage, answered_by, its own
// trace), then one trace step of the router: model = the candidate, signal
// "predicted_accuracy", value = its p_m, threshold = cost_weight, decision
// "route". latency_ms includes the embedding. The embedder's forward pass is
// not in usage (embed() reports none); it is one pass over the prompt by the
// embedder, small next to a generation.
//
// Errors: construction throws tandem::Error naming the router when there are
// no candidates, a null model, candidates whose names differ from the table's
// models (same names, same order), an embedder without embeddings or not the
// table's, k < 1 or a cost_weight that is negative or not finite.
//
// Thread-safety: immutable after construction; complete() may run concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "api/model.h"
#include "compose/budget.h"
#include "compose/router_table.h"

namespace tandem::compose {

struct RouterOptions {
  std::string name;
  std::vector<std::shared_ptr<const api::Model>> candidates;  // table.models, in order
  std::shared_ptr<const api::Model> embedder;                 // named table.embedder
  std::shared_ptr<const RouterTable> table;
  size_t k = 16;
  double cost_weight = 0.0;
};

// One candidate's place in a routing decision.
struct RouteChoice {
  size_t candidate = 0;
  double predicted_accuracy = 0.0;
  double score = 0.0;
};

class Router : public api::Model {
 public:
  explicit Router(RouterOptions options, std::shared_ptr<Budgets> budgets = nullptr);

  const std::string& name() const override { return options_.name; }
  // logprobs / chat: when every candidate has them; context: the smallest
  // known candidate context; vocabulary: the candidates' when shared.
  api::Capabilities capabilities() const override;
  api::Response complete(const api::Request& request, const api::StreamCallback& on_text = {}) const override;

  // Every candidate ranked for the request, best first (no candidate called).
  std::vector<RouteChoice> rank(const api::Request& request) const;
  // The same for an embedding of the prompt (by the embedder) and the byte
  // length of its routing_text() (a feature of logistic tables with lengths).
  std::vector<RouteChoice> rank(std::vector<float> embedding, double length) const;

  // The text the embedder embeds: the prompt, or the chat messages' contents
  // joined by newlines. `tandem train-router` embeds the same text.
  static std::string routing_text(const api::Request& request);

 private:
  RouterOptions options_;
  std::shared_ptr<Budgets> budgets_;
};

}  // namespace tandem::compose
