// An error answered to an HTTP client in OpenAI's shape:
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
// with an HTTP status. Thrown by request parsing (server/openai_request.h)
// and the handlers; the server turns it into the response.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace tandem::server {

class ApiError : public std::runtime_error {
 public:
  // `param` names the request field at fault ("" when none); `code` is a short
  // machine-readable reason ("" when none).
  ApiError(int status, std::string message, std::string param = {}, std::string code = {});

  int status() const { return status_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  // OpenAI's error type for the status: invalid_request_error (400, 404, 408,
  // 413, 422), authentication_error (401), rate_limit_error (429),
  // server_error (5xx).
  std::string type() const;
  nlohmann::json body() const;

 private:
  int status_;
  std::string param_;
  std::string code_;
};

// 400 naming `param`: "<param>: <what>".
ApiError bad_field(const std::string& param, const std::string& what);

}  // namespace tandem::server
