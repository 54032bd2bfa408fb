#include "remote/http.h"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "util/error.h"

namespace tandem::remote {
namespace {

constexpr size_t kErrorBodyBytes = 64u << 10;

void split_seconds(double s, time_t& sec, time_t& usec) {
  s = std::max(s, 0.001);
  sec = static_cast<time_t>(s);
  usec = static_cast<time_t>(std::lround((s - static_cast<double>(sec)) * 1e6));
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

// A failed send as an outcome; `idle_s`: time since the last bytes arrived.
void classify(httplib::Error error, const HttpLimits& limits, double idle_s, HttpOutcome& out) {
  switch (error) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::BindIPAddress:
      out.kind = HttpOutcome::Kind::kConnect;
      out.error = "cannot connect (" + httplib::to_string(error) + "; connect timeout " +
                  seconds_text(limits.connect_timeout_s) + " s)";
      return;
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      out.kind = HttpOutcome::Kind::kTls;
      out.error = "TLS failed (" + httplib::to_string(error) + ")";
      return;
    default:
      out.kind = HttpOutcome::Kind::kRead;
      out.error = idle_s >= 0.9 * limits.read_timeout_s
                      ? "read timeout: no data for " + seconds_text(limits.read_timeout_s) + " s (read_timeout)"
                      : "connection broken (" + httplib::to_string(error) + ")";
  }
}

}  // namespace

BaseUrl parse_base_url(const std::string& url) {
  const size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    throw Error("base_url '" + url + "' must start with http:// or https://");
  }
  const size_t host_begin = scheme_end + 3;
  const size_t path_begin = url.find('/', host_begin);
  BaseUrl b;
  b.origin = url.substr(0, path_begin);
  if (b.origin.size() == host_begin || b.origin[host_begin] == ':') throw Error("base_url '" + url + "' names no host");
  b.path = path_begin == std::string::npos ? "" : url.substr(path_begin);
  while (!b.path.empty() && b.path.back() == '/') b.path.pop_back();
  if (b.path.empty()) b.path = "/v1";
  return b;
}

HttpOutcome http_post(const BaseUrl& url, const std::string& path, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers, const HttpLimits& limits,
                      const std::function<bool(std::string_view)>& on_body) {
  httplib::Client client(url.origin);
  if (!client.is_valid()) throw Error("cannot make an HTTP client for '" + url.origin + "'");
  time_t sec = 0, usec = 0;
  split_seconds(limits.connect_timeout_s, sec, usec);
  client.set_connection_timeout(sec, usec);
  split_seconds(limits.read_timeout_s, sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  client.set_keep_alive(false);
  client.set_decompress(false);  // no Accept-Encoding: streams arrive unbuffered, no decompression bombs

  HttpOutcome out;
  bool too_large = false, stopped = false;
  auto last_bytes = std::chrono::steady_clock::now();

  httplib::Request req;
  req.method = "POST";
  req.path = url.path + path;
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  req.headers.emplace("Content-Type", "application/json");
  req.body = body;
  req.response_handler = [&](const httplib::Response& res) {
    last_bytes = std::chrono::steady_clock::now();
    out.status = res.status;
    out.retry_after = res.get_header_value("Retry-After");
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    last_bytes = std::chrono::steady_clock::now();
    out.body_bytes += n;
    if (out.body_bytes > limits.max_body_bytes) {
      too_large = true;
      return false;
    }
    const bool ok = out.status >= 200 && out.status < 300;
    if (!ok) {
      if (out.body.size() < kErrorBodyBytes) out.body.append(data, std::min(n, kErrorBodyBytes - out.body.size()));
      return true;
    }
    if (!on_body) {
      out.body.append(data, n);
      return true;
    }
    if (!on_body(std::string_view(data, n))) {
      stopped = true;
      return false;
    }
    return true;
  };

  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  const bool sent = client.send(req, res, error);
  if (too_large) {
    out.kind = HttpOutcome::Kind::kTooLarge;
    out.error = "response larger than " + std::to_string(limits.max_body_bytes) + " bytes (max_response_bytes)";
  } else if (stopped) {
    out.kind = HttpOutcome::Kind::kStopped;
    out.error = "stopped by the reader";
  } else if (sent && error == httplib::Error::Success) {
    out.kind = HttpOutcome::Kind::kResponse;
    if (out.status == 0) out.status = res.status;
  } else {
    const double idle = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_bytes).count();
    classify(error, limits, idle, out);
  }
  return out;
}

}  // namespace tandem::remote
