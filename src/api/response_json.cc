#include "api/response_json.h"

#include <cmath>

namespace tandem::api {

namespace {

nlohmann::ordered_json number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

nlohmann::ordered_json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
          {"seconds", u.seconds}, {"cost", u.cost}};
}

nlohmann::ordered_json step_json(const TraceStep& s) {
  nlohmann::ordered_json j = {{"model", s.model}};
  if (s.signal.empty()) {
    j["signal"] = nullptr;
    j["value"] = nullptr;
    j["threshold"] = nullptr;
  } else {
    j["signal"] = s.signal;
    j["value"] = number(s.value);
    j["threshold"] = number(s.threshold);
  }
  j["decision"] = s.decision;
  if (!s.text.empty() || s.decision == "pass") j["text"] = s.text;
  return j;
}

}  // namespace

nlohmann::ordered_json to_json(const Response& r) {
  nlohmann::ordered_json j;
  j["text"] = r.text;
  j["finish_reason"] = r.finish_reason;
  j["answered_by"] = r.answered_by;
  nlohmann::ordered_json usage = nlohmann::ordered_json::object();
  for (const auto& [name, u] : r.usage) usage[name] = usage_json(u);
  j["usage"] = std::move(usage);
  j["cost"] = r.cost();
  j["latency_ms"] = r.latency_ms;
  nlohmann::ordered_json trace = nlohmann::ordered_json::array();
  for (const TraceStep& s : r.trace) trace.push_back(step_json(s));
  j["trace"] = std::move(trace);
  if (!r.logprobs.empty()) {
    nlohmann::ordered_json lps = nlohmann::ordered_json::array();
    for (const TokenLogprob& t : r.logprobs) {
      nlohmann::ordered_json top = nlohmann::ordered_json::array();
      for (const auto& [tok, lp] : t.top) top.push_back({tok, number(lp)});
      lps.push_back({{"token", t.token}, {"logprob", number(t.logprob)}, {"top", std::move(top)}});
    }
    j["logprobs"] = std::move(lps);
  }
  return j;
}

}  // namespace tandem::api
