// server/openai_response.h, server/metrics.h and server/admission.h: response
// bodies against OpenAI's documented shapes (hand-written), base64 against a
// hand-encoded value, the Prometheus text against hand-counted values.
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "server/admission.h"
#include "server/metrics.h"
#include "server/openai_response.h"

namespace tandem::server {
namespace {

using nlohmann::json;

Choice choice(const std::string& text, int64_t prompt, int64_t completion) {
  Choice c;
  c.response.text = text;
  c.response.finish_reason = "stop";
  c.response.answered_by = "tiny";
  c.response.usage["tiny"] = {.prompt_tokens = prompt, .completion_tokens = completion, .seconds = 0.5, .cost = 0.25};
  c.response.trace.push_back({.model = "tiny", .signal = "mean_logprob", .value = -0.1, .threshold = -0.3, .decision = "accept", .text = {}});
  return c;
}

TEST(OpenAIResponse, ChatBodyHasOpenAIsShapeAndTheTandemExtension) {
  const std::vector<Choice> cs = {choice("hello", 5, 2)};
  const json b = chat_body({"chatcmpl-1", 123, "cascade"}, cs, false);
  EXPECT_EQ(b["object"], "chat.completion");
  EXPECT_EQ(b["model"], "cascade");
  EXPECT_EQ(b["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(b["choices"][0]["message"]["content"], "hello");
  EXPECT_EQ(b["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(b["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(b["usage"], json::parse(R"({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7})"));
  EXPECT_EQ(b["tandem"]["answered_by"], "tiny");
  EXPECT_EQ(b["tandem"]["usage"]["tiny"]["completion_tokens"], 2);
  EXPECT_DOUBLE_EQ(b["tandem"]["cost"].get<double>(), 0.25);
  EXPECT_EQ(b["tandem"]["trace"][0]["decision"], "accept");
}

TEST(OpenAIResponse, ChatLogprobsCarryTokenLogprobBytesAndTop) {
  const std::vector<api::TokenLogprob> lps = {{"\xe2\x96", -0.5, {{"\xe2\x96", -0.5}, {"a", -1.5}}}};
  const json j = chat_logprobs(lps);
  const json& t = j["content"][0];
  EXPECT_EQ(t["bytes"], json::parse("[226, 150]"));
  EXPECT_DOUBLE_EQ(t["logprob"].get<double>(), -0.5);
  EXPECT_EQ(t["top_logprobs"][1], json::parse(R"({"token": "a", "logprob": -1.5, "bytes": [97]})"));
  EXPECT_TRUE(j["refusal"].is_null());
  // Part of a UTF-8 character still makes valid JSON text.
  EXPECT_NO_THROW(json::parse(body_text(j)));
}

TEST(OpenAIResponse, CompletionLogprobsEchoThePromptScores) {
  Choice c = choice("ab", 3, 2);
  c.echo = "xy";
  c.echo_score.tokens = {"x", "y"};
  c.echo_score.token_logprobs = {-1.0, -2.0};
  c.response.logprobs = {{"a", -0.1, {{"a", -0.1}}}, {"b", -0.2, {{"b", -0.2}, {"c", -3.0}}}};
  const json j = completion_logprobs(c, true);
  EXPECT_EQ(j["tokens"], json::parse(R"(["x", "y", "a", "b"])"));
  EXPECT_EQ(j["token_logprobs"], json::parse("[-1.0, -2.0, -0.1, -0.2]"));
  EXPECT_EQ(j["text_offset"], json::parse("[0, 1, 2, 3]"));
  EXPECT_TRUE(j["top_logprobs"][0].is_null());
  EXPECT_EQ(j["top_logprobs"][3], json::parse(R"({"b": -0.2, "c": -3.0})"));
  const std::vector<Choice> cs = {c};
  EXPECT_EQ(completion_body({"cmpl-1", 1, "m"}, cs, true)["choices"][0]["text"], "xyab");
}

// OpenAI's text_offset counts characters of the text; an SPM prefix space
// ("\u2581" rendered as " ") is not in the echoed prompt.
TEST(OpenAIResponse, TextOffsetsCountCharactersOfTheTextWithoutThePrefixSpace) {
  Choice c;
  c.echo = "\xc3\xa9t\xc3\xa9 ok";  // "été ok": 6 characters, 8 bytes
  c.echo_score.tokens = {" \xc3\xa9t\xc3\xa9", " ok"};
  c.echo_score.token_logprobs = {-1.0, -2.0};
  c.response.logprobs = {{"!", -0.1, {}}};
  EXPECT_EQ(completion_logprobs(c, false)["text_offset"], json::parse("[0, 3, 6]"));
}

TEST(OpenAIResponse, UsageChunkHasEmptyChoices) {
  const std::vector<Choice> cs = {choice("a", 1, 1), choice("b", 1, 3)};
  const json u = usage_chunk({"id", 1, "m"}, true, cs);
  EXPECT_TRUE(u["choices"].is_array() && u["choices"].empty());
  EXPECT_EQ(u["usage"]["completion_tokens"], 4);
  EXPECT_EQ(u["tandem"]["choices"].size(), 2u);
}

TEST(OpenAIResponse, Base64IsLittleEndianFloat32) {
  // 1.0f = 00 00 80 3f -> "AACAPw=="; 1.0f, 2.0f (00 00 00 40) -> "AACAPwAAAEA=".
  const float one[] = {1.0f};
  const float two[] = {1.0f, 2.0f};
  EXPECT_EQ(base64_floats(one), "AACAPw==");
  EXPECT_EQ(base64_floats(two), "AACAPwAAAEA=");
}

TEST(Metrics, PrometheusTextCountsWhatHappened) {
  Metrics m;
  m.request("chat", 200, 0.02);
  m.request("chat", 200, 3.0);
  m.request("chat", 400, 0.001);
  m.tokens(10, 4);
  m.answer("cascade", "tiny");
  m.answer("cascade", "tiny");
  m.answer("cascade", "base");
  m.set_gauges(2, 1);
  const std::string t = m.render();
  EXPECT_NE(t.find("tandem_requests_total{endpoint=\"chat\",status=\"200\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_requests_total{endpoint=\"chat\",status=\"400\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_prompt_tokens_total 10\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_completion_tokens_total 4\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_request_duration_seconds_bucket{le=\"0.025\"} 2\n"), std::string::npos);  // 0.001 and 0.02
  EXPECT_NE(t.find("tandem_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_request_duration_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_queue_depth 2\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_active_requests 1\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_answers_total{model=\"cascade\",answered_by=\"tiny\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_answers_total{model=\"cascade\",answered_by=\"base\"} 1\n"), std::string::npos);
}

TEST(Admission, RefusesBeyondParallelPlusQueueAndWakesWaiters) {
  Admission a(1, 1);
  auto first = a.enter();
  ASSERT_TRUE(first);
  std::unique_ptr<Admission::Slot> second;
  std::thread waiter([&] { second = a.enter(); });
  while (a.queued() < 1) std::this_thread::yield();
  EXPECT_EQ(a.enter(), nullptr);  // one running, one waiting: full
  first.reset();
  waiter.join();
  EXPECT_TRUE(second);
  EXPECT_EQ(a.active(), 1);
  a.close();
  EXPECT_EQ(a.enter(), nullptr);
}

}  // namespace
}  // namespace tandem::server
