// tandem train: trains a llama-architecture model on the CPU and exports GGUF.
// tandem train-tokenizer: trains an SPM vocabulary, written as a vocab-only GGUF.
// tandem synth-math: writes the synthetic arithmetic task as JSONL.
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cli/commands.h"
#include "cli/numeric_options.h"
#include "eval/arith_task.h"
#include "eval/math_training.h"
#include "train/pipeline.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

// Progress lines go to stdout as they come, among the trainer's step lines.
void print_line(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

void add_train_command(CLI::App& app) {
  constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMaxSteps = 1000000000;
  constexpr double kMaxWeight = 1e6;  // data-mix weights are ratios; their sum must stay finite
  constexpr int64_t kMinVocab = 260;  // train_spm: 259 special and byte tokens, plus at least one piece
  constexpr int64_t kMaxVocab = int64_t{1} << 20;
  auto a = std::make_shared<eval::MathTrainingPlan>();
  train::TrainPlan& t = a->train;
  auto* cmd = app.add_subcommand("train", "Train a llama-architecture model on the CPU and export it as GGUF");
  cmd->add_option("--data", t.data, "Text data: JSONL with a \"text\" field per row, or a plain text file (FILE[@WEIGHT], repeatable)");
  cmd->add_option("--pairs", t.pairs, "JSONL with \"prompt\"/\"completion\"; loss on completions only (FILE[@WEIGHT], repeatable)");
  cmd->add_option("--synth-math", a->synth_math, "Add N synthetic arithmetic problems as prompt/completion pairs")->check(int_range(0, kMaxProblems));
  cmd->add_option("--synth-difficulty", a->synth_difficulty, "Difficulty of the synthetic problems (1-10)")->capture_default_str()->check(int_range(1, 10));
  cmd->add_option("--synth-weight", a->synth_weight, "Sampling weight of the synthetic problems")->capture_default_str()->check(real_range(0, kMaxWeight, /*lo_open=*/true));
  cmd->add_option("--eval-math", a->eval_math, "Held-out synthetic problems to score after training (default 100 with --synth-math)")->check(int_range(0, kMaxProblems));
  cmd->add_option("--eval-max-tokens", a->eval_max_tokens, "Tokens generated per problem when scoring")->check(int_range(0, kMaxContext));
  cmd->add_option("--valid", t.valid, "Validation text (default: every 1/valid-frac-th --data document)");
  cmd->add_option("--valid-frac", t.valid_frac, "Fraction of --data documents held out")->capture_default_str()->check(real_range(0, 1));
  cmd->add_option("--max-docs", t.max_docs, "Use at most N documents of each --data file")->check(int_range(0, kInt64Max));
  cmd->add_option("--tokenizer", t.tokenizer, "Reuse the SPM vocabulary of this GGUF (default: train one)");
  cmd->add_option("--vocab", t.vocab, "Size of the SPM vocabulary to train")->capture_default_str()->check(int_range(kMinVocab, kMaxVocab));
  cmd->add_option("--tokenizer-chars", t.tokenizer_chars, "Characters of text the vocabulary is trained on")->capture_default_str()->check(int_range(1, kInt64Max));
  cmd->add_option("--init", t.init, "Start from the weights of this F32 llama GGUF");
  cmd->add_option("--lora-rank", t.lora_rank, "Fine-tune LoRA adapters of this rank on the --init model (--out gets the adapter)")->check(int_range(0, 4096));
  cmd->add_option("--lora-alpha", t.lora_alpha, "LoRA alpha (scale alpha / rank)")->capture_default_str()->check(real_range(-kDoubleMax, kDoubleMax));
  cmd->add_option("--lora-targets", t.lora_targets, "Matrices to adapt (default: attn_q attn_k attn_v attn_output ffn_gate ffn_up ffn_down)")->delimiter(',');
  cmd->add_option("--merged-out", t.merged_out, "With --lora-rank: also write the base model with the adapters merged");
  cmd->add_option("--teacher", t.teacher, "Distill from this GGUF model (its vocabulary is used)");
  cmd->add_option("--kd-alpha", t.kd_alpha, "Weight of the KL term (1 - alpha on cross-entropy)")->capture_default_str()->check(real_range(0, 1));
  cmd->add_option("--kd-temp", t.kd_temp, "Distillation temperature")->capture_default_str()->check(real_range(0, 100, /*lo_open=*/true));
  cmd->add_flag("--kd-reverse", t.kd_reverse, "Reverse KL(student || teacher) instead of forward KL");
  cmd->add_option("--dim", t.dim, "Embedding size")->capture_default_str()->check(int_range(1, 65536));
  cmd->add_option("--layers", t.layers, "Transformer blocks")->capture_default_str()->check(int_range(1, 1024));
  cmd->add_option("--heads", t.heads, "Attention heads")->capture_default_str()->check(int_range(1, 1024));
  cmd->add_option("--kv-heads", t.kv_heads, "Key/value heads (default: --heads)")->check(int_range(0, 1024));
  cmd->add_option("--ff", t.ff, "Feed-forward size (default: 8/3 dim rounded up to 16)")->check(int_range(0, 1 << 20));
  cmd->add_option("--ctx", t.ctx, "Context length stored in the model (default: --seq)")->check(int_range(0, kMaxContext));
  cmd->add_flag("--tied", t.tied, "Share the output projection with the token embedding");
  cmd->add_option("--batch", t.batch, "Rows per micro-batch")->capture_default_str()->check(int_range(1, 4096));
  cmd->add_option("--seq", t.seq, "Tokens per row")->capture_default_str()->check(int_range(1, kMaxContext));
  cmd->add_option("--accum", t.accum, "Micro-batches per optimizer step")->capture_default_str()->check(int_range(1, 4096));
  cmd->add_option("--steps", t.steps, "Optimizer steps")->capture_default_str()->check(int_range(1, kMaxSteps));
  cmd->add_option("--lr", t.lr, "Peak learning rate")->capture_default_str()->check(real_range(0, kDoubleMax));
  cmd->add_option("--min-lr", t.min_lr, "Final learning rate (default: lr / 10)")->check(real_range(0, kDoubleMax));
  cmd->add_option("--warmup", t.warmup, "Warm-up steps (default: min(100, steps / 10 + 1))")->check(int_range(0, kMaxSteps));
  cmd->add_option("--wd", t.wd, "AdamW weight decay (matrices only)")->capture_default_str()->check(real_range(0, kDoubleMax));
  cmd->add_option("--clip", t.clip, "Clip the global gradient norm to this (0: off)")->capture_default_str()->check(real_range(0, kDoubleMax));
  cmd->add_option("--seed", t.seed, "Seed for initialization, data order and synthetic data")->capture_default_str()->check(uint64_any());
  cmd->add_option("--threads", t.threads, "OpenMP threads (default: all)")->check(int_range(0, kMaxThreads));
  cmd->add_option("--eval-every", t.eval_every, "Steps between validation runs (0: at the end only)")->capture_default_str()->check(int_range(0, kMaxSteps));
  cmd->add_option("--eval-batches", t.eval_batches, "Batches per validation run")->capture_default_str()->check(int_range(1, 1000000));
  cmd->add_option("--log-every", t.log_every, "Steps between progress lines")->capture_default_str()->check(int_range(1, kMaxSteps));
  cmd->add_option("--checkpoint", t.checkpoint, "Checkpoint file (written atomically; the vocabulary goes to FILE.vocab.gguf)");
  cmd->add_option("--checkpoint-every", t.checkpoint_every, "Steps between checkpoints (0: at the end only)")->check(int_range(0, kMaxSteps));
  cmd->add_flag("--resume", t.resume,
                "Continue from --checkpoint if it exists; every option that changes the weights (and the data, "
                "--init, --teacher and the vocabulary) must match the checkpoint's, --steps included");
  cmd->add_option("--override", t.overrides,
                  "With --resume: allow these settings to differ from the checkpoint's (NAME[,NAME], repeatable; "
                  "option names without dashes, 'data' for the training data, 'all'). A longer --steps needs "
                  "'steps': the cosine schedule then spans the new total")
      ->delimiter(',');
  cmd->add_option("--stop-after", t.stop_after, "Stop after this many steps (checkpoint kept; for tests of --resume)")->check(int_range(0, kMaxSteps));
  cmd->add_option("-o,--out", t.out, "Output GGUF")->required();
  cmd->add_option("--name", t.name, "general.name of the model")->capture_default_str();
  cmd->add_option("--svg", t.svg, "Write the loss curve to this SVG file");
  cmd->add_option("--report", a->report, "Write a JSON summary (loss, time, tokens/s, accuracy)");
  cmd->callback([a] { eval::run_math_training(*a, print_line); });

  auto tok = std::make_shared<std::tuple<std::vector<std::string>, std::string, int, int64_t>>();
  auto* tc = app.add_subcommand("train-tokenizer", "Train an SPM vocabulary and write it as a vocab-only GGUF");
  tc->add_option("--data", std::get<0>(*tok), "Text files (JSONL \"text\" rows or plain text)")->required();
  tc->add_option("-o,--out", std::get<1>(*tok), "Output GGUF")->required();
  std::get<2>(*tok) = 512;
  std::get<3>(*tok) = 4000000;
  tc->add_option("--vocab", std::get<2>(*tok), "Vocabulary size")->capture_default_str()->check(int_range(kMinVocab, kMaxVocab));
  tc->add_option("--max-chars", std::get<3>(*tok), "Characters of text to train on")->capture_default_str()->check(int_range(1, kInt64Max));
  tc->callback([tok] {
    const auto r = train::train_vocab_file(std::get<0>(*tok), std::get<1>(*tok), std::get<2>(*tok), std::get<3>(*tok));
    std::printf("wrote %s (%d tokens from %zu documents, %ld characters)\n", std::get<1>(*tok).c_str(), r.size,
                r.documents, static_cast<long>(r.chars));
  });

  auto sm = std::make_shared<std::tuple<int64_t, int, uint64_t, std::string>>(100, 2, 1, "");
  auto* sc = app.add_subcommand("synth-math", "Write synthetic arithmetic word problems as JSONL");
  sc->add_option("-n,--count", std::get<0>(*sm), "Number of problems")->capture_default_str()->check(int_range(0, kMaxProblems));
  sc->add_option("--difficulty", std::get<1>(*sm), "Steps and number size (1-10)")->capture_default_str()->check(int_range(1, 10));
  sc->add_option("--seed", std::get<2>(*sm), "Seed")->capture_default_str()->check(uint64_any());
  sc->add_option("-o,--out", std::get<3>(*sm), "Output JSONL (default: stdout)");
  sc->callback([sm] {
    const std::string out = eval::arith_jsonl(eval::generate_arith(std::get<0>(*sm), std::get<1>(*sm), std::get<2>(*sm)));
    if (std::get<3>(*sm).empty()) {
      std::fwrite(out.data(), 1, out.size(), stdout);
    } else {
      std::ofstream f(std::get<3>(*sm), std::ios::binary);
      if (!f) throw Error(std::get<3>(*sm) + ": cannot write");
      f << out;
    }
  });
}

}  // namespace tandem::cli
