// One HTTP POST to a remote endpoint, with bounded time and size: the only
// file of remote/ that talks to cpp-httplib. No retries here (see retry.h and
// remote_model.cc); the outcome says what happened, so the caller can decide.
//
// Each call opens its own connection (no pooling: the model is shared by
// threads and holds no connection state). For https:// that costs a TLS
// handshake per call.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::remote {

// A base URL split for the client: "https://api.example.com:8443/v1" ->
// {"https://api.example.com:8443", "/v1"}. A URL without a path gets "/v1",
// so "http://localhost:8080" and "http://localhost:8080/v1" mean the same.
// Throws tandem::Error for a scheme other than http/https, or no host.
struct BaseUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // without a trailing '/'
};
BaseUrl parse_base_url(const std::string& url);

struct HttpLimits {
  double connect_timeout_s = 10;
  double read_timeout_s = 60;       // the longest wait for the next bytes
  size_t max_body_bytes = 16u << 20;
};

struct HttpOutcome {
  enum class Kind {
    kResponse,       // a status line came back (any status); see status/body
    kConnect,        // no connection: refused, unreachable, name not resolved, connect timeout
    kTls,            // TLS handshake or certificate verification failed
    kRead,           // the connection broke or timed out while reading or writing
    kTooLarge,       // the body passed max_body_bytes (the connection was closed)
    kStopped,        // on_body returned false (the connection was closed)
  };
  Kind kind = Kind::kConnect;
  int status = 0;
  std::string retry_after;  // the Retry-After header, if any
  std::string body;         // a non-2xx body (first 64 KiB), or the whole 2xx body when no on_body
  std::string error;        // for kinds other than kResponse: what went wrong, in words
  size_t body_bytes = 0;    // body bytes received in all
};

// POSTs `body` (JSON) to origin + path. A 2xx body goes to `on_body` piece by
// piece when given (return false to stop: kStopped), else into outcome.body.
// Never throws for network trouble (that is the outcome); throws
// tandem::Error only for an origin the client cannot use.
HttpOutcome http_post(const BaseUrl& url, const std::string& path, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers, const HttpLimits& limits,
                      const std::function<bool(std::string_view)>& on_body = {});

}  // namespace tandem::remote
