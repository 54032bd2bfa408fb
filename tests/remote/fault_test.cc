// Fault injection: each way an endpoint can fail (no listener, a name that
// does not resolve, TLS against plain HTTP, silence, 401/404/429/500, broken
// or cut JSON, a stream without [DONE], too much data) played by a server on
// 127.0.0.1 inside the test. Each must end in one clear error naming the
// endpoint, with the number of requests the retry rules allow, in well
// under five seconds.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "remote_helpers.h"
#include "test_server.h"
#include "util/error.h"

namespace tandem::remote {
namespace {

using namespace testing;  // tandem::remote::testing
using nlohmann::json;

using Serve = std::function<void(httplib::Server&, std::atomic<int>& requests)>;

struct FaultCase {
  std::string name;
  Serve serve;
  std::function<void(RemoteOptions&, int port)> adjust = nullptr;
  std::function<void(api::Request&)> request = nullptr;
  bool stream = false;
  int requests = 0;                    // requests the server must have seen
  std::vector<std::string> expected;   // parts of the error; "{url}" is the endpoint's URL
};

// Answers every chat request with `handler`, counting them.
Serve chat(std::function<void(const httplib::Request&, httplib::Response&)> handler) {
  return [handler](httplib::Server& s, std::atomic<int>& requests) {
    s.Post("/v1/chat/completions", [handler, &requests](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      handler(req, res);
    });
  };
}

Serve status(int code, const std::string& body, const std::string& retry_after = "") {
  return chat([=](const httplib::Request&, httplib::Response& res) {
    res.status = code;
    if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
    res.set_content(body, "application/json");
  });
}

Serve no_server() {
  return [](httplib::Server&, std::atomic<int>&) {};
}

std::vector<FaultCase> fault_cases() {
  std::vector<FaultCase> c;
  c.push_back({.name = "ConnectionRefused", .serve = no_server(),
               .adjust = [](RemoteOptions& o, int) { o.base_url = "http://127.0.0.1:" + std::to_string(closed_port()); },
               .requests = 0, .expected = {"{url}", "cannot connect", "after 3 attempts"}});
  c.push_back({.name = "DnsFailure", .serve = no_server(),
               .adjust = [](RemoteOptions& o, int) {
                 o.base_url = "http://tandem-no-such-host.invalid:8080";
                 o.max_retries = 0;
               },
               .requests = 0, .expected = {"http://tandem-no-such-host.invalid:8080/v1/chat/completions", "cannot connect"}});
  c.push_back({.name = "TlsAgainstPlainHttp", .serve = status(200, chat_response("x").dump()),
               .adjust = [](RemoteOptions& o, int port) { o.base_url = "https://127.0.0.1:" + std::to_string(port); },
               .requests = 0, .expected = {"{url}", "TLS failed"}});
  c.push_back({.name = "ReadTimeout",
               .serve = chat([](const httplib::Request&, httplib::Response& res) {
                 std::this_thread::sleep_for(std::chrono::milliseconds(700));
                 json_body(res, chat_response("late"));
               }),
               .adjust = [](RemoteOptions& o, int) {
                 o.read_timeout_s = 0.3;
                 o.max_retries = 1;
               },
               .requests = 2, .expected = {"{url}", "read timeout", "after 2 attempts"}});
  c.push_back({.name = "Unauthorized401",
               .serve = status(401, R"({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})"),
               .requests = 1, .expected = {"{url}", "HTTP 401: Incorrect API key provided"}});
  c.push_back({.name = "NotFound404",
               .serve = status(404, R"({"error": {"message": "The model `test-model` does not exist"}})"),
               .requests = 1, .expected = {"{url}", "HTTP 404: The model `test-model` does not exist"}});
  c.push_back({.name = "ServerError500Persisting", .serve = status(500, R"({"error": "boom"})"),
               .requests = 3, .expected = {"{url}", "HTTP 500: boom", "after 3 attempts"}});
  c.push_back({.name = "TooManyRequestsRetryAfterTooLong", .serve = status(429, R"({"error": "slow down"})", "3600"),
               .requests = 1, .expected = {"HTTP 429: slow down", "longer than max_retry_after_s"}});
  c.push_back({.name = "TruncatedJson", .serve = status(200, R"({"choices": [{"message": {"content": "hel)"),
               .requests = 1, .expected = {"{url}", "malformed JSON in the response"}});
  c.push_back({.name = "MalformedJson", .serve = status(200, "<html>it works</html>"),
               .requests = 1, .expected = {"{url}", "malformed JSON in the response"}});
  c.push_back({.name = "WrongShapedJson", .serve = status(200, R"({"choices": []})"),
               .requests = 1, .expected = {"{url}", "\"choices\" array is empty"}});
  c.push_back({.name = "StreamWithoutDone",
               .serve = chat([](const httplib::Request&, httplib::Response& res) {
                 stream_body(res, sse(chat_chunk("Hello", "stop")));
               }),
               .stream = true, .requests = 1, .expected = {"{url}", "ended without [DONE]"}});
  c.push_back({.name = "MalformedStreamEvent",
               .serve = chat([](const httplib::Request&, httplib::Response& res) { stream_body(res, "data: {oops\n\n"); }),
               .stream = true, .requests = 1, .expected = {"{url}", "malformed JSON in a stream event"}});
  c.push_back({.name = "ErrorEventInStream",
               .serve = chat([](const httplib::Request&, httplib::Response& res) {
                 stream_body(res, sse({{"error", {{"message", "model overloaded"}}}}));
               }),
               .stream = true, .requests = 1, .expected = {"{url}", "model overloaded"}});
  c.push_back({.name = "OversizedResponse",
               .serve = status(200, chat_response(std::string(4096, 'x')).dump()),
               .adjust = [](RemoteOptions& o, int) { o.max_response_bytes = 1024; },
               .requests = 1, .expected = {"{url}", "larger than 1024 bytes"}});
  c.push_back({.name = "OversizedStream",
               .serve = chat([](const httplib::Request&, httplib::Response& res) {
                 std::string body;
                 for (int i = 0; i < 200; ++i) body += sse(chat_chunk("xxxxxxxx"));
                 stream_body(res, body, 512);
               }),
               .adjust = [](RemoteOptions& o, int) { o.max_response_bytes = 1024; },
               .stream = true, .requests = 1, .expected = {"{url}", "larger than 1024 bytes", "not retried"}});
  c.push_back({.name = "PromptOverContext", .serve = status(200, chat_response("x").dump()),
               .adjust = [](RemoteOptions& o, int) { o.context = 20; },
               .request = [](api::Request& r) { r.messages = {{"user", std::string(100, 'a')}}; },
               // ceil(100 / 4) + 4 = 29 prompt tokens + 16 max_tokens = 45 > 20
               .requests = 0, .expected = {"remote-test", "29 prompt tokens", "= 45, more than its context of 20"}});
  c.push_back({.name = "GrammarRejected", .serve = status(200, chat_response("x").dump()),
               .request = [](api::Request& r) { r.grammar = "root ::= \"a\""; },
               .requests = 0, .expected = {"remote-test", "GBNF grammar cannot be sent"}});
  return c;
}

class RemoteFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(RemoteFault, FailsWithOneClearErrorInBoundedTime) {
  const FaultCase& c = GetParam();
  TestServer server;
  std::atomic<int> requests{0};
  c.serve(server.server(), requests);
  server.start();
  RemoteOptions o = options_for(server.url());
  if (c.adjust) c.adjust(o, server.port());
  auto clock = std::make_shared<FakeClock>();
  const RemoteModel model(o, hooks_for(clock));
  api::Request request = chat_request();
  if (c.request) c.request(request);

  const auto t0 = std::chrono::steady_clock::now();
  std::string message, streamed;
  try {
    if (c.stream) {
      model.complete(request, [&](std::string_view t) {
        streamed += t;
        return true;
      });
    } else {
      model.complete(request);
    }
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    message = e.what();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 3.0);
  const std::string url = o.base_url + "/v1/chat/completions";
  for (std::string part : c.expected) {
    if (part == "{url}") part = url;
    EXPECT_NE(message.find(part), std::string::npos) << "missing '" << part << "' in: " << message;
  }
  EXPECT_EQ(message.find(kKey), std::string::npos) << "the API key leaked into: " << message;
  EXPECT_EQ(requests.load(), c.requests);
}

INSTANTIATE_TEST_SUITE_P(Faults, RemoteFault, ::testing::ValuesIn(fault_cases()),
                         [](const ::testing::TestParamInfo<FaultCase>& info) { return info.param.name; });

TEST(RemoteFaultRetry, ConnectionRefusedBacksOffExponentially) {
  RemoteOptions o = options_for("http://127.0.0.1:" + std::to_string(closed_port()));
  auto clock = std::make_shared<FakeClock>();
  const RemoteModel model(o, hooks_for(clock));
  EXPECT_THROW(model.complete(chat_request()), Error);
  // jitter 0.5 times the windows 0.5 and 1.0 s.
  EXPECT_EQ(clock->sleeps(), (std::vector<double>{0.25, 0.5}));
}

TEST(RemoteFaultRetry, TooManyRequestsWaitsForRetryAfterThenSucceeds) {
  TestServer server;
  std::atomic<int> requests{0};
  server.server().Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    if (++requests == 1) {
      res.status = 429;
      res.set_header("Retry-After", "2");
      res.set_content(R"({"error": {"message": "Rate limit reached"}})", "application/json");
      return;
    }
    json_body(res, chat_response("Hello"));
  });
  server.start();
  auto clock = std::make_shared<FakeClock>();
  const RemoteModel model(options_for(server.url()), hooks_for(clock));
  const api::Response r = model.complete(chat_request());
  EXPECT_EQ(r.text, "Hello");
  EXPECT_EQ(requests.load(), 2);
  EXPECT_EQ(clock->sleeps(), (std::vector<double>{2.0}));  // the back-off alone would be 0.25 s
  ASSERT_GE(r.trace.size(), 2u);
  EXPECT_EQ(r.trace[0].signal, "attempt");
  EXPECT_NE(r.trace[0].decision.find("retry in 2.00 s: HTTP 429: Rate limit reached"), std::string::npos)
      << r.trace[0].decision;
}

TEST(RemoteFaultRetry, ServerErrorsAreRetriedWithBackoffThenSucceed) {
  TestServer server;
  std::atomic<int> requests{0};
  server.server().Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    if (++requests <= 2) {
      res.status = 500 + requests.load();  // 501, 502
      res.set_content("upstream trouble", "text/plain");
      return;
    }
    json_body(res, chat_response("Fine"));
  });
  server.start();
  auto clock = std::make_shared<FakeClock>();
  const RemoteModel model(options_for(server.url()), hooks_for(clock));
  EXPECT_EQ(model.complete(chat_request()).text, "Fine");
  EXPECT_EQ(requests.load(), 3);
  EXPECT_EQ(clock->sleeps(), (std::vector<double>{0.25, 0.5}));
}

TEST(RemoteFaultStream, FailureAfterTheFirstTokenIsNotRetriedNorDuplicated) {
  TestServer server;
  std::atomic<int> requests{0};
  server.server().Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    ++requests;
    stream_body(res, sse(chat_chunk("Hel")), 64, /*abort=*/true);
  });
  server.start();
  auto clock = std::make_shared<FakeClock>();
  const RemoteModel model(options_for(server.url()), hooks_for(clock));
  std::string streamed;
  try {
    model.complete(chat_request(), [&](std::string_view t) {
      streamed += t;
      return true;
    });
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not retried: part of the answer was already passed on"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(streamed, "Hel");
  EXPECT_EQ(requests.load(), 1);
  EXPECT_TRUE(clock->sleeps().empty());
}

TEST(RemoteFaultStream, FailureBeforeTheFirstTokenIsRetriedWithoutSplicing) {
  TestServer server;
  std::atomic<int> requests{0};
  server.server().Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    if (++requests == 1) {
      // A role-only chunk (no text), then the connection drops.
      stream_body(res, sse({{"choices", {{{"index", 0}, {"delta", {{"role", "assistant"}}}}}}}), 64, true);
      return;
    }
    stream_body(res, sse(chat_chunk("Hel")) + sse(chat_chunk("lo", "stop")) + "data: [DONE]\n\n");
  });
  server.start();
  auto clock = std::make_shared<FakeClock>();
  const RemoteModel model(options_for(server.url()), hooks_for(clock));
  std::string streamed;
  const api::Response r = model.complete(chat_request(), [&](std::string_view t) {
    streamed += t;
    return true;
  });
  EXPECT_EQ(streamed, "Hello");
  EXPECT_EQ(r.text, "Hello");
  EXPECT_EQ(requests.load(), 2);
}

TEST(RemoteFaultHealth, RepeatedFailuresCoolTheEndpointDownUntilItExpires) {
  TestServer server;
  std::atomic<int> requests{0};
  std::atomic<bool> healthy{false};
  server.server().Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    ++requests;
    if (healthy) return json_body(res, chat_response("back"));
    res.status = 503;
    res.set_content(R"({"error": "maintenance"})", "application/json");
  });
  server.start();
  RemoteOptions o = options_for(server.url());
  o.max_retries = 0;
  o.cooldown_after = 2;
  o.cooldown_s = 10;
  auto clock = std::make_shared<FakeClock>();
  const RemoteModel model(o, hooks_for(clock));
  EXPECT_THROW(model.complete(chat_request()), Error);
  EXPECT_FALSE(model.endpoint().health().cooling);
  EXPECT_THROW(model.complete(chat_request()), Error);
  EXPECT_TRUE(model.endpoint().health().cooling);
  try {
    model.complete(chat_request());
    ADD_FAILURE() << "no error while cooling";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("is cooling down for 10.0 s more after 2 failed attempts"), std::string::npos) << m;
    EXPECT_NE(m.find("HTTP 503: maintenance"), std::string::npos) << m;
  }
  EXPECT_EQ(requests.load(), 2);  // the cooled-down call never reached the server
  healthy = true;
  clock->advance(9.0);
  EXPECT_THROW(model.complete(chat_request()), Error);
  EXPECT_EQ(requests.load(), 2);
  clock->advance(1.5);
  EXPECT_EQ(model.complete(chat_request()).text, "back");
  EXPECT_EQ(requests.load(), 3);
  EXPECT_FALSE(model.endpoint().health().cooling);
  EXPECT_EQ(model.endpoint().health().consecutive_failures, 0);
}

TEST(RemoteFaultLimit, ParallelCallsNeverExceedTheConcurrencyLimitAtTheServer) {
  TestServer server;
  std::atomic<int> in_flight{0}, most{0}, requests{0};
  server.server().Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    ++requests;
    const int now = ++in_flight;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    --in_flight;
    json_body(res, chat_response("ok"));
  });
  server.start();
  RemoteOptions o = options_for(server.url());
  o.max_concurrency = 2;
  auto clock = std::make_shared<FakeClock>();
  const RemoteModel model(o, hooks_for(clock));
  std::vector<std::thread> threads;
  std::atomic<int> answered{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      try {
        if (model.complete(chat_request()).text == "ok") ++answered;
      } catch (const Error& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(answered.load(), 6);
  EXPECT_EQ(requests.load(), 6);
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
}

}  // namespace
}  // namespace tandem::remote
