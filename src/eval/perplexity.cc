#include "eval/perplexity.h"

#include <cmath>
#include <string>

#include "model/transformer.h"
#include "util/error.h"

namespace tandem {

PerplexityResult perplexity(const Transformer& model, std::span<const TokenId> tokens, int64_t n_ctx,
                            const std::function<void(int64_t, int64_t, double)>& progress) {
  if (n_ctx < 4) throw Error("perplexity: the context must hold at least 4 tokens");
  const int64_t n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (n_chunks < 1) {
    throw Error("perplexity: the text has " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of " +
                std::to_string(n_ctx));
  }
  const int64_t n_vocab = model.config().n_vocab;
  const int64_t first = n_ctx / 2;
  PerplexityResult r;
  double nll_sum = 0.0, nll2_sum = 0.0;
  KvCache cache = model.new_cache(n_ctx);
  ForwardContext ctx = model.new_context();
  std::vector<float> logits;
  std::vector<TokenId> chunk(static_cast<size_t>(n_ctx));
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::copy_n(tokens.begin() + c * n_ctx, n_ctx, chunk.begin());
    if (model.tokenizer().bos() != kNoToken) chunk[0] = model.tokenizer().bos();
    cache.clear();
    model.forward(ctx, cache, chunk, Logits::kAll, logits);
    for (int64_t i = first; i < n_ctx - 1; ++i) {
      const float* row = logits.data() + i * n_vocab;
      float max = row[0];
      for (int64_t v = 1; v < n_vocab; ++v) max = std::max(max, row[v]);
      double sum = 0.0;
      for (int64_t v = 0; v < n_vocab; ++v) sum += std::exp(static_cast<double>(row[v] - max));
      const double nll = -(static_cast<double>(row[chunk[static_cast<size_t>(i + 1)]] - max) - std::log(sum));
      nll_sum += nll;
      nll2_sum += nll * nll;
      ++r.n_scored;
    }
    r.running_ppl.push_back(std::exp(nll_sum / static_cast<double>(r.n_scored)));
    if (progress) progress(c + 1, n_chunks, r.running_ppl.back());
  }
  const double n = static_cast<double>(r.n_scored);
  const double mean = nll_sum / n;
  r.ppl = std::exp(mean);
  if (r.n_scored > 1) {
    const double var = nll2_sum / n - mean * mean;
    r.ppl_stderr = std::sqrt(std::max(var, 0.0) / (n - 1.0)) * r.ppl;
  }
  return r;
}

}  // namespace tandem
