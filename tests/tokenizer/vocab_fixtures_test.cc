// Every .inp/.out case of llama.cpp's tokenizer fixtures (tests/test-tokenizer-0
// settings: add_special = false, parse_special = false), and the round trip
// decode(encode(s)) == s where the vocabulary's decoder is lossless.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace tandem {
namespace {

using testing::read_file;
using testing::shared_path;

struct Case {
  std::string text;
  std::vector<TokenId> ids;
};

std::vector<Case> read_cases(const std::string& vocab) {
  const std::string base = shared_path("fixtures/tokenizer/ggml-vocab-" + vocab + ".gguf");
  const std::string inp = read_file(base + ".inp");
  const std::string out = read_file(base + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < inp.size();) {
    const size_t hit = inp.find(sep, pos);
    if (hit == std::string::npos) break;
    texts.push_back(inp.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
  std::vector<Case> cases;
  std::istringstream lines(out);
  std::string line;
  for (const auto& t : texts) {
    if (!std::getline(lines, line)) break;
    Case c{t, {}};
    std::istringstream ids(line);
    for (long v; ids >> v;) c.ids.push_back(static_cast<TokenId>(v));
    cases.push_back(std::move(c));
  }
  EXPECT_EQ(cases.size(), texts.size()) << vocab << ": .out has fewer lines than .inp has cases";
  return cases;
}

std::string show(const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

// The decoder loses information when it cleans up spaces around punctuation
// (clean_up_tokenization_spaces) and when text falls back to the unknown token;
// WordPiece normalizes (lower case, accents) so it never round-trips in general.
bool decoder_is_lossless_for(const Tokenizer& tok, const std::vector<TokenId>& ids) {
  const Vocab& v = tok.vocab();
  if (v.model == "bert") return false;
  for (TokenId id : ids) {
    if (id == v.unk && v.unk != kNoToken) return false;
  }
  if (v.clean_spaces) {
    const std::string raw = [&] {
      std::string s;
      for (TokenId id : ids) s += tok.token_to_piece(id);
      return s;
    }();
    for (const char* p : {" ?", " !", " .", " ,", " '"}) {
      if (raw.find(p) != std::string::npos) return false;
    }
  }
  return true;
}

class VocabFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabFixture, MatchesLlamaCppIds) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer");
  const std::string name = GetParam();
  auto file = gguf::File::open(shared_path("fixtures/tokenizer/ggml-vocab-" + name + ".gguf"));
  auto tok = Tokenizer::from_gguf(*file);
  const auto cases = read_cases(name);
  ASSERT_GT(cases.size(), 40u);
  int passed = 0;
  for (const auto& c : cases) {
    const auto ids = tok->encode(c.text, /*add_special=*/false, /*parse_special=*/false);
    EXPECT_EQ(ids, c.ids) << name << " text '" << c.text << "'\n got:" << show(ids) << "\n want:" << show(c.ids);
    passed += ids == c.ids;
  }
  RecordProperty("passed", passed);
}

TEST_P(VocabFixture, DecodeRoundTrips) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer");
  const std::string name = GetParam();
  auto file = gguf::File::open(shared_path("fixtures/tokenizer/ggml-vocab-" + name + ".gguf"));
  auto tok = Tokenizer::from_gguf(*file);
  int checked = 0;
  for (const auto& c : read_cases(name)) {
    if (!decoder_is_lossless_for(*tok, c.ids)) continue;
    EXPECT_EQ(tok->decode(c.ids), c.text) << name << " ids" << show(c.ids);
    ++checked;
  }
  if (tok->vocab().model != "bert") {
    EXPECT_GT(checked, 20) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(All, VocabFixture,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "mpt", "falcon", "starcoder", "refact",
                                           "deepseek-llm", "deepseek-coder", "bert-bge"));

}  // namespace
}  // namespace tandem
