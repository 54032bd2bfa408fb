// The plain generation loop and the text side every strategy shares:
// detokenizing, end-of-generation, stop strings, token limits, logprobs.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "decode/session.h"
#include "sample/chain.h"
#include "sample/logprobs.h"
#include "sample/stop.h"

namespace tandem::decode {

// Receives text as it becomes final; returning false cancels the generation
// (it stops at its next step, finish_reason "cancelled").
using TextCallback = std::function<bool(std::string_view)>;

struct TextOptions {
  int n_predict = 128;             // < 0: until the context is full; 0: no token (run_strategy)
  std::vector<std::string> stop;   // stop strings (not part of the output)
  bool ignore_eos = false;
  int logprobs = -1;               // >= 0: record per-token logprobs with this many alternatives
};

struct Generation {
  std::vector<TokenId> tokens;     // generated tokens (EOG excluded)
  std::string text;                // their text, cut at a stop string
  std::string finish_reason;       // "eos", "stop" (a stop string), "length", "cancelled"
  std::vector<sample::TokenLogprob> logprobs;  // when requested
  double sum_logprob = 0.0;        // under the raw model distribution, over `tokens`
                                   // (computed when logprobs >= 0 or scoring is on)
  double mean_logprob() const { return tokens.empty() ? 0.0 : sum_logprob / static_cast<double>(tokens.size()); }
};

// Collects tokens into a Generation, streaming text that is final through
// `on_text` (text that may start a stop string is held back).
class OutputStream {
 public:
  OutputStream(const Tokenizer& tok, const TextOptions& options, TextCallback on_text = {});
  // Adds token t, generated from `logits` (the raw model logits, may be empty
  // if unknown). Returns false when generation must stop (EOG, stop string,
  // n_predict reached, or on_text returned false: "cancelled").
  bool push(TokenId t, std::span<const float> logits = {});
  bool done() const { return done_; }
  // Accumulate sum_logprob even when per-token logprobs are off (best-of-N
  // needs it). Costs one pass over the vocabulary per token.
  void enable_scoring() { scoring_ = true; }
  // Flushes held-back text and returns the result.
  Generation finish();

 private:
  const Tokenizer& tok_;
  TextOptions options_;
  TextCallback on_text_;
  sample::StopMatcher stop_;
  Generation g_;
  bool done_ = false;
  bool scoring_ = false;
};

// Samples from one model with `chain` (which may hold a GrammarSampler)
// until `out` says stop or the context is full. `s` must be empty or hold a
// prefix of the prompt.
void generate(Session& s, std::span<const TokenId> prompt, sample::SamplerChain& chain, OutputStream& out);

}  // namespace tandem::decode
