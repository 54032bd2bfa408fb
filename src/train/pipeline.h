// The training workflow behind `tandem train`, as a library call: documents
// and prompt/completion files assembled into a weighted data mix (with a
// held-out validation split), the SPM vocabulary (given, resumed or trained
// here), a model initialised fresh or from a GGUF (optionally with LoRA
// adapters), an optional distillation teacher, resume from a checkpoint, the
// training loop (its progress lines and checkpoints come from Trainer), and
// the export of the model (or adapter, and merged model) as GGUF.
//
// The synthetic arithmetic task lives above this layer (src/eval); it enters
// here as TrainPlan::synthetic pairs. eval/math_training.h adds it and the
// held-out evaluation on top of run_pipeline().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "train/spm.h"

namespace tandem::train {

// Prompt/completion pairs trained on beside the files (loss on completions).
struct SyntheticPairs {
  std::vector<std::pair<std::string, std::string>> pairs;  // prompt, completion
  std::string label;                                       // the data source's name in progress lines
  double weight = 1.0;                                     // sampling weight in the data mix
};

// Every setting of a run; the names follow the `tandem train` options
// (README, "Training"). Defaults are the command's.
struct TrainPlan {
  std::vector<std::string> data;   // text files (JSONL "text" rows or plain text), "FILE" or "FILE@WEIGHT"
  std::vector<std::string> pairs;  // JSONL "prompt"/"completion" files, "FILE" or "FILE@WEIGHT"
  SyntheticPairs synthetic;
  std::string valid;               // validation text; empty: every 1/valid_frac-th data document
  double valid_frac = 0.01;
  int64_t max_docs = 0;            // per data file; 0: all
  std::string tokenizer;           // GGUF whose SPM vocabulary is reused; empty: init's, teacher's or trained
  int vocab = 512;                 // size of a trained vocabulary
  int64_t tokenizer_chars = 4000000;
  std::string init;                // start from this F32 llama GGUF
  int64_t lora_rank = 0;           // > 0: fine-tune LoRA adapters of the init model
  double lora_alpha = 16.0;
  std::vector<std::string> lora_targets;
  std::string merged_out;          // with LoRA: also write the merged model here
  std::string teacher;             // distill from this GGUF
  double kd_alpha = 0.5, kd_temp = 1.0;
  bool kd_reverse = false;
  int64_t dim = 64, layers = 2, heads = 4, kv_heads = 0, ff = 0, ctx = 0;  // 0: derived (see `tandem train --help`)
  bool tied = false;
  int64_t batch = 8, seq = 128, accum = 1, steps = 1000, warmup = -1;  // warmup -1: min(100, steps / 10 + 1)
  double lr = 1e-3, min_lr = -1, wd = 0.1, clip = 1.0;                 // min_lr -1: lr / 10
  uint64_t seed = 1;
  int threads = 0;                 // > 0: sets the process's OpenMP thread count
  int64_t eval_every = 100, eval_batches = 4, log_every = 10, checkpoint_every = 0;
  std::string checkpoint;          // checkpoint file; the vocabulary goes to checkpoint + ".vocab.gguf"
  bool resume = false;
  std::vector<std::string> overrides;  // settings a resume may change
  int64_t stop_after = -1;             // stop after this many steps (-1: run all)
  std::string out;                     // the output GGUF (the adapter with LoRA); required
  std::string name = "tandem";         // general.name
  std::string svg;                     // loss curve
};

struct TrainOutcome {
  bool finished = false;    // false: stopped by stop_after before the last step; nothing exported
  std::string model_path;   // the exported full model (out, or merged_out with LoRA; empty if none)
  nlohmann::json report;    // name, params, steps, tokens_seen, train_seconds, tokens_per_second,
                            // final_train_loss (mean of the last 20 steps), final_val_loss
};

// Receives each progress line the pipeline writes (without its newline);
// Trainer's own step lines still go to stdout (TrainOptions::quiet).
using Progress = std::function<void(const std::string& line)>;

// Throws tandem::Error for settings that cannot run, before any work: no
// output, no data at all, lora_rank without init, overrides without resume,
// resume without checkpoint. The messages name the `tandem train` options.
void validate(const TrainPlan& plan);

// Runs the whole workflow (see the top of this file). Throws tandem::Error
// on invalid settings (validate()), unreadable or malformed inputs, an init
// model whose vocabulary differs from the training vocabulary, a checkpoint
// that does not match the plan (Trainer::resume), and unwritable outputs.
// Writes checkpoint + ".vocab.gguf" when a checkpoint is named and that file
// is missing. Not reentrant: plan.threads sets the process-wide OpenMP count.
TrainOutcome run_pipeline(TrainPlan plan, const Progress& progress = {});

// "FILE" or "FILE@WEIGHT" -> (FILE, WEIGHT); throws tandem::Error on a
// weight that is not a number.
std::pair<std::string, double> split_weight(const std::string& spec);

// What TrainOptions::inputs records for a resume to compare: the files the
// run starts from and the vocabulary (its request when trained here, its contents).
std::map<std::string, std::string> resume_inputs(const TrainPlan& plan, bool vocab_trained, const SpmVocab& vocab);

// `tandem train-tokenizer`: trains an SPM vocabulary of `vocab_size` tokens on
// the documents of `paths` (whole documents, until max_chars characters are
// taken) and writes it to `out` as a vocab-only GGUF. Throws tandem::Error on
// unreadable inputs and an unwritable output.
struct VocabFileResult {
  int size = 0;           // tokens in the vocabulary
  size_t documents = 0;   // documents trained on
  int64_t chars = 0;      // their characters
};
VocabFileResult train_vocab_file(const std::vector<std::string>& paths, const std::string& out, int vocab_size,
                                 int64_t max_chars);

}  // namespace tandem::train
