// Shared pieces of the RemoteModel tests: options pointing at a TestServer,
// canned OpenAI-style bodies and server-sent event streams.
#pragma once

#include <httplib.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_clock.h"
#include "remote/remote_model.h"

namespace tandem::remote::testing {

inline constexpr char kKeyEnv[] = "TANDEM_TEST_REMOTE_KEY";
inline constexpr char kKey[] = "sk-test-123";

inline RemoteOptions options_for(const std::string& url) {
  setenv(kKeyEnv, kKey, 1);
  RemoteOptions o;
  o.name = "remote-test";
  o.base_url = url;
  o.model = "test-model";
  o.api = "chat";
  o.api_key_env = kKeyEnv;
  o.connect_timeout_s = 1.0;
  o.read_timeout_s = 1.0;
  o.max_retries = 2;
  o.max_concurrency = 4;
  o.price = {.input_per_mtok = 1.0, .output_per_mtok = 2.0, .per_second = 0.0};
  o.cooldown_after = 100;
  return o;
}

// Fake time and a fixed jitter of 0.5: back-off waits are 0.25, 0.5, 1, ... s.
inline RemoteHooks hooks_for(const std::shared_ptr<FakeClock>& clock) {
  return {.endpoint = nullptr, .clock = clock, .jitter = [] { return 0.5; }};
}

inline api::Request chat_request(const std::string& content = "Hi") {
  api::Request r;
  r.messages = {{"user", content}};
  r.max_tokens = 16;
  return r;
}

inline nlohmann::json chat_response(const std::string& text, bool with_usage = true) {
  nlohmann::json j = {{"id", "c1"}, {"object", "chat.completion"},
                      {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}},
                                    {"finish_reason", "stop"}}}}};
  if (with_usage) j["usage"] = {{"prompt_tokens", 12}, {"completion_tokens", 3}, {"total_tokens", 15}};
  return j;
}

inline std::string sse(const nlohmann::json& chunk) { return "data: " + chunk.dump() + "\n\n"; }

inline nlohmann::json chat_chunk(const std::string& text, const std::string& finish = "") {
  nlohmann::json choice = {{"index", 0}, {"delta", {{"content", text}}}};
  choice["finish_reason"] = finish.empty() ? nlohmann::json(nullptr) : nlohmann::json(finish);
  return {{"object", "chat.completion.chunk"}, {"choices", {choice}}};
}

// Sends `body` in `piece` byte pieces, then ends the chunked body (or, with
// `abort`, drops the connection without ending it).
inline void stream_body(httplib::Response& res, std::string body, size_t piece = 7, bool abort = false) {
  res.set_chunked_content_provider("text/event-stream", [body, piece, abort](size_t, httplib::DataSink& sink) {
    for (size_t i = 0; i < body.size(); i += piece) {
      const std::string p = body.substr(i, piece);
      if (!sink.write(p.data(), p.size())) return false;
    }
    if (abort) return false;
    sink.done();
    return true;
  });
}

inline void json_body(httplib::Response& res, const nlohmann::json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

}  // namespace tandem::remote::testing
