// An OpenAI-style conversation (messages, optional tool definitions), read
// from a file and grown turn by turn, for rendering with a ChatTemplate
// (`tandem chat --conversation FILE`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tandem::chat {

struct Conversation {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // [{"role", "content", ...}, ...]
  nlohmann::ordered_json tools;                                        // tool definitions; null: none

  bool empty() const { return messages.empty(); }
  // Puts a system message first (before every message so far).
  void prepend_system(const std::string& content);
  void add_user(const std::string& content);
  void add_assistant(const std::string& content);
};

// Parses a conversation: {"messages": [...], "tools": [...]} ("tools"
// optional) or a bare array of messages; every message must be an object
// with a string "role" (the rest is the template's business). `name` (a
// file path) starts every error message. Throws tandem::Error on invalid
// JSON or a document of another shape.
Conversation parse_conversation(std::string_view text, const std::string& name);

// Reads and parses the conversation file at `path`; throws tandem::Error if
// it cannot be opened, and as parse_conversation().
Conversation read_conversation(const std::string& path);

}  // namespace tandem::chat
