// `tandem chat` run non-interactively (stdin piped): prompts rendered from the
// model's own template equal the @huggingface/jinja reference renderings in
// tests/tokenizer/chat_templates/expected.json, a multi-turn chat that reuses
// the KV cache answers exactly like a fresh run on the whole conversation, and
// bad input gives one-line errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace tandem {
namespace {

using json = nlohmann::ordered_json;
using testing::run_command;
using testing::shared_path;
using testing::source_path;
using testing::shell_quote;
using testing::tandem_binary;

// phi3v-f32 carries the real Phi-3-mini tokenizer and chat template.
std::string phi3_model() { return shared_path("fixtures/arch/phi3v-f32.gguf"); }

std::string chat(const std::string& model, const std::string& extra) {
  return tandem_binary() + " chat -m " + shell_quote(model) + " -t 1 " + extra;
}

const json& expected() {
  static const json j = json::parse(testing::read_file(source_path("tests/tokenizer/chat_templates/expected.json")));
  return j;
}

std::string reference_output(const std::string& file, const std::string& conversation) {
  for (const json& c : expected()["cases"]) {
    if (c["template"] == file && c["conversation"] == conversation && c["add_generation_prompt"] == true) {
      return c.at("output").get<std::string>();
    }
  }
  ADD_FAILURE() << "no reference case " << file << " / " << conversation;
  return "";
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(ChatCli, PrintPromptUsesTheModelTemplateLikeTheReference) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/phi3v-f32.gguf");
  // The model's tokenizer.chat_template is Phi-3-mini's (phi3.jinja) and its
  // BOS/EOS texts are the ones the reference rendering used.
  for (const char* conv : {"system_user", "llama_cpp", "special_text"}) {
    SCOPED_TRACE(conv);
    const std::string path = write_temp(std::string("tandem_chat_") + conv + ".json",
                                        json{{"messages", expected()["conversations"][conv]}}.dump());
    auto r = run_command(chat(phi3_model(), "--print-prompt --conversation " + shell_quote(path)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, reference_output("phi3.jinja", conv));
    std::remove(path.c_str());
  }
}

TEST(ChatCli, BuiltinTemplateByName) {
  // stories260K has no template: --template chatml supplies one.
  auto r = run_command(chat(source_path("models/stories260K.gguf"), "--template chatml --print-prompt -p 'Hello!'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, reference_output("chatml.jinja", "user"));
  // A template file works the same way.
  const std::string file = source_path("tests/tokenizer/chat_templates/zephyr.jinja");
  r = run_command(chat(source_path("models/stories260K.gguf"), "--template " + shell_quote(file) + " --print-prompt -p 'Hello!'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, reference_output("zephyr.jinja", "user"));
}

TEST(ChatCli, MultiTurnWithCacheReuseEqualsFreshRun) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/phi3v-f32.gguf");
  // Two user lines on stdin, greedy: the second reply (computed on top of the
  // cached first turn) must equal a fresh answer to the whole conversation.
  auto r = run_command("printf 'Hello there\\nHow are you?\\n' | " + chat(phi3_model(), "-n 8 --temp 0 -v"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t nl = r.out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  const std::string reply1 = r.out.substr(0, nl), reply2 = r.out.substr(nl + 1);
  ASSERT_FALSE(reply1.empty());
  EXPECT_NE(r.err.find("reused from the cache"), std::string::npos);
  EXPECT_EQ(r.err.find(", 0 reused from the cache]\n", r.err.find('\n') + 1), std::string::npos)
      << "the second turn should reuse the first turn's cache: " << r.err;

  const json conv = {{"messages",
                      {{{"role", "user"}, {"content", "Hello there"}},
                       {{"role", "assistant"}, {"content", reply1}},
                       {{"role", "user"}, {"content", "How are you?"}}}}};
  const std::string path = write_temp("tandem_chat_turns.json", conv.dump());
  auto fresh = run_command(chat(phi3_model(), "-n 8 --temp 0 --conversation " + shell_quote(path)));
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(fresh.out, reply2);
  std::remove(path.c_str());
}

void expect_one_line_error(const testing::CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(ChatCli, ErrorsAreOneLine) {
  const std::string stories = source_path("models/stories260K.gguf");
  expect_one_line_error(run_command(chat(stories, "-p hi") + " < /dev/null"), "--template");
  expect_one_line_error(run_command(chat(stories, "--template nosuchtemplate -p hi")), "nosuchtemplate");
  // Gemma's template refuses a system message (raise_exception).
  expect_one_line_error(run_command(chat(stories, "--template gemma --system hi -p hi --print-prompt")),
                        "System role not supported");
  const std::string bad = write_temp("tandem_chat_bad.json", "{\"messages\": [{\"content\": \"no role\"}]}");
  expect_one_line_error(run_command(chat(stories, "--template chatml --conversation " + shell_quote(bad))), "role");
  std::remove(bad.c_str());
  const std::string broken = write_temp("tandem_chat_broken.jinja", "{% for m in messages %}{{ m.content | shout }}{% endfor %}");
  expect_one_line_error(run_command(chat(stories, "--template " + shell_quote(broken) + " -p hi --print-prompt")),
                        "unsupported filter 'shout'");
  std::remove(broken.c_str());
}

}  // namespace
}  // namespace tandem
