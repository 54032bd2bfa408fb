#include "server/openai_request.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <set>

#include "server/api_error.h"

namespace tandem::server {
namespace {

using nlohmann::json;

// Fields of OpenAI's schema (and the vLLM extensions) this server honours or
// accepts; anything else is unknown.
const std::set<std::string> kSampling = {"temperature", "top_p", "presence_penalty", "frequency_penalty", "logit_bias",
                                         "seed", "stop", "max_tokens", "n", "stream", "stream_options", "user",
                                         "metadata", "store", "service_tier", "top_k", "min_p", "repetition_penalty",
                                         "ignore_eos", "grammar", "model", "logprobs", "prompt_cache_key",
                                         "safety_identifier"};
const std::set<std::string> kChatOnly = {"messages", "max_completion_tokens", "top_logprobs", "response_format",
                                         "parallel_tool_calls", "modalities", "tools", "tool_choice"};
const std::set<std::string> kCompletionsOnly = {"prompt", "echo", "suffix", "best_of"};
// Known to OpenAI, not supported here: always a 400 naming them.
const std::set<std::string> kUnsupported = {"functions", "function_call", "audio", "prediction", "reasoning_effort",
                                            "verbosity", "web_search_options"};

std::string format(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

// A field's value; null counts as absent (OpenAI's clients send null for "unset").
const json* field(const json& b, const char* key) {
  const auto it = b.find(key);
  return it == b.end() || it->is_null() ? nullptr : &*it;
}

double number(const json& b, const char* key, double lo, double hi, double fallback) {
  const json* v = field(b, key);
  if (!v) return fallback;
  if (!v->is_number()) throw bad_field(key, "must be a number");
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi)) throw bad_field(key, "must be between " + format(lo) + " and " + format(hi) + ", got " + format(x));
  return x;
}

int64_t integer(const json& b, const char* key, int64_t lo, int64_t hi, int64_t fallback) {
  const json* v = field(b, key);
  if (!v) return fallback;
  if (!v->is_number_integer()) throw bad_field(key, "must be an integer");
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    throw bad_field(key, "must be at most " + std::to_string(hi));
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi) throw bad_field(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + std::to_string(x));
  return x;
}

bool boolean(const json& b, const char* key, bool fallback) {
  const json* v = field(b, key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw bad_field(key, "must be true or false");
  return v->get<bool>();
}

void check_fields(const json& b, const std::set<std::string>& own, const Limits& limits) {
  for (const auto& [key, value] : b.items()) {
    if (kSampling.count(key) || own.count(key)) continue;
    if (kUnsupported.count(key)) {
      if (value.is_null()) continue;
      throw ApiError(400, key + " is not supported by tandem serve", key, "unsupported_parameter");
    }
    if (!limits.allow_unknown_fields)
      throw ApiError(400, key + ": unknown field (start the server with --allow-unknown-fields to ignore such fields)",
                     key, "unknown_parameter");
  }
}

std::vector<std::pair<int32_t, float>> logit_bias(const json& b) {
  std::vector<std::pair<int32_t, float>> out;
  const json* v = field(b, "logit_bias");
  if (!v) return out;
  if (!v->is_object()) throw bad_field("logit_bias", "must be an object of {\"<token id>\": bias}");
  for (const auto& [key, bias] : v->items()) {
    int32_t id = -1;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
    if (ec != std::errc() || end != key.data() + key.size() || id < 0)
      throw bad_field("logit_bias", "\"" + key + "\" is not a token id (a non-negative integer)");
    if (!bias.is_number() || !(bias.get<double>() >= -100 && bias.get<double>() <= 100))
      throw bad_field("logit_bias", "the bias of token " + key + " must be a number between -100 and 100");
    out.emplace_back(id, bias.get<float>());
  }
  return out;
}

std::vector<std::string> stop_strings(const json& b) {
  const json* v = field(b, "stop");
  if (!v) return {};
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    if (v->size() > 16) throw bad_field("stop", "at most 16 stop strings");
    for (const json& s : *v) {
      if (!s.is_string()) throw bad_field("stop", "must be a string or a list of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    throw bad_field("stop", "must be a string or a list of strings");
  }
  for (const std::string& s : out) {
    if (s.empty()) throw bad_field("stop", "a stop string must not be empty");
  }
  return out;
}

api::SamplingOptions sampling(const json& b, const Defaults& d) {
  api::SamplingOptions s = d.sampling;
  s.temperature = static_cast<float>(number(b, "temperature", 0, 2, s.temperature));
  s.top_p = static_cast<float>(number(b, "top_p", 0, 1, s.top_p));
  if (field(b, "top_p") && s.top_p <= 0) throw bad_field("top_p", "must be greater than 0");
  s.presence_penalty = static_cast<float>(number(b, "presence_penalty", -2, 2, s.presence_penalty));
  s.frequency_penalty = static_cast<float>(number(b, "frequency_penalty", -2, 2, s.frequency_penalty));
  s.top_k = static_cast<int>(integer(b, "top_k", -1, INT_MAX, s.top_k));
  if (s.top_k < 0) s.top_k = 0;  // vLLM's -1: off
  s.min_p = static_cast<float>(number(b, "min_p", 0, 1, s.min_p));
  s.repeat_penalty = static_cast<float>(number(b, "repetition_penalty", 0, 100, s.repeat_penalty));
  if (s.repeat_penalty <= 0) throw bad_field("repetition_penalty", "must be greater than 0");
  if (const json* seed = field(b, "seed")) {
    if (!seed->is_number_integer()) throw bad_field("seed", "must be an integer");
    s.seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : static_cast<uint64_t>(seed->get<int64_t>());
  }
  if (field(b, "logit_bias")) s.logit_bias = logit_bias(b);
  if (s.temperature <= 0) {
    // Greedy keeps the argmax, which every top_k >= 1, top_p > 0 and min_p <= 1
    // keeps too: the filters cannot change the answer (see the header).
    const api::SamplingOptions plain;
    s.top_k = plain.top_k;
    s.top_p = plain.top_p;
    s.min_p = plain.min_p;
    s.typical_p = plain.typical_p;
  }
  return s;
}

int max_tokens(const json& b, const char* key, int fallback, bool allow_zero, const Limits& limits) {
  const int64_t hi = limits.max_tokens > 0 ? limits.max_tokens : (limits.context > 0 ? limits.context : INT_MAX);
  const json* v = field(b, key);
  if (!v) return fallback;
  if (!v->is_number_integer()) throw bad_field(key, "must be an integer");
  const int64_t n = v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : v->get<int64_t>();
  if (n < (allow_zero ? 0 : 1)) throw bad_field(key, allow_zero ? "must be at least 0" : "must be at least 1");
  if (n > hi) {
    const std::string why = limits.max_tokens > 0 ? "the server's limit (--max-tokens)" : "the model's context";
    throw ApiError(400, std::string(key) + ": " + std::to_string(n) + " is more than " + why + ", " + std::to_string(hi),
                   key, "max_tokens_too_large");
  }
  return static_cast<int>(n);
}

// Fields shared by both completion APIs.
void common(const json& b, const Defaults& d, api::Request& q, CompletionCall& c, const Limits& limits) {
  q.sampling = sampling(b, d);
  q.stop = stop_strings(b);
  q.ignore_eos = boolean(b, "ignore_eos", false);
  if (const json* g = field(b, "grammar")) {
    if (!g->is_string()) throw bad_field("grammar", "must be a string (GBNF)");
    q.grammar = g->get<std::string>();
  }
  c.model = model_of(b);
  c.n = static_cast<int>(integer(b, "n", 1, limits.max_n, 1));
  c.stream = boolean(b, "stream", false);
  if (const json* so = field(b, "stream_options")) {
    if (!so->is_object()) throw bad_field("stream_options", "must be an object");
    for (const auto& [key, v] : so->items()) {
      if (key != "include_usage") throw bad_field("stream_options", "unknown field \"" + key + "\"");
      if (!v.is_boolean()) throw bad_field("stream_options", "include_usage must be true or false");
    }
    c.include_usage = c.stream && so->value("include_usage", false);
  }
  for (const char* key : {"user", "prompt_cache_key", "safety_identifier", "service_tier"}) {
    if (const json* v = field(b, key); v && !v->is_string()) throw bad_field(key, "must be a string");
  }
  if (const json* m = field(b, "metadata"); m && !m->is_object()) throw bad_field("metadata", "must be an object");
  if (const json* s = field(b, "store"); s && !s->is_boolean()) throw bad_field("store", "must be true or false");
}

std::string content_text(const json& content, const std::string& where) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) throw bad_field(where, "must be a string or a list of text parts");
  std::string text;
  for (const json& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
      throw ApiError(400, where + ": only text parts ({\"type\": \"text\", \"text\": ...}) are supported", where,
                     "unsupported_content");
    text += part["text"].get<std::string>();
  }
  return text;
}

// The keys a message of `role` may carry (null or empty values are ignored).
bool allowed_key(const std::string& key, const std::string& role) {
  return key == "role" || key == "content" || (key == "tool_calls" && role == "assistant") ||
         (key == "tool_call_id" && role == "tool");
}

// One message as the model sees it; tool calls and results become text
// (server/tool_calls.h).
api::Message message(const json& m, const std::string& where, const ToolSpec& tools, CallNames& names) {
  if (!m.is_object()) throw bad_field(where, "must be an object with \"role\" and \"content\"");
  if (!m.contains("role") || !m["role"].is_string()) throw bad_field(where + ".role", "must be a string");
  std::string role = m["role"].get<std::string>();
  if (role == "developer") role = "system";  // OpenAI's newer name for the system role
  for (const auto& [key, value] : m.items()) {
    const bool empty = value.is_null() || (value.is_array() && value.empty());
    if (!allowed_key(key, role) && !empty)
      throw ApiError(400, where + "." + key + " is not supported by tandem serve", where + "." + key, "unsupported_parameter");
  }
  if (role == "function")
    throw ApiError(400, where + ".role: \"function\" messages are deprecated: use \"tool\"", where + ".role", "unsupported_value");
  if (role != "system" && role != "user" && role != "assistant" && role != "tool")
    throw bad_field(where + ".role", "must be system, developer, user, assistant or tool, got \"" + role + "\"");
  const bool calls = role == "assistant" && m.contains("tool_calls") && !m["tool_calls"].is_null() &&
                     !(m["tool_calls"].is_array() && m["tool_calls"].empty());
  const bool has_content = m.contains("content") && !m["content"].is_null();
  if (!has_content && !calls) throw bad_field(where + ".content", "required");
  const std::string text = has_content ? content_text(m["content"], where + ".content") : std::string();
  if (calls) return {role, assistant_calls_text(m, where, text, tools, names)};
  if (role == "tool") return {"user", tool_result_text(m, where, text, names)};
  return {role, text};
}

std::vector<api::Message> messages(const json& b, const ToolSpec& tools) {
  const json* v = field(b, "messages");
  if (!v) throw ApiError(400, "messages: required", "messages", "missing_required_parameter");
  if (!v->is_array() || v->empty()) throw bad_field("messages", "must be a non-empty list");
  std::vector<api::Message> out;
  CallNames names;
  bool after_tool = false;  // the last message holds tool results
  for (size_t i = 0; i < v->size(); ++i) {
    const bool tool = (*v)[i].is_object() && (*v)[i].value("role", json()) == "tool";
    api::Message m = message((*v)[i], "messages[" + std::to_string(i) + "]", tools, names);
    // Tool results and the user message after them become one user turn.
    if (m.role == "user" && after_tool) {
      out.back().content += "\n\n" + m.content;
    } else {
      out.push_back(std::move(m));
    }
    after_tool = tool || (after_tool && out.back().role == "user");
  }
  return out;
}

void check_modalities(const json& b) {
  if (const json* m = field(b, "modalities")) {
    if (!(m->is_array() && m->size() == 1 && (*m)[0] == "text")) throw ApiError(400, "modalities: only [\"text\"] is supported", "modalities", "unsupported_value");
  }
}

// Tools constrain the output with their own schema: no second constraint.
void apply_tools(const json& b, const ToolSpec& tools, api::Request& q) {
  if (!tools.active()) return;
  if (!q.json_schema.empty())
    throw bad_field("response_format", "cannot be combined with tools (their calls are constrained already); use tool_choice \"none\" or leave it out");
  if (field(b, "grammar")) throw bad_field("grammar", "cannot be combined with tools (their calls are constrained already)");
  q.json_schema = output_schema(tools).dump();
  inject_tools_prompt(q.messages, tools);
}

}  // namespace

std::string model_of(const json& body) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object", "", "invalid_body");
  const auto it = body.find("model");
  if (it == body.end() || it->is_null()) throw ApiError(400, "model: required", "model", "missing_required_parameter");
  if (!it->is_string()) throw bad_field("model", "must be a string");
  return it->get<std::string>();
}

std::string schema_of_response_format(const json& rf) {
  if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string())
    throw bad_field("response_format", "must be an object with a \"type\"");
  const std::string type = rf["type"].get<std::string>();
  if (type == "text") return {};
  if (type == "json_object") return R"({"type":"object"})";
  if (type != "json_schema") throw bad_field("response_format", "type must be text, json_object or json_schema, got \"" + type + "\"");
  const auto js = rf.find("json_schema");
  if (js == rf.end() || !js->is_object()) throw bad_field("response_format.json_schema", "required (an object with a \"schema\")");
  const auto schema = js->find("schema");
  if (schema == js->end() || !(schema->is_object() || schema->is_boolean()))
    throw bad_field("response_format.json_schema.schema", "required (a JSON Schema object)");
  return schema->dump();
}

CompletionCall parse_chat(const json& body, const Defaults& d, const Limits& limits) {
  model_of(body);
  check_fields(body, kChatOnly, limits);
  CompletionCall c;
  c.chat = true;
  api::Request q;
  common(body, d, q, c, limits);
  c.tools = parse_tools(body);
  check_modalities(body);
  q.messages = messages(body, c.tools);
  const int mt = max_tokens(body, "max_tokens", d.max_tokens_chat, false, limits);
  q.max_tokens = max_tokens(body, "max_completion_tokens", mt, false, limits);
  if (field(body, "max_tokens") && field(body, "max_completion_tokens") && mt != q.max_tokens)
    throw bad_field("max_completion_tokens", "differs from max_tokens: give one of them");
  c.logprobs = boolean(body, "logprobs", false);
  c.top_logprobs = static_cast<int>(integer(body, "top_logprobs", 0, 20, 0));
  if (field(body, "top_logprobs") && !c.logprobs) throw bad_field("top_logprobs", "needs \"logprobs\": true");
  if (c.logprobs) q.logprobs = c.top_logprobs;
  if (const json* rf = field(body, "response_format")) q.json_schema = schema_of_response_format(*rf);
  if (!q.json_schema.empty() && !q.grammar.empty())
    throw bad_field("grammar", "cannot be combined with a JSON response_format: give one constraint");
  apply_tools(body, c.tools, q);
  c.requests.push_back(std::move(q));
  return c;
}

CompletionCall parse_completions(const json& body, const Defaults& d, const Limits& limits) {
  model_of(body);
  check_fields(body, kCompletionsOnly, limits);
  CompletionCall c;
  c.chat = false;
  api::Request q;
  common(body, d, q, c, limits);
  c.echo = boolean(body, "echo", false);
  q.max_tokens = max_tokens(body, "max_tokens", d.max_tokens_completions, /*allow_zero=*/true, limits);
  // max_tokens 0: no token (an empty completion, finish_reason "length"); with echo, the prompt alone.
  if (const json* lp = field(body, "logprobs")) {
    if (!lp->is_number_integer()) throw bad_field("logprobs", "must be an integer (the alternatives per token, 0 to 20)");
    c.logprobs = true;
    c.top_logprobs = static_cast<int>(integer(body, "logprobs", 0, 20, 0));
    q.logprobs = c.top_logprobs;
  }
  if (const json* s = field(body, "suffix"); s && !(s->is_string() && s->get<std::string>().empty()))
    throw ApiError(400, "suffix: insertion is not supported by tandem serve", "suffix", "unsupported_parameter");
  if (const json* bo = field(body, "best_of"); bo && integer(body, "best_of", 1, limits.max_n, 1) != c.n)
    throw ApiError(400, "best_of: only best_of equal to n is supported", "best_of", "unsupported_value");
  const json* p = field(body, "prompt");
  if (!p) throw ApiError(400, "prompt: required", "prompt", "missing_required_parameter");
  std::vector<std::string> prompts;
  if (p->is_string()) {
    prompts.push_back(p->get<std::string>());
  } else if (p->is_array() && !p->empty() && std::all_of(p->begin(), p->end(), [](const json& x) { return x.is_string(); })) {
    for (const json& x : *p) prompts.push_back(x.get<std::string>());
  } else if (p->is_array() && !p->empty()) {
    throw ApiError(400, "prompt: token-id prompts are not supported; send text", "prompt", "unsupported_value");
  } else {
    throw bad_field("prompt", "must be a string or a non-empty list of strings");
  }
  if (prompts.size() * static_cast<size_t>(c.n) > static_cast<size_t>(limits.max_n) * 8)
    throw bad_field("prompt", "too many prompts times n (at most " + std::to_string(limits.max_n * 8) + " choices)");
  for (std::string& text : prompts) {
    api::Request one = q;
    one.prompt = std::move(text);
    c.requests.push_back(std::move(one));
  }
  return c;
}

EmbeddingCall parse_embeddings(const json& body, const Limits& limits) {
  EmbeddingCall e;
  e.model = model_of(body);
  for (const auto& [key, value] : body.items()) {
    if (key == "model" || key == "input" || key == "encoding_format" || key == "dimensions" || key == "user") continue;
    if (!limits.allow_unknown_fields) throw ApiError(400, key + ": unknown field", key, "unknown_parameter");
  }
  const json* in = field(body, "input");
  if (!in) throw ApiError(400, "input: required", "input", "missing_required_parameter");
  if (in->is_string()) {
    e.inputs.push_back(in->get<std::string>());
  } else if (in->is_array() && !in->empty() && std::all_of(in->begin(), in->end(), [](const json& x) { return x.is_string(); })) {
    for (const json& x : *in) e.inputs.push_back(x.get<std::string>());
  } else if (in->is_array() && !in->empty()) {
    throw ApiError(400, "input: token-id inputs are not supported; send text", "input", "unsupported_value");
  } else {
    throw bad_field("input", "must be a string or a non-empty list of strings");
  }
  if (static_cast<int>(e.inputs.size()) > limits.max_embedding_inputs)
    throw bad_field("input", "at most " + std::to_string(limits.max_embedding_inputs) + " inputs per request");
  for (const std::string& s : e.inputs) {
    if (s.empty()) throw bad_field("input", "an input must not be empty");
  }
  if (const json* f = field(body, "encoding_format")) {
    if (!f->is_string() || (*f != "float" && *f != "base64")) throw bad_field("encoding_format", "must be \"float\" or \"base64\"");
    e.base64 = *f == "base64";
  }
  e.dimensions = static_cast<int>(integer(body, "dimensions", 1, INT_MAX, 0));
  if (const json* u = field(body, "user"); u && !u->is_string()) throw bad_field("user", "must be a string");
  return e;
}

}  // namespace tandem::server
