#include "train/pipeline.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "gguf/gguf.h"
#include "model/transformer.h"
#include "train/data.h"
#include "train/export.h"
#include "train/fingerprint.h"
#include "train/trainer.h"
#include "util/error.h"

namespace tandem::train {

namespace {

__attribute__((format(printf, 1, 2))) std::string format(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string s(static_cast<size_t>(std::max(n, 0)), '\0');
  std::vsnprintf(s.data(), s.size() + 1, fmt, args);
  va_end(args);
  return s;
}

void say(const Progress& progress, const std::string& line) {
  if (progress) progress(line);
}

// The documents of the data files, with every k-th one held out for
// validation unless a validation file is given.
struct Corpus {
  std::vector<std::string> train_docs, valid_docs;
  std::vector<std::pair<std::vector<std::string>, double>> text_sets;  // per data file: documents, weight
};

Corpus load_corpus(const TrainPlan& p) {
  Corpus c;
  for (const auto& spec : p.data) {
    auto [path, w] = split_weight(spec);
    auto docs = load_documents(path);
    if (p.max_docs > 0 && static_cast<int64_t>(docs.size()) > p.max_docs) docs.resize(static_cast<size_t>(p.max_docs));
    std::vector<std::string> tr;
    // A tiny fraction holds out nothing (1/frac capped: llround of a huge value is undefined).
    const int64_t every =
        p.valid.empty() && p.valid_frac > 0 ? std::max<int64_t>(2, std::llround(std::min(1.0 / p.valid_frac, 1e18))) : 0;
    for (size_t i = 0; i < docs.size(); ++i) {
      if (every > 0 && static_cast<int64_t>(i) % every == every - 1) {
        c.valid_docs.push_back(std::move(docs[i]));
      } else {
        tr.push_back(std::move(docs[i]));
      }
    }
    c.train_docs.insert(c.train_docs.end(), tr.begin(), tr.end());
    c.text_sets.push_back({std::move(tr), w});
  }
  if (!p.valid.empty()) c.valid_docs = load_documents(p.valid);
  return c;
}

// The vocabulary: given (p.tokenizer), resumed from the checkpoint's copy, or
// trained on (a prefix of) the training text and the synthetic pairs. A named
// checkpoint gets a copy of it when it has none.
SpmVocab prepare_vocab(const TrainPlan& p, const Corpus& c, const Progress& progress) {
  SpmVocab vocab;
  const std::string vocab_path = p.checkpoint.empty() ? "" : p.checkpoint + ".vocab.gguf";
  if (!p.tokenizer.empty()) {
    vocab = read_spm_metadata(*gguf::File::open(p.tokenizer));
  } else if (p.resume && !vocab_path.empty() && std::filesystem::exists(vocab_path)) {
    vocab = read_spm_metadata(*gguf::File::open(vocab_path));
  } else {
    std::vector<std::string> corpus;
    int64_t chars = 0;
    for (const auto& d : c.train_docs) {
      if (chars >= p.tokenizer_chars) break;
      corpus.push_back(d);
      chars += static_cast<int64_t>(d.size());
    }
    const auto& pairs = p.synthetic.pairs;
    for (size_t i = 0; i < pairs.size() && i < 2000; ++i) corpus.push_back(pairs[i].first + pairs[i].second);
    SpmTrainOptions so;
    so.vocab_size = p.vocab;
    say(progress, format("training a %d-token SPM vocabulary on %zu documents...", p.vocab, corpus.size()));
    vocab = train_spm(corpus, so);
  }
  if (!vocab_path.empty() && !std::filesystem::exists(vocab_path)) {
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::str("llama"));
    write_spm_metadata(w, vocab);
    w.write(vocab_path);
  }
  return vocab;
}

// Training data goes through the library tokenizer, configured from the
// metadata the exported model carries.
DataMix build_mix(const TrainPlan& p, const Corpus& c, const SpmVocab& vocab, const Tokenizer& tok,
                  const Tokenizer& cont) {
  DataMix mix;
  for (const auto& [docs, w] : c.text_sets) {
    if (!docs.empty()) mix.add(std::make_shared<TextSource>(docs, tok, "text"), w);
  }
  for (const auto& spec : p.pairs) {
    auto [path, w] = split_weight(spec);
    mix.add(std::make_shared<PairSource>(path, tok, cont), w);
  }
  if (!p.synthetic.pairs.empty()) {
    std::vector<PairExample> ex;
    for (const auto& [prompt, completion] : p.synthetic.pairs) ex.push_back(encode_pair(tok, cont, prompt, completion));
    mix.add(std::make_shared<PairSource>(std::move(ex), p.synthetic.label, vocab.eos), p.synthetic.weight);
  }
  return mix;
}

ModelShape model_shape(const TrainPlan& p, const SpmVocab& vocab) {
  ModelShape s;
  if (!p.init.empty()) {
    s = shape_from_gguf(*gguf::File::open(p.init));
    if (s.n_vocab != vocab.size()) throw Error(p.init + ": its vocabulary differs from the training vocabulary; pass --tokenizer " + p.init);
    return s;
  }
  s.n_vocab = vocab.size();
  s.n_embd = p.dim;
  s.n_layer = p.layers;
  s.n_head = p.heads;
  s.n_head_kv = p.kv_heads > 0 ? p.kv_heads : p.heads;
  s.n_ff = p.ff > 0 ? p.ff : (8 * p.dim / 3 + 15) / 16 * 16;
  s.n_ctx = p.ctx > 0 ? p.ctx : p.seq;
  s.tied_output = p.tied;
  return s;
}

TrainOptions trainer_options(const TrainPlan& p, bool vocab_trained, const SpmVocab& vocab) {
  TrainOptions o;
  o.shape = model_shape(p, vocab);
  o.batch = p.batch;
  o.seq_len = p.seq;
  o.accum = p.accum;
  o.steps = p.steps;
  o.schedule.lr = p.lr;
  o.schedule.min_lr = p.min_lr >= 0 ? p.min_lr : p.lr / 10;
  o.schedule.warmup_steps = p.warmup >= 0 ? p.warmup : std::min<int64_t>(100, p.steps / 10 + 1);
  o.adam.weight_decay = p.wd;
  o.clip = p.clip;
  o.seed = p.seed;
  o.eval_every = p.eval_every;
  o.eval_batches = p.eval_batches;
  o.log_every = p.log_every;
  o.checkpoint_every = p.checkpoint_every;
  o.checkpoint_path = p.checkpoint;
  o.svg_path = p.svg;
  if (p.lora_rank > 0) {
    o.lora.rank = p.lora_rank;
    o.lora.alpha = p.lora_alpha;
    if (!p.lora_targets.empty()) o.lora.targets = p.lora_targets;
  }
  o.kd_alpha = p.kd_alpha;
  o.kd_tau = p.kd_temp;
  o.kd_direction = p.kd_reverse ? KlDirection::kReverse : KlDirection::kForward;
  o.overrides = p.overrides;
  o.inputs = resume_inputs(p, vocab_trained, vocab);
  return o;
}

// The teacher, the init weights and the checkpoint, in the order Trainer needs them.
void prepare_trainer(Trainer& trainer, const ModelShape& s, const TrainPlan& p, const Progress& progress) {
  if (!p.teacher.empty()) {
    LoadOptions lo;
    lo.n_threads = p.threads;
    trainer.set_teacher(std::shared_ptr<Transformer>(Transformer::load(p.teacher, lo)));
    say(progress, format("distilling from %s: loss = %.2f CE + %.2f * %.2f^2 %s KL", p.teacher.c_str(), 1 - p.kd_alpha,
                         p.kd_alpha, p.kd_temp, p.kd_reverse ? "reverse" : "forward"));
  }
  if (!p.init.empty()) load_params_from_gguf(*gguf::File::open(p.init), trainer.model());
  if (p.resume && std::filesystem::exists(p.checkpoint)) {
    trainer.resume(p.checkpoint);
    say(progress, format("resumed from %s at step %ld", p.checkpoint.c_str(), static_cast<long>(trainer.step())));
  }
  say(progress, format("model: %ld parameters (vocab %ld, dim %ld, %ld layers, %ld heads / %ld kv, ff %ld, ctx %ld%s)",
                       static_cast<long>(trainer.model().n_params()), static_cast<long>(s.n_vocab),
                       static_cast<long>(s.n_embd), static_cast<long>(s.n_layer), static_cast<long>(s.n_head),
                       static_cast<long>(s.n_head_kv), static_cast<long>(s.n_ff), static_cast<long>(s.n_ctx),
                       s.tied_output ? ", tied output" : ""));
  say(progress, format("threads: %d | tokens per step: %ld", omp_get_max_threads(),
                       static_cast<long>(p.batch * p.seq * p.accum)));
}

// Writes the model (or the LoRA adapter, and the merged model if asked);
// returns the path of the full model written, empty if none.
std::string export_model(Trainer& trainer, const TrainPlan& p, const SpmVocab& vocab, const Progress& progress) {
  if (!trainer.model().lora_enabled()) {
    export_gguf(trainer.model(), vocab, p.name, p.out);
    say(progress, format("wrote %s", p.out.c_str()));
    return p.out;
  }
  export_lora_gguf(trainer.model(), p.name, p.out);
  say(progress, format("wrote the LoRA adapter %s (%zu tensors, rank %ld)", p.out.c_str(),
                       trainer.model().lora_tensors().size(), static_cast<long>(p.lora_rank)));
  if (!p.merged_out.empty()) {
    trainer.model().merge_lora();
    export_gguf(trainer.model(), vocab, p.name, p.merged_out);
    say(progress, format("wrote the merged model %s", p.merged_out.c_str()));
  }
  return p.merged_out;
}

nlohmann::json make_report(Trainer& trainer, const TrainPlan& p) {
  nlohmann::json report;
  report["name"] = p.name;
  report["params"] = trainer.model().n_params();
  report["steps"] = trainer.step();
  report["tokens_seen"] = trainer.tokens_seen();
  report["train_seconds"] = trainer.elapsed_seconds();
  report["tokens_per_second"] = trainer.elapsed_seconds() > 0 ? trainer.tokens_seen() / trainer.elapsed_seconds() : 0.0;
  const auto& loss = trainer.train_loss();
  if (!loss.empty()) {
    double tail = 0;
    const size_t n = std::min<size_t>(20, loss.size());
    for (size_t i = loss.size() - n; i < loss.size(); ++i) tail += loss[i].second;
    report["final_train_loss"] = tail / static_cast<double>(n);
  }
  if (!trainer.val_loss().empty()) report["final_val_loss"] = trainer.val_loss().back().second;
  return report;
}

}  // namespace

std::pair<std::string, double> split_weight(const std::string& spec) {
  const size_t at = spec.rfind('@');
  if (at == std::string::npos) return {spec, 1.0};
  try {
    return {spec.substr(0, at), std::stod(spec.substr(at + 1))};
  } catch (const std::exception&) {
    throw Error("cannot read the weight in \"" + spec + "\"; write FILE@WEIGHT, e.g. stories.jsonl@2");
  }
}

std::map<std::string, std::string> resume_inputs(const TrainPlan& p, bool vocab_trained, const SpmVocab& vocab) {
  Fingerprint v;
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    v.add(static_cast<uint64_t>(vocab.tokens[i].size())).add_bytes(vocab.tokens[i].data(), vocab.tokens[i].size());
    v.add(static_cast<double>(vocab.scores[i])).add(static_cast<uint64_t>(vocab.types[i]));
  }
  v.add(static_cast<uint64_t>(vocab.unk)).add(static_cast<uint64_t>(vocab.bos)).add(static_cast<uint64_t>(vocab.eos));
  auto file = [](const std::string& path) { return path.empty() ? std::string("none") : fingerprint_hex(file_fingerprint(path)); };
  return {{"init", file(p.init)},
          {"teacher", file(p.teacher)},
          {"tokenizer", fingerprint_hex(v.value())},
          {"vocab", vocab_trained ? std::to_string(p.vocab) : "-"},
          {"tokenizer-chars", vocab_trained ? std::to_string(p.tokenizer_chars) : "-"}};
}

void validate(const TrainPlan& p) {
  if (p.out.empty()) throw Error("train: --out FILE.gguf is required");
  if (p.data.empty() && p.pairs.empty() && p.synthetic.pairs.empty()) {
    throw Error("train: no training data; pass --data FILE (text or JSONL), --pairs FILE or --synth-math N");
  }
  if (p.lora_rank > 0 && p.init.empty()) throw Error("train: --lora-rank fine-tunes a base model; pass it with --init FILE.gguf");
  if (!p.overrides.empty() && !p.resume) throw Error("train: --override only applies to --resume");
  if (p.resume && p.checkpoint.empty()) throw Error("train: --resume needs --checkpoint PATH");
}

TrainOutcome run_pipeline(TrainPlan p, const Progress& progress) {
  validate(p);
  if (p.threads > 0) omp_set_num_threads(p.threads);
  const Corpus corpus = load_corpus(p);
  // Fine-tuning keeps the base model's vocabulary; distillation needs the teacher's.
  if (p.tokenizer.empty() && !p.init.empty()) p.tokenizer = p.init;
  if (p.tokenizer.empty() && !p.teacher.empty()) p.tokenizer = p.teacher;
  const bool vocab_trained = p.tokenizer.empty();
  const SpmVocab vocab = prepare_vocab(p, corpus, progress);
  const auto tok = make_tokenizer(vocab);
  const auto cont = make_tokenizer(vocab, /*add_space_prefix=*/false);
  DataMix mix = build_mix(p, corpus, vocab, *tok, *cont);
  std::shared_ptr<const DataSource> valid;
  if (!corpus.valid_docs.empty()) valid = std::make_shared<TextSource>(corpus.valid_docs, *tok, "validation");

  TrainOptions options = trainer_options(p, vocab_trained, vocab);
  const ModelShape shape = options.shape;
  Trainer trainer(std::move(options), std::move(mix), valid);
  prepare_trainer(trainer, shape, p, progress);
  trainer.run(p.stop_after);
  TrainOutcome outcome;
  if (trainer.step() < p.steps) {
    say(progress, format("stopped after step %ld as asked; continue with --resume", static_cast<long>(trainer.step())));
    return outcome;
  }
  outcome.finished = true;
  outcome.model_path = export_model(trainer, p, vocab, progress);
  outcome.report = make_report(trainer, p);
  return outcome;
}

VocabFileResult train_vocab_file(const std::vector<std::string>& paths, const std::string& out, int vocab_size,
                                 int64_t max_chars) {
  std::vector<std::string> corpus;
  int64_t chars = 0;
  for (const auto& path : paths) {
    for (auto& d : load_documents(path)) {
      if (chars >= max_chars) break;
      chars += static_cast<int64_t>(d.size());
      corpus.push_back(std::move(d));
    }
  }
  SpmTrainOptions so;
  so.vocab_size = vocab_size;
  const SpmVocab v = train_spm(corpus, so);
  gguf::Writer w;
  w.set("general.architecture", gguf::Value::str("llama"));
  write_spm_metadata(w, v);
  w.write(out);
  return {v.size(), corpus.size(), chars};
}

}  // namespace tandem::train
