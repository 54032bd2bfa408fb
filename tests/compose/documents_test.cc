// Document collections for retrieval indexes (compose/documents.h): JSONL
// rows with and without ids, text split at blank lines, and one error with
// FILE:LINE for each kind of bad input.
#include "compose/documents.h"

#include <gtest/gtest.h>

#include <tuple>

#include "util/error.h"

namespace tandem::compose {
namespace {

std::string error_of(const std::string& text, const std::string& name) {
  try {
    parse_documents(text, name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Documents, JsonlRowsTakeTheirIdOrTheLineNumber) {
  const std::vector<Passage> p = parse_documents(
      "{\"id\": \"cats\", \"text\": \"Cats purr.\"}\n"
      "\n"
      "{\"text\": \"Dogs bark.\", \"source\": \"ignored\"}\r\n"
      "{\"id\": 7, \"text\": \"Cows moo.\"}",
      "d.jsonl");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].id, "cats");
  EXPECT_EQ(p[0].text, "Cats purr.");
  EXPECT_EQ(p[1].id, "3");  // its line
  EXPECT_EQ(p[1].text, "Dogs bark.");
  EXPECT_EQ(p[2].id, "7");
}

TEST(Documents, TextSplitsAtBlankLines) {
  const std::vector<Passage> p =
      parse_documents("\nFirst paragraph,\nits second line.\n   \nSecond one.\r\n\n\n\nThird\n", "notes.md");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].id, "2");
  EXPECT_EQ(p[0].text, "First paragraph,\nits second line.");
  EXPECT_EQ(p[1].id, "5");
  EXPECT_EQ(p[1].text, "Second one.");
  EXPECT_EQ(p[2].id, "9");
  EXPECT_EQ(p[2].text, "Third");
}

TEST(Documents, BadInputIsOneErrorWithFileAndLine) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"{\"text\": \"ok\"}\n{\"text\": \"x\"", "d.jsonl:2: not JSON", "d.jsonl"},
      {"{\"text\": \"ok\"}\n[1, 2]\n", "d.jsonl:2: each line must be a JSON object", "d.jsonl"},
      {"{\"text\": \"ok\"}\n\n{\"id\": \"x\"}\n", "d.jsonl:3: no \"text\"", "d.jsonl"},
      {"{\"text\": 5}\n", "d.jsonl:1: \"text\" must be a non-empty string", "d.jsonl"},
      {"{\"text\": \"  \"}\n", "d.jsonl:1: \"text\" must be a non-empty string", "d.jsonl"},
      {"{\"text\": \"a\", \"id\": 1.5}\n", "d.jsonl:1: \"id\" must be", "d.jsonl"},
      {"{\"text\": \"a\", \"id\": \"2\"}\n{\"text\": \"b\"}\n", "d.jsonl:2: id \"2\" is given twice", "d.jsonl"},
      {"", "d.jsonl: no passages", "d.jsonl"},
      {"\n  \n", "d.txt: no passages", "d.txt"},
  };
  for (const auto& [text, want, name] : cases) {
    const std::string e = error_of(text, name);
    EXPECT_EQ(e.rfind(want, 0), 0u) << text << " -> " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  EXPECT_THROW(read_documents("/nonexistent/tandem-docs.jsonl"), Error);
}

}  // namespace
}  // namespace tandem::compose
