// OpenAI request bodies (/v1/chat/completions, /v1/completions,
// /v1/embeddings) as tandem requests: the server side of remote/openai.h's
// mapping. Pure functions, no I/O; every failure is an ApiError (400) naming
// the field.
//
// Never a silent drop: each field of OpenAI's request schema is honoured or
// rejected with a 400 naming it. Accepted without effect on the output: user,
// metadata, store, service_tier, prompt_cache_key, safety_identifier,
// modalities ["text"], stream_options without streaming.
// Tools: tools / tool_choice / parallel_tool_calls, assistant messages with
// tool_calls and "tool" messages are honoured in llama.cpp's generic format
// (server/tool_calls.h: the prompt, the output schema, the response); tools
// with response_format json_* or grammar are a 400.
// Rejected: functions, function_call, "function" messages, audio,
// prediction, reasoning_effort, verbosity, web_search_options, suffix,
// best_of other than n, non-text content parts.
// vLLM-style extensions honoured: top_k, min_p, repetition_penalty,
// ignore_eos, grammar (GBNF). Any other field is a 400 unless
// Limits::allow_unknown_fields.
//
// Fields a request leaves out take the served model's defaults (its config's
// sampling, else api::SamplingOptions' llama.cpp defaults), not OpenAI's.
//
// Greedy: at temperature 0 every top_k >= 1, top_p > 0 and min_p <= 1 keeps
// the most likely token, so such filters cannot change the answer; they are
// mapped to the defaults that decode::validate() expects (a filter that keeps
// the argmax is not a constraint on greedy output).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/types.h"
#include "server/tool_calls.h"

namespace tandem::server {

struct Limits {
  bool allow_unknown_fields = false;
  int64_t max_tokens = 0;     // the most tokens a request may ask for (0: no limit but the context)
  int64_t context = 0;        // the served model's context (0: unknown)
  int max_n = 16;             // choices per request
  int max_embedding_inputs = 256;
};

// The served model's request defaults.
struct Defaults {
  api::SamplingOptions sampling;
  int max_tokens_chat = -1;         // until the end of text or a full context (OpenAI's default)
  int max_tokens_completions = 16;  // OpenAI's default
};

// One /v1/chat/completions or /v1/completions call: `n` choices of each prompt.
struct CompletionCall {
  bool chat = true;
  std::string model;
  std::vector<api::Request> requests;  // chat: one; completions: one per prompt
  int n = 1;                           // choice i of a prompt uses seed + i (when a seed is given)
  bool stream = false;
  bool include_usage = false;          // stream_options.include_usage
  bool logprobs = false;               // chat: logprobs; completions: logprobs given
  int top_logprobs = 0;                // alternatives per token
  bool echo = false;                   // completions: the prompt precedes the text
  ToolSpec tools;                      // chat: tools in effect when tools.active()
};

struct EmbeddingCall {
  std::string model;
  std::vector<std::string> inputs;
  bool base64 = false;
  int dimensions = 0;                  // 0: not asked; else must equal the model's
};

// The "model" field (400 when missing or not a string). Bodies that are not
// JSON objects are a 400 too.
std::string model_of(const nlohmann::json& body);

CompletionCall parse_chat(const nlohmann::json& body, const Defaults& defaults, const Limits& limits);
CompletionCall parse_completions(const nlohmann::json& body, const Defaults& defaults, const Limits& limits);
EmbeddingCall parse_embeddings(const nlohmann::json& body, const Limits& limits);

// The JSON Schema a response_format asks for: json_object -> {"type":"object"};
// json_schema -> its "schema". Empty for "text". Exposed for tests.
std::string schema_of_response_format(const nlohmann::json& response_format);

}  // namespace tandem::server
