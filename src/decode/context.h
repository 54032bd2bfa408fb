// The one context-size policy of tandem: how many KV-cache positions a request
// gets, and the one error for a prompt that does not fit. Every front end and
// strategy that picks a context (run_strategy, the judge, tandem chat, tandem
// generate, LocalModel) goes through these two functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "model/config.h"

namespace tandem::decode {

// Context size used when the model declares no training context, and the cap
// of an open-ended request (one that generates until the context is full, or
// a chat whose length is not known in advance).
inline constexpr int64_t kOpenEndedContext = 4096;

// The rule:
//   requested > 0        -> requested (the caller asked for it; not capped);
//   n_predict < 0        -> min(n_ctx_train, kOpenEndedContext)  (open-ended);
//   otherwise            -> min(n_ctx_train, n_prompt + n_predict + extra + 1)
// where n_ctx_train is the model's training context (kOpenEndedContext when
// the model declares none) and `extra` is room a strategy needs beyond the
// answer (speculative: the tokens of one draft in flight). The +1 leaves the
// position of the token that ends the answer.
int64_t context_size(const ModelConfig& config, int64_t n_prompt, int64_t n_predict, int64_t extra,
                     int64_t requested);

// Throws tandem::Error unless n_prompt < n_ctx (generation needs at least one
// free position): "<who>: the prompt has N tokens but the context holds only
// C (enlarge the context: -c / n_ctx, at most the model's T)". `who` prefixes
// the message when not empty (a model's name, "scorer").
void check_prompt_fits(const ModelConfig& config, int64_t n_prompt, int64_t n_ctx, std::string_view who = {});

}  // namespace tandem::decode
