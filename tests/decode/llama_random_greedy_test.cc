// Greedy generation on the 32k Llama-2 vocabulary against llama.cpp:
// fixtures/llama-2-tiny-random/greedy-hello-world.json (ref_dump gen, 16
// argmax tokens of "Hello world"): prompt tokens, generated tokens, pieces and
// text. The random weights give nearly flat logits (|logit| <= 0.27, smallest
// top-1/top-2 gap 0.0016) and nearly linear layers, so the path survives some
// forward-pass errors (BF16 activations, a wrong attention scale, GELU for
// SiLU all left it unchanged) and breaks under larger ones (skipping the last
// layer changes tokens 11-15); the logits themselves are checked to 1e-3 by
// TransformerLogits.TinyRandomLlama2Vocab32k.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/strategy.h"
#include "test_util.h"

namespace tandem::decode {
namespace {

using testing::read_json;
using testing::shared_path;

std::string unhex(const std::string& h) {
  std::string s;
  for (size_t i = 0; i + 1 < h.size(); i += 2) s.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return s;
}

TEST(LlamaRandomGreedy, HelloWorldIsLlamaCppsGreedyOutput) {
  TANDEM_REQUIRE_SHARED("models/llama-2-tiny-random.gguf");
  const auto fx = read_json(shared_path("fixtures/llama-2-tiny-random/greedy-hello-world.json"));
  auto model = Transformer::load(shared_path("models/llama-2-tiny-random.gguf"), {.n_threads = 1});
  const std::string prompt = fx["prompt"];
  EXPECT_EQ(model->tokenizer().encode(prompt, true, true), fx["prompt_tokens"].get<std::vector<TokenId>>());

  const auto want = fx["generated_tokens"].get<std::vector<TokenId>>();
  ASSERT_EQ(want.size(), fx["n_predict"].get<size_t>());
  ASSERT_FALSE(fx["stopped_at_eog"].get<bool>());
  StrategyOptions o;
  o.strategy = "greedy";
  o.text.n_predict = static_cast<int>(want.size());
  for (int threads : {1, 2}) {
    // Transformer is immutable after load: the thread count is a load option.
    auto m = Transformer::load(shared_path("models/llama-2-tiny-random.gguf"), {.n_threads = threads});
    const auto r = run_strategy(*m, prompt, o);
    EXPECT_EQ(r.output.tokens, want) << "threads=" << threads;
    EXPECT_EQ(r.output.text, fx["generated_text"].get<std::string>()) << "threads=" << threads;
  }
  const auto pieces = fx["generated_pieces_hex"];
  ASSERT_EQ(pieces.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(model->tokenizer().token_to_piece(want[i]), unhex(pieces[i].get<std::string>())) << i;
}

}  // namespace
}  // namespace tandem::decode
