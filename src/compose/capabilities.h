// What a composition of models can do when any of them may answer (a
// cascade's stages, a router's candidates).
#pragma once

#include <memory>
#include <span>

#include "api/model.h"

namespace tandem::compose {

// logprobs / chat: when every model has them; context: the smallest known
// context (0 when one model's is unknown); vocabulary: theirs when shared,
// else empty. No scoring or embeddings (which model would answer?).
api::Capabilities common_capabilities(std::span<const std::shared_ptr<const api::Model>> models);

}  // namespace tandem::compose
