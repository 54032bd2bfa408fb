#include "chat/conversation.h"

#include <fstream>
#include <sstream>

#include "util/error.h"

namespace tandem::chat {

using json = nlohmann::ordered_json;

void Conversation::prepend_system(const std::string& content) {
  messages.insert(messages.begin(), json{{"role", "system"}, {"content", content}});
}

void Conversation::add_user(const std::string& content) { messages.push_back({{"role", "user"}, {"content", content}}); }

void Conversation::add_assistant(const std::string& content) {
  messages.push_back({{"role", "assistant"}, {"content", content}});
}

Conversation parse_conversation(std::string_view text, const std::string& name) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(name + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  const json* messages = j.is_array() ? &j : (j.is_object() && j.contains("messages") ? &j["messages"] : nullptr);
  if (!messages || !messages->is_array()) throw Error(name + ": expected {\"messages\": [{\"role\": ..., \"content\": ...}, ...]}");
  for (const json& m : *messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      throw Error(name + ": every message needs a string \"role\"");
    }
  }
  Conversation c;
  c.messages = *messages;
  if (j.is_object() && j.contains("tools")) c.tools = j["tools"];
  return c;
}

Conversation read_conversation(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open conversation file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_conversation(ss.str(), path);
}

}  // namespace tandem::chat
