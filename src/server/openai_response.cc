#include "server/openai_response.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "api/response_json.h"

namespace tandem::server {
namespace {

using nlohmann::json;

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

// -inf (a token masked out) is not JSON: OpenAI writes -9999.0 for such.
double finite(double lp) { return std::isfinite(lp) ? lp : -9999.0; }

json message(const Choice& c) {
  json m = {{"role", "assistant"}, {"content", c.tool_calls.is_null() ? json(c.response.text) : json(nullptr)},
            {"refusal", nullptr}};
  if (!c.tool_calls.is_null()) m["tool_calls"] = c.tool_calls;
  return m;
}

}  // namespace

std::string finish_reason(const std::string& r) {
  if (r == "eos" || r == "stop") return "stop";
  return r;
}

json usage_json(std::span<const Choice> choices, int64_t extra_prompt_tokens) {
  int64_t prompt = extra_prompt_tokens, completion = 0;
  for (const Choice& c : choices) {
    const api::Usage u = c.response.total();
    prompt += u.prompt_tokens;
    completion += u.completion_tokens;
  }
  return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

json tandem_json(std::span<const Choice> choices) {
  json t = json::object();
  if (choices.empty()) return t;
  std::map<std::string, api::Usage> usage;
  double cost = 0.0;
  for (const Choice& c : choices) {
    for (const auto& [name, u] : c.response.usage) usage[name] += u;
    cost += c.response.cost();
  }
  const json first = api::to_json(choices[0].response);
  t["answered_by"] = choices[0].response.answered_by;
  json per_model = json::object();
  for (const auto& [name, u] : usage) {
    per_model[name] = {{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
                       {"seconds", u.seconds}, {"cost", u.cost}};
  }
  t["usage"] = per_model;
  t["cost"] = cost;
  t["trace"] = first["trace"];
  if (choices.size() > 1) {
    json each = json::array();
    for (const Choice& c : choices) {
      each.push_back({{"index", c.index}, {"answered_by", c.response.answered_by}, {"trace", api::to_json(c.response)["trace"]}});
    }
    t["choices"] = each;
  }
  return t;
}

json chat_logprobs(std::span<const api::TokenLogprob> logprobs) {
  json content = json::array();
  for (const api::TokenLogprob& t : logprobs) {
    json top = json::array();
    for (const auto& [tok, lp] : t.top) top.push_back({{"token", tok}, {"logprob", finite(lp)}, {"bytes", bytes_of(tok)}});
    content.push_back({{"token", t.token}, {"logprob", finite(t.logprob)}, {"bytes", bytes_of(t.token)}, {"top_logprobs", top}});
  }
  return {{"content", content}, {"refusal", nullptr}};
}

// Characters (code points) of UTF-8 text; a token that is part of a character
// counts its lead byte.
int64_t code_points(const std::string& s) {
  int64_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

json completion_logprobs(const Choice& c, bool with_top) {
  json tokens = json::array(), values = json::array(), tops = json::array(), offsets = json::array();
  // text_offset counts characters into the choice's text. Tokenizers that add
  // a prefix space (SPM) make the echoed tokens one space longer than the
  // prompt: their offsets shift left by it (the first token starts at 0).
  std::string joined;
  for (const std::string& t : c.echo_score.tokens) joined += t;
  int64_t offset = 0;
  if (joined.size() > c.echo.size() && joined.compare(joined.size() - c.echo.size(), c.echo.size(), c.echo) == 0)
    offset = -code_points(joined.substr(0, joined.size() - c.echo.size()));
  for (size_t i = 0; i < c.echo_score.tokens.size(); ++i) {
    tokens.push_back(c.echo_score.tokens[i]);
    values.push_back(finite(c.echo_score.token_logprobs[i]));
    tops.push_back(nullptr);  // Model::score gives no alternatives
    offsets.push_back(std::max<int64_t>(offset, 0));
    offset += code_points(c.echo_score.tokens[i]);
  }
  offset = code_points(c.echo);
  for (const api::TokenLogprob& t : c.response.logprobs) {
    tokens.push_back(t.token);
    values.push_back(finite(t.logprob));
    json top = json::object();
    for (const auto& [tok, lp] : t.top) {
      if (!top.contains(tok)) top[tok] = finite(lp);
    }
    tops.push_back(with_top ? top : json(nullptr));
    offsets.push_back(offset);
    offset += code_points(t.token);
  }
  return {{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

json chat_body(const Envelope& e, std::span<const Choice> choices, bool logprobs) {
  json out = {{"id", e.id}, {"object", "chat.completion"}, {"created", e.created}, {"model", e.model},
              {"system_fingerprint", nullptr}};
  json cs = json::array();
  for (const Choice& c : choices) {
    cs.push_back({{"index", c.index},
                  {"message", message(c)},
                  {"logprobs", logprobs ? chat_logprobs(c.response.logprobs) : json(nullptr)},
                  {"finish_reason", finish_reason(c.response.finish_reason)}});
  }
  out["choices"] = cs;
  out["usage"] = usage_json(choices);
  out["tandem"] = tandem_json(choices);
  return out;
}

json completion_body(const Envelope& e, std::span<const Choice> choices, bool logprobs) {
  json out = {{"id", e.id}, {"object", "text_completion"}, {"created", e.created}, {"model", e.model},
              {"system_fingerprint", nullptr}};
  json cs = json::array();
  for (const Choice& c : choices) {
    cs.push_back({{"index", c.index},
                  {"text", c.echo + c.response.text},
                  {"logprobs", logprobs ? completion_logprobs(c, true) : json(nullptr)},
                  {"finish_reason", finish_reason(c.response.finish_reason)}});
  }
  out["choices"] = cs;
  out["usage"] = usage_json(choices);
  out["tandem"] = tandem_json(choices);
  return out;
}

json chat_chunk(const Envelope& e, int index, const json& delta, const json& finish, const json& logprobs) {
  return {{"id", e.id}, {"object", "chat.completion.chunk"}, {"created", e.created}, {"model", e.model},
          {"system_fingerprint", nullptr},
          {"choices", {{{"index", index}, {"delta", delta}, {"logprobs", logprobs}, {"finish_reason", finish}}}}};
}

json completion_chunk(const Envelope& e, int index, const std::string& text, const json& finish, const json& logprobs) {
  return {{"id", e.id}, {"object", "text_completion"}, {"created", e.created}, {"model", e.model},
          {"system_fingerprint", nullptr},
          {"choices", {{{"index", index}, {"text", text}, {"logprobs", logprobs}, {"finish_reason", finish}}}}};
}

json usage_chunk(const Envelope& e, bool chat, std::span<const Choice> choices) {
  return {{"id", e.id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", e.created},
          {"model", e.model}, {"system_fingerprint", nullptr}, {"choices", json::array()},
          {"usage", usage_json(choices)}, {"tandem", tandem_json(choices)}};
}

std::string base64_floats(std::span<const float> v) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int k = 0; k < 4; ++k) bytes[i * 4 + k] = static_cast<char>((u >> (8 * k)) & 0xff);  // little-endian
  }
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

json embeddings_body(const std::string& model, const std::vector<std::vector<float>>& vectors, bool base64) {
  json data = json::array();
  for (size_t i = 0; i < vectors.size(); ++i) {
    json emb = base64 ? json(base64_floats(vectors[i])) : json(vectors[i]);
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", emb}});
  }
  // Model::embed reports no token counts: usage is present (clients read it) and 0.
  return {{"object", "list"}, {"data", data}, {"model", model},
          {"usage", {{"prompt_tokens", 0}, {"total_tokens", 0}}}};
}

json model_json(const std::string& id, int64_t created) {
  return {{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "tandem"}};
}

std::string body_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace tandem::server
