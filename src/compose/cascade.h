// A cascade: stages asked in order, cheapest first. Stage i answers; its
// DeferralRule measures a signal over that answer and accepts it when the
// signal >= the rule's threshold, else the request goes on to stage i + 1.
// The last stage always answers (no rule is applied to it). A stage may itself
// be a composition (a cascade in a cascade).
//
//   tiny-then-base:
//     type: cascade
//     stages: [tiny, base]
//     rule: {signal: mean_logprob, threshold: -0.35}
//
// The Response:
// - text, finish_reason and logprobs: those of the accepted answer. Logprobs a
//   rule needed but the caller did not ask for (Request::logprobs < 0) are
//   stripped.
// - answered_by: the accepted answer's own answered_by, i.e. the innermost
//   model that wrote the text ("tiny", not the name of a nested cascade), so
//   records group answers by the model that wrote them at any nesting depth;
//   which stage of which composition accepted it is in the trace.
// - usage: every call's usage, summed per underlying model (nested usage maps
//   merge by name; a model asked twice, e.g. k agreement samples, is one entry).
//   Cost is the sum of those usages' costs.
// - trace: per stage tried, the stage's own trace steps (nested decisions, in
//   the order its calls ran), then the rule's own steps (a judge's verdict,
//   a self-verification; compose/verdict_rules.h), then one step of this cascade: model = the
//   stage's name, signal, value, threshold, decision "accept" or "defer"; the
//   last stage's step has no signal and decision "answer".
// - latency_ms: wall time of the whole cascade.
//
// Budgets and failures: a stage whose budget is spent (the constructor's budgets)
// is not asked: its trace step says "skip: over budget: ..." and the next
// stage is asked. A non-final stage that throws tandem::Error (a remote
// endpoint down or cooling down after failures, a prompt over its context) is
// skipped the same way ("skip: failed: <error>"). When the last stage is over
// budget, the latest answer a rule deferred is returned (trace: the last
// stage's skip step, then "answer: fallback" for the stage that wrote it);
// with no such answer complete() throws tandem::UnavailableError naming the
// cascade (tandem serve: 429). An
// error of the last stage propagates unchanged. Every call's usage is charged
// to the budgets as it returns. probe() and resolve() ignore budgets (they
// measure every stage).
//
// Streaming: the caller sees only the returned answer's text. Non-final stages
// are called without a callback (buffered); an accepted answer is passed on in
// one piece. The last stage gets the caller's callback and streams live, so a
// cancel (callback returns false) stops it and the response is the one it
// returns ("cancelled"). A buffered stage cannot be cancelled while it runs.
//
// Errors: construction throws tandem::Error for fewer than two stages, a null
// stage or rule, a rule count that is neither 1 nor stages - 1, or a stage
// whose rule needs logprobs but whose capabilities() say it cannot give them
// (the message names the cascade, the stage and the signal). An error of the
// last stage during complete() propagates unchanged (it names the stage);
// non-final stages' errors are skips (below).
//
// Thread-safety: immutable after construction; complete() may run
// concurrently (as the api::Model contract requires of every model).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "api/model.h"
#include "compose/budget.h"
#include "compose/deferral_rule.h"

namespace tandem::compose {

// One stage's part of a probe (Cascade::probe): what the stage answered and
// what its rule measured, whatever the rule decided.
struct StageAnswer {
  std::string stage;  // the stage's name
  // The answer the rule offers (Signal::chosen), with usage and trace replaced
  // by the whole stage's: every call the rule asked for (k agreement samples)
  // and the rule's own calls, traced in the order complete() traces them,
  // without this cascade's decision step; latency_ms is the stage's wall time.
  api::Response answer;
  std::string signal;  // the rule's signal; empty for the last stage
  double value = 0.0;  // the signal's value (NaN: never accepted)
};

struct CascadeOptions {
  std::string name;
  std::vector<std::shared_ptr<const api::Model>> stages;  // at least two, asked in this order
  // One rule for every non-final stage, or one per non-final stage (rules[i]
  // judges stages[i]).
  std::vector<std::shared_ptr<const DeferralRule>> rules;
};

class Cascade : public api::Model {
 public:
  // `budgets`: spending limits (compose/budget.h), shared with the config's
  // other compositions; null: none. See "Budgets and failures" above.
  explicit Cascade(CascadeOptions options, std::shared_ptr<Budgets> budgets = nullptr);

  const std::string& name() const override { return options_.name; }
  // logprobs / chat: when every stage has them; context: the smallest known
  // stage context (0 if a stage's is unknown); vocabulary: the stages' when
  // they all share it. No scoring or embeddings (which stage would answer?).
  api::Capabilities capabilities() const override;
  api::Response complete(const api::Request& request, const api::StreamCallback& on_text = {}) const override;

  // Calibration and threshold sweeps (tandem eval --probe, tandem calibrate):
  // every stage asked for `request` (buffered, no streaming), whatever the
  // rules would decide; one entry per stage, in order.
  std::vector<StageAnswer> probe(const api::Request& request) const;
  // The response complete(request) gives when the stages answer as in `probe`, at
  // `thresholds` (one per non-final stage; empty: the rules' own): the same
  // text, usage, cost and trace (with the given thresholds in the decision
  // steps), latency_ms the sum of the stages it asked. For stages that answer
  // a request deterministically (greedy) this equals complete()'s response
  // but for latency. Throws tandem::Error for a probe of another cascade
  // (wrong stage count or names) or a wrong number of thresholds.
  api::Response resolve(const api::Request& request, std::vector<StageAnswer> probe,
                        std::span<const double> thresholds = {}) const;

  size_t stage_count() const { return options_.stages.size(); }
  const api::Model& stage(size_t i) const { return *options_.stages.at(i); }
  // The rule that judges stage i (i < stage_count() - 1).
  const DeferralRule& rule_for(size_t stage) const;

 private:
  // Asks non-final stage i (every request its rule wants) and measures the signal.
  StageAnswer ask_stage(size_t i, const api::Request& request) const;
  // Why stage i may not be asked now (its budget), if so.
  std::optional<std::string> unavailable(size_t i) const;
  // The last stage's turn in complete(): asked, or, when over budget, the
  // fallback answer (the latest deferred one) taken.
  api::Response finish_last(api::Response out, std::optional<StageAnswer> fallback, const api::Request& request,
                            const api::StreamCallback& on_text) const;

  CascadeOptions options_;
  std::shared_ptr<Budgets> budgets_;
};

}  // namespace tandem::compose
