// chat::Conversation: the two accepted file shapes, each malformed shape's
// one error, and the turn helpers' message order.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "chat/conversation.h"
#include "util/error.h"

namespace tandem::chat {
namespace {

std::string error_of(std::string_view text) {
  try {
    parse_conversation(text, "conv.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Conversation, ObjectWithToolsAndBareArray) {
  const Conversation c = parse_conversation(
      R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]})", "conv.json");
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0]["content"], "hi");
  ASSERT_TRUE(c.tools.is_array());
  EXPECT_EQ(c.tools[0]["type"], "function");

  const Conversation bare = parse_conversation(R"([{"role": "system", "content": "s"}, {"role": "user"}])", "conv.json");
  EXPECT_EQ(bare.messages.size(), 2u);
  EXPECT_EQ(bare.messages[1]["role"], "user");
  EXPECT_TRUE(bare.tools.is_null());
  // An empty conversation is valid (the command adds -p / --system to it).
  EXPECT_TRUE(parse_conversation(R"({"messages": []})", "c").empty());
}

TEST(Conversation, MalformedFilesGiveOneErrorNamingTheFile) {
  EXPECT_EQ(error_of("{\"messages\": [").rfind("conv.json: not valid JSON (", 0), 0u) << error_of("{\"messages\": [");
  const std::string shape = "conv.json: expected {\"messages\": [{\"role\": ..., \"content\": ...}, ...]}";
  EXPECT_EQ(error_of(R"({"msgs": []})"), shape);
  EXPECT_EQ(error_of(R"({"messages": {"role": "user"}})"), shape);
  EXPECT_EQ(error_of(R"("text")"), shape);
  const std::string role = "conv.json: every message needs a string \"role\"";
  EXPECT_EQ(error_of(R"([{"content": "no role"}])"), role);
  EXPECT_EQ(error_of(R"([{"role": 3, "content": "x"}])"), role);
  EXPECT_EQ(error_of(R"({"messages": ["user: hi"]})"), role);
}

TEST(Conversation, ReadsAFileAndNamesAMissingOne) {
  const auto path = std::filesystem::temp_directory_path() / ("tandem_conv_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream(path) << R"({"messages": [{"role": "user", "content": "2+2?"}]})";
  }
  EXPECT_EQ(read_conversation(path.string()).messages[0]["content"], "2+2?");
  std::filesystem::remove(path);
  try {
    read_conversation(path.string());
    FAIL() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path.string() + ": cannot open conversation file");
  }
}

TEST(Conversation, TurnHelpersKeepTheOrder) {
  Conversation c = parse_conversation(R"([{"role": "user", "content": "a"}])", "c");
  c.prepend_system("sys");
  c.add_assistant("b");
  c.add_user("c");
  ASSERT_EQ(c.messages.size(), 4u);
  const char* roles[] = {"system", "user", "assistant", "user"};
  const char* contents[] = {"sys", "a", "b", "c"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(c.messages[i]["role"], roles[i]);
    EXPECT_EQ(c.messages[i]["content"], contents[i]);
  }
}

}  // namespace
}  // namespace tandem::chat
