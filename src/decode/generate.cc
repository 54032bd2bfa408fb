#include "decode/generate.h"

#include <cmath>

#include "util/error.h"

namespace tandem::decode {

OutputStream::OutputStream(const Tokenizer& tok, const TextOptions& options, TextCallback on_text)
    : tok_(tok), options_(options), on_text_(std::move(on_text)), stop_(options.stop) {}

bool OutputStream::push(TokenId t, std::span<const float> logits) {
  if (done_) return false;
  if (!options_.ignore_eos && tok_.is_eog(t)) {
    g_.finish_reason = "eos";
    done_ = true;
    return false;
  }
  g_.tokens.push_back(t);
  if (!logits.empty() && (scoring_ || options_.logprobs >= 0)) {
    const int top = std::max(options_.logprobs, 0);
    sample::TokenLogprob lp = sample::token_logprob(logits, t, top);
    g_.sum_logprob += lp.logprob;
    if (options_.logprobs >= 0) g_.logprobs.push_back(std::move(lp));
  }
  const std::string text = stop_.feed(tok_.token_to_piece(t, false));
  g_.text += text;
  if (on_text_ && !text.empty() && !on_text_(text)) {
    g_.finish_reason = "cancelled";
    done_ = true;
    return false;
  }
  if (stop_.stopped()) {
    g_.finish_reason = "stop";
    done_ = true;
    return false;
  }
  if (options_.n_predict >= 0 && static_cast<int>(g_.tokens.size()) >= options_.n_predict) {
    g_.finish_reason = "length";
    done_ = true;
    return false;
  }
  return true;
}

Generation OutputStream::finish() {
  // A cancelled stream gets nothing more: its text is what on_text received.
  if (!stop_.stopped() && g_.finish_reason != "cancelled") {
    const std::string rest = stop_.flush();
    g_.text += rest;
    if (on_text_ && !rest.empty()) on_text_(rest);  // the end anyway: a false return changes nothing
  }
  if (g_.finish_reason.empty()) g_.finish_reason = "length";
  done_ = true;
  return g_;
}

void generate(Session& s, std::span<const TokenId> prompt, sample::SamplerChain& chain, OutputStream& out) {
  if (prompt.empty()) throw Error("generate: the prompt is empty");
  std::vector<float> logits;
  sync_session(s, prompt, 1, logits);
  chain.accept_prompt(prompt);  // penalties see the prompt, as in llama.cpp
  TokenId last = prompt.back();
  while (s.n_past() < s.n_ctx()) {
    s.eval(std::span<const TokenId>(&last, 1), false, logits);
    const TokenId t = chain.sample(logits);
    chain.accept(t);
    if (!out.push(t, logits)) break;
    last = t;
  }
}

}  // namespace tandem::decode
