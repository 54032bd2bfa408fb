// A tiny training run shared by the trainer tests: a 300-token vocabulary
// trained on two sentences, a 2-layer model of width 16 and a two-source data
// mix, so that a dozen optimizer steps take milliseconds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/spm.h"
#include "train/trainer.h"

namespace tandem::train::tiny {

// A tiny trained vocabulary and its library tokenizers (text, continuation).
struct TinyVocab {
  SpmVocab vocab;
  std::unique_ptr<Tokenizer> tok, cont;
};

inline TinyVocab tiny_encoder() {
  SpmTrainOptions o;
  o.vocab_size = 300;
  TinyVocab t;
  t.vocab = train_spm({"the cat sat on the mat. the dog sat on the log.", "1 2 3 4 5 6 7 8 9 0 = + - *"}, o);
  t.tok = make_tokenizer(t.vocab);
  t.cont = make_tokenizer(t.vocab, false);
  return t;
}

// 12 steps of 2 micro-batches of 4 rows of 16 tokens, seed 7, checkpoints to
// `ckpt` (none when empty).
inline TrainOptions tiny_options(const std::string& ckpt) {
  TrainOptions o;
  o.shape.n_vocab = 300;
  o.shape.n_embd = 16;
  o.shape.n_layer = 2;
  o.shape.n_head = 4;
  o.shape.n_head_kv = 2;
  o.shape.n_ff = 32;
  o.shape.n_ctx = 16;
  o.batch = 4;
  o.seq_len = 16;
  o.accum = 2;
  o.steps = 12;
  o.schedule = {3e-3, 3e-4, 3, 12};
  o.eval_every = 0;
  o.checkpoint_path = ckpt;
  o.quiet = true;
  o.seed = 7;
  return o;
}

// Repeated sentences (weight 2) and two sums as prompt/completion pairs.
inline DataMix tiny_data(const TinyVocab& enc, const std::string& sentence = "the cat sat on the mat. the dog sat on the log.") {
  DataMix mix;
  std::vector<std::string> docs(20, sentence);
  mix.add(std::make_shared<TextSource>(docs, *enc.tok, "cats"), 2.0);
  std::vector<PairExample> pairs = {encode_pair(*enc.tok, *enc.cont, "1 + 2 =", " 3"),
                                    encode_pair(*enc.tok, *enc.cont, "2 + 2 =", " 4")};
  mix.add(std::make_shared<PairSource>(pairs, "sums", 2), 1.0);
  return mix;
}

}  // namespace tandem::train::tiny
