#include "server/server.h"

#include <httplib.h>

#include <ctime>
#include <set>
#include <thread>

#include "server/api_error.h"
#include "server/openai_response.h"
#include "util/error.h"

namespace tandem::server {
namespace {

using nlohmann::json;

// Equal strings, in time that depends on the expected key's length only.
bool same_key(const std::string& given, const std::string& key) {
  unsigned diff = given.size() != key.size() ? 1u : 0u;
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= g ^ static_cast<unsigned char>(key[i]);
  }
  return diff == 0;
}

std::string endpoint_of(const std::string& path) {
  if (path == "/v1/chat/completions") return "chat";
  if (path == "/v1/completions") return "completions";
  if (path == "/v1/embeddings") return "embeddings";
  if (path.rfind("/v1/models", 0) == 0) return "models";
  if (path == "/health") return "health";
  if (path == "/metrics") return "metrics";
  return "other";
}

void set_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body_text(body), "application/json");
}

}  // namespace

Server::Server(std::vector<ServedModel> models, ServerOptions options)
    : models_(std::move(models)),
      options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()),
      admission_(options_.parallel, options_.max_queue),
      created_(static_cast<int64_t>(std::time(nullptr))) {
  if (models_.empty()) throw Error("serve: no models to serve");
  std::set<std::string> names;
  for (const ServedModel& m : models_) {
    if (!m.model) throw Error("serve: model '" + m.name + "' is null");
    if (!names.insert(m.name).second) throw Error("serve: the name '" + m.name + "' is served twice");
  }
  // Every connection holds a thread (keep-alive included): enough for the
  // running and queued requests plus a few for /health, /metrics and 429s.
  const size_t threads = static_cast<size_t>(options_.parallel + options_.max_queue + 8);
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options_.max_body_bytes);
  routes();
}

Server::~Server() = default;

int Server::bind() {
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
  } else if (!http_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port < 0) throw Error("serve: cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                            " (in use, or not an address of this machine)");
  return port;
}

void Server::listen() {
  if (!stopping_) http_->listen_after_bind();
  listen_done_ = true;
}

void Server::stop() {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.drain_s));
  drain_deadline_ns_ = deadline.time_since_epoch().count();
  stopping_ = true;
  admission_.close();
  // httplib's stop() does nothing until listen_after_bind() is running: a
  // stop() that came before it (a signal right after start-up) would be lost
  // and the server would listen forever. Wait until it runs, or until listen()
  // saw stopping_ and returned without listening.
  while (!http_->is_running() && !listen_done_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
}

std::function<bool()> Server::expiry(Clock::time_point start) const {
  const bool timed = options_.timeout_s > 0;
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.timeout_s));
  return [this, timed, deadline] {
    const auto now = Clock::now();
    if (timed && now > deadline) return true;
    return stopping_.load() && now.time_since_epoch().count() > drain_deadline_ns_.load();
  };
}

const ServedModel& Server::find(const std::string& name) const {
  for (const ServedModel& m : models_) {
    if (m.name == name) return m;
  }
  throw ApiError(404, "The model '" + name + "' does not exist (GET /v1/models lists the served ones)", "model",
                 "model_not_found");
}

Limits Server::limits_for(const ServedModel& m) const {
  Limits l;
  l.allow_unknown_fields = options_.allow_unknown_fields;
  l.max_tokens = options_.max_tokens;
  l.context = m.model->capabilities().context;
  return l;
}

void Server::finish_metrics(const std::string& endpoint, int status, Clock::time_point start) {
  metrics_.request(endpoint, status, std::chrono::duration<double>(Clock::now() - start).count());
}

void Server::respond_error(httplib::Response& res, const std::string& endpoint, Clock::time_point start, int status,
                           const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
  finish_metrics(endpoint, status, start);
}

void Server::routes() {
  httplib::Server& s = *http_;
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (options_.api_key.empty() || req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    const std::string given = auth.rfind(prefix, 0) == 0 ? auth.substr(prefix.size()) : std::string();
    if (same_key(given, options_.api_key)) return httplib::Server::HandlerResponse::Unhandled;
    const ApiError e(401, auth.empty() ? "Missing API key: send \"Authorization: Bearer KEY\""
                                       : "Incorrect API key provided",
                     "", "invalid_api_key");
    respond_error(res, endpoint_of(req.path), Clock::now(), 401, body_text(e.body()));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Errors httplib answers itself (no route, body too large, unreadable
  // request) get OpenAI's error shape; bodies the handlers wrote stay.
  s.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = "HTTP " + std::to_string(res.status);
    if (res.status == 404) message = "No route " + req.method + " " + req.path;
    if (res.status == 413) message = "The request body is larger than the limit of " + std::to_string(options_.max_body_bytes) + " bytes";
    if (res.status == 405) message = "Method " + req.method + " not allowed on " + req.path;
    res.set_content(body_text(ApiError(res.status, message).body()), "application/json");
    metrics_.request(endpoint_of(req.path), res.status, 0.0);
  });
  s.set_exception_handler([this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    set_json(res, 500, ApiError(500, what).body());
    metrics_.request(endpoint_of(req.path), 500, 0.0);
  });
  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const auto t0 = Clock::now();
    json names = json::array();
    for (const ServedModel& m : models_) names.push_back(m.name);
    set_json(res, 200, {{"status", stopping_ ? "stopping" : "ok"}, {"models", names}, {"parallel", options_.parallel},
                        {"active", admission_.active()}, {"queued", admission_.queued()}, {"max_queue", options_.max_queue}});
    finish_metrics("health", 200, t0);
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    metrics_.set_gauges(admission_.queued(), admission_.active());
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  });
  s.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    const auto t0 = Clock::now();
    json data = json::array();
    for (const ServedModel& m : models_) data.push_back(model_json(m.name, created_));
    set_json(res, 200, {{"object", "list"}, {"data", data}});
    finish_metrics("models", 200, t0);
  });
  s.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    const auto t0 = Clock::now();
    try {
      set_json(res, 200, model_json(find(req.matches[1].str()).name, created_));
      finish_metrics("models", 200, t0);
    } catch (const ApiError& e) {
      respond_error(res, "models", t0, e.status(), body_text(e.body()));
    }
  });
  s.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res, true); });
  s.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res, false); });
  s.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) { embeddings(req, res); });
}

void Server::embeddings(const httplib::Request& req, httplib::Response& res) {
  const auto t0 = Clock::now();
  try {
    const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) throw ApiError(400, "The request body is not valid JSON", "", "invalid_json");
    const ServedModel& m = find(model_of(body));
    const EmbeddingCall call = parse_embeddings(body, limits_for(m));
    if (!m.model->capabilities().embeddings)
      throw ApiError(400, "The model '" + m.name + "' gives no embeddings", "model", "unsupported_model");
    auto slot = admission_.enter();
    if (!slot) throw ApiError(stopping_ ? 503 : 429, stopping_ ? "The server is shutting down" : "Too many requests: try again later", "", "busy");
    std::vector<std::vector<float>> vectors;
    try {
      vectors = m.model->embed(call.inputs);
    } catch (const Error& e) {
      throw ApiError(400, e.what(), "input", "invalid_input");
    }
    if (call.dimensions > 0 && !vectors.empty() && static_cast<size_t>(call.dimensions) != vectors[0].size())
      throw bad_field("dimensions", "the model's embeddings have " + std::to_string(vectors[0].size()) +
                                        " dimensions; shortening is not supported");
    set_json(res, 200, embeddings_body(m.name, vectors, call.base64));
    finish_metrics("embeddings", 200, t0);
  } catch (const ApiError& e) {
    if (e.status() == 429) res.set_header("Retry-After", "1");
    respond_error(res, "embeddings", t0, e.status(), body_text(e.body()));
  }
}

}  // namespace tandem::server
