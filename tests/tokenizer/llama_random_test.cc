// Random strings tokenized by llama.cpp (tests/tokenizer/data/README.md says
// how they were made): ids with and without special tokens, and the
// detokenized text, for an SPM, two BPE and a WPM vocabulary, and the GPT-2
// vocabulary under the Llama 3 and Qwen2 pre-tokenizers.
#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace tandem {
namespace {

std::string unhex(const std::string& h) {
  std::string s;
  for (size_t i = 0; i + 1 < h.size(); i += 2) s.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return s;
}

class LlamaRandom : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaRandom, IdsAndDetokenizedText) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer");
  static const nlohmann::json ref =
      testing::read_json(testing::source_path("tests/tokenizer/data/llama_cpp_random.json"));
  const auto& v = ref["vocabs"][GetParam()];
  auto file = gguf::File::open(testing::shared_path(v["file"].get<std::string>()));
  std::unique_ptr<Tokenizer> tok;
  std::vector<uint8_t> bytes;  // a variant file must outlive its gguf::File
  std::unique_ptr<gguf::File> variant;
  if (v.contains("pre")) {
    // The same vocabulary with another pre-tokenizer (Llama 3, Qwen2), as
    // rewritten for llama.cpp: tokenizer.ggml.pre replaced, all else kept.
    gguf::Writer w;
    w.copy_metadata(*file);
    w.set("tokenizer.ggml.pre", gguf::Value::str(v["pre"].get<std::string>()));
    bytes = w.serialize();
    variant = gguf::File::parse(bytes.data(), bytes.size(), "variant.gguf");
    tok = Tokenizer::from_gguf(*variant);
  } else {
    tok = Tokenizer::from_gguf(*file);
  }
  const auto& inputs = ref["inputs_hex"];
  ASSERT_GT(inputs.size(), 150u);
  int failures = 0;
  for (size_t i = 0; i < inputs.size() && failures < 5; ++i) {
    const std::string text = unhex(inputs[i].get<std::string>());
    const auto plain = v["ids_plain"][i].get<std::vector<TokenId>>();
    const auto special = v["ids_special"][i].get<std::vector<TokenId>>();
    const bool ok = tok->encode(text, false, false) == plain && tok->encode(text, true, true) == special &&
                    tok->decode(plain) == unhex(v["detok_plain_hex"][i].get<std::string>());
    EXPECT_TRUE(ok) << GetParam() << ": input " << i << " '" << text << "'";
    failures += !ok;
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, LlamaRandom,
                         ::testing::Values("phi-3", "gpt-2", "deepseek-llm", "bert-bge", "gpt-2+llama-bpe",
                                           "gpt-2+qwen2"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

}  // namespace
}  // namespace tandem
