// The deferral rules of a first cascade: a fixed threshold on one signal of a
// stage's answer.
//   mean_logprob  mean per-token logprob of the answer (an empty answer: -inf)
//   min_logprob   the lowest per-token logprob of the answer (empty: -inf)
//   agreement     k samples from the stage; the share of the majority final
//                 answer (util/answer.h) or of identical whitespace-normalized
//                 text; the stage's answer is a sample carrying the majority
// Thresholds may be -inf (always accept) or +inf (never accept); a signal that
// is NaN never reaches a threshold. RuleOptions is what a config's `rule:`
// entry fills; make_rule() checks it and builds the rule.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "compose/deferral_rule.h"

namespace tandem::compose {

class MeanLogprobRule : public DeferralRule {
 public:
  explicit MeanLogprobRule(double threshold);
  std::string_view signal() const override { return "mean_logprob"; }
  double threshold() const override { return threshold_; }
  bool needs_logprobs() const override { return true; }
  Signal evaluate(const api::Request& request, std::span<const api::Response> answers) const override;

 private:
  double threshold_;
};

class MinLogprobRule : public DeferralRule {
 public:
  explicit MinLogprobRule(double threshold);
  std::string_view signal() const override { return "min_logprob"; }
  double threshold() const override { return threshold_; }
  bool needs_logprobs() const override { return true; }
  Signal evaluate(const api::Request& request, std::span<const api::Response> answers) const override;

 private:
  double threshold_;
};

enum class AgreeOn { kAnswer, kText };

struct AgreementOptions {
  int samples = 5;             // k >= 2 answers asked of the stage
  AgreeOn on = AgreeOn::kAnswer;
  float temperature = 0.7f;    // of every sample; > 0 (greedy samples would all agree)
};

// Sample i of k is the caller's request at `temperature` with seed seed + i
// when the request has a seed (reproducible), else with no seed (each call
// draws its own). Samples without a final answer count in k but vote for
// nothing; ties go to the answer sampled first.
class AgreementRule : public DeferralRule {
 public:
  AgreementRule(double threshold, AgreementOptions options);
  std::string_view signal() const override { return "agreement"; }
  double threshold() const override { return threshold_; }
  std::vector<api::Request> stage_requests(const api::Request& request) const override;
  Signal evaluate(const api::Request& request, std::span<const api::Response> answers) const override;

 private:
  double threshold_;
  AgreementOptions options_;
};

// One `rule:` of a config, e.g. {signal: mean_logprob, threshold: -0.35} or
// {signal: agreement, threshold: 0.6, samples: 5, agree_on: answer,
// temperature: 0.7}. The optional fields are empty unless the config sets
// them; set for a signal that does not use them, they are an error (never
// silently ignored). The verdict and self_verify rules are in
// compose/verdict_rules.h.
struct RuleOptions {
  std::string signal;  // "mean_logprob", "min_logprob", "agreement", "verdict" or "self_verify"
  double threshold = 0.0;
  std::optional<int> samples;           // agreement (default 5), self_verify (default 4)
  std::optional<std::string> agree_on;  // agreement: "answer" (default) or "text"
  std::optional<float> temperature;     // agreement, self_verify: default 0.7
  std::shared_ptr<const api::Model> judge;  // verdict: required
  std::optional<std::string> templ;     // verdict, self_verify: holds {question} and {answer}
  std::optional<std::string> verdict;   // verdict: default " Yes"
  std::optional<std::string> against;   // verdict: default " No"
};

// The rule `options` describe. Throws tandem::Error naming the problem (an
// unknown signal, a NaN threshold, k < 2 (agreement) or k < 1 (self_verify),
// a temperature <= 0, a field the signal does not use, a missing judge or
// one that cannot score).
std::shared_ptr<const DeferralRule> make_rule(const RuleOptions& options);

}  // namespace tandem::compose
