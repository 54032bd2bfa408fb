// The OpenAI wire format: request bodies compared with JSON written out by
// hand from the OpenAI API reference, and response bodies (whole and
// streamed) shaped like OpenAI's, vLLM's and llama.cpp's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "remote/openai.h"
#include "util/error.h"

namespace tandem::remote {
namespace {

using nlohmann::json;

TEST(OpenAiRequest, ChatWithDefaultsSendsOnlyStandardFields) {
  api::Request r;
  r.messages = {{"system", "Be brief."}, {"user", "Hi"}};
  r.max_tokens = 16;
  const json expected = json::parse(R"({
    "model": "gpt-x",
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    "max_tokens": 16, "temperature": 0.8, "top_p": 0.95
  })");
  EXPECT_EQ(request_body(r, "gpt-x", Api::kChat, false, 16), expected);
}

TEST(OpenAiRequest, EveryOptionMapsToItsField) {
  api::Request r;
  r.prompt = "Once";
  r.sampling.temperature = 0.0f;
  r.sampling.top_p = 1.0f;
  r.sampling.top_k = 5;
  r.sampling.min_p = 0.1f;
  r.sampling.repeat_penalty = 1.1f;
  r.sampling.presence_penalty = 0.5f;
  r.sampling.frequency_penalty = -0.25f;
  r.sampling.logit_bias = {{42, -100.0f}};
  r.sampling.seed = 7;
  r.stop = {"\n\n"};
  r.logprobs = 3;
  r.ignore_eos = true;
  const json expected = json::parse(R"({
    "model": "m", "prompt": "Once", "max_tokens": 8,
    "temperature": 0.0, "top_p": 1.0, "top_k": 5, "min_p": 0.1, "repeat_penalty": 1.1,
    "presence_penalty": 0.5, "frequency_penalty": -0.25, "logit_bias": {"42": -100.0}, "seed": 7,
    "stop": ["\n\n"], "logprobs": 3, "ignore_eos": true,
    "stream": true, "stream_options": {"include_usage": true}
  })");
  EXPECT_EQ(request_body(r, "m", Api::kCompletions, true, 8), expected);
}

TEST(OpenAiRequest, RawPromptOnChatApiIsOneUserMessageAndLogprobsAreTopLogprobs) {
  api::Request r;
  r.prompt = "2+2?";
  r.logprobs = 2;
  const json body = request_body(r, "m", Api::kChat, false, -1);
  EXPECT_EQ(body["messages"], json::parse(R"([{"role": "user", "content": "2+2?"}])"));
  EXPECT_EQ(body["logprobs"], true);
  EXPECT_EQ(body["top_logprobs"], 2);
  EXPECT_FALSE(body.contains("max_tokens"));
}

TEST(OpenAiRequest, JsonSchemaBecomesResponseFormatOnChat) {
  api::Request r;
  r.messages = {{"user", "x"}};
  r.json_schema = R"({"type": "object"})";
  const json body = request_body(r, "m", Api::kChat, false, 4);
  EXPECT_EQ(body["response_format"], json::parse(R"({"type": "json_schema",
      "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}})"));
}

TEST(OpenAiRequest, WhatTheApiCannotCarryIsRejected) {
  api::Request r;
  r.prompt = "x";
  r.grammar = "root ::= \"a\"";
  EXPECT_THROW(request_body(r, "m", Api::kChat, false, 4), Error);
  r.grammar.clear();
  r.json_schema = R"({"type": "object"})";
  EXPECT_THROW(request_body(r, "m", Api::kCompletions, false, 4), Error);
  r.json_schema = "{not json";
  EXPECT_THROW(request_body(r, "m", Api::kChat, false, 4), Error);
}

TEST(OpenAiResponse, ChatWithLogprobsAndUsage) {
  const json body = json::parse(R"({
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop",
      "logprobs": {"content": [
        {"token": "Hi", "logprob": -0.1, "top_logprobs": [{"token": "Hey", "logprob": -2.5}, {"token": "Hi", "logprob": -0.1}]},
        {"token": "!", "logprob": -0.2, "bytes": [33], "top_logprobs": []}]}}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
  })");
  const Answer a = parse_response(body, Api::kChat);
  EXPECT_EQ(a.text, "Hi!");
  EXPECT_EQ(a.finish_reason, "stop");
  EXPECT_EQ(a.prompt_tokens, 9);
  EXPECT_EQ(a.completion_tokens, 2);
  ASSERT_EQ(a.logprobs.size(), 2u);
  EXPECT_EQ(a.logprobs[0].token, "Hi");
  EXPECT_DOUBLE_EQ(a.logprobs[0].logprob, -0.1);
  ASSERT_EQ(a.logprobs[0].top.size(), 2u);
  EXPECT_EQ(a.logprobs[0].top[0].first, "Hi");  // most likely first
  EXPECT_EQ(a.logprobs[1].token, "!");
}

TEST(OpenAiResponse, CompletionsLogprobsWithTopDictsSortedMostLikelyFirst) {
  const json body = json::parse(R"({
    "choices": [{"text": " upon", "finish_reason": "length",
      "logprobs": {"tokens": [" upon"], "token_logprobs": [-0.5], "text_offset": [4],
                   "top_logprobs": [{" a": -3.0, " upon": -0.5, " in": -1.5}]}}]
  })");
  const Answer a = parse_response(body, Api::kCompletions);
  EXPECT_EQ(a.text, " upon");
  EXPECT_EQ(a.finish_reason, "length");
  EXPECT_FALSE(a.prompt_tokens);
  ASSERT_EQ(a.logprobs.size(), 1u);
  ASSERT_EQ(a.logprobs[0].top.size(), 3u);
  EXPECT_EQ(a.logprobs[0].top[0].first, " upon");
  EXPECT_EQ(a.logprobs[0].top[1].first, " in");
  EXPECT_EQ(a.logprobs[0].top[2].first, " a");
}

TEST(OpenAiResponse, MissingOrWrongShapedFieldsAreErrors) {
  EXPECT_THROW(parse_response(json::parse(R"({"choices": []})"), Api::kChat), Error);
  EXPECT_THROW(parse_response(json::parse(R"({"choices": "x"})"), Api::kChat), Error);
  EXPECT_THROW(parse_response(json::parse(R"({"choices": [{"text": 3}]})"), Api::kCompletions), Error);
  EXPECT_THROW(parse_response(json::parse(R"([1, 2])"), Api::kChat), Error);
  EXPECT_THROW(parse_response(json::parse(R"({"error": {"message": "bad"}})"), Api::kChat), Error);
  EXPECT_THROW(parse_response(json::parse(R"({"choices": [{"text": "a", "logprobs": {"tokens": 1}}]})"),
                              Api::kCompletions),
               Error);
}

TEST(OpenAiStream, ChunksAppendTextFinishReasonAndUsage) {
  Answer a;
  EXPECT_EQ(parse_stream_chunk(json::parse(R"({"choices": [{"delta": {"role": "assistant"}}]})"), Api::kChat, a), "");
  EXPECT_EQ(parse_stream_chunk(json::parse(R"({"choices": [{"delta": {"content": "Hel"}}], "usage": null})"),
                               Api::kChat, a),
            "Hel");
  EXPECT_EQ(parse_stream_chunk(json::parse(R"({"choices": [{"delta": {"content": "lo"}, "finish_reason": "stop"}]})"),
                               Api::kChat, a),
            "lo");
  EXPECT_EQ(parse_stream_chunk(json::parse(R"({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}})"),
                               Api::kChat, a),
            "");
  EXPECT_EQ(a.text, "Hello");
  EXPECT_EQ(a.finish_reason, "stop");
  EXPECT_EQ(a.prompt_tokens, 5);
  EXPECT_EQ(a.completion_tokens, 2);
  EXPECT_THROW(parse_stream_chunk(json::parse(R"({"error": {"message": "overloaded"}})"), Api::kChat, a), Error);
}

TEST(OpenAiError, ServerMessageFromEachShape) {
  EXPECT_EQ(server_message(R"({"error": {"message": "Invalid key", "type": "auth"}})"), "Invalid key");
  EXPECT_EQ(server_message(R"({"error": "model not found"})"), "model not found");
  EXPECT_EQ(server_message(R"({"object": "error", "message": "too long"})"), "too long");
  EXPECT_EQ(server_message("<html>\nBad gateway</html>"), "<html> Bad gateway</html>");
  EXPECT_EQ(server_message(""), "(empty body)");
  EXPECT_EQ(server_message(std::string(500, 'x'), 10), "xxxxxxxxxx...");
}

}  // namespace
}  // namespace tandem::remote
