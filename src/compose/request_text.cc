#include "compose/request_text.h"

#include "util/error.h"

namespace tandem::compose {

size_t last_user_message(const api::Request& request) {
  for (size_t i = request.messages.size(); i-- > 0;)
    if (request.messages[i].role == "user") return i;
  return request.messages.size();
}

std::string& request_text(api::Request& request, const std::string& who) {
  if (!request.is_chat()) return request.prompt;
  const size_t i = last_user_message(request);
  if (i == request.messages.size()) throw Error(who + ": a chat request needs a user message");
  return request.messages[i].content;
}

const std::string& request_text(const api::Request& request, const std::string& who) {
  return request_text(const_cast<api::Request&>(request), who);  // reads only
}

}  // namespace tandem::compose
