// Perplexity against llama-perplexity on the same text and model
// (fixtures/stories260K/perplexity-*.txt, F32 KV cache run: PPL = 4.1506).
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "eval/perplexity.h"
#include "model/transformer.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem {
namespace {

using testing::read_file;
using testing::shared_path;
using testing::source_path;

TEST(Perplexity, MatchesLlamaPerplexityChunkByChunk) {
  TANDEM_REQUIRE_SHARED("fixtures/stories260K/perplexity-text.txt");
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 2});
  const std::string text = read_file(shared_path("fixtures/stories260K/perplexity-text.txt"));
  // llama-perplexity tokenizes with BOS and without parsing special tokens.
  const auto tokens = model->tokenizer().encode(text, /*add_special=*/true, /*parse_special=*/false);
  ASSERT_EQ(tokens.size(), 647u);  // fixtures README: "647 tokens with BOS"
  PerplexityResult r = perplexity(*model, tokens, 64);
  EXPECT_EQ(r.n_scored, 310);

  // Per-chunk running values printed by the F32-KV llama-perplexity run.
  const std::string out = read_file(shared_path("fixtures/stories260K/perplexity-c64-kvf32.stdout.txt"));
  std::regex chunk_re(R"(\[(\d+)\]([0-9.]+))");
  std::vector<double> want;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), chunk_re); it != std::sregex_iterator(); ++it) {
    want.push_back(std::stod((*it)[2].str()));
  }
  ASSERT_EQ(want.size(), r.running_ppl.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(r.running_ppl[i], want[i], 1.5e-4) << "chunk " << i + 1;  // printed with 4 decimals
  }
  // Final value of the independent recomputation (same algorithm, 6 decimals)
  // and the "+/-" of llama-perplexity's F32-KV run (fixtures README: 0.42532).
  std::smatch m;
  const std::string recompute = read_file(shared_path("fixtures/stories260K/perplexity-c64.independent-recompute.txt"));
  ASSERT_TRUE(std::regex_search(recompute, m, std::regex(R"(PPL=([0-9.]+))")));
  EXPECT_NEAR(r.ppl, std::stod(m[1].str()), 1e-5);
  EXPECT_NEAR(r.ppl_stderr, 0.42532, 1e-4);
  std::printf("PPL %.6f +/- %.5f (llama.cpp: %s +/- 0.42532)\n", r.ppl, r.ppl_stderr, m[1].str().c_str());
}

TEST(Perplexity, RejectsTextShorterThanOneChunk) {
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  const auto tokens = model->tokenizer().encode("Once upon a time", true, false);
  EXPECT_THROW(perplexity(*model, tokens, 64), Error);
}

// Library callers get the check the CLI makes at parse time (`tandem
// perplexity -c 0` divided by zero before it): a chunk needs 4 tokens, and
// the chunk count must not divide by zero or a negative size.
TEST(Perplexity, RejectsContextBelowFourTokens) {
  auto model = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  const auto tokens = model->tokenizer().encode("Once upon a time there was a little dog who liked to run.", true, false);
  ASSERT_GE(tokens.size(), 8u);
  for (int64_t n_ctx : {0, 3, -1, -64}) EXPECT_THROW(perplexity(*model, tokens, n_ctx), Error) << n_ctx;
  EXPECT_EQ(perplexity(*model, tokens, 4).n_scored, static_cast<int64_t>(tokens.size() / 4));  // 1 scored per chunk
}

}  // namespace
}  // namespace tandem
