#include "server/tool_calls.h"

#include <algorithm>
#include <cctype>
#include <random>
#include <set>

#include "grammar/json_schema.h"
#include "server/api_error.h"
#include "util/error.h"

namespace tandem::server {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

const json* field(const json& b, const char* key) {
  const auto it = b.find(key);
  return it == b.end() || it->is_null() ? nullptr : &*it;
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

void only_keys(const json& o, const std::set<std::string>& keys, const std::string& where) {
  for (const auto& [key, value] : o.items()) {
    if (!keys.count(key) && !value.is_null()) throw bad_field(where + "." + key, "unknown field");
  }
}

// A tool's parameters: an object schema json_schema_to_gbnf enforces.
json parameters_of(const json& fn, const std::string& where) {
  const json* p = field(fn, "parameters");
  if (!p) return {{"type", "object"}, {"properties", json::object()}};
  if (!p->is_object()) throw bad_field(where, "must be a JSON Schema object");
  if (const auto t = p->find("type"); t != p->end() && *t != "object")
    throw bad_field(where, "must describe an object (\"type\": \"object\")");
  try {
    grammar::json_schema_to_gbnf(*p);
  } catch (const Error& e) {
    throw ApiError(400, where + ": " + e.what(), where, "unsupported_schema");
  }
  return *p;
}

Tool tool_of(const json& t, const std::string& where) {
  if (!t.is_object()) throw bad_field(where, "must be an object {\"type\": \"function\", \"function\": {...}}");
  only_keys(t, {"type", "function"}, where);
  if (t.value("type", json()) != "function") throw bad_field(where + ".type", "must be \"function\"");
  const json* fn = field(t, "function");
  if (!fn || !fn->is_object()) throw bad_field(where + ".function", "required (an object with a \"name\")");
  only_keys(*fn, {"name", "description", "parameters", "strict"}, where + ".function");
  Tool tool;
  const json* name = field(*fn, "name");
  if (!name || !name->is_string() || !valid_name(name->get<std::string>()))
    throw bad_field(where + ".function.name", "must be 1 to 64 letters, digits, '_' or '-'");
  tool.name = name->get<std::string>();
  if (const json* d = field(*fn, "description")) {
    if (!d->is_string()) throw bad_field(where + ".function.description", "must be a string");
    tool.description = d->get<std::string>();
  }
  if (const json* s = field(*fn, "strict"); s && !s->is_boolean())
    throw bad_field(where + ".function.strict", "must be true or false");
  tool.parameters = parameters_of(*fn, where + ".function.parameters");
  return tool;
}

void parse_choice(const json& c, ToolSpec& spec) {
  if (c.is_string()) {
    spec.choice = c.get<std::string>();
    if (spec.choice != "none" && spec.choice != "auto" && spec.choice != "required")
      throw bad_field("tool_choice", "must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", ...}");
  } else if (c.is_object()) {
    const json* fn = field(c, "function");
    if (c.value("type", json()) != "function" || !fn || !fn->is_object() || !fn->contains("name") ||
        !(*fn)["name"].is_string())
      throw bad_field("tool_choice", "must be {\"type\": \"function\", \"function\": {\"name\": ...}}");
    spec.choice = "function";
    spec.function = (*fn)["name"].get<std::string>();
    bool known = false;
    for (const Tool& t : spec.tools) known = known || t.name == spec.function;
    if (!known) throw bad_field("tool_choice", "names the function \"" + spec.function + "\", which is not in tools");
  } else {
    throw bad_field("tool_choice", "must be a string or an object");
  }
  if (spec.tools.empty() && spec.choice != "none" && spec.choice != "auto")
    throw bad_field("tool_choice", "\"" + spec.choice + "\" needs tools");
}

// ordered_json: the schema's property order is the output's ("name" first).
ordered_json call_schema(const Tool& t) {
  return {{"type", "object"},
          {"properties", {{"name", {{"const", t.name}}}, {"arguments", t.parameters}}},
          {"required", {"name", "arguments"}},
          {"additionalProperties", false}};
}

ordered_json object_with(const std::string& key, const ordered_json& value) {
  return {{"type", "object"}, {"properties", {{key, value}}}, {"required", {key}}, {"additionalProperties", false}};
}

// The one-call form is used for a named function and without parallel calls.
bool single_call(const ToolSpec& spec) { return spec.choice == "function" || !spec.parallel; }

std::string format_text(const ToolSpec& spec) {
  std::string f = single_call(spec)
                      ? R"({"tool_call": {"name": "<tool name>", "arguments": {<the arguments>}}})"
                      : R"({"tool_calls": [{"name": "<tool name>", "arguments": {<the arguments>}}, ...]})";
  if (spec.choice == "auto") f += "\nor, to answer without a tool:\n{\"response\": \"<your answer>\"}";
  return f;
}

}  // namespace

ToolSpec parse_tools(const json& body) {
  ToolSpec spec;
  if (const json* t = field(body, "tools")) {
    if (!t->is_array()) throw bad_field("tools", "must be a list of {\"type\": \"function\", \"function\": {...}}");
    std::set<std::string> names;
    for (size_t i = 0; i < t->size(); ++i) {
      spec.tools.push_back(tool_of((*t)[i], "tools[" + std::to_string(i) + "]"));
      if (!names.insert(spec.tools.back().name).second)
        throw bad_field("tools[" + std::to_string(i) + "].function.name", "\"" + spec.tools.back().name + "\" is defined twice");
    }
  }
  if (const json* p = field(body, "parallel_tool_calls")) {
    if (!p->is_boolean()) throw bad_field("parallel_tool_calls", "must be true or false");
    spec.parallel = p->get<bool>();
  }
  if (const json* c = field(body, "tool_choice")) parse_choice(*c, spec);
  return spec;
}

ordered_json output_schema(const ToolSpec& spec) {
  ordered_json calls = ordered_json::array();
  for (const Tool& t : spec.tools) {
    if (spec.choice != "function" || t.name == spec.function) calls.push_back(call_schema(t));
  }
  const ordered_json call = calls.size() == 1 ? calls[0] : ordered_json{{"anyOf", calls}};
  const ordered_json made = single_call(spec)
                        ? object_with("tool_call", call)
                        : object_with("tool_calls", {{"type", "array"}, {"items", call}, {"minItems", 1}});
  if (spec.choice != "auto") return made;
  return {{"anyOf", {made, object_with("response", {{"type", "string"}})}}};
}

std::string tools_prompt(const ToolSpec& spec) {
  std::string s = "You can call these tools (name, description and the JSON Schema of the arguments):\n";
  for (const Tool& t : spec.tools) {
    if (spec.choice == "function" && t.name != spec.function) continue;
    s += ordered_json{{"name", t.name}, {"description", t.description}, {"parameters", t.parameters}}.dump() + "\n";
  }
  s += "\nRespond with one JSON object in exactly this format:\n" + format_text(spec);
  if (spec.choice == "function") s += "\nCall the tool \"" + spec.function + "\".";
  return s;
}

void inject_tools_prompt(std::vector<api::Message>& messages, const ToolSpec& spec) {
  if (!spec.active()) return;
  const std::string text = tools_prompt(spec);
  if (!messages.empty() && messages[0].role == "system") {
    messages[0].content += (messages[0].content.empty() ? "" : "\n\n") + text;
  } else {
    messages.insert(messages.begin(), api::Message{"system", text});
  }
}

std::string assistant_calls_text(const json& m, const std::string& where, const std::string& content,
                                 const ToolSpec& spec, CallNames& names) {
  const json& calls = m["tool_calls"];
  if (!calls.is_array()) throw bad_field(where + ".tool_calls", "must be a list");
  ordered_json out = ordered_json::array();
  for (size_t j = 0; j < calls.size(); ++j) {
    const std::string w = where + ".tool_calls[" + std::to_string(j) + "]";
    const json& c = calls[j];
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string()) throw bad_field(w + ".id", "required (a string)");
    if (c.value("type", json("function")) != "function") throw bad_field(w + ".type", "must be \"function\"");
    const json* fn = field(c, "function");
    if (!fn || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
      throw bad_field(w + ".function", "must be {\"name\": ..., \"arguments\": \"<JSON text>\"}");
    const json* args = field(*fn, "arguments");
    if (!args || !args->is_string()) throw bad_field(w + ".function.arguments", "required (JSON text)");
    const ordered_json parsed = ordered_json::parse(args->get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) throw bad_field(w + ".function.arguments", "is not valid JSON");
    names[c["id"].get<std::string>()] = (*fn)["name"].get<std::string>();
    out.push_back({{"name", (*fn)["name"]}, {"arguments", parsed}});
  }
  const ordered_json doc = out.size() == 1 && single_call(spec) ? ordered_json{{"tool_call", out[0]}}
                                                                 : ordered_json{{"tool_calls", out}};
  return (content.empty() ? "" : content + "\n") + doc.dump();
}

std::string tool_result_text(const json& m, const std::string& where, const std::string& content, const CallNames& names) {
  const json* id = field(m, "tool_call_id");
  if (!id || !id->is_string()) throw bad_field(where + ".tool_call_id", "required (the id of the call answered)");
  const auto it = names.find(id->get<std::string>());
  if (it == names.end())
    throw bad_field(where + ".tool_call_id", "\"" + id->get<std::string>() + "\" is not the id of an earlier assistant tool call");
  return ordered_json{{"tool_response", {{"tool", it->second}, {"tool_call_id", *id}, {"content", content}}}}.dump();
}

ToolAnswer interpret_output(const std::string& text, const std::string& finish_reason) {
  ToolAnswer a{nullptr, text, finish_reason};
  if (finish_reason == "cancelled") return a;
  const ordered_json doc = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.size() != 1) return a;
  if (const auto r = doc.find("response"); r != doc.end() && r->is_string()) {
    a.content = r->get<std::string>();
    return a;
  }
  ordered_json calls = ordered_json::array();
  if (const auto one = doc.find("tool_call"); one != doc.end()) calls.push_back(*one);
  if (const auto many = doc.find("tool_calls"); many != doc.end() && many->is_array()) calls = *many;
  if (calls.empty()) return a;
  json out = json::array();
  for (const ordered_json& c : calls) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string() || !c.contains("arguments")) return a;
    out.push_back({{"id", new_call_id()},
                   {"type", "function"},
                   {"function", {{"name", c["name"].get<std::string>()}, {"arguments", c["arguments"].dump()}}}});
  }
  return {out, "", "tool_calls"};
}

std::string new_call_id() {
  static const char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlnum - 2);
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kAlnum[pick(rng)];
  return id;
}

std::vector<json> tool_call_deltas(const json& tool_calls, size_t fragment) {
  std::vector<json> out;
  for (size_t k = 0; k < tool_calls.size(); ++k) {
    const json& c = tool_calls[k];
    out.push_back({{"tool_calls", {{{"index", k}, {"id", c["id"]}, {"type", "function"},
                                    {"function", {{"name", c["function"]["name"]}, {"arguments", ""}}}}}}});
    const std::string args = c["function"]["arguments"].get<std::string>();
    for (size_t at = 0; at < args.size();) {
      size_t end = std::min(args.size(), at + std::max<size_t>(fragment, 4));
      while (end < args.size() && (static_cast<unsigned char>(args[end]) & 0xC0) == 0x80) --end;  // not mid-character
      out.push_back({{"tool_calls", {{{"index", k}, {"function", {{"arguments", args.substr(at, end - at)}}}}}}});
      at = end;
    }
  }
  return out;
}

}  // namespace tandem::server
