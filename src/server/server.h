// `tandem serve`: an OpenAI-compatible HTTP server over Models (api/model.h).
//
// Endpoints: GET /v1/models, GET /v1/models/{id}, POST /v1/chat/completions,
// POST /v1/completions, POST /v1/embeddings, GET /health, GET /metrics.
// Request mapping: server/openai_request.h; response shapes:
// server/openai_response.h; counters: server/metrics.h.
//
// Concurrency (this round, no continuous batching): each request runs on its
// own thread and calls Model::complete (Models are thread-safe). At most
// `parallel` requests decode at once; up to `max_queue` more wait; beyond
// that a request gets 429 with Retry-After. A streamed request decodes on a
// worker thread of its own while the connection's thread writes its events.
//
// Cancellation: a request past `timeout_s` is cancelled at its next token
// (the stream callback returns false): 408 before any text was sent, else
// the stream ends with finish_reason "cancelled". A client that disconnects
// mid-stream is cancelled at the next token after a write fails. Strategies
// that stream nothing until the end (reranking) run to their end.
//
// Errors: ApiError's {"error": {...}} with its status; tandem::Error thrown
// by a model (a prompt longer than its context, an option it rejects) -> 400
// with the model's message; anything else -> 500. Never a dropped connection.
//
// stop(): stops accepting, wakes queued requests with 503, lets running ones
// finish for up to `drain_s` seconds, then cancels them; listen() returns
// when all have ended.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/model.h"
#include "server/admission.h"
#include "server/metrics.h"
#include "server/openai_request.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace tandem::server {

struct ServedModel {
  std::string name;  // what clients send as "model"
  std::shared_ptr<const api::Model> model;
  Defaults defaults;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                         // 0: any free port (bind() returns it)
  std::string api_key;                     // empty: no authentication
  int parallel = 1;
  int max_queue = 64;
  double timeout_s = 0.0;                  // 0: none
  bool allow_unknown_fields = false;
  size_t max_body_bytes = 8u << 20;        // larger bodies: 413
  int64_t max_tokens = 0;                  // per request; 0: the model's context
  double drain_s = 10.0;
};

class Server {
 public:
  // Throws tandem::Error for no models or a name served twice.
  Server(std::vector<ServedModel> models, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the address; returns the port. Throws tandem::Error when it cannot.
  int bind();
  // Serves until stop(); returns when in-flight requests have ended.
  void listen();
  // Callable from any thread (not from a signal handler), also before
  // listen() has begun: listen() then returns at once.
  void stop();

  const Metrics& metrics() const { return metrics_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Handled;

  void routes();
  const ServedModel& find(const std::string& name) const;
  Limits limits_for(const ServedModel& m) const;
  // The request's cancellation test: its timeout, or the end of the drain.
  std::function<bool()> expiry(Clock::time_point start) const;

  void completions(const httplib::Request& req, httplib::Response& res, bool chat);
  void embeddings(const httplib::Request& req, httplib::Response& res);
  void respond_error(httplib::Response& res, const std::string& endpoint, Clock::time_point start, int status,
                     const std::string& body);
  void finish_metrics(const std::string& endpoint, int status, Clock::time_point start);

  std::vector<ServedModel> models_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  Admission admission_;
  Metrics metrics_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listen_done_{false};  // listen() has returned (or never will listen)
  std::atomic<int64_t> drain_deadline_ns_{0};
  std::atomic<uint64_t> next_id_{1};
  int64_t created_ = 0;
};

}  // namespace tandem::server
