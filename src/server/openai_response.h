// tandem responses as OpenAI response bodies: chat completions and their
// stream chunks, text completions, embeddings, the model list. Pure
// functions, no I/O. Text that is not valid UTF-8 (a token that is part of a
// character) is written with U+FFFD by dump() (see body_text); logprobs of
// the chat API carry each token's exact bytes in "bytes", as OpenAI's do.
//
// Every body carries "usage" {prompt_tokens, completion_tokens, total_tokens}
// summed over the underlying models, and the extension "tandem" (ignored by
// standard clients): {"answered_by", "usage": {<model>: {prompt_tokens,
// completion_tokens, seconds, cost}}, "cost", "trace": [...]} of the first
// choice, with "choices": [{"index", "answered_by", "trace"}] when there are
// several — a composition's share per underlying model is visible there.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/types.h"

namespace tandem::server {

// What identifies one response: "chatcmpl-..." / "cmpl-..." id, the Unix time
// and the model name as the client asked for it.
struct Envelope {
  std::string id;
  int64_t created = 0;
  std::string model;
};

// One answer of a choice: the model's response, and for completions with
// echo the prompt before it (and its per-token logprobs from Model::score).
struct Choice {
  int index = 0;
  api::Response response;
  std::string echo;                       // completions: the prompt, when echoed
  api::Score echo_score;                  // its token logprobs (tokens empty: none)
  nlohmann::json tool_calls;              // chat with tools: message.tool_calls (null: none; content is null then)
};

// OpenAI's finish_reason for tandem's ("stop", "length"; "cancelled" by a
// timeout or shutdown -> "length" is never claimed: it stays "cancelled").
std::string finish_reason(const std::string& tandem_reason);

nlohmann::json usage_json(std::span<const Choice> choices, int64_t extra_prompt_tokens = 0);
nlohmann::json tandem_json(std::span<const Choice> choices);

// logprobs objects: the chat API's {"content": [...], "refusal": null}, the
// completions API's {"tokens", "token_logprobs", "top_logprobs", "text_offset"}
// (`offset`: where the first token's text starts in the choice's text).
nlohmann::json chat_logprobs(std::span<const api::TokenLogprob> logprobs);
nlohmann::json completion_logprobs(const Choice& c, bool with_top);

nlohmann::json chat_body(const Envelope& e, std::span<const Choice> choices, bool logprobs);
nlohmann::json completion_body(const Envelope& e, std::span<const Choice> choices, bool logprobs);

// Stream chunks. The chat API's first chunk of a choice carries
// delta.role "assistant"; the last one finish_reason (and, when asked, the
// choice's logprobs: they are known when the answer is).
nlohmann::json chat_chunk(const Envelope& e, int index, const nlohmann::json& delta, const nlohmann::json& finish_reason,
                          const nlohmann::json& logprobs = nullptr);
nlohmann::json completion_chunk(const Envelope& e, int index, const std::string& text, const nlohmann::json& finish_reason,
                                const nlohmann::json& logprobs = nullptr);
// The final usage chunk (stream_options.include_usage): empty choices.
nlohmann::json usage_chunk(const Envelope& e, bool chat, std::span<const Choice> choices);

nlohmann::json embeddings_body(const std::string& model, const std::vector<std::vector<float>>& vectors, bool base64);
nlohmann::json model_json(const std::string& id, int64_t created);

// Little-endian float32 bytes in base64 (OpenAI's encoding_format "base64").
std::string base64_floats(std::span<const float> v);

// A JSON value as text, invalid UTF-8 replaced by U+FFFD.
std::string body_text(const nlohmann::json& j);

}  // namespace tandem::server
