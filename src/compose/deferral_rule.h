// A DeferralRule decides whether a composition keeps a stage's answer or asks
// the next stage: it measures a signal over what the stage said and accepts
// when the signal is at least its threshold. A new kind of rule (an evaluator
// model's verdict, a calibrated logistic score) is a new small class; the
// cascade (compose/cascade.h) does not change.
//
// Contract: every method is const and thread-safe (a rule is shared by every
// request of its composition); a rule holds no per-request state.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/model.h"
#include "api/types.h"

namespace tandem::compose {

// What a rule measured over one stage's answers.
struct Signal {
  double value = 0.0;
  // The answer the stage offers, as an index into the answers evaluate() got
  // (agreement: the first sample carrying the majority answer).
  size_t chosen = 0;
  // Calls the rule made itself (an evaluator model), merged into the
  // composition's response; empty for signals computed from the answers alone.
  std::map<std::string, api::Usage> usage;
  std::vector<api::TraceStep> trace;
};

class DeferralRule {
 public:
  virtual ~DeferralRule() = default;

  // The signal's name as configs and traces spell it ("mean_logprob").
  virtual std::string_view signal() const = 0;
  // The stage's answer is accepted when Signal::value >= threshold().
  virtual double threshold() const = 0;
  // Whether the stage's answers must carry per-token logprobs. The composition
  // checks the stage's capabilities at construction and asks for them
  // (Request::logprobs = 0) when the caller did not.
  virtual bool needs_logprobs() const { return false; }

  // The requests a stage answers for one decision, derived from the caller's:
  // by default the caller's request itself, once (agreement: k samples).
  virtual std::vector<api::Request> stage_requests(const api::Request& request) const { return {request}; }

  // The signal over the stage's answers, one per stage_requests() entry, in
  // that order. Throws tandem::Error when the answers lack what the rule needs.
  virtual Signal evaluate(const api::Request& request, std::span<const api::Response> answers) const = 0;
  // What a composition calls: evaluate() with the stage that gave the answers,
  // for rules that ask it again (self_verify, compose/verdict_rules.h). The
  // default ignores the stage.
  virtual Signal evaluate_with_stage(const api::Model& stage, const api::Request& request,
                                     std::span<const api::Response> answers) const {
    (void)stage;
    return evaluate(request, answers);
  }
};

}  // namespace tandem::compose
