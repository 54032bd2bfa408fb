// server/openai_request.h: OpenAI request bodies as tandem requests, checked
// field by field against hand-written expectations (OpenAI's API reference):
// what is honoured lands in the Request, everything else is a 400 naming it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/openai_request.h"

namespace tandem::server {
namespace {

using nlohmann::json;

json chat(json extra = json::object()) {
  json b = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  for (const auto& [k, v] : extra.items()) b[k] = v;
  return b;
}

// The ApiError parse_chat throws: status and param.
std::pair<int, std::string> chat_error(const json& body, const Limits& limits = {}) {
  try {
    parse_chat(body, {}, limits);
  } catch (const ApiError& e) {
    return {e.status(), e.param()};
  }
  return {0, ""};
}

TEST(OpenAIRequest, ChatFieldsLandInTheRequest) {
  const CompletionCall c = parse_chat(chat({{"temperature", 0.5}, {"top_p", 0.9}, {"max_tokens", 7}, {"stop", "x"},
                                            {"seed", 42}, {"n", 3}, {"presence_penalty", 0.5}, {"frequency_penalty", -1},
                                            {"logit_bias", {{"17", -100}, {"3", 2.5}}}, {"logprobs", true},
                                            {"top_logprobs", 4}, {"top_k", 5}, {"min_p", 0.1},
                                            {"repetition_penalty", 1.2}, {"ignore_eos", true}}),
                                      {}, {});
  ASSERT_EQ(c.requests.size(), 1u);
  const api::Request& q = c.requests[0];
  ASSERT_EQ(q.messages.size(), 1u);
  EXPECT_EQ(q.messages[0].role, "user");
  EXPECT_EQ(q.messages[0].content, "hi");
  EXPECT_FLOAT_EQ(q.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(q.sampling.top_p, 0.9f);
  EXPECT_EQ(q.max_tokens, 7);
  EXPECT_EQ(q.stop, std::vector<std::string>{"x"});
  EXPECT_EQ(q.sampling.seed, 42u);
  EXPECT_EQ(c.n, 3);
  EXPECT_FLOAT_EQ(q.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(q.sampling.frequency_penalty, -1.0f);
  const std::vector<std::pair<int32_t, float>> bias = {{17, -100.0f}, {3, 2.5f}};
  EXPECT_EQ(q.sampling.logit_bias, bias);
  EXPECT_EQ(q.logprobs, 4);
  EXPECT_EQ(q.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(q.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(q.sampling.repeat_penalty, 1.2f);
  EXPECT_TRUE(q.ignore_eos);
}

TEST(OpenAIRequest, MaxCompletionTokensAndContentPartsAndDeveloperRole) {
  const json msgs = {{{"role", "developer"}, {"content", "be brief"}},
                     {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}}}}};
  const CompletionCall c = parse_chat(chat({{"messages", msgs}, {"max_completion_tokens", 9}}), {}, {});
  EXPECT_EQ(c.requests[0].max_tokens, 9);
  EXPECT_EQ(c.requests[0].messages[0].role, "system");
  EXPECT_EQ(c.requests[0].messages[1].content, "ab");
}

TEST(OpenAIRequest, AbsentFieldsTakeTheModelsDefaults) {
  Defaults d;
  d.sampling.temperature = 0.3f;
  d.max_tokens_chat = 55;
  const CompletionCall c = parse_chat(chat(), d, {});
  EXPECT_FLOAT_EQ(c.requests[0].sampling.temperature, 0.3f);
  EXPECT_EQ(c.requests[0].max_tokens, 55);
  EXPECT_FALSE(c.requests[0].sampling.seed.has_value());
  EXPECT_EQ(c.requests[0].logprobs, -1);
}

// At temperature 0 the filters keep the argmax: they become the defaults
// decode::validate() accepts under greedy decoding.
TEST(OpenAIRequest, GreedyMapsNoOpFiltersToTheDefaults) {
  const CompletionCall c = parse_chat(chat({{"temperature", 0}, {"top_p", 1}, {"top_k", -1}, {"min_p", 0}}), {}, {});
  const api::SamplingOptions plain;
  EXPECT_EQ(c.requests[0].sampling.temperature, 0.0f);
  EXPECT_EQ(c.requests[0].sampling.top_p, plain.top_p);
  EXPECT_EQ(c.requests[0].sampling.top_k, plain.top_k);
  EXPECT_EQ(c.requests[0].sampling.min_p, plain.min_p);
}

TEST(OpenAIRequest, ResponseFormatBecomesAJsonSchema) {
  EXPECT_EQ(parse_chat(chat({{"response_format", {{"type", "json_object"}}}}), {}, {}).requests[0].json_schema,
            R"({"type":"object"})");
  const json schema = {{"type", "object"}, {"properties", {{"a", {{"type", "integer"}}}}}};
  const json rf = {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", schema}, {"strict", true}}}};
  EXPECT_EQ(json::parse(parse_chat(chat({{"response_format", rf}}), {}, {}).requests[0].json_schema), schema);
  EXPECT_TRUE(parse_chat(chat({{"response_format", {{"type", "text"}}}}), {}, {}).requests[0].json_schema.empty());
  EXPECT_EQ(chat_error(chat({{"response_format", {{"type", "xml"}}}})), std::make_pair(400, std::string("response_format")));
}

TEST(OpenAIRequest, FieldsWithoutEffectAreAccepted) {
  EXPECT_NO_THROW(parse_chat(chat({{"user", "u"}, {"metadata", {{"k", "v"}}}, {"store", false}, {"service_tier", "auto"},
                                   {"parallel_tool_calls", true}, {"tool_choice", "none"}, {"tools", json::array()},
                                   {"modalities", {"text"}}, {"stream_options", {{"include_usage", true}}},
                                   {"seed", nullptr}}),
                             {}, {}));
}

TEST(OpenAIRequest, EveryRejectionNamesItsField) {
  const std::vector<std::pair<json, std::string>> cases = {
      {chat({{"tools", {{{"type", "function"}}}}}), "tools[0].function"},
      {chat({{"tool_choice", "required"}}), "tool_choice"},
      {chat({{"functions", json::array({1})}}), "functions"},
      {chat({{"audio", {{"voice", "x"}}}}), "audio"},
      {chat({{"reasoning_effort", "high"}}), "reasoning_effort"},
      {chat({{"frobnicate", 1}}), "frobnicate"},
      {chat({{"temperature", "hot"}}), "temperature"},
      {chat({{"temperature", 2.5}}), "temperature"},
      {chat({{"top_p", 0}}), "top_p"},
      {chat({{"n", 0}}), "n"},
      {chat({{"n", 1.5}}), "n"},
      {chat({{"max_tokens", 0}}), "max_tokens"},
      {chat({{"max_tokens", 5}, {"max_completion_tokens", 6}}), "max_completion_tokens"},
      {chat({{"stop", {1, 2}}}), "stop"},
      {chat({{"logit_bias", {{"abc", 1}}}}), "logit_bias"},
      {chat({{"logit_bias", {{"5", 101}}}}), "logit_bias"},
      {chat({{"top_logprobs", 2}}), "top_logprobs"},
      {chat({{"top_logprobs", 21}, {"logprobs", true}}), "top_logprobs"},
      {chat({{"presence_penalty", 3}}), "presence_penalty"},
      {chat({{"stream", "yes"}}), "stream"},
      {chat({{"stream_options", {{"continuous_usage_stats", true}}}}), "stream_options"},
      {chat({{"grammar", "root ::= \"a\""}, {"response_format", {{"type", "json_object"}}}}), "grammar"},
      {chat({{"messages", json::array()}}), "messages"},
      {chat({{"messages", {{{"role", "tool"}, {"content", "x"}}}}}), "messages[0].tool_call_id"},
      {chat({{"messages", {{{"role", "function"}, {"content", "x"}}}}}), "messages[0].role"},
      {chat({{"messages", {{{"role", "user"}, {"content", "x"}, {"name", "bob"}}}}}), "messages[0].name"},
      {chat({{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}}), "messages[0].content"},
      {chat({{"messages", {{{"role", "wizard"}, {"content", "x"}}}}}), "messages[0].role"},
      {json{{"messages", chat()["messages"]}}, "model"},
      {chat({{"model", 5}}), "model"},
  };
  for (const auto& [body, param] : cases) {
    const auto [status, got] = chat_error(body);
    EXPECT_EQ(status, 400) << body.dump();
    EXPECT_EQ(got, param) << body.dump();
  }
}

TEST(OpenAIRequest, UnknownFieldsPassWhenAllowed) {
  Limits l;
  l.allow_unknown_fields = true;
  EXPECT_NO_THROW(parse_chat(chat({{"frobnicate", 1}}), {}, l));
  EXPECT_EQ(chat_error(chat({{"functions", {{{"name", "f"}}}}}), l).second, "functions");  // known, unsupported: still a 400
}

TEST(OpenAIRequest, MaxTokensOverTheContextIsA400) {
  Limits l;
  l.context = 100;
  EXPECT_EQ(parse_chat(chat({{"max_tokens", 100}}), {}, l).requests[0].max_tokens, 100);
  EXPECT_EQ(chat_error(chat({{"max_tokens", 101}}), l), std::make_pair(400, std::string("max_tokens")));
  l.max_tokens = 10;
  EXPECT_EQ(chat_error(chat({{"max_tokens", 11}}), l), std::make_pair(400, std::string("max_tokens")));
}

TEST(OpenAIRequest, CompletionsPromptListEchoAndLogprobs) {
  const json b = {{"model", "m"}, {"prompt", {"a", "b"}}, {"echo", true}, {"logprobs", 2}, {"max_tokens", 0}, {"n", 2}};
  const CompletionCall c = parse_completions(b, {}, {});
  ASSERT_EQ(c.requests.size(), 2u);
  EXPECT_EQ(c.requests[1].prompt, "b");
  EXPECT_TRUE(c.echo);
  EXPECT_TRUE(c.logprobs);
  EXPECT_EQ(c.top_logprobs, 2);
  EXPECT_EQ(c.requests[0].max_tokens, 0);
  EXPECT_EQ(c.n, 2);
  EXPECT_EQ(parse_completions({{"model", "m"}, {"prompt", "x"}}, {}, {}).requests[0].max_tokens, 16);  // OpenAI's default
}

TEST(OpenAIRequest, CompletionsRejections) {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"model", "m"}}, "prompt"},
      {{{"model", "m"}, {"prompt", {1, 2}}}, "prompt"},
      {{{"model", "m"}, {"prompt", "x"}, {"max_tokens", -1}}, "max_tokens"},
      {{{"model", "m"}, {"prompt", "x"}, {"suffix", "y"}}, "suffix"},
      {{{"model", "m"}, {"prompt", "x"}, {"best_of", 3}}, "best_of"},
      {{{"model", "m"}, {"prompt", "x"}, {"logprobs", true}}, "logprobs"},
      {{{"model", "m"}, {"prompt", "x"}, {"messages", json::array()}}, "messages"},
  };
  for (const auto& [body, param] : cases) {
    try {
      parse_completions(body, {}, {});
      ADD_FAILURE() << "accepted: " << body.dump();
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 400) << body.dump();
      EXPECT_EQ(e.param(), param) << body.dump();
    }
  }
}

TEST(OpenAIRequest, Embeddings) {
  const EmbeddingCall e = parse_embeddings({{"model", "m"}, {"input", {"a", "b"}}, {"encoding_format", "base64"}}, {});
  EXPECT_EQ(e.inputs, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(e.base64);
  for (const json& b : {json{{"model", "m"}, {"input", ""}}, json{{"model", "m"}, {"input", {1, 2}}},
                        json{{"model", "m"}, {"input", "a"}, {"encoding_format", "int8"}}, json{{"model", "m"}}}) {
    EXPECT_THROW(parse_embeddings(b, {}), ApiError) << b.dump();
  }
}

TEST(ApiError, BodyHasOpenAIsShape) {
  const json b = ApiError(429, "slow down", "", "rate_limit_exceeded").body();
  EXPECT_EQ(b, json::parse(R"({"error": {"message": "slow down", "type": "rate_limit_error", "param": null,
                                         "code": "rate_limit_exceeded"}})"));
  EXPECT_EQ(bad_field("top_p", "bad").body()["error"]["param"], "top_p");
}

}  // namespace
}  // namespace tandem::server
