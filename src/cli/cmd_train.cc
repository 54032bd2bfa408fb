// tandem train: trains a llama-architecture model on the CPU and exports GGUF.
// tandem train-tokenizer: trains an SPM vocabulary, written as a vocab-only GGUF.
// tandem synth-math: writes the synthetic arithmetic task as JSONL.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/numeric_options.h"
#include "eval/arith_eval.h"
#include "eval/arith_task.h"
#include "gguf/gguf.h"
#include "model/transformer.h"
#include "train/data.h"
#include "train/export.h"
#include "train/fingerprint.h"
#include "train/spm.h"
#include "train/trainer.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

using namespace tandem::train;

// "FILE" or "FILE@WEIGHT".
std::pair<std::string, double> split_weight(const std::string& spec) {
  const size_t at = spec.rfind('@');
  if (at == std::string::npos) return {spec, 1.0};
  try {
    return {spec.substr(0, at), std::stod(spec.substr(at + 1))};
  } catch (const std::exception&) {
    throw Error("cannot read the weight in \"" + spec + "\"; write FILE@WEIGHT, e.g. stories.jsonl@2");
  }
}

struct TrainArgs {
  std::vector<std::string> data, pairs;
  std::string teacher, merged_out;
  int64_t lora_rank = 0;
  double lora_alpha = 16.0;
  std::vector<std::string> lora_targets;
  double kd_alpha = 0.5, kd_temp = 1.0;
  bool kd_reverse = false;
  std::string valid, tokenizer, init, out, name = "tandem", svg, checkpoint, report;
  int64_t synth_math = 0, eval_math = -1, max_docs = 0, tokenizer_chars = 4000000;
  int synth_difficulty = 2, eval_max_tokens = 0, threads = 0, vocab = 512;
  double synth_weight = 1.0, valid_frac = 0.01;
  int64_t dim = 64, layers = 2, heads = 4, kv_heads = 0, ff = 0, ctx = 0;
  bool tied = false, resume = false;
  std::vector<std::string> overrides;  // --override: settings a --resume may change
  int64_t stop_after = -1;
  int64_t batch = 8, seq = 128, accum = 1, steps = 1000, warmup = -1, eval_every = 100, eval_batches = 4;
  int64_t log_every = 10, checkpoint_every = 0;
  double lr = 1e-3, min_lr = -1, wd = 0.1, clip = 1.0;
  uint64_t seed = 1;
};

std::vector<eval::ArithProblem> train_problems(const TrainArgs& a) {
  return eval::generate_arith(a.synth_math, a.synth_difficulty, a.seed);
}
// Held out: another seed stream than the training problems.
std::vector<eval::ArithProblem> heldout_problems(const TrainArgs& a, int64_t n) {
  return eval::generate_arith(n, a.synth_difficulty, eval::arith_heldout_seed(a.seed));
}

// What TrainOptions::inputs records for a resume to compare: the files the run
// starts from and the vocabulary (its request when trained here, its contents).
std::map<std::string, std::string> resume_inputs(const TrainArgs& a, bool vocab_trained, const SpmVocab& vocab) {
  Fingerprint v;
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    v.add(static_cast<uint64_t>(vocab.tokens[i].size())).add_bytes(vocab.tokens[i].data(), vocab.tokens[i].size());
    v.add(static_cast<double>(vocab.scores[i])).add(static_cast<uint64_t>(vocab.types[i]));
  }
  v.add(static_cast<uint64_t>(vocab.unk)).add(static_cast<uint64_t>(vocab.bos)).add(static_cast<uint64_t>(vocab.eos));
  auto file = [](const std::string& path) { return path.empty() ? std::string("none") : fingerprint_hex(file_fingerprint(path)); };
  return {{"init", file(a.init)},
          {"teacher", file(a.teacher)},
          {"tokenizer", fingerprint_hex(v.value())},
          {"vocab", vocab_trained ? std::to_string(a.vocab) : "-"},
          {"tokenizer-chars", vocab_trained ? std::to_string(a.tokenizer_chars) : "-"}};
}

void run_train(TrainArgs a) {
  if (a.out.empty()) throw Error("train: --out FILE.gguf is required");
  if (a.data.empty() && a.pairs.empty() && a.synth_math == 0) {
    throw Error("train: no training data; pass --data FILE (text or JSONL), --pairs FILE or --synth-math N");
  }
  if (a.threads > 0) omp_set_num_threads(a.threads);

  // Documents, with every k-th one held out for validation unless --valid is given.
  std::vector<std::string> train_docs, valid_docs;
  std::vector<std::pair<std::vector<std::string>, double>> text_sets;
  for (const auto& spec : a.data) {
    auto [path, w] = split_weight(spec);
    auto docs = load_documents(path);
    if (a.max_docs > 0 && static_cast<int64_t>(docs.size()) > a.max_docs) docs.resize(static_cast<size_t>(a.max_docs));
    std::vector<std::string> tr;
    // A tiny fraction holds out nothing (1/frac capped: llround of a huge value is undefined).
    const int64_t every =
        a.valid.empty() && a.valid_frac > 0 ? std::max<int64_t>(2, std::llround(std::min(1.0 / a.valid_frac, 1e18))) : 0;
    for (size_t i = 0; i < docs.size(); ++i) {
      if (every > 0 && static_cast<int64_t>(i) % every == every - 1) {
        valid_docs.push_back(std::move(docs[i]));
      } else {
        tr.push_back(std::move(docs[i]));
      }
    }
    train_docs.insert(train_docs.end(), tr.begin(), tr.end());
    text_sets.push_back({std::move(tr), w});
  }
  if (!a.valid.empty()) valid_docs = load_documents(a.valid);
  const auto problems = train_problems(a);

  // Vocabulary: given, resumed, or trained on (a prefix of) the training text.
  SpmVocab vocab;
  const std::string vocab_path = a.checkpoint.empty() ? "" : a.checkpoint + ".vocab.gguf";
  // Fine-tuning keeps the base model's vocabulary; distillation needs the teacher's.
  if (a.tokenizer.empty() && !a.init.empty()) a.tokenizer = a.init;
  if (a.tokenizer.empty() && !a.teacher.empty()) a.tokenizer = a.teacher;
  const bool vocab_trained = a.tokenizer.empty();
  if (!a.tokenizer.empty()) {
    vocab = read_spm_metadata(*gguf::File::open(a.tokenizer));
  } else if (a.resume && !vocab_path.empty() && std::filesystem::exists(vocab_path)) {
    vocab = read_spm_metadata(*gguf::File::open(vocab_path));
  } else {
    std::vector<std::string> corpus;
    int64_t chars = 0;
    for (const auto& d : train_docs) {
      if (chars >= a.tokenizer_chars) break;
      corpus.push_back(d);
      chars += static_cast<int64_t>(d.size());
    }
    for (size_t i = 0; i < problems.size() && i < 2000; ++i) {
      corpus.push_back(eval::arith_prompt(problems[i]) + eval::arith_completion(problems[i]));
    }
    SpmTrainOptions so;
    so.vocab_size = a.vocab;
    std::printf("training a %d-token SPM vocabulary on %zu documents...\n", a.vocab, corpus.size());
    std::fflush(stdout);
    vocab = train_spm(corpus, so);
  }
  if (!vocab_path.empty() && !std::filesystem::exists(vocab_path)) {
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::str("llama"));
    write_spm_metadata(w, vocab);
    w.write(vocab_path);
  }
  // Training data goes through the library tokenizer, configured from the
  // metadata the exported model carries.
  const auto tok = make_tokenizer(vocab);
  const auto cont = make_tokenizer(vocab, /*add_space_prefix=*/false);

  DataMix mix;
  for (auto& [docs, w] : text_sets) {
    if (!docs.empty()) mix.add(std::make_shared<TextSource>(docs, *tok, "text"), w);
  }
  for (const auto& spec : a.pairs) {
    auto [path, w] = split_weight(spec);
    mix.add(std::make_shared<PairSource>(path, *tok, *cont), w);
  }
  if (!problems.empty()) {
    std::vector<PairExample> ex;
    for (const auto& p : problems) ex.push_back(encode_pair(*tok, *cont, eval::arith_prompt(p), eval::arith_completion(p)));
    mix.add(std::make_shared<PairSource>(std::move(ex), "synthetic math (difficulty " + std::to_string(a.synth_difficulty) + ")",
                                         vocab.eos),
            a.synth_weight);
  }
  std::shared_ptr<const DataSource> valid;
  if (!valid_docs.empty()) valid = std::make_shared<TextSource>(valid_docs, *tok, "validation");

  TrainOptions o;
  if (!a.init.empty()) {
    o.shape = shape_from_gguf(*gguf::File::open(a.init));
    if (o.shape.n_vocab != vocab.size()) throw Error(a.init + ": its vocabulary differs from the training vocabulary; pass --tokenizer " + a.init);
  } else {
    o.shape.n_vocab = vocab.size();
    o.shape.n_embd = a.dim;
    o.shape.n_layer = a.layers;
    o.shape.n_head = a.heads;
    o.shape.n_head_kv = a.kv_heads > 0 ? a.kv_heads : a.heads;
    o.shape.n_ff = a.ff > 0 ? a.ff : (8 * a.dim / 3 + 15) / 16 * 16;
    o.shape.n_ctx = a.ctx > 0 ? a.ctx : a.seq;
    o.shape.tied_output = a.tied;
  }
  o.batch = a.batch;
  o.seq_len = a.seq;
  o.accum = a.accum;
  o.steps = a.steps;
  o.schedule.lr = a.lr;
  o.schedule.min_lr = a.min_lr >= 0 ? a.min_lr : a.lr / 10;
  o.schedule.warmup_steps = a.warmup >= 0 ? a.warmup : std::min<int64_t>(100, a.steps / 10 + 1);
  o.adam.weight_decay = a.wd;
  o.clip = a.clip;
  o.seed = a.seed;
  o.eval_every = a.eval_every;
  o.eval_batches = a.eval_batches;
  o.log_every = a.log_every;
  o.checkpoint_every = a.checkpoint_every;
  o.checkpoint_path = a.checkpoint;
  o.svg_path = a.svg;

  if (a.lora_rank > 0) {
    if (a.init.empty()) throw Error("train: --lora-rank fine-tunes a base model; pass it with --init FILE.gguf");
    o.lora.rank = a.lora_rank;
    o.lora.alpha = a.lora_alpha;
    if (!a.lora_targets.empty()) o.lora.targets = a.lora_targets;
  }
  o.kd_alpha = a.kd_alpha;
  o.kd_tau = a.kd_temp;
  o.kd_direction = a.kd_reverse ? KlDirection::kReverse : KlDirection::kForward;
  if (!a.overrides.empty() && !a.resume) throw Error("train: --override only applies to --resume");
  o.overrides = a.overrides;
  o.inputs = resume_inputs(a, vocab_trained, vocab);

  Trainer trainer(o, std::move(mix), valid);
  if (!a.teacher.empty()) {
    LoadOptions lo;
    lo.n_threads = a.threads;
    trainer.set_teacher(std::shared_ptr<Transformer>(Transformer::load(a.teacher, lo)));
    std::printf("distilling from %s: loss = %.2f CE + %.2f * %.2f^2 %s KL\n", a.teacher.c_str(), 1 - a.kd_alpha,
                a.kd_alpha, a.kd_temp, a.kd_reverse ? "reverse" : "forward");
  }
  if (!a.init.empty()) load_params_from_gguf(*gguf::File::open(a.init), trainer.model());
  if (a.resume) {
    if (a.checkpoint.empty()) throw Error("train: --resume needs --checkpoint PATH");
    if (std::filesystem::exists(a.checkpoint)) {
      trainer.resume(a.checkpoint);
      std::printf("resumed from %s at step %ld\n", a.checkpoint.c_str(), static_cast<long>(trainer.step()));
    }
  }
  const ModelShape& s = o.shape;
  std::printf("model: %ld parameters (vocab %ld, dim %ld, %ld layers, %ld heads / %ld kv, ff %ld, ctx %ld%s)\n",
              static_cast<long>(trainer.model().n_params()), static_cast<long>(s.n_vocab), static_cast<long>(s.n_embd),
              static_cast<long>(s.n_layer), static_cast<long>(s.n_head), static_cast<long>(s.n_head_kv),
              static_cast<long>(s.n_ff), static_cast<long>(s.n_ctx), s.tied_output ? ", tied output" : "");
  std::printf("threads: %d | tokens per step: %ld\n", omp_get_max_threads(),
              static_cast<long>(a.batch * a.seq * a.accum));
  std::fflush(stdout);
  trainer.run(a.stop_after);
  if (trainer.step() < o.steps) {
    std::printf("stopped after step %ld as asked; continue with --resume\n", static_cast<long>(trainer.step()));
    return;
  }
  std::string eval_model = a.out;
  if (trainer.model().lora_enabled()) {
    export_lora_gguf(trainer.model(), a.name, a.out);
    std::printf("wrote the LoRA adapter %s (%zu tensors, rank %ld)\n", a.out.c_str(),
                trainer.model().lora_tensors().size(), static_cast<long>(a.lora_rank));
    eval_model = a.merged_out;
    if (!a.merged_out.empty()) {
      trainer.model().merge_lora();
      export_gguf(trainer.model(), vocab, a.name, a.merged_out);
      std::printf("wrote the merged model %s\n", a.merged_out.c_str());
    }
  } else {
    export_gguf(trainer.model(), vocab, a.name, a.out);
    std::printf("wrote %s\n", a.out.c_str());
  }

  nlohmann::json report;
  report["name"] = a.name;
  report["params"] = trainer.model().n_params();
  report["steps"] = trainer.step();
  report["tokens_seen"] = trainer.tokens_seen();
  report["train_seconds"] = trainer.elapsed_seconds();
  report["tokens_per_second"] = trainer.elapsed_seconds() > 0 ? trainer.tokens_seen() / trainer.elapsed_seconds() : 0.0;
  if (!trainer.train_loss().empty()) {
    double tail = 0;
    size_t n = std::min<size_t>(20, trainer.train_loss().size());
    for (size_t i = trainer.train_loss().size() - n; i < trainer.train_loss().size(); ++i) tail += trainer.train_loss()[i].second;
    report["final_train_loss"] = tail / static_cast<double>(n);
  }
  if (!trainer.val_loss().empty()) report["final_val_loss"] = trainer.val_loss().back().second;

  const int64_t n_eval = a.eval_math >= 0 ? a.eval_math : (a.synth_math > 0 ? 100 : 0);
  if (n_eval > 0 && !eval_model.empty()) {
    LoadOptions lo;
    lo.n_threads = a.threads;
    auto model = Transformer::load(eval_model, lo);
    const int max_new = a.eval_max_tokens > 0 ? a.eval_max_tokens : eval::arith_answer_tokens(a.synth_difficulty);
    auto r = eval::evaluate_arith(*model, heldout_problems(a, n_eval), max_new);
    std::printf("synthetic math (difficulty %d), %ld held-out problems: accuracy %.3f\n", a.synth_difficulty,
                static_cast<long>(r.n), r.accuracy());
    for (const auto& smp : r.samples) std::printf("--- sample ---\n%s\n", smp.c_str());
    report["math_difficulty"] = a.synth_difficulty;
    report["math_heldout"] = r.n;
    report["math_accuracy"] = r.accuracy();
  }
  if (!a.report.empty()) {
    std::ofstream out(a.report);
    if (!out) throw Error(a.report + ": cannot write the report");
    out << report.dump(2) << "\n";
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMaxSteps = 1000000000;
  constexpr double kMaxWeight = 1e6;  // data-mix weights are ratios; their sum must stay finite
  constexpr int64_t kMinVocab = 260;  // train_spm: 259 special and byte tokens, plus at least one piece
  constexpr int64_t kMaxVocab = int64_t{1} << 20;
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a llama-architecture model on the CPU and export it as GGUF");
  cmd->add_option("--data", a->data, "Text data: JSONL with a \"text\" field per row, or a plain text file (FILE[@WEIGHT], repeatable)");
  cmd->add_option("--pairs", a->pairs, "JSONL with \"prompt\"/\"completion\"; loss on completions only (FILE[@WEIGHT], repeatable)");
  cmd->add_option("--synth-math", a->synth_math, "Add N synthetic arithmetic problems as prompt/completion pairs")->check(int_range(0, kMaxProblems));
  cmd->add_option("--synth-difficulty", a->synth_difficulty, "Difficulty of the synthetic problems (1-10)")->capture_default_str()->check(int_range(1, 10));
  cmd->add_option("--synth-weight", a->synth_weight, "Sampling weight of the synthetic problems")->capture_default_str()->check(real_range(0, kMaxWeight, /*lo_open=*/true));
  cmd->add_option("--eval-math", a->eval_math, "Held-out synthetic problems to score after training (default 100 with --synth-math)")->check(int_range(0, kMaxProblems));
  cmd->add_option("--eval-max-tokens", a->eval_max_tokens, "Tokens generated per problem when scoring")->check(int_range(0, kMaxContext));
  cmd->add_option("--valid", a->valid, "Validation text (default: every 1/valid-frac-th --data document)");
  cmd->add_option("--valid-frac", a->valid_frac, "Fraction of --data documents held out")->capture_default_str()->check(real_range(0, 1));
  cmd->add_option("--max-docs", a->max_docs, "Use at most N documents of each --data file")->check(int_range(0, kInt64Max));
  cmd->add_option("--tokenizer", a->tokenizer, "Reuse the SPM vocabulary of this GGUF (default: train one)");
  cmd->add_option("--vocab", a->vocab, "Size of the SPM vocabulary to train")->capture_default_str()->check(int_range(kMinVocab, kMaxVocab));
  cmd->add_option("--tokenizer-chars", a->tokenizer_chars, "Characters of text the vocabulary is trained on")->capture_default_str()->check(int_range(1, kInt64Max));
  cmd->add_option("--init", a->init, "Start from the weights of this F32 llama GGUF");
  cmd->add_option("--lora-rank", a->lora_rank, "Fine-tune LoRA adapters of this rank on the --init model (--out gets the adapter)")->check(int_range(0, 4096));
  cmd->add_option("--lora-alpha", a->lora_alpha, "LoRA alpha (scale alpha / rank)")->capture_default_str()->check(real_range(-kDoubleMax, kDoubleMax));
  cmd->add_option("--lora-targets", a->lora_targets, "Matrices to adapt (default: attn_q attn_k attn_v attn_output ffn_gate ffn_up ffn_down)")->delimiter(',');
  cmd->add_option("--merged-out", a->merged_out, "With --lora-rank: also write the base model with the adapters merged");
  cmd->add_option("--teacher", a->teacher, "Distill from this GGUF model (its vocabulary is used)");
  cmd->add_option("--kd-alpha", a->kd_alpha, "Weight of the KL term (1 - alpha on cross-entropy)")->capture_default_str()->check(real_range(0, 1));
  cmd->add_option("--kd-temp", a->kd_temp, "Distillation temperature")->capture_default_str()->check(real_range(0, 100, /*lo_open=*/true));
  cmd->add_flag("--kd-reverse", a->kd_reverse, "Reverse KL(student || teacher) instead of forward KL");
  cmd->add_option("--dim", a->dim, "Embedding size")->capture_default_str()->check(int_range(1, 65536));
  cmd->add_option("--layers", a->layers, "Transformer blocks")->capture_default_str()->check(int_range(1, 1024));
  cmd->add_option("--heads", a->heads, "Attention heads")->capture_default_str()->check(int_range(1, 1024));
  cmd->add_option("--kv-heads", a->kv_heads, "Key/value heads (default: --heads)")->check(int_range(0, 1024));
  cmd->add_option("--ff", a->ff, "Feed-forward size (default: 8/3 dim rounded up to 16)")->check(int_range(0, 1 << 20));
  cmd->add_option("--ctx", a->ctx, "Context length stored in the model (default: --seq)")->check(int_range(0, kMaxContext));
  cmd->add_flag("--tied", a->tied, "Share the output projection with the token embedding");
  cmd->add_option("--batch", a->batch, "Rows per micro-batch")->capture_default_str()->check(int_range(1, 4096));
  cmd->add_option("--seq", a->seq, "Tokens per row")->capture_default_str()->check(int_range(1, kMaxContext));
  cmd->add_option("--accum", a->accum, "Micro-batches per optimizer step")->capture_default_str()->check(int_range(1, 4096));
  cmd->add_option("--steps", a->steps, "Optimizer steps")->capture_default_str()->check(int_range(1, kMaxSteps));
  cmd->add_option("--lr", a->lr, "Peak learning rate")->capture_default_str()->check(real_range(0, kDoubleMax));
  cmd->add_option("--min-lr", a->min_lr, "Final learning rate (default: lr / 10)")->check(real_range(0, kDoubleMax));
  cmd->add_option("--warmup", a->warmup, "Warm-up steps (default: min(100, steps / 10 + 1))")->check(int_range(0, kMaxSteps));
  cmd->add_option("--wd", a->wd, "AdamW weight decay (matrices only)")->capture_default_str()->check(real_range(0, kDoubleMax));
  cmd->add_option("--clip", a->clip, "Clip the global gradient norm to this (0: off)")->capture_default_str()->check(real_range(0, kDoubleMax));
  cmd->add_option("--seed", a->seed, "Seed for initialization, data order and synthetic data")->capture_default_str()->check(uint64_any());
  cmd->add_option("--threads", a->threads, "OpenMP threads (default: all)")->check(int_range(0, kMaxThreads));
  cmd->add_option("--eval-every", a->eval_every, "Steps between validation runs (0: at the end only)")->capture_default_str()->check(int_range(0, kMaxSteps));
  cmd->add_option("--eval-batches", a->eval_batches, "Batches per validation run")->capture_default_str()->check(int_range(1, 1000000));
  cmd->add_option("--log-every", a->log_every, "Steps between progress lines")->capture_default_str()->check(int_range(1, kMaxSteps));
  cmd->add_option("--checkpoint", a->checkpoint, "Checkpoint file (written atomically; the vocabulary goes to FILE.vocab.gguf)");
  cmd->add_option("--checkpoint-every", a->checkpoint_every, "Steps between checkpoints (0: at the end only)")->check(int_range(0, kMaxSteps));
  cmd->add_flag("--resume", a->resume,
                "Continue from --checkpoint if it exists; every option that changes the weights (and the data, "
                "--init, --teacher and the vocabulary) must match the checkpoint's, --steps included");
  cmd->add_option("--override", a->overrides,
                  "With --resume: allow these settings to differ from the checkpoint's (NAME[,NAME], repeatable; "
                  "option names without dashes, 'data' for the training data, 'all'). A longer --steps needs "
                  "'steps': the cosine schedule then spans the new total")
      ->delimiter(',');
  cmd->add_option("--stop-after", a->stop_after, "Stop after this many steps (checkpoint kept; for tests of --resume)")->check(int_range(0, kMaxSteps));
  cmd->add_option("-o,--out", a->out, "Output GGUF")->required();
  cmd->add_option("--name", a->name, "general.name of the model")->capture_default_str();
  cmd->add_option("--svg", a->svg, "Write the loss curve to this SVG file");
  cmd->add_option("--report", a->report, "Write a JSON summary (loss, time, tokens/s, accuracy)");
  cmd->callback([a] { run_train(*a); });

  auto tok = std::make_shared<std::tuple<std::vector<std::string>, std::string, int, int64_t>>();
  auto* tc = app.add_subcommand("train-tokenizer", "Train an SPM vocabulary and write it as a vocab-only GGUF");
  tc->add_option("--data", std::get<0>(*tok), "Text files (JSONL \"text\" rows or plain text)")->required();
  tc->add_option("-o,--out", std::get<1>(*tok), "Output GGUF")->required();
  std::get<2>(*tok) = 512;
  std::get<3>(*tok) = 4000000;
  tc->add_option("--vocab", std::get<2>(*tok), "Vocabulary size")->capture_default_str()->check(int_range(kMinVocab, kMaxVocab));
  tc->add_option("--max-chars", std::get<3>(*tok), "Characters of text to train on")->capture_default_str()->check(int_range(1, kInt64Max));
  tc->callback([tok] {
    std::vector<std::string> corpus;
    int64_t chars = 0;
    for (const auto& path : std::get<0>(*tok)) {
      for (auto& d : load_documents(path)) {
        if (chars >= std::get<3>(*tok)) break;
        chars += static_cast<int64_t>(d.size());
        corpus.push_back(std::move(d));
      }
    }
    SpmTrainOptions so;
    so.vocab_size = std::get<2>(*tok);
    SpmVocab v = train_spm(corpus, so);
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::str("llama"));
    write_spm_metadata(w, v);
    w.write(std::get<1>(*tok));
    std::printf("wrote %s (%d tokens from %zu documents, %ld characters)\n", std::get<1>(*tok).c_str(), v.size(),
                corpus.size(), static_cast<long>(chars));
  });

  auto sm = std::make_shared<std::tuple<int64_t, int, uint64_t, std::string>>(100, 2, 1, "");
  auto* sc = app.add_subcommand("synth-math", "Write synthetic arithmetic word problems as JSONL");
  sc->add_option("-n,--count", std::get<0>(*sm), "Number of problems")->capture_default_str()->check(int_range(0, kMaxProblems));
  sc->add_option("--difficulty", std::get<1>(*sm), "Steps and number size (1-10)")->capture_default_str()->check(int_range(1, 10));
  sc->add_option("--seed", std::get<2>(*sm), "Seed")->capture_default_str()->check(uint64_any());
  sc->add_option("-o,--out", std::get<3>(*sm), "Output JSONL (default: stdout)");
  sc->callback([sm] {
    auto problems = eval::generate_arith(std::get<0>(*sm), std::get<1>(*sm), std::get<2>(*sm));
    std::string out;
    for (size_t i = 0; i < problems.size(); ++i) {
      const auto& p = problems[i];
      nlohmann::json row = {{"id", "synth-math-d" + std::to_string(p.difficulty) + "-" + std::to_string(i)},
                            {"question", p.question},
                            {"answer", std::to_string(p.answer)},
                            {"solution", p.solution},
                            {"prompt", eval::arith_prompt(p)},
                            {"completion", eval::arith_completion(p)}};
      out += row.dump() + "\n";
    }
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
