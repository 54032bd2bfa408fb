// The OpenAI wire format of /v1/chat/completions and /v1/completions: a
// tandem Request as a JSON body, and a response body (whole, or one streamed
// chunk) as text, finish reason, logprobs and usage. Pure functions, no I/O.
//
// Mapping of the request (what the API cannot carry is rejected, never dropped):
// - messages -> "messages"; a raw prompt -> "prompt" (/v1/completions), or for
//   the chat API one user message.
// - temperature, top_p, max_tokens, stop, seed, presence_penalty,
//   frequency_penalty, logit_bias ({"<token id>": bias}) -> the OpenAI fields
//   of the same name; logprobs -> "logprobs": true + "top_logprobs": n (chat)
//   or "logprobs": n (completions).
// - top_k, min_p, typical_p, repeat_penalty, penalty_last_n (as
//   "repeat_last_n") and ignore_eos are extensions of llama.cpp's and vLLM's
//   servers, sent only when they differ from SamplingOptions' defaults (an
//   OpenAI server rejects unknown fields; at the defaults the server's own
//   sampling applies for these).
// - json_schema -> response_format {"type": "json_schema", ...} on the chat
//   API; with the completions API, and a GBNF grammar on either, the request
//   is rejected (tandem::Error).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/types.h"

namespace tandem::remote {

enum class Api { kChat, kCompletions };

// The body for `request`. `max_tokens` < 0 leaves the field out (the server's
// default). `stream` adds "stream": true and stream_options.include_usage.
// Throws tandem::Error (without a model name; the caller adds it) for what
// the API cannot carry.
nlohmann::json request_body(const api::Request& request, const std::string& model, Api api, bool stream,
                            int64_t max_tokens);

// What an answer (or the answer so far, while streaming) says.
struct Answer {
  std::string text;
  std::string finish_reason;                // as the server said it; empty if it said none
  std::vector<api::TokenLogprob> logprobs;
  std::optional<int64_t> prompt_tokens;     // the server's usage, when it gave one
  std::optional<int64_t> completion_tokens;
};

// A whole (non-streamed) response body. Throws tandem::Error naming what is
// missing or malformed.
Answer parse_response(const nlohmann::json& body, Api api);

// One streamed chunk: appends its text, logprobs and usage to `answer` and
// returns the new text. A chunk carrying {"error": ...} throws tandem::Error
// with the server's message.
std::string parse_stream_chunk(const nlohmann::json& chunk, Api api, Answer& answer);

// The server's message in an error body: error.message, error (a string) or
// message; else the body itself, shortened to `max_bytes` and with control
// characters replaced, so it fits on one line.
std::string server_message(std::string_view body, size_t max_bytes = 300);

}  // namespace tandem::remote
