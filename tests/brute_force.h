// Independent references for tests that check scoring: log-softmax and
// log p(continuation | prompt) computed by hand from a full forward pass,
// without the library's scoring code (sample/logprobs, LocalModel::score).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "model/transformer.h"

namespace tandem::testing {

// log_softmax of one logit row, in double.
inline std::vector<double> log_softmax(std::span<const float> x) {
  const float mx = *std::max_element(x.begin(), x.end());
  double sum = 0.0;
  for (float v : x) sum += std::exp(static_cast<double>(v - mx));
  const double lse = mx + std::log(sum);
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] - lse;
  return out;
}

struct BruteForceScore {
  double sum_logprob = 0.0;
  size_t n_tokens = 0;  // tokens of the continuation
};

// The continuation's tokens are those of tokenize(prompt + cont) past their
// common prefix with tokenize(prompt) (BOS as the model wants, specials
// parsed); each is scored from the logits of one forward pass over all.
inline BruteForceScore brute_force_score(const Transformer& m, const std::string& prompt, const std::string& cont) {
  const std::vector<TokenId> head = m.tokenizer().encode(prompt, true, true);
  const std::vector<TokenId> full = m.tokenizer().encode(prompt + cont, true, true);
  size_t k = 0;
  while (k < head.size() && k < full.size() && head[k] == full[k]) ++k;
  KvCache cache = m.new_cache(static_cast<int64_t>(full.size()) + 8);
  ForwardContext ctx = m.new_context();
  std::vector<float> logits;
  m.forward(ctx, cache, full, Logits::kAll, logits);
  const size_t nv = static_cast<size_t>(m.config().n_vocab);
  BruteForceScore s;
  for (size_t i = k; i < full.size(); ++i) {
    s.sum_logprob += log_softmax(std::span<const float>(logits.data() + (i - 1) * nv, nv))[static_cast<size_t>(full[i])];
    ++s.n_tokens;
  }
  return s;
}

}  // namespace tandem::testing
