// Behaviour beyond the .inp/.out suites: special tokens and BOS/EOS per
// vocabulary family, the vocab-only fixtures without test cases, and the SPM
// word-cutting shortcut checked against the plain global merge.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace tandem {
namespace {

using testing::shared_path;

// " " + s, spelled so that GCC 12 does not warn falsely (-Wrestrict).
std::string space_then(const std::string& s) {
  std::string r(1, ' ');
  r += s;
  return r;
}

std::unique_ptr<Tokenizer> open_vocab(const std::string& name) {
  auto file = gguf::File::open(shared_path("fixtures/tokenizer/ggml-vocab-" + name + ".gguf"));
  return Tokenizer::from_gguf(*file);
}

// ~60 KB of TinyStories text with its newlines and punctuation.
std::string story_text(size_t bytes) {
  const std::string path = shared_path("data/tinystories-train/train-00.jsonl");
  std::ifstream in(path);
  std::string text;
  for (std::string line; text.size() < bytes && std::getline(in, line);) {
    text += nlohmann::json::parse(line)["text"].get<std::string>() + "\n";
  }
  if (text.size() < bytes) throw std::runtime_error("fewer than " + std::to_string(bytes) + " bytes of text in " + path);
  return text;
}

TEST(Families, Gpt2SpecialTokenParsing) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer");
  auto tok = open_vocab("gpt-2");
  const TokenId eot = tok->find_token("<|endoftext|>");
  ASSERT_EQ(eot, 50256);
  EXPECT_TRUE(tok->is_eog(eot));
  const auto parsed = tok->encode("Hello<|endoftext|> world", false, true);
  EXPECT_EQ(parsed, (std::vector<TokenId>{tok->find_token("Hello"), eot, tok->find_token("\xc4\xa0world")}));
  const auto plain = tok->encode("Hello<|endoftext|> world", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), eot), 0);
  EXPECT_EQ(tok->decode(plain), "Hello<|endoftext|> world");
  // GPT-2 adds no BOS by default.
  EXPECT_EQ(tok->encode("Hello", true, true), (std::vector<TokenId>{tok->find_token("Hello")}));
  EXPECT_EQ(tok->token_to_piece(eot, false), "");
  EXPECT_EQ(tok->token_to_piece(eot, true), "<|endoftext|>");
}

TEST(Families, DeepseekCoderAddsBos) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer");
  auto tok = open_vocab("deepseek-coder");
  const auto ids = tok->encode("int x = 1;", true, true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 32013);
  EXPECT_EQ(tok->decode(ids, /*remove_special=*/true), "int x = 1;");
}

TEST(Families, BertAddsClsAndSep) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer");
  auto tok = open_vocab("bert-bge");
  const auto ids = tok->encode("Hello, World!", true, true);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 101);  // [CLS]
  EXPECT_EQ(ids.back(), 102);   // [SEP]
  const auto plain = tok->encode("Hello, World!", false, false);
  EXPECT_EQ(std::vector<TokenId>(ids.begin() + 1, ids.end() - 1), plain);
  // Lower-cased, punctuation split off, words marked with a leading space.
  EXPECT_EQ(tok->decode(plain), " hello, world!");
}

TEST(Families, VocabOnlyFilesWithoutCasesLoadAndRoundTrip) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer");
  const std::string text = "Hello world! It's 2024, numbers 12345 and caf\xc3\xa9.\n\tIndented line";
  auto neox = open_vocab("gpt-neox");  // no tokenizer.ggml.pre: llama.cpp's "default" pre-tokenizer
  EXPECT_EQ(neox->bos(), 0);
  EXPECT_TRUE(neox->is_eog(0));
  const auto n_ids = neox->encode(text, false, false);
  EXPECT_LT(n_ids.size(), text.size() / 2);
  EXPECT_EQ(neox->decode(n_ids), text);
  auto baichuan = open_vocab("baichuan");  // SPM, BOS added by default
  const auto b_ids = baichuan->encode(text, true, false);
  ASSERT_FALSE(b_ids.empty());
  EXPECT_EQ(b_ids.front(), 1);
  EXPECT_EQ(baichuan->decode(b_ids, true), space_then(text));
}

// SPM cuts long texts at word starts when the vocabulary allows it; adding a
// token with U+2581 after another character switches that off. The token can
// never form in this text, so both must give the same ids: the plain global
// merge is the reference for the shortcut.
TEST(Families, SpmWordCuttingEqualsGlobalMerge) {
  TANDEM_REQUIRE_SHARED("data/tinystories-train/train-00.jsonl");
  auto file = gguf::File::open(shared_path("fixtures/tokenizer/ggml-vocab-llama-spm.gguf"));
  Vocab v = load_vocab(*file);
  auto fast = Tokenizer::from_vocab(v);
  v.tokens.push_back("\x01\xe2\x96\x81\x02");
  v.scores.push_back(0.0f);
  v.kinds.push_back(TokenKind::kNormal);
  v.attrs.push_back(kAttrNormal);
  auto slow = Tokenizer::from_vocab(v);
  const std::string text = story_text(60000) + "  double  spaces \xe2\x96\x81 and a literal U+2581\xe2\x96\x81\xe2\x96\x81.";
  const auto a = fast->encode(text, true, false);
  const auto b = slow->encode(text, true, false);
  EXPECT_EQ(a, b);
  // Literal U+2581 comes back as a space, as in llama.cpp.
  const std::string expected = replace_all(space_then(text), "\xe2\x96\x81", " ");
  EXPECT_TRUE(fast->decode(a, true) == expected);
}

TEST(Families, InvalidUtf8NeverCrashes) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer");
  std::string junk;
  for (int i = 0; i < 4000; ++i) junk.push_back(static_cast<char>((i * 7919 + 13) % 256));
  for (const char* name : {"llama-spm", "gpt-2", "deepseek-llm", "deepseek-coder", "falcon", "bert-bge"}) {
    auto tok = open_vocab(name);
    const auto ids = tok->encode(junk, true, true);
    for (TokenId id : ids) ASSERT_TRUE(tok->vocab().valid(id)) << name;
    if (tok->vocab().model == "llama") {
      EXPECT_EQ(tok->decode(ids, true), space_then(junk)) << name;  // byte fallback keeps every byte
    }
  }
}

// A Tokenizer is immutable: concurrent encodes give the serial results.
TEST(Families, ConcurrentEncodeIsConsistent) {
  TANDEM_REQUIRE_SHARED("data/tinystories-train/train-00.jsonl");
  const std::string text = story_text(20000);
  for (const char* name : {"llama-spm", "deepseek-llm", "bert-bge"}) {
    auto tok = open_vocab(name);
    const auto want = tok->encode(text, true, true);
    std::vector<std::vector<TokenId>> got(4);
    std::vector<std::thread> threads;
    for (auto& g : got) threads.emplace_back([&] { g = tok->encode(text, true, true); });
    for (auto& t : threads) t.join();
    for (const auto& g : got) EXPECT_EQ(g, want) << name;
  }
}

}  // namespace
}  // namespace tandem
