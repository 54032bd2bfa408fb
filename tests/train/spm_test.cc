// SPM vocabularies: metadata read/write and make_tokenizer against llama.cpp's
// tokenization of the stories260K vocabulary (fixtures), and training
// properties on a small corpus.
#include <gtest/gtest.h>

#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "train/spm.h"
#include "util/error.h"

#include <set>

namespace tandem::train {
namespace {

using tandem::testing::read_file;
using tandem::testing::read_json;
using tandem::testing::shared_path;
using tandem::testing::source_path;

// A vocabulary read by read_spm_metadata, re-exported by write_spm_metadata
// and turned into a tokenizer by make_tokenizer tokenizes as llama.cpp does.
TEST(Spm, MetadataRoundTripTokenizesLikeLlamaCppOnStories260K) {
  TANDEM_REQUIRE_SHARED("fixtures/stories260K/tokenize.json");
  auto f = gguf::File::open(source_path("models/stories260K.gguf"));
  const SpmVocab vocab = read_spm_metadata(*f);
  ASSERT_EQ(vocab.size(), 512);
  auto tok = make_tokenizer(vocab);
  auto cases = read_json(shared_path("fixtures/stories260K/tokenize.json"))["cases"];
  ASSERT_GE(cases.size(), 10u);
  for (const auto& c : cases) {
    const std::string text = read_file(shared_path("fixtures/stories260K/" + c["input_file"].get<std::string>()));
    // ids_no_parse_special = BOS + plain-text tokenization of the whole text.
    const std::vector<int32_t> want = c["ids_no_parse_special"].get<std::vector<int32_t>>();
    ASSERT_EQ(want.front(), 1);
    EXPECT_EQ(tok->encode(text, true, false), want) << c["name"];
  }
}

std::vector<std::string> corpus() {
  return {"Once upon a time, there was a little dog named Max. Max liked to play.",
          "The little cat saw the dog. The cat and the dog played in the park.",
          "Lily went to the park with her mom.\nShe saw a big red ball!",
          "One day, the little girl found a shiny stone. She was very happy.",
          "Caf\xC3\xA9 na\xC3\xAFve \xE2\x9C\x93 \xF0\x9F\x90\xB6 tab\there"};
}

TEST(Spm, TrainedVocabularyHasTheLlamaLayoutAndSize) {
  SpmTrainOptions opt;
  opt.vocab_size = 340;  // ~45 characters, so ~35 merges
  SpmVocab v = train_spm(corpus(), opt);
  ASSERT_EQ(v.size(), 340);
  EXPECT_EQ(v.tokens[0], "<unk>");
  EXPECT_EQ(v.tokens[1], "<s>");
  EXPECT_EQ(v.tokens[2], "</s>");
  EXPECT_EQ(v.tokens[3], "<0x00>");
  EXPECT_EQ(v.tokens[3 + 0x0A], "<0x0A>");
  EXPECT_EQ(v.tokens[258], "<0xFF>");
  EXPECT_EQ(v.types[0], 2);
  EXPECT_EQ(v.types[1], 3);
  EXPECT_EQ(v.types[100], 6);
  // No duplicates (llama.cpp maps text to one id).
  std::set<std::string> uniq(v.tokens.begin(), v.tokens.end());
  EXPECT_EQ(uniq.size(), v.tokens.size());
  // The most frequent word was merged into one piece.
  auto ids = make_tokenizer(v)->encode("the", false, false);
  EXPECT_EQ(ids.size(), 1u) << "\"▁the\" should be a single token";
  // Deterministic.
  EXPECT_EQ(train_spm(corpus(), opt).tokens, v.tokens);
}

TEST(Spm, EncodeDecodeRoundTripsWithByteFallback) {
  SpmTrainOptions opt;
  opt.vocab_size = 320;
  opt.character_coverage = 0.98;  // leaves the rare characters to byte tokens
  const SpmVocab v = train_spm(corpus(), opt);
  auto tok = make_tokenizer(v);
  for (const std::string& s : {std::string("The dog and the cat."), std::string("Zebra \xF0\x9F\xA6\x93 \xE4\xB8\xAD!\n"),
                               std::string("  two  spaces "), std::string("\xC3\xA9t\xC3\xA9")}) {
    auto ids = tok->encode(s, false, false);
    std::string pieces;
    for (int32_t id : ids) pieces += tok->token_to_piece(id);
    EXPECT_EQ(pieces, " " + s);  // the space prefix, then the text byte for byte
    EXPECT_EQ(tok->decode(ids), s);
    for (int32_t id : ids) EXPECT_TRUE(id >= 3 && id < v.size());
  }
  // Characters outside the alphabet come out as their UTF-8 bytes.
  auto ids = make_tokenizer(v, /*add_space_prefix=*/false)->encode("\xF0\x9F\xA6\x93", false, false);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[0], 3 + 0xF0);
  EXPECT_EQ(ids[3], 3 + 0x93);
}

TEST(Spm, MetadataRoundTripsThroughGguf) {
  SpmTrainOptions opt;
  opt.vocab_size = 290;
  SpmVocab v = train_spm(corpus(), opt);
  gguf::Writer w;
  w.set("general.architecture", gguf::Value::str("llama"));
  write_spm_metadata(w, v);
  auto bytes = w.serialize();
  auto f = gguf::File::parse(bytes.data(), bytes.size(), "mem");
  EXPECT_EQ(f->get_string("tokenizer.ggml.model"), "llama");
  SpmVocab r = read_spm_metadata(*f);
  EXPECT_EQ(r.tokens, v.tokens);
  EXPECT_EQ(r.scores, v.scores);
  EXPECT_EQ(r.types, v.types);
  EXPECT_EQ(r.bos, 1);
  EXPECT_EQ(r.eos, 2);
}

// make_tokenizer configures the library tokenizer as the exported metadata
// says: <s> added, </s> ends generation, control tokens render as nothing,
// and the continuation variant has no leading space.
TEST(Spm, MakeTokenizerFollowsTheExportedMetadata) {
  SpmTrainOptions opt;
  opt.vocab_size = 300;
  const SpmVocab v = train_spm(corpus(), opt);
  auto tok = make_tokenizer(v);
  auto cont = make_tokenizer(v, /*add_space_prefix=*/false);
  EXPECT_EQ(tok->bos(), v.bos);
  EXPECT_TRUE(tok->is_eog(v.eos));
  EXPECT_EQ(tok->token_to_piece(v.bos, /*special=*/false), "");
  const auto with = tok->encode("dog", true, false), without = cont->encode("dog", false, false);
  ASSERT_EQ(with.front(), v.bos);
  std::string a, b;
  for (size_t i = 1; i < with.size(); ++i) a += tok->token_to_piece(with[i]);
  for (int32_t id : without) b += cont->token_to_piece(id);
  EXPECT_EQ(a, " dog");
  EXPECT_EQ(b, "dog");
}

TEST(Spm, ReadMetadataRejectsOtherTokenizerModels) {
  gguf::Writer w;
  w.set("general.architecture", gguf::Value::str("gpt2"));
  w.set("tokenizer.ggml.model", gguf::Value::str("gpt2"));
  w.set("tokenizer.ggml.tokens", gguf::Value::string_array({"a", "b"}));
  auto bytes = w.serialize();
  auto f = gguf::File::parse(bytes.data(), bytes.size(), "bpe-vocab");
  EXPECT_THROW(read_spm_metadata(*f), Error);
}

TEST(Spm, RejectsTooSmallVocabulary) {
  SpmTrainOptions opt;
  opt.vocab_size = 259;
  EXPECT_THROW(train_spm(corpus(), opt), Error);
}

}  // namespace
}  // namespace tandem::train
