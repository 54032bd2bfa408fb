#include "remote/remote_model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "remote/sinks.h"
#include "util/error.h"

namespace tandem::remote {
namespace {

std::string fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// What went wrong in one attempt, and what may be done about it.
struct Failure {
  std::string message;
  bool retryable = false;
  bool endpoint_fault = true;  // counts towards the endpoint's cool-down
  std::optional<double> retry_after_s;
};

Failure failure(std::string message, bool retryable = false) {
  Failure f;
  f.message = std::move(message);
  f.retryable = retryable;
  return f;
}

// nullopt: the attempt succeeded (or the caller cancelled it).
std::optional<Failure> judge(const HttpOutcome& out, RemoteModel::Sink& sink, double unix_now_s) {
  using Kind = HttpOutcome::Kind;
  switch (out.kind) {
    case Kind::kResponse:
      if (out.status >= 200 && out.status < 300) {
        try {
          sink.end();
          return std::nullopt;
        } catch (const Error& e) {
          return failure(e.what());
        }
      } else {
        const bool retryable = is_retryable_status(out.status);
        return Failure{.message = "HTTP " + std::to_string(out.status) + ": " + server_message(out.body),
                       .retryable = retryable,
                       .endpoint_fault = retryable,  // other 4xx are the request's fault
                       .retry_after_s = parse_retry_after(out.retry_after, unix_now_s)};
      }
    case Kind::kConnect:
    case Kind::kRead:
      return failure(out.error, true);
    case Kind::kTls:
    case Kind::kTooLarge:
      return failure(out.error);
    case Kind::kStopped:
      if (sink.cancelled()) return std::nullopt;
      return failure(sink.error());
  }
  return failure("unknown outcome");
}

std::string attempts_text(int attempts) {
  return attempts > 1 ? " (after " + std::to_string(attempts) + " attempts)" : "";
}

// The finish reasons of the Model contract; others (content_filter,
// tool_calls) pass through unchanged.
std::string finish_reason(const std::string& server) {
  if (server.empty() || server == "stop" || server == "eos" || server == "eos_token") return "stop";
  return server;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

size_t code_points(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

int64_t estimate_tokens(std::string_view text) { return static_cast<int64_t>((text.size() + 3) / 4); }

int64_t estimate_prompt_tokens(const api::Request& request) {
  if (!request.is_chat()) return estimate_tokens(request.prompt);
  int64_t n = 0;
  for (const api::Message& m : request.messages) n += estimate_tokens(m.content) + 4;
  return n;
}

RemoteModel::RemoteModel(RemoteOptions options, RemoteHooks hooks) : options_(std::move(options)) {
  if (options_.name.empty()) throw Error("a remote model needs a name");
  const std::string who = "remote model '" + options_.name + "': ";
  if (options_.api == "chat") {
    api_ = Api::kChat;
  } else if (options_.api == "completions") {
    api_ = Api::kCompletions;
  } else {
    throw Error(who + "api must be \"chat\" or \"completions\", not \"" + options_.api + "\"");
  }
  try {
    url_ = parse_base_url(options_.base_url);
  } catch (const Error& e) {
    throw Error(who + e.what());
  }
  if (options_.model.empty()) throw Error(who + "no model name for the endpoint (model)");
  if (!options_.api_key_env.empty()) {
    const char* key = std::getenv(options_.api_key_env.c_str());
    if (key == nullptr || *key == '\0') {
      throw Error(who + "the environment variable " + options_.api_key_env +
                  " (api_key_env) is not set; export it with the endpoint's API key");
    }
    api_key_ = key;
  }
  if (!(options_.connect_timeout_s > 0) || !(options_.read_timeout_s > 0)) {
    throw Error(who + "connect_timeout_s and read_timeout_s must be > 0");
  }
  if (options_.max_retries < 0) throw Error(who + "max_retries must be >= 0");
  if (options_.max_response_bytes == 0) throw Error(who + "max_response_bytes must be > 0");
  if (options_.context < 0) throw Error(who + "context must be >= 0");
  retry_ = {.max_retries = options_.max_retries,
            .base_delay_s = options_.retry_base_delay_s,
            .max_delay_s = options_.retry_max_delay_s,
            .max_retry_after_s = options_.max_retry_after_s};
  clock_ = hooks.clock ? std::move(hooks.clock) : std::make_shared<SystemClock>();
  jitter_ = hooks.jitter ? std::move(hooks.jitter) : random_jitter();
  if (hooks.endpoint) {
    if (hooks.endpoint->options().base_url != options_.base_url) {
      throw Error(who + "the shared endpoint is " + hooks.endpoint->options().base_url + ", not " + options_.base_url);
    }
    endpoint_ = std::move(hooks.endpoint);
  } else {
    try {
      endpoint_ = std::make_shared<Endpoint>(EndpointOptions{.base_url = options_.base_url,
                                                             .max_concurrency = options_.max_concurrency,
                                                             .cooldown_after = options_.cooldown_after,
                                                             .cooldown_s = options_.cooldown_s},
                                             clock_);
    } catch (const Error& e) {
      throw Error(who + e.what());
    }
  }
}

api::Capabilities RemoteModel::capabilities() const {
  return {.logprobs = options_.logprobs,
          .scoring = api_ == Api::kCompletions && options_.logprobs,
          .embeddings = false,
          .chat = true,
          .context = options_.context,
          .vocabulary = {}};
}

std::string RemoteModel::where(const std::string& path) const {
  return "remote model '" + options_.name + "' (POST " + url_.origin + url_.path + path + ")";
}

void RemoteModel::call(const std::string& path, const std::string& body, Sink& sink,
                       std::vector<api::TraceStep>& trace) const {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!api_key_.empty()) headers.emplace_back("Authorization", "Bearer " + api_key_);
  headers.emplace_back("Accept", sink.streaming() ? "text/event-stream" : "application/json");
  const HttpLimits limits{.connect_timeout_s = options_.connect_timeout_s,
                          .read_timeout_s = options_.read_timeout_s,
                          .max_body_bytes = options_.max_response_bytes};
  for (int attempt = 0;; ++attempt) {
    std::optional<Failure> failed;
    try {
      const Endpoint::Slot slot = endpoint_->admit();
      sink.begin();
      const HttpOutcome out =
          http_post(url_, path, body, headers, limits, [&sink](std::string_view piece) { return sink.body(piece); });
      if (!sink.callback_exception) failed = judge(out, sink, clock_->unix_now_s());
    } catch (const Error& e) {  // cooling down, or a client that cannot be made
      throw Error(where(path) + ": " + e.what() + attempts_text(attempt));
    }
    if (sink.callback_exception) std::rethrow_exception(sink.callback_exception);  // the caller's own
    if (!failed) {
      endpoint_->record_success();
      return;
    }
    if (failed->endpoint_fault) endpoint_->record_failure(failed->message, failed->retry_after_s);
    std::string message = failed->message;
    bool retry = failed->retryable && attempt < retry_.max_retries;
    if (sink.committed()) {  // a retry would pass the start of the answer on twice
      retry = false;
      message += " (not retried: part of the answer was already passed on)";
    }
    if (retry && failed->retry_after_s && *failed->retry_after_s > retry_.max_retry_after_s) {
      retry = false;
      message += " (Retry-After " + fixed(*failed->retry_after_s, 0) + " s is longer than max_retry_after_s)";
    }
    if (!retry) throw Error(where(path) + ": " + message + attempts_text(attempt + 1));
    const double wait = backoff_delay_s(retry_, attempt, failed->retry_after_s, jitter_());
    trace.push_back({.model = options_.name,
                     .signal = "attempt",
                     .value = static_cast<double>(attempt + 1),
                     .threshold = 0.0,
                     .decision = "retry in " + fixed(wait, 2) + " s: " + message,
                     .text = {}});
    clock_->sleep_s(wait);
  }
}

api::Response RemoteModel::complete(const api::Request& request, const api::StreamCallback& on_text) const {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string who = "remote model '" + options_.name + "': ";
  if (request.is_chat() && !request.prompt.empty()) throw Error(who + "a request has a prompt or messages, not both");
  const Api api = request.is_chat() ? Api::kChat : api_;
  const std::string path = api == Api::kChat ? "/chat/completions" : "/completions";

  const int64_t prompt_tokens = estimate_prompt_tokens(request);
  int64_t max_tokens = request.max_tokens;
  if (options_.context > 0) {
    const int64_t answer_tokens = max_tokens < 0 ? 1 : max_tokens;  // unbounded: room for one at least
    const int64_t need = prompt_tokens + answer_tokens;
    if (need > options_.context) {
      throw ContextError(who + "the request needs about " + std::to_string(prompt_tokens) +
                  " prompt tokens (estimated as ceil(bytes / 4) + 4 per message) + " +
                  std::to_string(answer_tokens) + " max_tokens = " + std::to_string(need) +
                  ", more than its context of " + std::to_string(options_.context) + " tokens");
    }
    if (max_tokens < 0) max_tokens = options_.context - prompt_tokens;
  }
  std::string body;
  try {
    body = request_body(request, options_.model, api, static_cast<bool>(on_text), max_tokens).dump();
  } catch (const Error& e) {
    throw Error(who + e.what());
  }

  api::Response r;
  Answer answer;
  bool cancelled = false;
  if (on_text) {
    StreamSink sink(api, on_text);
    call(path, body, sink, r.trace);
    answer = sink.answer();
    cancelled = sink.cancelled();
  } else {
    JsonSink sink;
    call(path, body, sink, r.trace);
    try {
      answer = parse_response(sink.json(), api);
    } catch (const Error& e) {
      endpoint_->record_failure(e.what());
      throw Error(where(path) + ": " + e.what());
    }
  }

  r.text = std::move(answer.text);
  r.finish_reason = cancelled ? "cancelled" : finish_reason(answer.finish_reason);
  r.logprobs = std::move(answer.logprobs);
  r.answered_by = options_.name;
  api::Usage& u = r.usage[options_.name];
  const bool estimated = !answer.prompt_tokens || !answer.completion_tokens;
  u.prompt_tokens = answer.prompt_tokens.value_or(prompt_tokens);
  u.completion_tokens = answer.completion_tokens.value_or(estimate_tokens(r.text));
  u.seconds = seconds_since(t0);
  u.cost = options_.price.cost(u);
  r.latency_ms = u.seconds * 1e3;
  if (estimated) {
    r.trace.push_back({.model = options_.name, .signal = "usage", .value = 0.0, .threshold = 0.0,
                       .decision = "usage estimated: the endpoint gave no count; ceil(bytes / 4) per text",
                       .text = {}});
  }
  r.trace.push_back({.model = options_.name, .signal = "latency_ms", .value = r.latency_ms, .threshold = 0.0,
                     .decision = cancelled ? "cancelled" : "answer",
                     .text = {}});
  return r;
}

api::Score RemoteModel::score(std::string_view prompt, std::string_view continuation) const {
  if (api_ != Api::kCompletions || !options_.logprobs) return Model::score(prompt, continuation);
  const std::string text = std::string(prompt) + std::string(continuation);
  if (options_.context > 0 && estimate_tokens(text) > options_.context) {
    throw ContextError("remote model '" + options_.name + "': the text to score needs about " +
                std::to_string(estimate_tokens(text)) + " tokens, more than its context of " +
                std::to_string(options_.context));
  }
  const nlohmann::json body = {{"model", options_.model}, {"prompt", text}, {"max_tokens", 0},
                               {"echo", true},            {"logprobs", 0},  {"temperature", 0.0}};
  std::vector<api::TraceStep> trace;
  JsonSink sink;
  call("/completions", body.dump(), sink, trace);
  const size_t boundary = code_points(prompt);
  api::Score s;
  try {
    const nlohmann::json& lp = sink.json().at("choices").at(0).at("logprobs");
    const nlohmann::json& tokens = lp.at("tokens");
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string token = tokens[i].get<std::string>();
      const size_t end = lp.at("text_offset").at(i).get<size_t>() + code_points(token);
      if (end <= boundary) continue;  // the prompt's token
      const nlohmann::json& v = lp.at("token_logprobs").at(i);
      if (v.is_null()) throw Error("no logprob for token " + std::to_string(i) + " of the continuation");
      s.tokens.push_back(token);
      s.token_logprobs.push_back(v.get<double>());
      s.sum_logprob += s.token_logprobs.back();
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(where("/completions") + ": malformed echo logprobs: " + e.what());
  } catch (const Error& e) {
    throw Error(where("/completions") + ": " + e.what());
  }
  if (s.tokens.empty() && !continuation.empty()) {
    throw Error(where("/completions") + ": the endpoint returned no tokens for the continuation (does it echo?)");
  }
  return s;
}

}  // namespace tandem::remote
