// One entry point for front ends (tandem generate --strategy ..., later the
// server): run_strategy() loads whatever auxiliary models a strategy needs,
// decodes, streams text and returns the result with statistics.
//
// Strategies (StrategyOptions::strategy):
//   "sample"            the sampler chain (greedy when temperature <= 0)
//   "greedy"            argmax, whatever the sampling parameters say
//   "speculative"       draft model (draft_model, same vocabulary) + target;
//                       greedy verification at temperature <= 0, rejection
//                       sampling otherwise; adaptive or fixed draft length
//   "lookup"            speculative with prompt-lookup (n-gram) drafts
//   "contrastive"       expert = the model, amateur = amateur_model, alpha cut
//   "proxy"             base = the model, + (tuned_model - untuned_model)
//   "best-of-n"         n_samples candidates, highest mean logprob, or with
//                       scorer_model the highest judge logprob of the verdict
//                       (see decode/judge.h)
//   "self-consistency"  n_samples candidates, majority over "#### N" answers
//   "mbr"               n_samples candidates, MBR with mbr_utility
// grammar / json_schema constrain every strategy (speculative ones mask the
// drafts and the target's logits at every draft position).
// Logit bias and repetition/frequency/presence penalties apply in every
// strategy (speculative ones at every draft position, so greedy speculative
// output equals greedy output under the same penalties).
// Speculative strategies fall back to plain decoding when speculation turns
// out slower (spec_fallback; see SpeculationGovernor).
// The reranking strategies sample their N candidates in lockstep, from one
// evaluation of the prompt copied into N KV caches.
//
// Example (what the CLI does):
//   auto model = Transformer::load(path);
//   StrategyOptions o;  o.strategy = "speculative";  o.draft_model = "draft.gguf";
//   StrategyResult r = run_strategy(*model, prompt, o,
//       [](std::string_view text) { fwrite(text.data(), 1, text.size(), stdout); });
//   fprintf(stderr, "%s\n", r.summary().c_str());
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "decode/generate.h"
#include "decode/speculative.h"
#include "decode/strategy_options.h"
#include "model/transformer.h"

namespace tandem::decode {

// StrategyOptions and validate(): decode/strategy_options.h.

struct StrategyResult {
  Generation output;                   // the chosen continuation
  std::vector<Generation> candidates;  // reranking strategies: every candidate
  size_t chosen = 0;                   // index into candidates
  std::vector<double> scores;          // best-of-n: each candidate's score
  bool judged = false;                 // best-of-n scores come from a scorer model
  std::string answer;                  // self-consistency: the voted answer
  int votes = 0;
  SpeculativeStats speculative;        // speculative / lookup
  double seconds = 0.0;                // wall time of decoding (model loading excluded)
  // One line: strategy, tokens, tokens/s, and the strategy's statistics.
  std::string summary() const;
  std::string strategy;
};

// Tokenizes `prompt` (BOS as the model's vocabulary wants, special tokens
// parsed), runs the strategy and streams the chosen text through on_text
// (immediately for single-pass strategies, at the end for reranking ones).
// Throws tandem::Error for options validate() rejects, a missing or
// incompatible auxiliary model (different vocabulary), or an invalid
// grammar/schema.
StrategyResult run_strategy(const Transformer& model, std::string_view prompt, const StrategyOptions& options,
                            const TextCallback& on_text = {});

}  // namespace tandem::decode
