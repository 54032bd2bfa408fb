// RemoteModel against a well-behaved server on 127.0.0.1: what it sends (the
// body and key checked field by field against the OpenAI reference), and what
// it returns (text assembled exactly, usage from the server or estimated by
// the stated rule, cost from the price, the trace, cancel, score).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "remote_helpers.h"
#include "test_server.h"
#include "util/error.h"

namespace tandem::remote {
namespace {

using namespace testing;  // tandem::remote::testing
using nlohmann::json;

// Records the last request's body and Authorization header.
struct Seen {
  json body;
  std::string authorization;
  std::atomic<int> requests{0};
};

void record(Seen& seen, const httplib::Request& req) {
  ++seen.requests;
  seen.body = json::parse(req.body);
  seen.authorization = req.get_header_value("Authorization");
}

TEST(RemoteModel, ChatAnswerWithTheServersUsageCostAndTrace) {
  TestServer server;
  Seen seen;
  server.server().Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    record(seen, req);
    json_body(res, chat_response("Hello there"));
  });
  server.start();
  const RemoteModel model(options_for(server.url()), hooks_for(std::make_shared<FakeClock>()));
  const api::Response r = model.complete(chat_request("Hi"));

  EXPECT_EQ(seen.authorization, std::string("Bearer ") + kKey);
  EXPECT_EQ(seen.body, json::parse(R"({"model": "test-model", "messages": [{"role": "user", "content": "Hi"}],
                                       "max_tokens": 16, "temperature": 0.8, "top_p": 0.95})"));
  EXPECT_EQ(r.text, "Hello there");
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.answered_by, "remote-test");
  const api::Usage& u = r.usage.at("remote-test");
  EXPECT_EQ(u.prompt_tokens, 12);
  EXPECT_EQ(u.completion_tokens, 3);
  EXPECT_DOUBLE_EQ(u.cost, (12 * 1.0 + 3 * 2.0) / 1e6);
  EXPECT_GT(r.latency_ms, 0.0);
  ASSERT_EQ(r.trace.size(), 1u);
  EXPECT_EQ(r.trace[0].model, "remote-test");
  EXPECT_EQ(r.trace[0].signal, "latency_ms");
  EXPECT_EQ(r.trace[0].decision, "answer");
  EXPECT_TRUE(model.capabilities().chat);
  EXPECT_FALSE(model.capabilities().scoring);
}

// "Hel", "lo, " and "wörld" in events torn into 7-byte pieces, then a usage chunk.
std::string hello_stream(bool with_usage) {
  std::string s = ": comment\n\n" + sse(chat_chunk("Hel")) + sse(chat_chunk("lo, ")) + sse(chat_chunk("wörld", "stop"));
  if (with_usage) s += sse({{"choices", json::array()}, {"usage", {{"prompt_tokens", 7}, {"completion_tokens", 3}}}});
  return s + "data: [DONE]\n\n";
}

TEST(RemoteModel, StreamPassesEachPieceOnceAndCountsTheServersUsage) {
  TestServer server;
  Seen seen;
  server.server().Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    record(seen, req);
    stream_body(res, hello_stream(true));
  });
  server.start();
  const RemoteModel model(options_for(server.url()), hooks_for(std::make_shared<FakeClock>()));
  std::vector<std::string> pieces;
  const api::Response r = model.complete(chat_request(), [&](std::string_view t) {
    pieces.emplace_back(t);
    return true;
  });
  EXPECT_EQ(seen.body["stream"], true);
  EXPECT_EQ(seen.body["stream_options"], json::parse(R"({"include_usage": true})"));
  EXPECT_EQ(pieces, (std::vector<std::string>{"Hel", "lo, ", "wörld"}));
  EXPECT_EQ(r.text, "Hello, wörld");
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.usage.at("remote-test").prompt_tokens, 7);
  EXPECT_EQ(r.usage.at("remote-test").completion_tokens, 3);
  for (const api::TraceStep& s : r.trace) EXPECT_NE(s.signal, "usage");
}

TEST(RemoteModel, StreamWithoutUsageIsEstimatedAndSaysSo) {
  TestServer server;
  server.server().Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    stream_body(res, hello_stream(false));
  });
  server.start();
  const RemoteModel model(options_for(server.url()), hooks_for(std::make_shared<FakeClock>()));
  const api::Response r = model.complete(chat_request("Hi"), [](std::string_view) { return true; });
  const api::Usage& u = r.usage.at("remote-test");
  EXPECT_EQ(u.prompt_tokens, 1 + 4);      // ceil(2 / 4) + 4 for the one message
  EXPECT_EQ(u.completion_tokens, 4);      // "Hello, wörld" is 13 bytes: ceil(13 / 4)
  EXPECT_DOUBLE_EQ(u.cost, (5 * 1.0 + 4 * 2.0) / 1e6);
  bool marked = false;
  for (const api::TraceStep& s : r.trace) marked |= s.signal == "usage" && s.decision.starts_with("usage estimated");
  EXPECT_TRUE(marked);
}

TEST(RemoteModel, CancelClosesTheStreamWithTheTextSoFar) {
  TestServer server;
  server.server().Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    stream_body(res, hello_stream(true));
  });
  server.start();
  const RemoteModel model(options_for(server.url()), hooks_for(std::make_shared<FakeClock>()));
  std::string streamed;
  const api::Response r = model.complete(chat_request(), [&](std::string_view t) {
    streamed += t;
    return false;
  });
  EXPECT_EQ(streamed, "Hel");
  EXPECT_EQ(r.text, "Hel");
  EXPECT_EQ(r.finish_reason, "cancelled");
}

TEST(RemoteModel, RawPromptGoesToCompletionsWithLogprobs) {
  TestServer server;
  Seen seen;
  server.server().Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    record(seen, req);
    json_body(res, json::parse(R"({"choices": [{"text": " upon", "finish_reason": "length",
        "logprobs": {"tokens": [" upon"], "token_logprobs": [-0.5], "top_logprobs": [{" upon": -0.5, " a": -2.0}]}}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1}})"));
  });
  server.start();
  RemoteOptions o = options_for(server.url() + "/v1/");  // a trailing slash is the same URL
  o.api = "completions";
  const RemoteModel model(o, hooks_for(std::make_shared<FakeClock>()));
  api::Request req;
  req.prompt = "Once";
  req.max_tokens = 1;
  req.logprobs = 2;
  const api::Response r = model.complete(req);
  EXPECT_EQ(seen.body["prompt"], "Once");
  EXPECT_EQ(seen.body["logprobs"], 2);
  EXPECT_EQ(r.text, " upon");
  EXPECT_EQ(r.finish_reason, "length");
  ASSERT_EQ(r.logprobs.size(), 1u);
  EXPECT_DOUBLE_EQ(r.logprobs[0].logprob, -0.5);
  ASSERT_EQ(r.logprobs[0].top.size(), 2u);
  EXPECT_EQ(r.logprobs[0].top[1].first, " a");
}

TEST(RemoteModel, ScoreUsesEchoedPromptLogprobs) {
  TestServer server;
  Seen seen;
  server.server().Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    record(seen, req);
    json_body(res, json::parse(R"({"choices": [{"text": "The cat sat", "logprobs": {
        "tokens": ["The", " cat", " sat"], "token_logprobs": [null, -1.25, -0.5], "text_offset": [0, 3, 7]}}]})"));
  });
  server.start();
  RemoteOptions o = options_for(server.url());
  o.api = "completions";
  const RemoteModel model(o, hooks_for(std::make_shared<FakeClock>()));
  ASSERT_TRUE(model.capabilities().scoring);
  const api::Score s = model.score("The cat", " sat");
  EXPECT_EQ(seen.body["prompt"], "The cat sat");
  EXPECT_EQ(seen.body["echo"], true);
  EXPECT_EQ(seen.body["max_tokens"], 0);
  EXPECT_EQ(s.tokens, (std::vector<std::string>{" sat"}));
  EXPECT_DOUBLE_EQ(s.sum_logprob, -0.5);
}

TEST(RemoteModel, ChatApiCannotScore) {
  const RemoteModel model(options_for("http://127.0.0.1:1"), hooks_for(std::make_shared<FakeClock>()));
  EXPECT_THROW(model.score("a", "b"), Error);
}

TEST(RemoteModelOptions, MissingApiKeyVariableIsNamed) {
  RemoteOptions o = options_for("http://127.0.0.1:1");
  o.api_key_env = "TANDEM_TEST_UNSET_KEY_VARIABLE";
  unsetenv(o.api_key_env.c_str());
  try {
    RemoteModel model(o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("TANDEM_TEST_UNSET_KEY_VARIABLE"), std::string::npos) << e.what();
  }
}

TEST(RemoteModelOptions, BadOptionsAreErrors) {
  RemoteOptions o = options_for("ftp://example.com");
  EXPECT_THROW(RemoteModel{o}, Error);
  o = options_for("http://127.0.0.1:1");
  o.api = "embeddings";
  EXPECT_THROW(RemoteModel{o}, Error);
  o = options_for("http://127.0.0.1:1");
  o.max_concurrency = 0;
  EXPECT_THROW(RemoteModel{o}, Error);
}

TEST(RemoteModelOptions, BaseUrlWithoutPathMeansV1) {
  EXPECT_EQ(parse_base_url("http://localhost:8080").path, "/v1");
  EXPECT_EQ(parse_base_url("https://api.example.com/openai/v1/").path, "/openai/v1");
  EXPECT_EQ(parse_base_url("https://api.example.com/openai/v1/").origin, "https://api.example.com");
  EXPECT_THROW(parse_base_url("localhost:8080"), Error);
  EXPECT_THROW(parse_base_url("http://"), Error);
}

}  // namespace
}  // namespace tandem::remote
