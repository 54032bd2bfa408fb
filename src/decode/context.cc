#include "decode/context.h"

#include <algorithm>
#include <string>

#include "util/error.h"

namespace tandem::decode {

namespace {
int64_t n_train(const ModelConfig& c) { return c.n_ctx_train > 0 ? c.n_ctx_train : kOpenEndedContext; }
}  // namespace

int64_t context_size(const ModelConfig& config, int64_t n_prompt, int64_t n_predict, int64_t extra,
                     int64_t requested) {
  if (requested > 0) return requested;
  const int64_t train = n_train(config);
  if (n_predict < 0) return std::min(train, kOpenEndedContext);
  return std::min(train, std::max<int64_t>(n_prompt, 0) + n_predict + std::max<int64_t>(extra, 0) + 1);
}

void check_prompt_fits(const ModelConfig& config, int64_t n_prompt, int64_t n_ctx, std::string_view who) {
  if (n_prompt < n_ctx) return;
  std::string msg = who.empty() ? std::string() : std::string(who) + ": ";
  msg += "the prompt has " + std::to_string(n_prompt) + " tokens but the context holds only " + std::to_string(n_ctx) +
         " (enlarge the context: -c / n_ctx, at most the model's " + std::to_string(n_train(config)) + ")";
  throw ContextError(msg);
}

}  // namespace tandem::decode
