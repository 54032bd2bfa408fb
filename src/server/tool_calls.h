// Tool calls for /v1/chat/completions (OpenAI's `tools`, `tool_choice`,
// `parallel_tool_calls`), in llama.cpp server's "generic" format: the one it
// uses for models without a native tool-call format. Pure functions, no I/O;
// every request failure is an ApiError (400) naming the field.
//
// The served model is an api::Model, which sees role/content messages only
// (no tool definitions, no structured tool calls), so everything below is
// done on that level for every model alike (local GGUF, remote, compositions);
// a GGUF's chat template that renders a `tools` variable itself does not get
// the tools (that needs tools and structured messages in api::Request):
//
// Prompt. When tools are in effect (tool_choice other than "none") a system
// message lists them, one JSON object per line ({"name", "description",
// "parameters"}), and states the output format; it is appended to the
// conversation's first system message ("\n\n" between) or becomes the first
// message. History: an assistant message with tool_calls becomes assistant
// text (its content, a newline, then the calls in the output format below,
// arguments as JSON objects); a tool message becomes a user message
// {"tool_response": {"tool": NAME, "tool_call_id": ID, "content": TEXT}},
// merged ("\n\n") with the tool results and user message next to it so that
// roles keep alternating. These renderings are used with tool_choice "none"
// too (OpenAI keeps the history then).
//
// Output. Decoding is constrained by one JSON Schema (Request::json_schema):
//   one call:        {"tool_call": {"name": NAME, "arguments": {...}}}
//   several (parallel_tool_calls, the default):
//                    {"tool_calls": [{"name": NAME, "arguments": {...}}, ...]}  (at least one)
//   "auto" also:     {"response": "text for the user"}
// where each call is an anyOf over the tools ("name" a const, "arguments"
// that tool's parameters schema). "required" allows every tool, a named
// function only that one (always the one-call form); "auto" allows either a
// call or a response.
//
// Response. Calls -> message.content null, message.tool_calls
// [{"id": "call_" + 24 random letters/digits, "type": "function",
// "function": {"name", "arguments": JSON text}}], finish_reason
// "tool_calls"; {"response": s} -> content s with the model's finish_reason.
// Text that is not a complete document of the format (max_tokens, a stop
// string or a timeout cut it) is returned as it is, as content, with the
// model's finish_reason ("length" for max_tokens).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/types.h"

namespace tandem::server {

struct Tool {
  std::string name;          // ^[a-zA-Z0-9_-]{1,64}$, unique in the request
  std::string description;
  nlohmann::json parameters;  // a JSON Schema of an object ({"type":"object"} when left out)
};

struct ToolSpec {
  std::vector<Tool> tools;
  std::string choice = "auto";  // "none", "auto", "required" or "function"
  std::string function;         // choice "function": the tool it names
  bool parallel = true;         // parallel_tool_calls

  // Tools shape the prompt and the output (tools given, choice not "none").
  bool active() const { return !tools.empty() && choice != "none"; }
};

// tools / tool_choice / parallel_tool_calls of a chat request body. Throws
// ApiError naming tools[i]..., tool_choice or parallel_tool_calls; a
// parameters schema that json_schema_to_gbnf cannot enforce is a 400 naming
// tools[i].function.parameters and the keyword.
ToolSpec parse_tools(const nlohmann::json& body);

// The JSON Schema of the output (see the header; properties in output
// order: "name" before "arguments"); spec.active() must hold.
nlohmann::ordered_json output_schema(const ToolSpec& spec);

// The system text that lists the tools and states the output format.
std::string tools_prompt(const ToolSpec& spec);
// Adds tools_prompt() to the messages (see the header) when spec.active().
void inject_tools_prompt(std::vector<api::Message>& messages, const ToolSpec& spec);

// History rendering. Names of the calls seen so far, by id, so that a tool
// message can name its tool.
using CallNames = std::map<std::string, std::string>;
// An assistant message with tool_calls (`m`, at `where`) as text; `content`
// is its text content ("" when null). Records the calls' names in `names`.
std::string assistant_calls_text(const nlohmann::json& m, const std::string& where, const std::string& content,
                                 const ToolSpec& spec, CallNames& names);
// A tool message's user text; its tool_call_id must be one of `names`.
std::string tool_result_text(const nlohmann::json& m, const std::string& where, const std::string& content,
                             const CallNames& names);

// What a choice's text means under an active spec.
struct ToolAnswer {
  nlohmann::json tool_calls;   // OpenAI's message.tool_calls; null: no calls
  std::string content;         // the response text, or the raw text
  std::string finish_reason;   // tandem's finish_reason, or "tool_calls"
};
ToolAnswer interpret_output(const std::string& text, const std::string& finish_reason);

// "call_" + 24 random letters and digits.
std::string new_call_id();

// A streamed tool-call answer as chat deltas: per call, one delta with its
// index, id, type and name (arguments ""), then its arguments in fragments of
// at most `fragment` bytes (never splitting a UTF-8 character).
std::vector<nlohmann::json> tool_call_deltas(const nlohmann::json& tool_calls, size_t fragment = 32);

}  // namespace tandem::server
