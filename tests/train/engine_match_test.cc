// A model exported by the trainer, loaded by tandem's inference engine
// (Transformer::load) and tokenizer (Tokenizer::from_gguf): the engine's
// logits equal the trainer's forward logits, and the engine's tokenizer splits
// text exactly as make_tokenizer (which encodes all training data) does.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "gguf/gguf.h"
#include "model/transformer.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/export.h"
#include "train/model.h"
#include "train/rng.h"
#include "train/spm.h"

namespace tandem::train {
namespace {

std::vector<std::string> corpus() {
  return {"Once upon a time, there was a little dog named Max. Max liked to play in the park.",
          "The little cat saw the dog. The cat and the dog played together all day.",
          "Lily went to the park with her mom.\nShe saw a big red ball! 12 + 30 = 42."};
}

void check_engine_matches(bool tied, int64_t n_head_kv) {
  SpmTrainOptions so;
  so.vocab_size = 320;
  SpmVocab vocab = train_spm(corpus(), so);
  ModelShape s;
  s.n_vocab = vocab.size();
  s.n_embd = 32;
  s.n_layer = 2;
  s.n_head = 4;
  s.n_head_kv = n_head_kv;
  s.n_ff = 48;
  s.n_ctx = 64;
  s.tied_output = tied;
  TrainModel<float> m(s);
  m.init_random(5);
  // Larger-than-init weights so that attention and RoPE visibly matter.
  Rng rng(17);
  for (auto& p : m.params) p += 0.1f * static_cast<float>(rng.normal());

  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tandem_engine_match_" + std::to_string(::getpid()) + (tied ? "_t" : "_u") + ".gguf"))
                               .string();
  export_gguf(m, vocab, "engine-match", path);
  LoadOptions one_thread;
  one_thread.n_threads = 1;
  auto engine = Transformer::load(path, one_thread);
  std::filesystem::remove(path);

  const std::string text = "The little dog saw a big red ball in the park.";
  // Training data is encoded by make_tokenizer; the engine's tokenizer, built
  // from the exported file, must agree (export writes the same metadata).
  std::vector<int32_t> ids = make_tokenizer(vocab)->encode(text, true, false);
  ASSERT_EQ(ids.front(), vocab.bos);
  EXPECT_EQ(engine->tokenizer().encode(text, true, false), ids);

  m.forward(ids.data(), nullptr, 1, static_cast<int64_t>(ids.size()));
  KvCache cache = engine->new_cache(64);
  ForwardContext ctx = engine->new_context();
  std::vector<float> logits;
  engine->forward(ctx, cache, ids, Logits::kAll, logits);
  ASSERT_EQ(logits.size(), ids.size() * static_cast<size_t>(s.n_vocab));
  double worst = 0;
  for (size_t i = 0; i < logits.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(logits[i] - m.logits()[i])));
  EXPECT_LT(worst, 1e-4);

  // Incremental decoding through the KV cache gives the same last-position logits.
  KvCache inc = engine->new_cache(64);
  std::vector<float> step;
  for (size_t t = 0; t < ids.size(); ++t) engine->forward(ctx, inc, std::span<const TokenId>(&ids[t], 1), Logits::kLast, step);
  const float* last = m.logits() + (ids.size() - 1) * static_cast<size_t>(s.n_vocab);
  for (int64_t j = 0; j < s.n_vocab; ++j) EXPECT_NEAR(step[j], last[j], 1e-4);
}

TEST(EngineMatch, UntiedGroupedQueryAttention) { check_engine_matches(false, 2); }
TEST(EngineMatch, TiedOutputMultiHead) { check_engine_matches(true, 4); }

}  // namespace
}  // namespace tandem::train
