#include "chat/jinja_limits.h"

#include <string>

#include "chat/jinja_value.h"

namespace tandem::chat::jinja {

void check_string_size(size_t n) {
  if (n > kMaxStringBytes) {
    throw EvalError{"string would exceed " + std::to_string(kMaxStringBytes) + " bytes (the rendering limit)"};
  }
}

void check_list_size(size_t n) {
  if (n > kMaxListItems) {
    throw EvalError{"list would exceed " + std::to_string(kMaxListItems) + " items (the rendering limit)"};
  }
}

void Budget::exceeded_steps() {
  throw EvalError{"rendering would take more than " + std::to_string(kMaxSteps) +
                  " steps (the rendering limit on work: expressions, loop iterations, list items, text scanned)"};
}

void Budget::exceeded_bytes() {
  throw EvalError{"rendering would build more than " + std::to_string(kMaxBuiltBytes) +
                  " bytes of text and lists (the rendering limit on memory)"};
}

}  // namespace tandem::chat::jinja
