#include "remote/openai.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "util/error.h"

namespace tandem::remote {
namespace {

using nlohmann::json;

// 0.8f as 0.8, not 0.800000011920929 (the float's exact double).
double tidy(float f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", static_cast<double>(f));
  return std::strtod(buf, nullptr);
}

void add_sampling(const api::Request& r, Api api, json& body) {
  const api::SamplingOptions& s = r.sampling;
  const api::SamplingOptions defaults;
  body["temperature"] = s.temperature > 0 ? tidy(s.temperature) : 0.0;
  body["top_p"] = s.top_p < 1 ? tidy(s.top_p) : 1.0;
  if (s.presence_penalty != 0) body["presence_penalty"] = tidy(s.presence_penalty);
  if (s.frequency_penalty != 0) body["frequency_penalty"] = tidy(s.frequency_penalty);
  if (s.seed) body["seed"] = *s.seed;
  if (!s.logit_bias.empty()) {
    json bias = json::object();
    for (const auto& [id, b] : s.logit_bias) bias[std::to_string(id)] = tidy(b);
    body["logit_bias"] = bias;
  }
  if (!r.stop.empty()) body["stop"] = r.stop;
  if (r.logprobs >= 0) {
    if (api == Api::kChat) {
      body["logprobs"] = true;
      body["top_logprobs"] = r.logprobs;
    } else {
      body["logprobs"] = r.logprobs;
    }
  }
  // llama.cpp / vLLM extensions, only where the caller moved them off the defaults.
  if (s.top_k != defaults.top_k) body["top_k"] = s.top_k;
  if (s.min_p != defaults.min_p) body["min_p"] = tidy(s.min_p);
  if (s.typical_p != defaults.typical_p) body["typical_p"] = tidy(s.typical_p);
  if (s.repeat_penalty != defaults.repeat_penalty) body["repeat_penalty"] = tidy(s.repeat_penalty);
  if (s.penalty_last_n != defaults.penalty_last_n) body["repeat_last_n"] = s.penalty_last_n;
  if (r.ignore_eos) body["ignore_eos"] = true;
}

void add_constraints(const api::Request& r, Api api, json& body) {
  if (!r.grammar.empty()) {
    throw Error("a GBNF grammar cannot be sent to an OpenAI-compatible endpoint (use json_schema with the chat API)");
  }
  if (r.json_schema.empty()) return;
  if (api != Api::kChat) {
    throw Error("json_schema needs the chat API (response_format); this model uses /v1/completions");
  }
  json schema;
  try {
    schema = json::parse(r.json_schema);
  } catch (const json::exception& e) {
    throw Error(std::string("json_schema is not valid JSON: ") + e.what());
  }
  body["response_format"] = {{"type", "json_schema"},
                             {"json_schema", {{"name", "answer"}, {"schema", schema}, {"strict", true}}}};
}

std::string string_or_empty(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& first_choice(const json& body) {
  const auto it = body.find("choices");
  if (it == body.end() || !it->is_array()) throw Error("the response has no \"choices\" array");
  if (it->empty()) throw Error("the response's \"choices\" array is empty");
  if (!(*it)[0].is_object()) throw Error("the response's choices[0] is not an object");
  return (*it)[0];
}

std::vector<std::pair<std::string, double>> sorted(std::vector<std::pair<std::string, double>> top) {
  std::stable_sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return top;
}

// The chat API's token text: its "bytes" when given (exact, even for part of a
// UTF-8 character), else "token".
std::string chat_token_text(const json& t) {
  const auto bytes = t.find("bytes");
  if (bytes != t.end() && bytes->is_array()) {
    std::string s;
    for (const json& b : *bytes) s += static_cast<char>(b.get<int>());
    return s;
  }
  return t.at("token").get<std::string>();
}

void append_logprobs(const json& choice, Api api, std::vector<api::TokenLogprob>& out) {
  const auto it = choice.find("logprobs");
  if (it == choice.end() || it->is_null()) return;
  const json& lp = *it;
  if (api == Api::kChat) {
    const auto content = lp.find("content");
    if (content == lp.end() || content->is_null()) return;
    for (const json& t : *content) {
      api::TokenLogprob tl{.token = chat_token_text(t), .logprob = t.at("logprob").get<double>(), .top = {}};
      if (const auto top = t.find("top_logprobs"); top != t.end() && top->is_array()) {
        for (const json& a : *top) tl.top.emplace_back(chat_token_text(a), a.at("logprob").get<double>());
      }
      tl.top = sorted(std::move(tl.top));
      out.push_back(std::move(tl));
    }
    return;
  }
  const json& tokens = lp.at("tokens");
  const json& values = lp.at("token_logprobs");
  const auto top = lp.find("top_logprobs");
  for (size_t i = 0; i < tokens.size(); ++i) {
    api::TokenLogprob tl{.token = tokens[i].get<std::string>(),
                         .logprob = values.at(i).is_null() ? 0.0 : values.at(i).get<double>(), .top = {}};
    if (top != lp.end() && top->is_array() && i < top->size() && (*top)[i].is_object()) {
      for (const auto& [tok, v] : (*top)[i].items()) tl.top.emplace_back(tok, v.get<double>());
    }
    tl.top = sorted(std::move(tl.top));
    out.push_back(std::move(tl));
  }
}

void read_usage(const json& body, Answer& a) {
  const auto it = body.find("usage");
  if (it == body.end() || !it->is_object()) return;
  if (const auto p = it->find("prompt_tokens"); p != it->end() && p->is_number_integer()) a.prompt_tokens = p->get<int64_t>();
  if (const auto c = it->find("completion_tokens"); c != it->end() && c->is_number_integer()) {
    a.completion_tokens = c->get<int64_t>();
  }
}

// Parse failures of the json library become one tandem::Error.
template <class F>
auto guarded(const char* what, F&& f) {
  try {
    return f();
  } catch (const json::exception& e) {
    throw Error(std::string("malformed ") + what + ": " + e.what());
  }
}

}  // namespace

nlohmann::json request_body(const api::Request& request, const std::string& model, Api api, bool stream,
                            int64_t max_tokens) {
  json body = {{"model", model}};
  if (api == Api::kChat) {
    json messages = json::array();
    if (request.is_chat()) {
      for (const api::Message& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
    } else {
      messages.push_back({{"role", "user"}, {"content", request.prompt}});
    }
    body["messages"] = std::move(messages);
  } else {
    if (request.is_chat()) throw Error("chat messages need the chat API (internal: wrong endpoint chosen)");
    body["prompt"] = request.prompt;
  }
  if (max_tokens >= 0) body["max_tokens"] = max_tokens;
  add_sampling(request, api, body);
  add_constraints(request, api, body);
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

Answer parse_response(const nlohmann::json& body, Api api) {
  return guarded("response", [&] {
    if (!body.is_object()) throw Error("the response is not a JSON object");
    if (body.contains("error")) throw Error("the server answered with an error: " + server_message(body.dump()));
    const json& choice = first_choice(body);
    Answer a;
    if (api == Api::kChat) {
      const auto msg = choice.find("message");
      if (msg == choice.end() || !msg->is_object()) throw Error("the response's choices[0] has no \"message\"");
      a.text = string_or_empty(*msg, "content");  // null content (a refusal, a tool call): no text
    } else {
      const auto text = choice.find("text");
      if (text == choice.end() || !text->is_string()) throw Error("the response's choices[0] has no \"text\"");
      a.text = text->get<std::string>();
    }
    a.finish_reason = string_or_empty(choice, "finish_reason");
    append_logprobs(choice, api, a.logprobs);
    read_usage(body, a);
    return a;
  });
}

std::string parse_stream_chunk(const nlohmann::json& chunk, Api api, Answer& answer) {
  return guarded("stream chunk", [&] {
    if (!chunk.is_object()) throw Error("a stream chunk is not a JSON object");
    if (chunk.contains("error")) throw Error("the server sent an error in the stream: " + server_message(chunk.dump()));
    read_usage(chunk, answer);
    const auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array() || choices->empty()) return std::string();  // e.g. the usage chunk
    const json& choice = (*choices)[0];
    std::string delta;
    if (api == Api::kChat) {
      if (const auto d = choice.find("delta"); d != choice.end() && d->is_object()) delta = string_or_empty(*d, "content");
    } else {
      delta = string_or_empty(choice, "text");
    }
    if (const std::string fr = string_or_empty(choice, "finish_reason"); !fr.empty()) answer.finish_reason = fr;
    append_logprobs(choice, api, answer.logprobs);
    answer.text += delta;
    return delta;
  });
}

std::string server_message(std::string_view body, size_t max_bytes) {
  std::string message;
  try {
    const json j = json::parse(body);
    if (j.is_object()) {
      const auto err = j.find("error");
      if (err != j.end() && err->is_object()) message = string_or_empty(*err, "message");
      if (err != j.end() && err->is_string()) message = err->get<std::string>();
      if (message.empty()) message = string_or_empty(j, "message");
      if (message.empty() && err != j.end()) message = err->dump();
    }
  } catch (const json::exception&) {
  }
  if (message.empty()) message = std::string(body);
  if (message.size() > max_bytes) message = message.substr(0, max_bytes) + "...";
  for (char& c : message) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return message.empty() ? "(empty body)" : message;
}

}  // namespace tandem::remote
