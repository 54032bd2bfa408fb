// One entry point for front ends (tandem generate, LocalModel, later the
// server): run_strategy() decodes a tokenized prompt with a strategy from the
// registry (strategies()), streams text and returns the result with
// statistics. Nothing here loads a model: helper models (draft, amateur,
// expert/anti-expert, scorer) come loaded in StrategyOptions::models.
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
// Cancelling: on_text returning false stops every strategy at its next step
// (reranking ones stream only at the end) with finish_reason "cancelled".
//
// Example:
//   auto model = Transformer::load(path);
//   StrategyOptions o;  o.strategy = "speculative";
//   o.models.draft = Transformer::load("draft.gguf");
//   StrategyResult r = run_strategy(*model, tokenize_prompt(*model, text), o,
//       [](std::string_view t) { fwrite(t.data(), 1, t.size(), stdout); return true; });
//   fprintf(stderr, "%s\n", r.summary().c_str());
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decode/generate.h"
#include "decode/speculative.h"
#include "decode/strategy_options.h"
#include "model/transformer.h"

namespace tandem::decode {

// StrategyOptions and validate(): decode/strategy_options.h.

// Tokens a helper model processed for one request (for usage accounting).
struct HelperUsage {
  std::string role;              // "draft", "amateur", "expert", "anti-expert", "scorer"
  int64_t prompt_tokens = 0;     // tokens of its prompt(s) evaluated
  int64_t completion_tokens = 0; // tokens it generated (draft: tokens drafted)
};

struct StrategyResult {
  Generation output;                   // the chosen continuation
  std::vector<Generation> candidates;  // reranking strategies: every candidate
  size_t chosen = 0;                   // index into candidates
  std::vector<double> scores;          // best-of-n: each candidate's score
  bool judged = false;                 // best-of-n scores come from a scorer model
  std::string answer;                  // self-consistency: the voted answer
  int votes = 0;
  SpeculativeStats speculative;        // speculative / lookup
  std::vector<HelperUsage> helpers;    // one entry per helper model that ran
  int64_t prompt_tokens = 0;           // the main model's prompt
  int64_t generated_tokens = 0;        // the main model's generated tokens (all candidates)
  int64_t n_ctx = 0;                   // the context used (decode::context_size)
  double seconds = 0.0;                // wall time of decoding
  // One line: strategy, tokens, tokens/s, and the strategy's statistics.
  std::string summary() const;
  std::string strategy;
};

// A prompt as text and as the main model's tokens (tokenized once).
struct Prompt {
  std::string text;
  std::vector<TokenId> tokens;
};

// Tokenizes `text` with the model's BOS convention, special tokens parsed.
// Throws tandem::Error if that gives no token (empty prompt, no BOS).
Prompt tokenize_prompt(const Transformer& model, std::string_view text);

// Runs the strategy on an already tokenized prompt and streams the chosen
// text through on_text (immediately for single-pass strategies, at the end
// for reranking ones). The context follows decode::context_size() (with room
// for a draft in flight for speculative strategies); a prompt that does not
// fit throws check_prompt_fits()'s error. Throws tandem::Error for options
// validate() rejects, a helper model missing or of another vocabulary, or an
// invalid grammar/schema.
StrategyResult run_strategy(const Transformer& model, const Prompt& prompt, const StrategyOptions& options,
                            const TextCallback& on_text = {});
// The same, tokenizing `prompt` first (tokenize_prompt).
StrategyResult run_strategy(const Transformer& model, std::string_view prompt, const StrategyOptions& options,
                            const TextCallback& on_text = {});

// The registry: every strategy is one runner, looked up by name.
struct StrategyCall {
  const Transformer& model;
  const Prompt& prompt;
  const StrategyOptions& options;
  int64_t n_ctx;
  const TextCallback& on_text;
};
using StrategyRunner = void (*)(const StrategyCall& call, StrategyResult& result);
struct StrategyInfo {
  std::string_view name;
  StrategyRunner run;
  bool speculative;  // needs context room for a draft in flight
};
// Every strategy, in the order of --strategy's help.
std::span<const StrategyInfo> strategies();
// nullptr for an unknown name.
const StrategyInfo* find_strategy(std::string_view name);

}  // namespace tandem::decode
