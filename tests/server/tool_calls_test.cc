// server/tool_calls.h: OpenAI tool calls in llama.cpp's generic format.
// References: OpenAI's documented request/response/stream shapes and
// hand-written expected texts; the output schema is judged through the
// grammar matcher on hand-written documents of known validity.
#include <gtest/gtest.h>

#include <regex>

#include <nlohmann/json.hpp>

#include "grammar/grammar_matcher.h"
#include "grammar/json_schema.h"
#include "server/api_error.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/tool_calls.h"

namespace tandem::server {
namespace {

using nlohmann::json;

const json kWeather = {{"type", "function"},
                       {"function",
                        {{"name", "get_weather"},
                         {"description", "The weather in a city"},
                         {"parameters",
                          {{"type", "object"},
                           {"properties", {{"city", {{"type", "string"}}}, {"days", {{"type", "integer"}}}}},
                           {"required", {"city", "days"}},
                           {"additionalProperties", false}}}}}};
const json kTime = {{"type", "function"}, {"function", {{"name", "get_time"}}}};

json chat(json extra = json::object()) {
  json b = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"tools", {kWeather, kTime}}};
  for (const auto& [k, v] : extra.items()) b[k] = v;
  return b;
}

std::pair<int, std::string> error_of(const json& body, std::string* message = nullptr) {
  try {
    parse_chat(body, {}, {});
  } catch (const ApiError& e) {
    if (message) *message = e.what();
    return {e.status(), e.param()};
  }
  return {0, ""};
}

json with_function(json tool, const char* key, json value) {
  tool["function"][key] = std::move(value);
  return tool;
}

TEST(ToolCalls, EachBadToolFieldIsA400NamingIt) {
  const json assistant = {{"role", "assistant"}, {"content", nullptr},
                          {"tool_calls", {{{"id", "c1"}, {"type", "function"},
                                           {"function", {{"name", "get_time"}, {"arguments", "{not json"}}}}}}};
  const std::vector<std::pair<json, std::string>> cases = {
      {chat({{"tools", "get_weather"}}), "tools"},
      {chat({{"tools", {{{"type", "function"}}}}}), "tools[0].function"},
      {chat({{"tools", {{{"type", "code"}, {"function", kTime["function"]}}}}}), "tools[0].type"},
      {chat({{"tools", {with_function(kTime, "name", "get time")}}}), "tools[0].function.name"},
      {chat({{"tools", {with_function(kTime, "name", std::string(65, 'a'))}}}), "tools[0].function.name"},
      {chat({{"tools", {kTime, kTime}}}), "tools[1].function.name"},
      {chat({{"tools", {with_function(kTime, "description", 3)}}}), "tools[0].function.description"},
      {chat({{"tools", {with_function(kTime, "strict", "yes")}}}), "tools[0].function.strict"},
      {chat({{"tools", {with_function(kTime, "returns", "x")}}}), "tools[0].function.returns"},
      {chat({{"tools", {with_function(kTime, "parameters", {{"type", "string"}})}}}), "tools[0].function.parameters"},
      {chat({{"tool_choice", "sometimes"}}), "tool_choice"},
      {chat({{"tool_choice", 1}}), "tool_choice"},
      {chat({{"tool_choice", {{"type", "function"}, {"function", {{"name", "get_mood"}}}}}}), "tool_choice"},
      {chat({{"tools", json::array()}, {"tool_choice", "required"}}), "tool_choice"},
      {chat({{"parallel_tool_calls", "yes"}}), "parallel_tool_calls"},
      {chat({{"response_format", {{"type", "json_object"}}}}), "response_format"},
      {chat({{"grammar", "root ::= \"a\""}}), "grammar"},
      {chat({{"messages", {{{"role", "user"}, {"content", "hi"}}, assistant}}}), "messages[1].tool_calls[0].function.arguments"},
      {chat({{"messages", {{{"role", "tool"}, {"tool_call_id", "c9"}, {"content", "x"}}}}}), "messages[0].tool_call_id"},
      {chat({{"messages", {{{"role", "user"}, {"content", "x"}, {"tool_call_id", "c9"}}}}}), "messages[0].tool_call_id"},
      {chat({{"messages", {{{"role", "assistant"}, {"content", nullptr}}}}}), "messages[0].content"},
  };
  for (const auto& [body, param] : cases) {
    const auto [status, got] = error_of(body);
    EXPECT_EQ(status, 400) << body.dump();
    EXPECT_EQ(got, param) << body.dump();
  }
}

TEST(ToolCalls, AnUnenforceableParametersKeywordIsNamed) {
  const json params = {{"type", "object"}, {"properties", {{"n", {{"type", "integer"}, {"maximum", 9}}}}}};
  std::string message;
  EXPECT_EQ(error_of(chat({{"tools", {with_function(kTime, "parameters", params)}}}), &message),
            std::make_pair(400, std::string("tools[0].function.parameters")));
  EXPECT_NE(message.find("maximum"), std::string::npos) << message;
}

TEST(ToolCalls, ChoiceNoneLeavesPromptAndOutputAlone) {
  const CompletionCall c = parse_chat(chat({{"tool_choice", "none"}, {"response_format", {{"type", "json_object"}}}}), {}, {});
  EXPECT_FALSE(c.tools.active());
  EXPECT_EQ(c.requests[0].json_schema, R"({"type":"object"})");  // response_format applies: tools are off
  ASSERT_EQ(c.requests[0].messages.size(), 1u);
  EXPECT_EQ(c.requests[0].messages[0].content, "hi");
}

TEST(ToolCalls, TheToolsPromptIsMergedIntoTheFirstSystemMessage) {
  const json msgs = {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "hi"}}};
  const CompletionCall c = parse_chat(chat({{"messages", msgs}, {"tools", {kTime}}, {"tool_choice", "required"}}), {}, {});
  ASSERT_EQ(c.requests[0].messages.size(), 2u);
  EXPECT_EQ(c.requests[0].messages[0].role, "system");
  EXPECT_EQ(c.requests[0].messages[0].content,
            "Be brief.\n\n"
            "You can call these tools (name, description and the JSON Schema of the arguments):\n"
            R"({"name":"get_time","description":"","parameters":{"properties":{},"type":"object"}})"
            "\n\nRespond with one JSON object in exactly this format:\n"
            R"({"tool_calls": [{"name": "<tool name>", "arguments": {<the arguments>}}, ...]})");
  // No system message: the tools prompt becomes the first message; "auto" offers a response too.
  const CompletionCall d = parse_chat(chat({{"parallel_tool_calls", false}}), {}, {});
  ASSERT_EQ(d.requests[0].messages.size(), 2u);
  EXPECT_EQ(d.requests[0].messages[0].role, "system");
  const std::string& p = d.requests[0].messages[0].content;
  EXPECT_NE(p.find(R"("name":"get_weather","description":"The weather in a city")"), std::string::npos) << p;
  EXPECT_NE(p.find(R"({"tool_call": {"name": "<tool name>")"), std::string::npos) << p;
  EXPECT_NE(p.find(R"({"response": "<your answer>"})"), std::string::npos) << p;
  EXPECT_EQ(d.requests[0].messages[1].content, "hi");
}

TEST(ToolCalls, HistoryCallsAndResultsBecomeText) {
  const json calls = {{{"id", "c1"}, {"type", "function"}, {"function", {{"name", "get_weather"}, {"arguments", R"({"city": "Oslo", "days": 2})"}}}},
                      {{"id", "c2"}, {"type", "function"}, {"function", {{"name", "get_time"}, {"arguments", "{}"}}}}};
  const json msgs = {{{"role", "user"}, {"content", "weather?"}},
                     {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", calls}},
                     {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "sunny"}},
                     {{"role", "tool"}, {"tool_call_id", "c2"}, {"content", {{{"type", "text"}, {"text", "noon"}}}}},
                     {{"role", "user"}, {"content", "thanks"}}};
  const CompletionCall c = parse_chat(chat({{"messages", msgs}, {"tool_choice", "none"}}), {}, {});
  const std::vector<api::Message>& m = c.requests[0].messages;
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1].role, "assistant");
  EXPECT_EQ(m[1].content, R"({"tool_calls":[{"name":"get_weather","arguments":{"city":"Oslo","days":2}},)"
                          R"({"name":"get_time","arguments":{}}]})");
  EXPECT_EQ(m[2].role, "user");
  EXPECT_EQ(m[2].content, R"({"tool_response":{"tool":"get_weather","tool_call_id":"c1","content":"sunny"}})"
                          "\n\n"
                          R"({"tool_response":{"tool":"get_time","tool_call_id":"c2","content":"noon"}})"
                          "\n\nthanks");
}

// The output schema, compiled as the decoder compiles it.
bool accepts(const CompletionCall& c, const std::string& doc) {
  grammar::GrammarMatcher m(std::make_shared<grammar::Grammar>(
      grammar::parse_gbnf(grammar::json_schema_to_gbnf(std::string_view(c.requests[0].json_schema)))));
  return m.matches(doc);
}

TEST(ToolCalls, RequiredAcceptsCallsOfTheToolsOnly) {
  const CompletionCall c = parse_chat(chat({{"tool_choice", "required"}}), {}, {});
  EXPECT_TRUE(accepts(c, R"({"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}]})"));
  EXPECT_TRUE(accepts(c, R"({"tool_calls": [{"name": "get_time", "arguments": {}}, {"name": "get_weather", "arguments": {"city": "x", "days": -1}}]})"));
  EXPECT_FALSE(accepts(c, R"({"tool_calls": []})"));                                                          // at least one
  EXPECT_FALSE(accepts(c, R"({"tool_calls": [{"name": "get_mood", "arguments": {}}]})"));                     // no such tool
  EXPECT_FALSE(accepts(c, R"({"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]})"));    // days required
  EXPECT_FALSE(accepts(c, R"({"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo", "days": "2"}}]})"));
  EXPECT_FALSE(accepts(c, R"({"tool_calls": [{"name": "get_time", "arguments": {"zone": "UTC"}}]})"));        // no parameters
  EXPECT_FALSE(accepts(c, R"({"response": "hello"})"));                                                       // must call
}

TEST(ToolCalls, AutoAlsoAcceptsAResponseAndANamedFunctionOnlyItself) {
  const CompletionCall a = parse_chat(chat({{"parallel_tool_calls", false}}), {}, {});
  EXPECT_TRUE(accepts(a, R"({"response": "hello"})"));
  EXPECT_TRUE(accepts(a, R"({"tool_call": {"name": "get_time", "arguments": {}}})"));
  EXPECT_FALSE(accepts(a, R"({"tool_calls": [{"name": "get_time", "arguments": {}}]})"));  // one call only
  EXPECT_FALSE(accepts(a, R"({"response": 5})"));
  const CompletionCall n = parse_chat(chat({{"tool_choice", {{"type", "function"}, {"function", {{"name", "get_weather"}}}}}}), {}, {});
  EXPECT_TRUE(accepts(n, R"({"tool_call": {"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}})"));
  EXPECT_FALSE(accepts(n, R"({"tool_call": {"name": "get_time", "arguments": {}}})"));
  EXPECT_FALSE(accepts(n, R"({"response": "hello"})"));
}

TEST(ToolCalls, CallsBecomeToolCallsWithFreshIds) {
  const ToolAnswer a = interpret_output(
      R"({"tool_calls": [{"name": "get_weather", "arguments": {"days": 2, "city": "Oslo"}}, {"name": "get_time", "arguments": {}}]})", "stop");
  EXPECT_EQ(a.finish_reason, "tool_calls");
  ASSERT_EQ(a.tool_calls.size(), 2u);
  const std::regex id("call_[A-Za-z0-9]{24}");
  for (const json& c : a.tool_calls) {
    EXPECT_TRUE(std::regex_match(c["id"].get<std::string>(), id)) << c.dump();
    EXPECT_EQ(c["type"], "function");
  }
  EXPECT_NE(a.tool_calls[0]["id"], a.tool_calls[1]["id"]);
  EXPECT_EQ(a.tool_calls[0]["function"]["name"], "get_weather");
  EXPECT_EQ(a.tool_calls[0]["function"]["arguments"], R"({"days":2,"city":"Oslo"})");  // the model's key order
  EXPECT_EQ(a.tool_calls[1]["function"]["arguments"], "{}");
  const ToolAnswer one = interpret_output(R"({"tool_call": {"name": "get_time", "arguments": {}}})", "stop");
  EXPECT_EQ(one.tool_calls.size(), 1u);
}

TEST(ToolCalls, ResponsesAndCutTextStayContent) {
  const ToolAnswer r = interpret_output(R"({"response": "It is \"sunny\"."})", "stop");
  EXPECT_TRUE(r.tool_calls.is_null());
  EXPECT_EQ(r.content, "It is \"sunny\".");
  EXPECT_EQ(r.finish_reason, "stop");
  const std::string cut = R"({"tool_calls": [{"name": "get_weather", "arguments": {"ci)";
  const ToolAnswer l = interpret_output(cut, "length");
  EXPECT_TRUE(l.tool_calls.is_null());
  EXPECT_EQ(l.content, cut);
  EXPECT_EQ(l.finish_reason, "length");
}

TEST(ToolCalls, TheChatBodyCarriesToolCallsAndNullContent) {
  Choice c;
  c.response.answered_by = "m";
  const ToolAnswer a = interpret_output(R"({"tool_call": {"name": "get_time", "arguments": {}}})", "stop");
  c.tool_calls = a.tool_calls;
  c.response.finish_reason = a.finish_reason;
  const json body = chat_body({"chatcmpl-1", 0, "m"}, std::span<const Choice>(&c, 1), false);
  const json& choice = body["choices"][0];
  EXPECT_TRUE(choice["message"]["content"].is_null());
  EXPECT_EQ(choice["message"]["tool_calls"], a.tool_calls);
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  Choice plain;
  plain.response.text = "hi";
  plain.response.finish_reason = "stop";
  const json p = chat_body({"chatcmpl-2", 0, "m"}, std::span<const Choice>(&plain, 1), false);
  EXPECT_EQ(p["choices"][0]["message"]["content"], "hi");
  EXPECT_FALSE(p["choices"][0]["message"].contains("tool_calls"));
}

TEST(ToolCalls, StreamDeltasAreIndexKeyedAndRebuildTheCalls) {
  const json calls = {{{"id", "call_a"}, {"type", "function"}, {"function", {{"name", "f"}, {"arguments", R"({"s":"één grüße ☃ — fine","n":12345})"}}}},
                      {{"id", "call_b"}, {"type", "function"}, {"function", {{"name", "g"}, {"arguments", "{}"}}}}};
  const std::vector<json> deltas = tool_call_deltas(calls, 5);
  // Rebuild as OpenAI's clients do: by index, the first delta of an index names it, arguments concatenate.
  json rebuilt = json::array();
  std::vector<int> firsts;
  for (size_t i = 0; i < deltas.size(); ++i) {
    ASSERT_EQ(deltas[i]["tool_calls"].size(), 1u);
    const json& d = deltas[i]["tool_calls"][0];
    const size_t k = d["index"].get<size_t>();
    if (k == rebuilt.size()) {
      firsts.push_back(static_cast<int>(i));
      EXPECT_EQ(d["function"]["arguments"], "");
      rebuilt.push_back({{"id", d["id"]}, {"type", d["type"]}, {"function", {{"name", d["function"]["name"]}, {"arguments", ""}}}});
      continue;
    }
    ASSERT_EQ(k + 1, rebuilt.size());
    EXPECT_FALSE(d.contains("id"));
    const std::string frag = d["function"]["arguments"].get<std::string>();
    EXPECT_LE(frag.size(), 5u);
    EXPECT_TRUE(json::parse(json(frag).dump()).is_string());  // whole UTF-8 characters only
    EXPECT_FALSE((static_cast<unsigned char>(frag[0]) & 0xC0) == 0x80) << frag;
    rebuilt[k]["function"]["arguments"] = rebuilt[k]["function"]["arguments"].get<std::string>() + frag;
  }
  EXPECT_EQ(firsts, (std::vector<int>{0, static_cast<int>(deltas.size()) - 2}));
  EXPECT_EQ(rebuilt, calls);
}

}  // namespace
}  // namespace tandem::server
