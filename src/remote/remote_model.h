// RemoteModel: an OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's
// server, ...) behind the Model interface.
//
// - Requests: chat messages go to {base_url}/chat/completions; a raw prompt to
//   {base_url}/completions, or with api "chat" to /chat/completions as one
//   user message. Field mapping: remote/openai.h.
// - A StreamCallback makes the call stream (server-sent events); without one
//   the call is one JSON response. Returning false from the callback closes
//   the connection; the Response has the text so far and finish_reason
//   "cancelled".
// - Retries: connection errors (refused, DNS, connect timeout, a connection
//   broken before any text was passed on), 429 and 5xx are retried up to
//   max_retries times, after exponential back-off with full jitter and never
//   before the server's Retry-After (remote/retry.h); other 4xx, TLS failures,
//   malformed, cut short (a stream without [DONE]) or oversized answers fail
//   at once. A streamed call is retried only while no text has been passed
//   on, so output is never duplicated or spliced; a stream that fails later
//   throws (the caller has seen a prefix of the answer).
// - The endpoint (remote/endpoint.h) limits calls in flight and cools down
//   after repeated failures; while cooling, calls throw at once.
// - Usage: the endpoint's own count (streams ask for it with
//   stream_options.include_usage); where it gives none, an estimate of
//   ceil(bytes / 4) tokens per text plus 4 per chat message, and a trace step
//   {signal "usage", decision "usage estimated"} says so. Cost: options.price.
// - Context: with `context` > 0, a request whose estimated prompt tokens (the
//   same rule) plus max_tokens exceed it throws before any call. max_tokens < 0
//   sends context minus the estimate (or nothing when the context is unknown).
// - Errors are tandem::Error naming the model, the URL, the HTTP status and
//   the server's message, and the attempts made.
//
// Thread-safe (see api/model.h): every call has its own connection and state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/model.h"
#include "remote/endpoint.h"
#include "remote/http.h"
#include "remote/openai.h"
#include "remote/retry.h"

namespace tandem::remote {

struct RemoteOptions {
  std::string name;              // the name the model answers to
  std::string base_url;          // "https://api.openai.com/v1", "http://localhost:8080" (= .../v1)
  std::string model;             // the endpoint's model name (the "model" field)
  std::string api = "chat";      // "chat" or "completions"
  std::string api_key_env;       // environment variable holding the API key; empty: no key sent
  int64_t context = 0;           // the remote model's context in tokens; 0: unknown (no check)
  double connect_timeout_s = 10;
  double read_timeout_s = 60;    // the longest wait for the next bytes of an answer
  int max_retries = 2;
  int max_concurrency = 4;       // calls in flight at this endpoint (for an Endpoint made here)
  api::Price price;
  size_t max_response_bytes = 16u << 20;  // a longer body fails the call
  double retry_base_delay_s = 0.5;
  double retry_max_delay_s = 20;
  double max_retry_after_s = 60;  // a longer Retry-After fails the call instead of waiting
  int cooldown_after = 5;         // failed attempts in a row before the endpoint cools down
  double cooldown_s = 30;
  bool logprobs = true;           // the endpoint returns logprobs (capabilities().logprobs)
};

// What tests and the config layer may supply; every member is optional.
struct RemoteHooks {
  std::shared_ptr<Endpoint> endpoint;  // shared with other models of this base_url; null: a new one
  std::shared_ptr<const Clock> clock;  // back-off waits and cool-downs; null: SystemClock
  Jitter jitter;                       // null: random_jitter()
};

class RemoteModel : public api::Model {
 public:
  // Reads the API key from options.api_key_env now. Throws tandem::Error
  // naming the model for a missing variable, an unknown api, a bad base_url
  // or limits out of range, or a shared endpoint of another base_url.
  explicit RemoteModel(RemoteOptions options, RemoteHooks hooks = {});

  const std::string& name() const override { return options_.name; }
  api::Capabilities capabilities() const override;
  api::Response complete(const api::Request& request, const api::StreamCallback& on_text = {}) const override;
  // With api "completions": one call with echo, logprobs and max_tokens 0; the
  // continuation's tokens are those whose text_offset (counted in Unicode
  // code points, as vLLM and OpenAI do) is at or after the prompt's end, plus
  // a token straddling the boundary. Otherwise the default error.
  api::Score score(std::string_view prompt, std::string_view continuation) const override;

  const Endpoint& endpoint() const { return *endpoint_; }

  class Sink;  // receives one attempt's body (remote_model.cc)

 private:
  // Sends `body` to {base_url}{path} with retries; the sink gets each
  // attempt's body. Appends a trace step per retry. Throws tandem::Error.
  void call(const std::string& path, const std::string& body, Sink& sink, std::vector<api::TraceStep>& trace) const;
  std::string where(const std::string& path) const;  // "remote model 'x' (POST url)"

  RemoteOptions options_;
  Api api_;
  BaseUrl url_;
  std::string api_key_;
  RetryPolicy retry_;
  std::shared_ptr<const Clock> clock_;
  Jitter jitter_;
  std::shared_ptr<Endpoint> endpoint_;
};

// The estimate used where the endpoint gives no count: ceil(bytes / 4).
int64_t estimate_tokens(std::string_view text);
// A request's prompt: the prompt's estimate, or each message's plus 4.
int64_t estimate_prompt_tokens(const api::Request& request);

}  // namespace tandem::remote
