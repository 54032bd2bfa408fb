// `tandem tokenize` against the stories260K llama-tokenize fixtures.
#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace tandem {
namespace {

using testing::run_command;
using testing::shared_path;
using testing::source_path;
using testing::tandem_binary;

std::string model() { return source_path("models/stories260K.gguf"); }

std::string ids_line(const nlohmann::json& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i].get<int>());
  return s + "]\n";
}

TEST(TokenizeCli, FileInputMatchesLlamaTokenize) {
  TANDEM_REQUIRE_SHARED("fixtures/stories260K/tokenize.json");
  const auto j = testing::read_json(shared_path("fixtures/stories260K/tokenize.json"));
  for (const auto& c : j["cases"]) {
    const std::string input = shared_path("fixtures/stories260K/" + c["input_file"].get<std::string>());
    const std::string base = tandem_binary() + " tokenize -m " + model() + " -f " + input;
    auto r = run_command(base);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, ids_line(c["ids_default"])) << c["name"];
    r = run_command(base + " --no-bos");
    EXPECT_EQ(r.out, ids_line(c["ids_no_bos"])) << c["name"];
    r = run_command(base + " --no-parse-special");
    EXPECT_EQ(r.out, ids_line(c["ids_no_parse_special"])) << c["name"];
  }
}

TEST(TokenizeCli, PromptAndPieces) {
  auto r = run_command(tandem_binary() + " tokenize -m " + model() + " -p 'Once upon a time'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[1, 403, 407, 261, 378]\n");
  r = run_command(tandem_binary() + " tokenize -m " + model() + " -p 'Once upon' --pieces");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "     1 -> '<s>'\n   403 -> ' Once'\n   407 -> ' upon'\n");
}

TEST(TokenizeCli, ErrorsAreOneLine) {
  auto r = run_command(tandem_binary() + " tokenize -m /nonexistent.gguf -p hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  r = run_command(tandem_binary() + " tokenize -m " + model() + " -f /nonexistent.txt");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent.txt"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tandem
