// Errors in tandem are exceptions of one type, tandem::Error, whose message is a
// single line meant for the user: it names the file or object and the problem,
// and where possible what to do about it. Front ends catch it, print it and exit 1.
#pragma once

#include <stdexcept>
#include <string>

namespace tandem {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A request longer than the model's context (a prompt that does not fit).
// Deterministic: retrying the same request cannot help, so callers may record
// it as the request's outcome (the eval harness counts the example wrong).
class ContextError : public Error {
 public:
  using Error::Error;
};

// A model that cannot answer now but may later: its budget is spent
// (compose/budget.h) or its endpoint is cooling down. The server answers 429.
class UnavailableError : public Error {
 public:
  using Error::Error;
};

}  // namespace tandem
