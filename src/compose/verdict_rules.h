// Deferral rules that ask a model about a stage's answer (compose/signals.h
// has the rules computed from the answer alone).
//   verdict      an evaluator ("judge") model reads a template holding the
//                question and the answer and scores a verdict text: the
//                signal is p(verdict) / (p(verdict) + p(against)), by default
//                p(" Yes") / (p(" Yes") + p(" No")) — the judge's probability
//                of "Yes" normalized against "No", in [0, 1]. Everything goes
//                through text (Model::score), so the judge may have any
//                vocabulary; it must have capabilities().scoring.
//   self_verify  AutoMix-style: the answering stage itself is asked k times,
//                sampled, whether its answer is correct; the signal is the
//                share of replies that start with "yes" (case-insensitive,
//                after leading whitespace), in [0, 1].
// Both thresholds are shares in [0, 1] (or -inf / +inf); a NaN signal (a
// judge giving -inf to both verdicts) never reaches a threshold.
//
// The question is the request's prompt, or for a chat request the content of
// its last "user" message. Templates hold "{question}" and "{answer}" (each
// replaced once per occurrence; the replacement text is not scanned again);
// a template without "{answer}" is an error (every answer would be judged
// the same).
#pragma once

#include <memory>
#include <string>

#include "api/model.h"
#include "compose/deferral_rule.h"

namespace tandem::compose {

// The verdict rule's default template: decode/judge.h's best-of-n judge
// wording with {prompt} -> {question}, {candidate} -> {answer}:
// "Question: {question}\nAnswer: {answer}\nIs the answer correct? (Yes or No)\nVerdict:".
std::string default_verdict_template();
// The self_verify rule's default template.
inline constexpr std::string_view kDefaultSelfVerifyTemplate =
    "Question: {question}\nAnswer: {answer}\nIs the answer correct? Answer Yes or No:";

// `templ` with every {question} and {answer} replaced. Throws tandem::Error
// naming `rule` when templ has no {answer}.
std::string fill_rule_template(std::string_view rule, std::string_view templ, std::string_view question,
                               std::string_view answer);

// The question of a request: its prompt, else its last user message.
std::string question_of(const api::Request& request);

struct VerdictOptions {
  std::shared_ptr<const api::Model> judge;  // capabilities().scoring
  std::string templ = default_verdict_template();
  std::string verdict = " Yes";             // decode/judge.h's kDefaultVerdict
  std::string against = " No";              // the alternative it is normalized against
};

// Two Model::score calls on the judge per decision: (prompt, verdict) and
// (prompt, against). Signal::usage holds one entry under the judge's name:
// Model::score reports no usage, so prompt_tokens counts the tokens scored
// (the two Scores' token counts), completion_tokens 0, seconds the measured
// wall time of both calls, cost 0 (a judge's price is not applied). The
// signal's trace has one step: model = the judge's name, signal "verdict",
// value p, threshold, decision "judge '<stage>'".
class VerdictRule : public DeferralRule {
 public:
  // Throws tandem::Error for a null judge, a judge without scoring, a NaN
  // threshold, a template without {answer}, or an empty verdict / against or
  // equal ones.
  VerdictRule(double threshold, VerdictOptions options);
  std::string_view signal() const override { return "verdict"; }
  double threshold() const override { return threshold_; }
  Signal evaluate(const api::Request& request, std::span<const api::Response> answers) const override;

 private:
  double threshold_;
  VerdictOptions options_;
};

struct SelfVerifyOptions {
  int samples = 4;            // k >= 1 verification replies
  float temperature = 0.7f;   // of every verification call; > 0
  std::string templ = std::string(kDefaultSelfVerifyTemplate);
};

// Verification call i of k is a request for the filled template — a raw
// prompt, or for a chat request one user message holding it — with the
// caller's sampling at `temperature`, seed seed + i when the request has a
// seed, max_tokens 8, no stop strings, grammar, schema or logprobs. Their
// usage is the stage's own (merged under the stage's usage entries); the
// signal's trace has one step: model = the stage, signal "self_verify",
// value, threshold, decision "verify: <yes> of <k> yes".
class SelfVerifyRule : public DeferralRule {
 public:
  SelfVerifyRule(double threshold, SelfVerifyOptions options);
  std::string_view signal() const override { return "self_verify"; }
  double threshold() const override { return threshold_; }
  // Needs the stage: throws tandem::Error (use evaluate_with_stage()).
  Signal evaluate(const api::Request& request, std::span<const api::Response> answers) const override;
  Signal evaluate_with_stage(const api::Model& stage, const api::Request& request,
                             std::span<const api::Response> answers) const override;

  // The k verification requests for `answer` to `request`.
  std::vector<api::Request> verify_requests(const api::Request& request, std::string_view answer) const;

 private:
  double threshold_;
  SelfVerifyOptions options_;
};

// Whether a verification reply says yes: it starts with "yes" in any case,
// after leading whitespace.
bool says_yes(std::string_view reply);

}  // namespace tandem::compose
