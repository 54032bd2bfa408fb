// The text a composition reads from a request and writes back into it: the
// prompt of a raw request, or the content of a chat request's last user
// message (a stack's {input}, a retrieval's query, a verdict's question).
#pragma once

#include <cstddef>
#include <string>

#include "api/types.h"

namespace tandem::compose {

// The index of a chat request's last "user" message; messages.size() when it
// has none (and for a raw request).
size_t last_user_message(const api::Request& request);

// The prompt, or the last user message's content. Throws tandem::Error
// "<who>: a chat request needs a user message" for a chat without one.
const std::string& request_text(const api::Request& request, const std::string& who);
std::string& request_text(api::Request& request, const std::string& who);

}  // namespace tandem::compose
