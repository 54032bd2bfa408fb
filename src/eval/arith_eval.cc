#include "eval/arith_eval.h"

#include <algorithm>

#include "model/transformer.h"
#include "util/answer.h"
#include "util/error.h"

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

ArithEvalResult evaluate_math(const MathEvalOptions& o, const ArithProgress& progress) {
  if (o.count <= 0) throw Error("eval-math: -n must be positive");
  if (o.difficulty < 1 || o.difficulty > 10) throw Error("eval-math: --difficulty must be in 1..10");
  auto model = Transformer::load(o.model, {.n_threads = o.threads, .lora = o.lora});
  const auto problems = generate_arith(o.count, o.difficulty, o.seed);
  const int max_new = o.max_tokens > 0 ? o.max_tokens : arith_answer_tokens(o.difficulty);
  return evaluate_arith(*model, problems, max_new, 3, progress);
}

}  // namespace tandem::eval
