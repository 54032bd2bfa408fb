// Optimizer, schedule, clipping, data sources, checkpoints and the training
// loop: each against a direct computation of what it should do.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "gguf/gguf.h"
#include "model/transformer.h"
#include "test_util.h"
#include "tiny_run.h"
#include "tokenizer/tokenizer.h"
#include "train/export.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/optimizer.h"
#include "train/trainer.h"
#include "util/error.h"

namespace tandem::train {
namespace {

using tiny::TinyVocab;
using tiny::tiny_data;
using tiny::tiny_encoder;
using tiny::tiny_options;

TEST(AdamW, MatchesTheUpdateRuleWithDecoupledDecayOnMatricesOnly) {
  std::vector<ParamTensor> tensors = {{"w", {2, 2}, 0, 4, false}, {"norm", {2}, 4, 2, true}};
  AdamWConfig cfg;
  cfg.beta1 = 0.8;
  cfg.beta2 = 0.9;
  cfg.eps = 1e-6;
  cfg.weight_decay = 0.5;
  AdamW opt(tensors, 6, cfg);
  std::vector<float> p = {1, -2, 0.5, 3, 1, 1};
  std::vector<double> ref(p.begin(), p.end()), m(6, 0), v(6, 0);
  const std::vector<std::vector<float>> grads = {{0.1f, -0.2f, 0.3f, 0, 1, -1}, {0.5f, 0.5f, -0.1f, 2, 0, 0.2f}};
  for (int t = 1; t <= 2; ++t) {
    const double lr = 0.01 * t;
    opt.step(p.data(), grads[t - 1].data(), lr);
    for (int i = 0; i < 6; ++i) {
      const double g = grads[t - 1][i];
      m[i] = 0.8 * m[i] + 0.2 * g;
      v[i] = 0.9 * v[i] + 0.1 * g * g;
      const double mh = m[i] / (1 - std::pow(0.8, t)), vh = v[i] / (1 - std::pow(0.9, t));
      const double wd = i < 4 ? 0.5 : 0.0;
      ref[i] -= lr * (mh / (std::sqrt(vh) + 1e-6) + wd * ref[i]);
      EXPECT_NEAR(p[i], ref[i], 1e-6) << "t=" << t << " i=" << i;
    }
  }
}

TEST(LrSchedule, WarmupThenCosineToTheFloor) {
  LrSchedule s{1.0, 0.1, 10, 110};
  EXPECT_DOUBLE_EQ(s.at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.at(9), 1.0);
  EXPECT_NEAR(s.at(10), 1.0, 1e-12);
  EXPECT_NEAR(s.at(60), 0.55, 1e-12);  // half way: (1 + 0.1) / 2
  EXPECT_NEAR(s.at(110), 0.1, 1e-12);
  EXPECT_NEAR(s.at(500), 0.1, 1e-12);
  for (int i = 11; i < 110; ++i) EXPECT_LT(s.at(i), s.at(i - 1));
}

TEST(ClipGradNorm, ScalesToTheMaximumNorm) {
  std::vector<float> g = {3, 4, 0};
  EXPECT_NEAR(clip_grad_norm(g.data(), 3, 1.0), 5.0, 1e-9);
  EXPECT_NEAR(g[0], 0.6f, 1e-6);
  EXPECT_NEAR(g[1], 0.8f, 1e-6);
  std::vector<float> h = {0.3f, 0.4f};
  clip_grad_norm(h.data(), 2, 1.0);
  EXPECT_EQ(h[0], 0.3f);  // below the limit: untouched
}

TEST(PairSource, ScoresOnlyCompletionTokens) {
  TinyVocab enc = tiny_encoder();
  PairExample ex = encode_pair(*enc.tok, *enc.cont, "the cat", " sat on the mat");
  ASSERT_EQ(ex.tokens.front(), 1);
  ASSERT_EQ(ex.tokens.back(), 2);
  // The prompt part is what the exported model's tokenizer gives for the prompt.
  EXPECT_EQ(std::vector<int32_t>(ex.tokens.begin(), ex.tokens.begin() + ex.n_prompt), enc.tok->encode("the cat", true, false));
  // The completion (minus </s>) reads back as itself, its leading space kept once.
  std::string completion;
  for (auto it = ex.tokens.begin() + ex.n_prompt; it + 1 != ex.tokens.end(); ++it) completion += enc.tok->token_to_piece(*it);
  EXPECT_EQ(completion, " sat on the mat");
  PairSource src({ex}, "mem", 2);
  const int64_t T = static_cast<int64_t>(ex.tokens.size()) + 3;
  std::vector<int32_t> tok(T), tgt(T);
  src.example_row(0, tok.data(), tgt.data(), T);
  for (int64_t j = 0; j < T; ++j) {
    const int64_t n = static_cast<int64_t>(ex.tokens.size());
    EXPECT_EQ(tok[j], j < n ? ex.tokens[j] : 2);
    if (j + 1 >= ex.n_prompt && j + 1 < n) {
      EXPECT_EQ(tgt[j], ex.tokens[j + 1]) << j;
    } else {
      EXPECT_EQ(tgt[j], -1) << j;
    }
  }
}

TEST(TextSource, RowsAreWindowsOfTheDocumentStream) {
  TinyVocab enc = tiny_encoder();
  TextSource src({"the cat sat", "on the mat"}, *enc.tok, "mem");
  auto a = enc.tok->encode("the cat sat", true, false), b = enc.tok->encode("on the mat", true, false);
  ASSERT_EQ(a.front(), 1);  // <s> from the vocabulary's add_bos_token
  std::vector<int32_t> stream = a;
  stream.push_back(2);
  stream.insert(stream.end(), b.begin(), b.end());
  stream.push_back(2);
  ASSERT_EQ(src.n_tokens(), static_cast<int64_t>(stream.size()));
  Rng rng(3);
  std::vector<int32_t> tok(4), tgt(4);
  for (int r = 0; r < 20; ++r) {
    src.sample_row(rng, tok.data(), tgt.data(), 4);
    auto it = std::search(stream.begin(), stream.end(), tok.begin(), tok.end());
    ASSERT_NE(it, stream.end());
    for (int j = 0; j < 4; ++j) EXPECT_EQ(tgt[j], *(it + j + 1));
  }
}

TEST(Trainer, LossDecreasesOnARepetitiveCorpus) {
  TinyVocab enc = tiny_encoder();
  TrainOptions o = tiny_options("");
  o.steps = 40;
  o.schedule = {1e-2, 1e-3, 5, 40};
  Trainer tr(o, tiny_data(enc), nullptr);
  tr.run();
  ASSERT_EQ(tr.train_loss().size(), 40u);
  EXPECT_NEAR(tr.train_loss().front().second, std::log(300.0), 0.3);  // uniform at init
  EXPECT_LT(tr.train_loss().back().second, 0.5 * tr.train_loss().front().second);
}

TEST(Trainer, ResumeFromCheckpointIsBitForBit) {
  TinyVocab enc = tiny_encoder();
  const auto dir = std::filesystem::temp_directory_path() / ("tandem_resume_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string ck = (dir / "run.ckpt").string();

  Trainer full(tiny_options(""), tiny_data(enc), nullptr);
  full.run();

  {
    Trainer first(tiny_options(ck), tiny_data(enc), nullptr);
    first.run(5);  // "killed" after 5 steps: only the checkpoint survives
    EXPECT_EQ(first.step(), 5);
  }
  EXPECT_FALSE(std::filesystem::exists(ck + ".tmp"));
  Trainer second(tiny_options(ck), tiny_data(enc), nullptr);
  second.resume(ck);
  EXPECT_EQ(second.step(), 5);
  second.run();
  EXPECT_EQ(second.step(), 12);
  ASSERT_EQ(second.model().params.size(), full.model().params.size());
  EXPECT_TRUE(second.model().params == full.model().params) << "parameters differ after resume";
  ASSERT_EQ(second.train_loss().size(), full.train_loss().size());
  for (size_t i = 0; i < full.train_loss().size(); ++i) EXPECT_EQ(second.train_loss()[i], full.train_loss()[i]);
  std::filesystem::remove_all(dir);
}

TEST(Checkpoint, RejectsCorruptFiles) {
  const auto path = (std::filesystem::temp_directory_path() / ("tandem_bad_" + std::to_string(::getpid()))).string();
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fputs("TDCK garbage", f);
    std::fclose(f);
  }
  EXPECT_THROW(read_checkpoint(path), Error);
  std::remove(path.c_str());
  EXPECT_THROW(read_checkpoint(path), Error);
}

}  // namespace
}  // namespace tandem::train


namespace tandem::train {
namespace {

// A student distilled with alpha = 1 (KL only) moves towards its teacher: the
// KL between their distributions on held rows falls well below its start.
TEST(Trainer, DistillationPullsTheStudentTowardsTheTeacher) {
  TinyVocab enc = tiny_encoder();
  TrainOptions to = tiny_options("");
  to.steps = 30;
  to.schedule = {1e-2, 1e-3, 3, 30};
  Trainer teacher_tr(to, tiny_data(enc), nullptr);
  teacher_tr.run();
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tandem_teacher_" + std::to_string(::getpid()) + ".gguf")).string();
  SpmVocab vocab = enc.vocab;
  while (vocab.size() < to.shape.n_vocab) {  // pad the vocabulary to the model's size
    vocab.tokens.push_back("<pad" + std::to_string(vocab.size()) + ">");
    vocab.scores.push_back(-1e9f);
    vocab.types.push_back(5);
  }
  export_gguf(teacher_tr.model(), vocab, "teacher", path);
  LoadOptions one_thread;
  one_thread.n_threads = 1;  // tiny model: threads would only spin
  std::shared_ptr<Transformer> teacher(Transformer::load(path, one_thread));
  std::filesystem::remove(path);

  TrainOptions so = tiny_options("");
  so.seed = 99;
  so.steps = 30;
  so.schedule = {1e-2, 1e-3, 3, 30};
  so.kd_alpha = 1.0;
  so.kd_tau = 2.0;
  Trainer student(so, tiny_data(enc), nullptr);
  student.set_teacher(teacher);
  student.run();
  // The logged loss is tau^2 KL: it must have dropped substantially.
  const auto& l = student.train_loss();
  EXPECT_LT(l.back().second, 0.3 * l.front().second) << l.front().second << " -> " << l.back().second;
}

}  // namespace
}  // namespace tandem::train

namespace tandem::train {
namespace {

// LoRA fine-tuning changes only the adapters, lowers the loss, and exports a
// llama.cpp-style adapter GGUF.
TEST(Trainer, LoraFineTuningTrainsOnlyTheAdapters) {
  TinyVocab enc = tiny_encoder();
  TrainOptions o = tiny_options("");
  o.steps = 25;
  o.schedule = {1e-2, 1e-3, 3, 25};
  o.lora.rank = 4;
  o.lora.alpha = 8;
  Trainer tr(o, tiny_data(enc), nullptr);
  const std::vector<float> base = tr.model().params;
  tr.run();
  EXPECT_TRUE(tr.model().params == base) << "base weights changed";
  // From a random base only a little is learnable through rank-4 adapters in 25 steps.
  EXPECT_LT(tr.train_loss().back().second, tr.train_loss().front().second - 0.1);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tandem_lora_" + std::to_string(::getpid()) + ".gguf")).string();
  export_lora_gguf(tr.model(), "lora-test", path);
  auto f = gguf::File::open(path);
  EXPECT_EQ(f->get_string("general.type"), "adapter");
  EXPECT_EQ(f->get_string("adapter.type"), "lora");
  EXPECT_FLOAT_EQ(static_cast<float>(f->get_float("adapter.lora.alpha")), 8.0f);
  const auto& a = f->tensor("blk.1.ffn_down.weight.lora_a");
  const auto& b = f->tensor("blk.1.ffn_down.weight.lora_b");
  EXPECT_EQ(a.ne, (std::vector<int64_t>{32, 4}));  // {C_in = n_ff, rank}
  EXPECT_EQ(b.ne, (std::vector<int64_t>{4, 16}));  // {rank, C_out = n_embd}
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tandem::train
