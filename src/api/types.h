// Plain value types of the Model interface (api/model.h): what a request asks,
// what a response reports (text, usage per underlying model, cost, the trace
// of decisions), and what a model can do. No behaviour beyond small helpers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::api {

// One chat turn: role "system", "user", "assistant" (or "tool").
struct Message {
  std::string role;
  std::string content;
};

// Sampling as OpenAI and llama.cpp name it. Defaults are llama.cpp's; a
// temperature <= 0 is greedy decoding.
struct SamplingOptions {
  float temperature = 0.8f;
  int top_k = 40;              // <= 0: off
  float top_p = 0.95f;         // >= 1: off
  float min_p = 0.05f;         // <= 0: off
  float typical_p = 1.0f;      // >= 1: off
  float repeat_penalty = 1.0f;
  int penalty_last_n = 64;     // 0: off, -1: the whole history
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;  // token id -> added to its logit
  std::optional<uint64_t> seed;                       // empty: a random seed per request
};

struct Request {
  // Exactly one of the two: a raw prompt to continue, or chat messages that
  // the model renders through its chat template.
  std::string prompt;
  std::vector<Message> messages;

  SamplingOptions sampling;
  int max_tokens = 128;            // < 0: until end of text or a full context
  std::vector<std::string> stop;   // stop strings (not part of the answer)
  bool ignore_eos = false;
  int logprobs = -1;               // >= 0: per-token logprobs with this many alternatives
  std::string grammar;             // GBNF (empty: none)
  std::string json_schema;         // JSON Schema text (empty: none); not with grammar

  bool is_chat() const { return !messages.empty(); }
};

// Tokens and time one underlying model spent on a request.
struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double seconds = 0.0;  // wall time of this model's calls
  double cost = 0.0;     // in the price table's currency (config), 0 only when priced so
  Usage& operator+=(const Usage& o);
};

// One decision of a composition (or one call of a plain model): which model
// ran, the rule's signal and threshold, and what was decided.
struct TraceStep {
  std::string model;
  std::string signal;        // e.g. "mean_logprob"; empty for a plain call
  double value = 0.0;        // the signal's value
  double threshold = 0.0;
  std::string decision;      // e.g. "accept", "defer", "answer", "skip: cooled down"
  std::string text;          // the message a stack step passed on (compose/stack.h); else empty
};

struct TokenLogprob {
  std::string token;         // the token's text (bytes; may be part of a UTF-8 character)
  double logprob = 0.0;
  std::vector<std::pair<std::string, double>> top;  // most likely first
};

struct Response {
  std::string text;               // the answer, without the prompt
  std::string finish_reason;      // "stop" (end of text or a stop string), "length", "cancelled"
  std::vector<TokenLogprob> logprobs;  // when requested and the model can give them
  std::string answered_by;        // name of the model whose answer this is
  std::map<std::string, Usage> usage;  // per underlying model, by name
  std::vector<TraceStep> trace;
  double latency_ms = 0.0;        // wall time of the whole request

  // Sums over `usage`.
  Usage total() const;
  double cost() const { return total().cost; }
};

// Receives text as it becomes final; return false to cancel the request.
using StreamCallback = std::function<bool(std::string_view text)>;

struct Capabilities {
  bool logprobs = false;     // Response::logprobs can be filled
  bool scoring = false;      // score() works
  bool embeddings = false;   // embed() works
  bool chat = false;         // messages can be rendered (a chat template or a chat API)
  int64_t context = 0;       // context size in tokens (0: unknown)
  // Equal strings mean the same vocabulary (same pieces, same ids); empty: unknown.
  std::string vocabulary;
};

struct Score {
  double sum_logprob = 0.0;
  std::vector<double> token_logprobs;
  std::vector<std::string> tokens;
};

// Prices of one model, in one currency per million tokens and per second of
// measured wall time (local and self-hosted models). cost() adds the parts.
struct Price {
  double input_per_mtok = 0.0;
  double output_per_mtok = 0.0;
  double per_second = 0.0;
  double cost(const Usage& u) const;
};

}  // namespace tandem::api
