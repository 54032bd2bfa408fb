// The hand-written GPT-2 and Llama-3 splitters (llama.cpp's fast paths)
// against the general regex path running the same expression, on real text
// and on synthetic mixes of letters, digits, punctuation, spaces, newlines and
// non-ASCII characters.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace tandem {
namespace {

using testing::shared_path;

constexpr const char* kStories = "data/tinystories-train/train-00.jsonl";

// The first 200 TinyStories texts, from the shared folder.
std::vector<std::string> story_texts() {
  std::ifstream in(shared_path(kStories));
  if (!in) throw std::runtime_error("cannot read " + shared_path(kStories));
  std::vector<std::string> texts;
  std::string line;
  for (int i = 0; i < 200 && std::getline(in, line); ++i) {
    texts.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
  }
  return texts;
}

// Synthetic: every kind of character the expressions distinguish.
std::vector<std::string> synthetic_texts() {
  std::vector<std::string> texts;
  const std::vector<std::string> atoms = {"a", "Z", "\xc3\xa9", "\xe6\x97\xa5", "7", "\xd9\xa3", " ", "  ", "\t",
                                          "\n", "\r\n", "'", "'s", "'LL", "'re", ".", "!?", "$", "\xe2\x80\x94",
                                          "\xc2\xa0", "\xe3\x80\x80", "\xf0\x9f\xa6\x99", "\xcc\x81", "_", "-"};
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    const int n = 1 + static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) s += atoms[rng() % atoms.size()];
    texts.push_back(s);
  }
  return texts;
}

const std::string kGpt2Rx = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const std::string kLlama3Rx =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Wrapping the expression in a group makes it miss the fast path.
void expect_fast_path_matches_regex(const std::string& rx, const std::vector<std::string>& texts) {
  PreTokenizer fast(BpePreTokenizer{{"fast"}, {rx}});
  PreTokenizer slow(BpePreTokenizer{{"slow"}, {"(?:" + rx + ")"}});
  int mismatches = 0;
  for (const auto& text : texts) {
    const auto cps = utf8_decode(text);
    const auto a = fast.split(cps);
    const auto b = slow.split(cps);
    if (a != b && ++mismatches <= 5) ADD_FAILURE() << "splits differ for '" << text << "'";
  }
  EXPECT_EQ(mismatches, 0);
}

void expect_pieces_cover(const std::vector<std::string>& texts) {
  for (const char* name : {"default", "gpt-2", "llama3", "qwen2", "deepseek-llm", "deepseek-coder", "falcon",
                           "starcoder", "bloom", "chatglm-bpe", "seed-coder", "deepseek-v3", "tekken", "gpt-4o",
                           "chameleon", "exaone-moe", "tiny_aya", "jais-2", "minicpm5", "longcat"}) {
    const BpePreTokenizer* spec = find_bpe_pre(name);
    ASSERT_NE(spec, nullptr) << name;
    PreTokenizer pre(*spec);
    for (const auto& text : texts) {
      const auto cps = utf8_decode(text);
      size_t total = 0;
      for (size_t n : pre.split(cps)) {
        EXPECT_GT(n, 0u);
        total += n;
      }
      EXPECT_EQ(total, cps.size()) << name << " '" << text << "'";
    }
  }
}

TEST(PreTokenizer, Gpt2SplitterMatchesRegex) { expect_fast_path_matches_regex(kGpt2Rx, synthetic_texts()); }

TEST(PreTokenizer, Llama3SplitterMatchesRegex) { expect_fast_path_matches_regex(kLlama3Rx, synthetic_texts()); }

TEST(PreTokenizer, PiecesCoverTheText) {
  expect_pieces_cover(synthetic_texts());
  EXPECT_EQ(find_bpe_pre("no-such-pre"), nullptr);
}

// The same three checks on real text (newlines, punctuation, long runs).
TEST(PreTokenizer, SplittersAndPiecesOnStoryText) {
  TANDEM_REQUIRE_SHARED(kStories);
  const auto texts = story_texts();
  ASSERT_EQ(texts.size(), 200u);
  expect_fast_path_matches_regex(kGpt2Rx, texts);
  expect_fast_path_matches_regex(kLlama3Rx, texts);
  expect_pieces_cover(texts);
}

// Code point classes against the Unicode character database (via facts that
// do not depend on the library): they must follow llama.cpp's tables, which
// give unassigned code points no category and know Unicode 15.1.
TEST(UnicodeFlags, Categories) {
  using namespace unicode;
  EXPECT_EQ(flags('A'), kLetter);
  EXPECT_EQ(flags('7'), kNumber);
  EXPECT_EQ(flags(0x0663), kNumber);                 // ARABIC-INDIC DIGIT THREE
  EXPECT_EQ(flags(0x00BD), kNumber);                 // VULGAR FRACTION ONE HALF (No)
  EXPECT_EQ(flags(' '), kSeparator | kWhitespace);
  EXPECT_EQ(flags('\n'), kControl | kWhitespace);
  EXPECT_EQ(flags(0x00A0), kSeparator | kWhitespace);  // NO-BREAK SPACE
  EXPECT_EQ(flags(0x0085), kControl | kWhitespace);    // NEXT LINE
  EXPECT_EQ(flags(0x200B), kControl);                // ZERO WIDTH SPACE is Cf, not \s
  EXPECT_EQ(flags(0x001C), kControl);                // FILE SEPARATOR is not White_Space
  EXPECT_EQ(flags(0x0301), kAccentMark);
  EXPECT_EQ(flags('$'), kSymbol);
  EXPECT_EQ(flags('_'), kPunctuation);
  EXPECT_EQ(flags(0x0378), kUndefined);              // unassigned
  EXPECT_EQ(flags(0x2EBF0), kLetter);                // CJK Extension I (Unicode 15.1)
  EXPECT_EQ(flags(0x2FFC), kSymbol);                 // IDC (Unicode 15.1)
  EXPECT_EQ(flags(0x110000), 0);
  EXPECT_EQ(to_lower(0x0130), 'i');                  // str.lower()[0] of U+0130
  EXPECT_EQ(nfd_first(0x00E9), 'e');
  EXPECT_EQ(nfd_first(0xD55C), 0x1112u);             // Hangul syllable -> first jamo
}

}  // namespace
}  // namespace tandem
