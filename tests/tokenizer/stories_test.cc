// stories260K (512-token SPM vocabulary) against llama-tokenize and ref_dump
// outputs: fixtures/stories260K/tokenize.json and greedy-*.json.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace tandem {
namespace {

using testing::read_file;
using testing::read_json;
using testing::shared_path;
using testing::source_path;

class Stories : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    file_ = gguf::File::open(source_path("models/stories260K.gguf")).release();
    tok_ = Tokenizer::from_gguf(*file_).release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete file_;
  }
  static gguf::File* file_;
  static Tokenizer* tok_;
};
gguf::File* Stories::file_ = nullptr;
Tokenizer* Stories::tok_ = nullptr;

std::vector<TokenId> ids_of(const nlohmann::json& j) { return j.get<std::vector<TokenId>>(); }

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) h += {d[c >> 4], d[c & 15]};
  return h;
}

TEST_F(Stories, VocabularyBasics) {
  EXPECT_EQ(tok_->n_vocab(), 512);
  EXPECT_EQ(tok_->bos(), 1);
  EXPECT_EQ(tok_->eos(), 2);
  EXPECT_TRUE(tok_->is_eog(2));
  EXPECT_FALSE(tok_->is_eog(1));
  EXPECT_FALSE(tok_->is_eog(kNoToken));
  EXPECT_TRUE(tok_->vocab().add_bos);
}

TEST_F(Stories, TokenizeMatchesLlamaTokenize) {
  TANDEM_REQUIRE_SHARED("fixtures/stories260K/tokenize.json");
  const auto j = read_json(shared_path("fixtures/stories260K/tokenize.json"));
  ASSERT_GE(j["cases"].size(), 18u);
  for (const auto& c : j["cases"]) {
    const std::string name = c["name"];
    const std::string text = read_file(shared_path("fixtures/stories260K/" + c["input_file"].get<std::string>()));
    EXPECT_EQ(text, c["text"].get<std::string>()) << name;
    EXPECT_EQ(tok_->encode(text, true, true), ids_of(c["ids_default"])) << name;
    EXPECT_EQ(tok_->encode(text, false, true), ids_of(c["ids_no_bos"])) << name;
    EXPECT_EQ(tok_->encode(text, true, false), ids_of(c["ids_no_parse_special"])) << name;
  }
}

// llama_detokenize(remove_special=true, unparse_special=false) of the default
// ids gives the text back, except that SPM keeps the space it prepended when
// a BOS was removed (llama.cpp only strips it when the text starts the ids).
TEST_F(Stories, DetokenizeRoundTrips) {
  TANDEM_REQUIRE_SHARED("fixtures/stories260K/tokenize.json");
  const auto j = read_json(shared_path("fixtures/stories260K/tokenize.json"));
  for (const auto& c : j["cases"]) {
    const std::string text = c["text"];
    const std::string name = c["name"];
    if (name == "special-text") continue;  // parsed special tokens render as nothing without unparse_special
    const auto no_bos = ids_of(c["ids_no_bos"]);
    EXPECT_EQ(tok_->decode(no_bos), text) << name;
    const auto with_bos = ids_of(c["ids_default"]);
    EXPECT_EQ(tok_->decode(with_bos, true), (text.empty() ? "" : " ") + text) << name;
  }
  // With unparse_special the control tokens come back as their text.
  const std::vector<TokenId> special = {1, 1, 281, 306, 414, 2, 410, 410, 0};
  EXPECT_EQ(tok_->decode(special, false, true), "<s><s> hello</s>  <unk>");
}

TEST_F(Stories, PiecesMatchGreedyFixtures) {
  TANDEM_REQUIRE_SHARED("fixtures/stories260K/greedy-1.json");
  for (int k = 1; k <= 3; ++k) {
    const auto g = read_json(shared_path("fixtures/stories260K/greedy-" + std::to_string(k) + ".json"));
    const auto gen = ids_of(g["generated_tokens"]);
    const auto hexes = g["generated_pieces_hex"].get<std::vector<std::string>>();
    ASSERT_EQ(gen.size(), hexes.size());
    std::string text;
    for (size_t i = 0; i < gen.size(); ++i) {
      EXPECT_EQ(hex(tok_->token_to_piece(gen[i])), hexes[i]) << "token " << gen[i];
      text += tok_->token_to_piece(gen[i]);
    }
    EXPECT_EQ(text, g["generated_text"].get<std::string>());
    const auto prompt = ids_of(g["prompt_tokens"]);
    EXPECT_EQ(tok_->encode(g["prompt"].get<std::string>(), true, true), prompt);
    std::string rendered;
    for (TokenId id : prompt) rendered += tok_->token_to_piece(id, true);
    EXPECT_EQ(rendered, g["prompt_pieces_text"].get<std::string>());
  }
}

TEST_F(Stories, PieceConventions) {
  EXPECT_EQ(tok_->token_to_piece(1, true), "<s>");
  EXPECT_EQ(tok_->token_to_piece(1, false), "");
  EXPECT_EQ(tok_->token_to_piece(0, false), "");  // unknown renders as nothing without special
  EXPECT_EQ(tok_->token_to_piece(13), "\n");      // byte token <0x0A>
  EXPECT_EQ(tok_->token_to_piece(410), " ");      // "▁"
  EXPECT_EQ(tok_->token_to_piece(-1), "");
  EXPECT_EQ(tok_->token_to_piece(512), "");
}

}  // namespace
}  // namespace tandem
