// Perplexity of a model on a text, computed the way llama.cpp's llama-perplexity
// does, so the numbers are comparable: the tokenized text (with BOS) is cut into
// chunks of n_ctx tokens; each chunk is evaluated from an empty cache with its
// first token replaced by BOS, and only the second half of each chunk is
// scored (positions n_ctx/2 .. n_ctx-2 predict the next token), so every scored
// token has at least n_ctx/2 tokens of context.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace tandem {

class Transformer;

struct PerplexityResult {
  double ppl = 0.0;
  double ppl_stderr = 0.0;        // sqrt(var(nll) / (N - 1)) * ppl, as llama.cpp prints
  int64_t n_scored = 0;
  std::vector<double> running_ppl;  // PPL over chunks 1..k, after each chunk k
};

// Throws tandem::Error if the text has fewer than 2 * n_ctx tokens' worth of
// chunks (at least one chunk is needed) or n_ctx < 4.
PerplexityResult perplexity(const Transformer& model, std::span<const TokenId> tokens, int64_t n_ctx,
                            const std::function<void(int64_t chunk, int64_t n_chunks, double ppl)>& progress = {});

}  // namespace tandem
