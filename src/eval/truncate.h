// Prompts longer than a model's context, for generate_until tasks: what
// lm-evaluation-harness does (keep the last context - max_gen_toks tokens of
// the prompt), where the model's tokenization is known.
//
// fit_generation() is the rule the harness applies per example and model:
// with the model's context C known (> 0),
//   gen  = max_gen_toks, or C / 2 when max_gen_toks >= C (lm-eval's rule would
//          leave no room for the prompt; tandem's choice: half the context each);
//   keep = C - gen prompt tokens (BOS included): a longer prompt is cut to its
//          last whole tokens that fit, by the model's tokenizer.
// Without a tokenizer the prompt is sent whole (a model that finds it too long
// throws ContextError, and the harness records the example as failed).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "model/transformer.h"

namespace tandem::eval {

struct Truncation {
  std::string text;            // the prompt to send
  int64_t tokens_before = 0;   // the whole prompt's tokens (BOS included)
  int64_t tokens_after = 0;    // text's tokens (<= the limit, or == tokens_before when not cut)
};

// Cuts `prompt` to at most `max_tokens` tokens from its end (its own when it fits).
using PromptTruncator = std::function<Truncation(const std::string& prompt, int64_t max_tokens)>;

// A truncator by a model's tokenizer: tokens as the model reads a prompt (BOS
// as the vocabulary adds it, special tokens parsed); the cut text is the
// decoding of the last tokens, re-tokenized to check it fits (dropping one more
// token while it does not). Keeps `model` alive. max_tokens < 1 keeps nothing
// (an empty text).
PromptTruncator tokenizer_truncator(std::shared_ptr<const Transformer> model);

struct GenerationFit {
  std::string prompt;         // to send
  int max_tokens = 0;         // the request's max_tokens
  int64_t tokens_before = 0;  // when truncated: the prompt's tokens before and after
  int64_t tokens_after = 0;
  bool truncated = false;
};

// The rule above for one prompt: context <= 0 (unknown) or no truncator send
// the prompt whole (max_tokens still lowered to C / 2 when max_gen_toks >= C > 0).
GenerationFit fit_generation(const std::string& prompt, int max_gen_toks, int64_t context,
                             const PromptTruncator& truncate);

}  // namespace tandem::eval
