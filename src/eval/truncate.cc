#include "eval/truncate.h"

#include <algorithm>
#include <vector>

namespace tandem::eval {

PromptTruncator tokenizer_truncator(std::shared_ptr<const Transformer> model) {
  return [model = std::move(model)](const std::string& prompt, int64_t max_tokens) {
    const Tokenizer& tok = model->tokenizer();
    const std::vector<TokenId> ids = tok.encode(prompt, true, true);
    Truncation t{prompt, static_cast<int64_t>(ids.size()), static_cast<int64_t>(ids.size())};
    if (t.tokens_before <= max_tokens) return t;
    // BOS (when the vocabulary adds one) comes back with every encoding: the
    // content tokens kept are max_tokens minus it.
    const size_t bos = tok.encode("", true, true).size();
    const size_t content = ids.size() - std::min(bos, ids.size());
    size_t keep = static_cast<size_t>(std::max<int64_t>(0, max_tokens - static_cast<int64_t>(bos)));
    keep = std::min(keep, content);
    for (;; --keep) {
      const std::vector<TokenId> tail(ids.end() - static_cast<std::ptrdiff_t>(keep), ids.end());
      t.text = keep == 0 ? std::string() : tok.decode(tail);
      t.tokens_after = static_cast<int64_t>(tok.encode(t.text, true, true).size());
      if (t.tokens_after <= max_tokens || keep == 0) return t;
    }
  };
}

GenerationFit fit_generation(const std::string& prompt, int max_gen_toks, int64_t context,
                             const PromptTruncator& truncate) {
  GenerationFit f{prompt, max_gen_toks, 0, 0, false};
  if (context <= 0) return f;
  if (max_gen_toks < 0 || max_gen_toks >= context) f.max_tokens = static_cast<int>(context / 2);
  if (!truncate) return f;
  const Truncation t = truncate(prompt, context - f.max_tokens);
  if (t.tokens_after < t.tokens_before) {
    f.prompt = t.text;
    f.tokens_before = t.tokens_before;
    f.tokens_after = t.tokens_after;
    f.truncated = true;
  }
  return f;
}

}  // namespace tandem::eval
