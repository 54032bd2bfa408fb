// Test double: an api::Model whose answers, per-token logprobs, usage and cost
// are written in the test, so what a composition should do is known by hand.
// No network, no engine.
//
// An answer is a list of tokens (text, logprob). The prompt picks the script
// entry; the request's seed (0 when it has none) picks the answer among the
// entry's list, modulo its length. Per call, usage is: prompt_tokens 10,
// completion_tokens the tokens produced, seconds 0.5, cost cost_per_token *
// completion_tokens (costs in the tests are exact binary fractions, so sums
// are exact). Streaming sends one chunk per token; a callback returning false
// stops it after that chunk ("cancelled"). Every request it gets is recorded.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "api/model.h"
#include "util/error.h"

namespace tandem::testing {

using ScriptedAnswer = std::vector<std::pair<std::string, double>>;  // (token text, logprob)

class ScriptedModel : public api::Model {
 public:
  static constexpr int64_t kPromptTokens = 10;
  static constexpr double kSecondsPerCall = 0.5;

  ScriptedModel(std::string name, std::map<std::string, std::vector<ScriptedAnswer>> script, double cost_per_token,
                bool gives_logprobs = true)
      : name_(std::move(name)), script_(std::move(script)), cost_per_token_(cost_per_token), logprobs_(gives_logprobs) {}

  const std::string& name() const override { return name_; }
  api::Capabilities capabilities() const override {
    return {.logprobs = logprobs_, .chat = false, .context = 2048, .vocabulary = "scripted"};
  }

  api::Response complete(const api::Request& request, const api::StreamCallback& on_text = {}) const override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      calls_.push_back({request, static_cast<bool>(on_text)});
    }
    if (request.logprobs >= 0 && !logprobs_) throw Error("model '" + name_ + "' gives no logprobs");
    const auto it = script_.find(request.prompt);
    if (it == script_.end()) throw Error("model '" + name_ + "' has no script for '" + request.prompt + "'");
    const ScriptedAnswer& answer = it->second[request.sampling.seed.value_or(0) % it->second.size()];
    api::Response r;
    r.finish_reason = "stop";
    int64_t produced = 0;
    for (const auto& [text, logprob] : answer) {
      r.text += text;
      ++produced;
      if (request.logprobs >= 0) r.logprobs.push_back({text, logprob, {}});
      if (on_text && !on_text(text)) {
        r.finish_reason = "cancelled";
        break;
      }
    }
    r.answered_by = name_;
    r.usage[name_] = {.prompt_tokens = kPromptTokens,
                      .completion_tokens = produced,
                      .seconds = kSecondsPerCall,
                      .cost = cost_per_token_ * static_cast<double>(produced)};
    return r;
  }

  struct Call {
    api::Request request;
    bool streamed = false;  // a callback was given
  };
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }
  void clear_calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.clear();
  }

 private:
  std::string name_;
  std::map<std::string, std::vector<ScriptedAnswer>> script_;
  double cost_per_token_;
  bool logprobs_;
  mutable std::mutex mutex_;  // the record of calls is the double's only state
  mutable std::vector<Call> calls_;
};

}  // namespace tandem::testing
