#include "compose/cascade.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "compose/capabilities.h"
#include "util/error.h"

namespace tandem::compose {

namespace {

void merge_usage(std::map<std::string, api::Usage>& into, const std::map<std::string, api::Usage>& from) {
  for (const auto& [model, u] : from) into[model] += u;
}

void merge_call(api::Response& into, const api::Response& call) {
  merge_usage(into.usage, call.usage);
  into.trace.insert(into.trace.end(), call.trace.begin(), call.trace.end());
}

// The accepted answer's text, reason, logprobs and author into `out`.
void take_answer(api::Response& out, api::Response&& answer, const api::Model& stage, const api::Request& request) {
  out.text = std::move(answer.text);
  out.finish_reason = std::move(answer.finish_reason);
  if (request.logprobs >= 0) out.logprobs = std::move(answer.logprobs);
  out.answered_by = answer.answered_by.empty() ? stage.name() : std::move(answer.answered_by);
}

}  // namespace

Cascade::Cascade(CascadeOptions options, std::shared_ptr<Budgets> budgets)
    : options_(std::move(options)), budgets_(std::move(budgets)) {
  const std::string self = "cascade '" + options_.name + "'";
  const size_t n = options_.stages.size();
  if (n < 2) throw Error(self + ": needs at least two stages, got " + std::to_string(n));
  for (size_t i = 0; i < n; ++i)
    if (!options_.stages[i]) throw Error(self + ": stage " + std::to_string(i + 1) + " is missing (null)");
  if (options_.rules.size() != 1 && options_.rules.size() != n - 1)
    throw Error(self + ": give one rule for all non-final stages or one per non-final stage (" +
                std::to_string(n - 1) + "), got " + std::to_string(options_.rules.size()));
  for (const auto& r : options_.rules)
    if (!r) throw Error(self + ": a rule is missing (null)");
  for (size_t i = 0; i + 1 < n; ++i) {
    const DeferralRule& rule = rule_for(i);
    if (rule.needs_logprobs() && !options_.stages[i]->capabilities().logprobs)
      throw Error(self + ": stage '" + options_.stages[i]->name() + "' gives no per-token logprobs, which the " +
                  std::string(rule.signal()) + " rule needs (use the agreement signal, or a model that gives logprobs)");
  }
}

const DeferralRule& Cascade::rule_for(size_t stage) const {
  return *options_.rules[options_.rules.size() == 1 ? 0 : stage];
}

api::Capabilities Cascade::capabilities() const { return common_capabilities(options_.stages); }

StageAnswer Cascade::ask_stage(size_t i, const api::Request& request) const {
  const auto start = std::chrono::steady_clock::now();
  const api::Model& stage = *options_.stages[i];
  const DeferralRule& rule = rule_for(i);
  std::vector<api::Request> asks = rule.stage_requests(request);
  if (rule.needs_logprobs())
    for (auto& a : asks) a.logprobs = std::max(a.logprobs, 0);
  std::vector<api::Response> answers;
  answers.reserve(asks.size());
  for (const auto& a : asks) answers.push_back(stage.complete(a));  // buffered: no callback
  Signal s = rule.evaluate_with_stage(stage, request, answers);
  if (s.chosen >= answers.size())
    throw Error("cascade '" + options_.name + "': rule '" + std::string(rule.signal()) + "' chose answer " +
                std::to_string(s.chosen) + " of " + std::to_string(answers.size()));
  api::Response all;
  for (const auto& a : answers) merge_call(all, a);
  merge_usage(all.usage, s.usage);
  all.trace.insert(all.trace.end(), s.trace.begin(), s.trace.end());
  StageAnswer out{stage.name(), std::move(answers[s.chosen]), std::string(rule.signal()), s.value};
  out.answer.usage = std::move(all.usage);
  out.answer.trace = std::move(all.trace);
  out.answer.latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return out;
}

std::optional<std::string> Cascade::unavailable(size_t i) const {
  if (!budgets_) return std::nullopt;
  return budgets_->refusal(options_.stages[i]->name());
}

api::Response Cascade::complete(const api::Request& request, const api::StreamCallback& on_text) const {
  const auto start = std::chrono::steady_clock::now();
  api::Response out;
  std::optional<StageAnswer> fallback;  // the latest answer a rule deferred
  const size_t last = options_.stages.size() - 1;
  for (size_t i = 0; i < last; ++i) {
    const std::string& name = options_.stages[i]->name();
    if (const std::optional<std::string> why = unavailable(i)) {
      out.trace.push_back({name, "", 0.0, 0.0, "skip: " + *why, ""});
      continue;
    }
    StageAnswer a;
    try {
      a = ask_stage(i, request);
    } catch (const Error& e) {
      out.trace.push_back({name, "", 0.0, 0.0, std::string("skip: failed: ") + e.what(), ""});
      continue;
    }
    if (budgets_) budgets_->charge(a.answer.usage);
    merge_call(out, a.answer);
    const double threshold = rule_for(i).threshold();
    const bool accept = a.value >= threshold;  // false for a NaN signal
    out.trace.push_back({a.stage, a.signal, a.value, threshold, accept ? "accept" : "defer", ""});
    if (!accept) {
      fallback = std::move(a);
      continue;
    }
    take_answer(out, std::move(a.answer), *options_.stages[i], request);
    if (on_text && !out.text.empty()) on_text(out.text);  // all of it is delivered: nothing left to cancel
    out.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
  }
  out = finish_last(std::move(out), std::move(fallback), request, on_text);
  out.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return out;
}

api::Response Cascade::finish_last(api::Response out, std::optional<StageAnswer> fallback, const api::Request& request,
                                   const api::StreamCallback& on_text) const {
  const size_t last = options_.stages.size() - 1;
  const api::Model& stage = *options_.stages[last];
  if (const std::optional<std::string> why = unavailable(last)) {
    out.trace.push_back({stage.name(), "", 0.0, 0.0, "skip: " + *why, ""});
    if (!fallback)
      throw UnavailableError("cascade '" + options_.name + "': no stage could answer (last stage '" + stage.name() +
                             "': " + *why + ")");
    size_t i = 0;
    while (options_.stages[i]->name() != fallback->stage) ++i;
    out.trace.push_back({fallback->stage, "", 0.0, 0.0, "answer: fallback", ""});
    take_answer(out, std::move(fallback->answer), *options_.stages[i], request);
    if (on_text && !out.text.empty()) on_text(out.text);
    return out;
  }
  api::Response answer = stage.complete(request, on_text);  // streamed live
  if (budgets_) budgets_->charge(answer.usage);
  merge_call(out, answer);
  out.trace.push_back({stage.name(), "", 0.0, 0.0, "answer", ""});
  take_answer(out, std::move(answer), stage, request);
  return out;
}

std::vector<StageAnswer> Cascade::probe(const api::Request& request) const {
  std::vector<StageAnswer> out;
  const size_t last = options_.stages.size() - 1;
  for (size_t i = 0; i < last; ++i) out.push_back(ask_stage(i, request));
  const api::Model& stage = *options_.stages[last];
  out.push_back({stage.name(), stage.complete(request), "", 0.0});
  return out;
}

api::Response Cascade::resolve(const api::Request& request, std::vector<StageAnswer> probe,
                               std::span<const double> thresholds) const {
  const size_t n = options_.stages.size();
  const std::string self = "cascade '" + options_.name + "'";
  if (probe.size() != n) throw Error(self + ": a probe of " + std::to_string(probe.size()) + " stages, not " + std::to_string(n));
  for (size_t i = 0; i < n; ++i)
    if (probe[i].stage != options_.stages[i]->name())
      throw Error(self + ": probe stage " + std::to_string(i + 1) + " is '" + probe[i].stage + "', not '" +
                  options_.stages[i]->name() + "'");
  if (!thresholds.empty() && thresholds.size() != n - 1)
    throw Error(self + ": give " + std::to_string(n - 1) + " thresholds (one per non-final stage), got " +
                std::to_string(thresholds.size()));
  api::Response out;
  for (size_t i = 0; i < n; ++i) {
    StageAnswer& a = probe[i];
    merge_call(out, a.answer);
    out.latency_ms += a.answer.latency_ms;
    if (i + 1 == n) {
      out.trace.push_back({a.stage, "", 0.0, 0.0, "answer", ""});
    } else {
      const double threshold = thresholds.empty() ? rule_for(i).threshold() : thresholds[i];
      const bool accept = a.value >= threshold;
      out.trace.push_back({a.stage, a.signal, a.value, threshold, accept ? "accept" : "defer", ""});
      if (!accept) continue;
    }
    const double latency = out.latency_ms;
    take_answer(out, std::move(a.answer), *options_.stages[i], request);
    out.latency_ms = latency;
    return out;
  }
  return out;
}

}  // namespace tandem::compose
