// A minimal OpenAI-shaped /v1/completions endpoint over any api::Model, on
// 127.0.0.1 inside a test: what lets the contract suite reach a local model
// as a remote one until `tandem serve` exists (then the suite talks to it).
// It maps prompt, max_tokens, temperature, top_p, seed, stop and stream
// (server-sent events, a usage chunk when stream_options.include_usage, then
// [DONE]); anything else in the body is ignored, which is fine for a test.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/model.h"
#include "remote/test_server.h"

namespace tandem::testing {

using api::Request;
using api::Response;
using api::Usage;
using api::Model;

inline Request request_from_body(const nlohmann::json& b) {
  Request q;
  q.prompt = b.at("prompt").get<std::string>();
  q.max_tokens = b.value("max_tokens", 16);
  q.sampling.temperature = b.value("temperature", 1.0f);
  q.sampling.top_p = b.value("top_p", 1.0f);
  if (b.contains("seed")) q.sampling.seed = b["seed"].get<uint64_t>();
  if (b.contains("stop")) {
    if (b["stop"].is_string()) q.stop.push_back(b["stop"].get<std::string>());
    else q.stop = b["stop"].get<std::vector<std::string>>();
  }
  return q;
}

inline nlohmann::json usage_of(const Response& r) {
  const Usage u = r.total();
  return {{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

inline std::string sse(const nlohmann::json& j) { return "data: " + j.dump() + "\n\n"; }

// Serves `model` at {server.url()}/v1/completions; call before server.start().
// `authorization`, when given, receives each request's Authorization header.
inline void serve_completions(remote::testing::TestServer& server, std::shared_ptr<const Model> model,
                              std::shared_ptr<std::string> authorization = nullptr) {
  server.server().Post("/v1/completions", [model, authorization](const httplib::Request& req, httplib::Response& res) {
    if (authorization) *authorization = req.get_header_value("Authorization");
    const nlohmann::json body = nlohmann::json::parse(req.body);
    const Request q = request_from_body(body);
    if (!body.value("stream", false)) {
      const Response r = model->complete(q);
      nlohmann::json out = {{"object", "text_completion"},
                            {"choices", {{{"index", 0}, {"text", r.text}, {"finish_reason", r.finish_reason}}}},
                            {"usage", usage_of(r)}};
      res.set_content(out.dump(), "application/json");
      return;
    }
    // The answer is computed first and then streamed chunk by chunk as the
    // model passed it on (enough for the client's side of streaming).
    auto events = std::make_shared<std::vector<std::string>>();
    const Response r = model->complete(q, [&](std::string_view t) {
      events->push_back(sse({{"choices", {{{"index", 0}, {"text", std::string(t)}, {"finish_reason", nullptr}}}}}));
      return true;
    });
    events->push_back(sse({{"choices", {{{"index", 0}, {"text", ""}, {"finish_reason", r.finish_reason}}}}}));
    if (body.contains("stream_options")) events->push_back(sse({{"choices", nlohmann::json::array()}, {"usage", usage_of(r)}}));
    events->push_back("data: [DONE]\n\n");
    res.set_chunked_content_provider("text/event-stream", [events](size_t i, httplib::DataSink& sink) {
      for (const std::string& e : *events) sink.write(e.data(), e.size());
      (void)i;
      sink.done();
      return true;
    });
  });
}

}  // namespace tandem::testing
