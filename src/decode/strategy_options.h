// What a front end asks run_strategy() (decode/strategy.h) for, and the check
// that every option it sets is one the chosen strategy applies: an option is
// applied or rejected, never silently ignored. The CLI runs validate() before
// loading any model; run_strategy() runs it again for library callers.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "decode/generate.h"
#include "model/transformer.h"
#include "sample/chain.h"

namespace tandem::decode {

// The helper models of a strategy, loaded by the caller (nothing in decode
// loads a model): shared and immutable, so one load serves any number of
// strategies and concurrent requests. Each must share the main model's
// vocabulary, except the scorer (a judge of any vocabulary).
struct StrategyModels {
  std::shared_ptr<const Transformer> draft;        // speculative
  std::shared_ptr<const Transformer> amateur;      // contrastive
  std::shared_ptr<const Transformer> expert;       // proxy: the tuned small model
  std::shared_ptr<const Transformer> anti_expert;  // proxy: the untuned small model
  std::shared_ptr<const Transformer> scorer;       // best-of-n judge (optional)
};

struct StrategyOptions {
  std::string strategy = "sample";
  sample::SamplingParams sampling;  // seed, temperature, top-k/p, penalties, logit bias, ...
  TextOptions text;                 // n_predict, stop strings, ignore_eos, logprobs
  std::string grammar;              // GBNF text (empty: none)
  std::string json_schema;          // JSON Schema text (empty: none)
  int64_t n_ctx = 0;                // 0: decode::context_size()'s rule (decode/context.h)

  // The helper models themselves; the *_model strings below only name them
  // (the CLI's paths: for validate() before loading, and for messages).
  StrategyModels models;

  // speculative / lookup
  std::string draft_model;          // speculative only
  int draft_max = 8, draft_min = 1, draft_init = 4;
  bool adaptive_draft = true;       // false: always draft_max tokens
  int ngram_min = 1, ngram_max = 3; // lookup only
  bool spec_fallback = true;        // go plain when speculation is slower

  // contrastive / proxy
  std::string amateur_model;
  float alpha = 0.1f;               // contrastive plausibility cut
  std::string tuned_model, untuned_model;
  float proxy_strength = 1.0f;

  // best-of-n / self-consistency / mbr
  int n_samples = 4;
  std::string mbr_utility = "chrf";
  std::string scorer_model;         // best-of-n: judge model (any vocabulary); empty: own mean logprob
  std::string scorer_template;      // {prompt} and {candidate}; empty: kDefaultJudgeTemplate
  std::string scorer_verdict;       // empty: kDefaultVerdict (" Yes")

};

// Throws tandem::Error (one line, naming the option) when `o` names an unknown
// strategy or sets an option that would have no effect:
//   - a strategy's own option with another strategy: --draft (speculative);
//     --draft-max, --draft-min, --no-adaptive-draft, --no-spec-fallback
//     (speculative, lookup); --ngram-min/max (lookup); --amateur, --alpha
//     (contrastive); --expert, --anti-expert, --proxy-strength (proxy);
//     --n-samples (best-of-n, self-consistency, mbr); --scorer,
//     --scorer-template, --scorer-verdict (best-of-n); --mbr-utility (mbr);
//   - --temp > 0 with --strategy greedy;
//   - --top-k, --top-p, --min-p, --typical or --seed when decoding is greedy
//     (--strategy greedy, or --temp 0): the filters always keep the most
//     likely token, so they cannot change an argmax, and nothing is drawn;
//   - best-of-n / self-consistency / mbr at --temp 0 with --n-samples > 1:
//     the N candidates would be one greedy continuation N times;
//   - --repeat-last-n without a penalty, or a penalty with --repeat-last-n 0;
//     --draft-min (and draft_init) with --no-adaptive-draft; --scorer-template
//     or --scorer-verdict without --scorer.
// A helper model counts as set when it is named (draft_model, ...) or given
// (models.draft, ...). An option counts as set when its value differs from StrategyOptions{}'s, or
// its CLI name ("--draft", "--temp", ...) is in `given`: front ends pass the
// flags the user wrote, so that an explicitly written default value is caught
// too. The seed counts as set only through `given` (front ends draw a random
// one when none is written). Numeric ranges are not checked here.
void validate(const StrategyOptions& o, std::span<const std::string> given = {});

}  // namespace tandem::decode
