#include "compose/router.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "compose/capabilities.h"
#include "compose/embedding.h"
#include "util/error.h"

namespace tandem::compose {

Router::Router(RouterOptions options, std::shared_ptr<Budgets> budgets)
    : options_(std::move(options)), budgets_(std::move(budgets)) {
  const std::string self = "router '" + options_.name + "'";
  if (!options_.table) throw Error(self + ": no router table");
  const RouterTable& t = *options_.table;
  if (options_.candidates.empty()) throw Error(self + ": needs at least one candidate");
  std::string names, want;
  for (size_t i = 0; i < options_.candidates.size(); ++i) {
    if (!options_.candidates[i]) throw Error(self + ": candidate " + std::to_string(i + 1) + " is missing (null)");
    names += (i ? ", " : "") + options_.candidates[i]->name();
  }
  for (size_t i = 0; i < t.models.size(); ++i) want += (i ? ", " : "") + t.models[i];
  if (names != want)
    throw Error(self + ": its candidates [" + names + "] differ from its table's models [" + want +
                "] (same names in the same order; retrain with `tandem train-router`)");
  if (!options_.embedder) throw Error(self + ": no embedder");
  if (options_.embedder->name() != t.embedder)
    throw Error(self + ": its embedder is '" + options_.embedder->name() + "' but its table was trained with '" +
                t.embedder + "'");
  if (!options_.embedder->capabilities().embeddings)
    throw Error(self + ": embedder '" + options_.embedder->name() + "' gives no embeddings (use a local model)");
  if (options_.k < 1) throw Error(self + ": k must be >= 1");
  if (!std::isfinite(options_.cost_weight) || options_.cost_weight < 0.0)
    throw Error(self + ": cost_weight must be a finite number >= 0");
}

api::Capabilities Router::capabilities() const { return common_capabilities(options_.candidates); }

std::string Router::routing_text(const api::Request& request) {
  if (!request.is_chat()) return request.prompt;
  std::string text;
  for (size_t i = 0; i < request.messages.size(); ++i) text += (i ? "\n" : "") + request.messages[i].content;
  return text;
}

std::vector<RouteChoice> Router::rank(std::vector<float> embedding, double length) const {
  const RouterTable& t = *options_.table;
  const std::vector<double> p = predict(t, std::move(embedding), options_.k, length);
  const std::vector<double> score = route_scores(t, p, options_.cost_weight);
  std::vector<RouteChoice> out;
  for (size_t m : route_order(t, p, options_.cost_weight)) out.push_back({m, p[m], score[m]});
  return out;
}

std::vector<RouteChoice> Router::rank(const api::Request& request) const {
  const std::string text = routing_text(request);
  return rank(embed_one(*options_.embedder, text, "router '" + options_.name + "'"), static_cast<double>(text.size()));
}

api::Response Router::complete(const api::Request& request, const api::StreamCallback& on_text) const {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<RouteChoice> ranked = rank(request);
  std::vector<api::TraceStep> skips;
  for (size_t r = 0; r < ranked.size(); ++r) {
    const api::Model& m = *options_.candidates[ranked[r].candidate];
    if (budgets_) {
      if (const std::optional<std::string> why = budgets_->refusal(m.name())) {
        skips.push_back({m.name(), "", 0.0, 0.0, "skip: " + *why, ""});
        continue;
      }
    }
    const bool last = r + 1 == ranked.size();
    bool streamed = false;
    api::StreamCallback pass;
    if (on_text) pass = [&](std::string_view piece) { streamed = true; return on_text(piece); };
    api::Response out;
    try {
      out = m.complete(request, pass);
    } catch (const Error& e) {
      if (last || streamed) throw;
      skips.push_back({m.name(), "", 0.0, 0.0, std::string("skip: failed: ") + e.what(), ""});
      continue;
    }
    if (budgets_) budgets_->charge(out.usage);
    if (out.answered_by.empty()) out.answered_by = m.name();
    out.trace.insert(out.trace.begin(), skips.begin(), skips.end());
    out.trace.push_back({m.name(), "predicted_accuracy", ranked[r].predicted_accuracy, options_.cost_weight, "route", ""});
    out.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
  }
  std::string why;
  for (const api::TraceStep& s : skips) why += (why.empty() ? "" : "; ") + s.model + ": " + s.decision.substr(6);
  throw UnavailableError("router '" + options_.name + "': no candidate could answer (" + why + ")");
}

}  // namespace tandem::compose
