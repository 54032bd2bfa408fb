#include "eval/arith_eval.h"

#include <algorithm>

#include "model/transformer.h"
#include "util/answer.h"

namespace tandem::eval {

ArithEvalResult evaluate_arith(const Transformer& model, const std::vector<ArithProblem>& problems, int max_new_tokens,
                               int n_samples, const ArithProgress& progress) {
  ArithEvalResult r;
  const Tokenizer& tok = model.tokenizer();
  ForwardContext ctx = model.new_context();
  std::vector<float> logits;
  for (const ArithProblem& p : problems) {
    std::vector<TokenId> prompt = tok.encode(arith_prompt(p), true, false);
    KvCache cache = model.new_cache(static_cast<int64_t>(prompt.size()) + max_new_tokens);
    model.forward(ctx, cache, prompt, Logits::kLast, logits);
    std::vector<TokenId> out;
    for (int i = 0; i < max_new_tokens; ++i) {
      const TokenId next = static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      if (tok.is_eog(next)) break;
      out.push_back(next);
      if (i + 1 == max_new_tokens) break;
      model.forward(ctx, cache, std::span<const TokenId>(&next, 1), Logits::kLast, logits);
    }
    const std::string text = tok.decode(out);
    ++r.n;
    r.correct += extract_final_answer(text) == std::to_string(p.answer);
    if (static_cast<int>(r.samples.size()) < n_samples) r.samples.push_back(arith_prompt(p) + text);
    if (progress) progress(r, problems.size());
  }
  return r;
}

}  // namespace tandem::eval
