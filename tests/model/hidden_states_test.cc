// Logits::kHidden: the final (normalized) hidden states, checked against a
// brute-force product with the output matrix read straight from the GGUF file
// (F32 fixture): logits row t == output . hidden row t, for every token.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "gguf/gguf.h"
#include "model/transformer.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::shared_path;

TEST(HiddenStates, TimesTheOutputMatrixGiveTheLogits) {
  const std::string path = shared_path("fixtures/arch/llama-f32.gguf");
  auto model = Transformer::load(path, {.n_threads = 1});
  auto file = gguf::File::open(path);
  const gguf::TensorInfo* out_w = file->find_tensor("output.weight");
  if (!out_w) out_w = &file->tensor("token_embd.weight");  // tied embeddings
  ASSERT_EQ(out_w->type, TensorType::F32);
  const int64_t n_embd = model->config().n_embd, n_vocab = model->config().n_vocab;
  ASSERT_EQ(out_w->ne[0], n_embd);
  ASSERT_EQ(out_w->ne[1], n_vocab);
  std::vector<float> w(static_cast<size_t>(n_embd * n_vocab));
  std::memcpy(w.data(), out_w->data, w.size() * sizeof(float));

  const std::vector<TokenId> tokens = model->tokenizer().encode("Once upon a time there was", true, true);
  const int64_t n = static_cast<int64_t>(tokens.size());
  std::vector<float> hidden, logits;
  {
    KvCache cache = model->new_cache(64);
    ForwardContext ctx = model->new_context();
    model->forward(ctx, cache, tokens, Logits::kHidden, hidden);
    EXPECT_EQ(cache.n_past(), n);
  }
  {
    KvCache cache = model->new_cache(64);
    ForwardContext ctx = model->new_context();
    model->forward(ctx, cache, tokens, Logits::kAll, logits);
  }
  ASSERT_EQ(hidden.size(), static_cast<size_t>(n * n_embd));
  ASSERT_EQ(logits.size(), static_cast<size_t>(n * n_vocab));
  double max_diff = 0, max_abs = 0;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t v = 0; v < n_vocab; ++v) {
      double dot = 0;
      for (int64_t i = 0; i < n_embd; ++i)
        dot += static_cast<double>(w[static_cast<size_t>(v * n_embd + i)]) * hidden[static_cast<size_t>(t * n_embd + i)];
      const double got = logits[static_cast<size_t>(t * n_vocab + v)];
      max_diff = std::max(max_diff, std::fabs(dot - got));
      max_abs = std::max(max_abs, std::fabs(got));
    }
  }
  EXPECT_GT(max_abs, 0.1);  // the logits are not all ~0 (the check has teeth)
  EXPECT_LT(max_diff, 1e-3 * std::max(1.0, max_abs)) << "max |output . hidden - logits| = " << max_diff;
}

}  // namespace
}  // namespace tandem
