#include "decode/judge.h"

#include <vector>

#include "decode/context.h"
#include "sample/logprobs.h"
#include "util/error.h"

namespace tandem::decode {

std::string fill_judge_template(std::string_view templ, std::string_view prompt, std::string_view candidate) {
  static constexpr std::string_view kPrompt = "{prompt}", kCandidate = "{candidate}";
  if (templ.find(kCandidate) == std::string_view::npos)
    throw Error("scorer template: it has no {candidate} placeholder (each candidate would score the same)");
  std::string out;
  for (size_t i = 0; i < templ.size();) {
    if (templ.substr(i).starts_with(kPrompt)) {
      out += prompt;
      i += kPrompt.size();
    } else if (templ.substr(i).starts_with(kCandidate)) {
      out += candidate;
      i += kCandidate.size();
    } else {
      out += templ[i++];
    }
  }
  return out;
}

double judge_logprob(const Transformer& judge, std::string_view judge_text, std::string_view verdict) {
  const Tokenizer& tok = judge.tokenizer();
  std::vector<TokenId> ids = tok.encode(judge_text, true, true);
  const std::vector<TokenId> v = tok.encode(verdict, false, false);
  if (v.empty()) throw Error("scorer: the verdict text \"" + std::string(verdict) + "\" encodes to no tokens");
  if (ids.empty()) ids.push_back(v.front());  // cannot happen with a {candidate} template; keeps the indexing safe
  const size_t n_ctx_part = ids.size();
  ids.insert(ids.end(), v.begin(), v.end());
  // Evaluates all but the last verdict token: the context's one rule (decode/context.h).
  const int64_t n_eval = static_cast<int64_t>(ids.size()) - 1;
  const int64_t n_ctx = context_size(judge.config(), n_eval, 0, 0, 0);
  check_prompt_fits(judge.config(), n_eval, n_ctx, "scorer");
  KvCache cache = judge.new_cache(n_ctx);
  ForwardContext ctx = judge.new_context();
  std::vector<float> logits;
  // Rows n_ctx_part - 1 ... predict the verdict tokens; the last token's row is unused.
  judge.forward(ctx, cache, std::span<const TokenId>(ids).first(ids.size() - 1), Logits::kAll, logits);
  const size_t n_vocab = static_cast<size_t>(judge.config().n_vocab);
  double sum = 0.0;
  for (size_t j = 0; j < v.size(); ++j) {
    const std::span<const float> row(logits.data() + (n_ctx_part - 1 + j) * n_vocab, n_vocab);
    sum += sample::token_logprob(row, v[j], 0).logprob;
  }
  return sum;
}

}  // namespace tandem::decode
