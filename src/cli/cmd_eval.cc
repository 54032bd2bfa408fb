// tandem eval-math: held-out accuracy on the synthetic arithmetic task.
// tandem distill-data: a teacher model's generations for a set of prompts, as
// {"prompt", "completion"} JSONL rows: the data of sequence-level
// distillation (train a student on them with `tandem train --pairs`).
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/lora_options.h"
#include "cli/numeric_options.h"
#include "distill/distill_data.h"
#include "eval/arith_eval.h"

namespace tandem::cli {
namespace {

// The problem seed defaults to the held-out stream of `tandem train --seed 1`
// (eval::MathEvalOptions), the recipes' seed.
struct EvalMathArgs {
  eval::MathEvalOptions options;
  bool json = false;
  LoraOptions lora;
};

void run_eval_math(EvalMathArgs a) {
  a.options.lora = a.lora.adapters();
  const eval::MathEvalOptions& o = a.options;
  const auto total = eval::evaluate_math(o, [](const eval::ArithEvalResult& r, size_t n) {
    std::fprintf(stderr, "\reval-math: %ld/%zu problems, %ld correct", static_cast<long>(r.n), n,
                 static_cast<long>(r.correct));
  });
  std::fprintf(stderr, "\n");
  if (a.json) {
    nlohmann::json j = {{"model", o.model},       {"difficulty", o.difficulty}, {"seed", o.seed},
                        {"problems", total.n},    {"correct", total.correct},   {"accuracy", total.accuracy()}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s: %ld/%ld correct, accuracy %.4f (difficulty %d, seed %lu, greedy)\n", o.model.c_str(),
                static_cast<long>(total.correct), static_cast<long>(total.n), total.accuracy(), o.difficulty,
                static_cast<unsigned long>(o.seed));
  }
}

void run_distill(const distill::DistillDataOptions& a) {
  const auto status = distill::write_distill_data(a, [](const distill::DistillStatus& s) {
    if (s.finished) {
      std::fprintf(stderr, "\n");
    } else {
      std::fprintf(stderr, "\rdistill-data: %zu/%zu prompts, %ld teacher tokens", s.done, s.total,
                   static_cast<long>(s.teacher_tokens));
    }
  });
  std::printf("wrote %zu rows to %s\n", status.total, a.out.c_str());
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto em = std::make_shared<EvalMathArgs>();
  eval::MathEvalOptions& eo = em->options;
  auto* e = app.add_subcommand("eval-math", "Exact-answer accuracy on held-out synthetic arithmetic problems (greedy)");
  e->add_option("-m,--model", eo.model, "GGUF model")->required();
  e->add_option("-n,--count", eo.count, "Problems")->capture_default_str()->check(int_range(1, kMaxProblems));
  e->add_option("--difficulty", eo.difficulty, "Difficulty (1-10)")->capture_default_str()->check(int_range(1, 10));
  e->add_option("--seed", eo.seed, "Problem seed (default: the held-out stream of `tandem train --seed 1`)")
      ->capture_default_str()
      ->check(uint64_any());
  e->add_option("--max-tokens", eo.max_tokens, "Tokens generated per problem (default 24 + 16 * difficulty)")
      ->check(int_range(0, kMaxContext));
  e->add_option("-t,--threads", eo.threads, "Threads (default: all)")->check(int_range(0, kMaxThreads));
  e->add_flag("--json", em->json, "Print one JSON object");
  add_lora_options(e, em->lora);
  e->callback([em] { run_eval_math(*em); });

  auto da = std::make_shared<distill::DistillDataOptions>();
  auto* d = app.add_subcommand("distill-data",
                               "Write a teacher's generations as prompt/completion JSONL (sequence-level distillation data)");
  d->add_option("-m,--teacher", da->teacher, "Teacher GGUF model")->required();
  d->add_option("--prompts", da->prompts, "JSONL with a \"prompt\" field per row");
  d->add_option("--synth-math", da->synth, "Take N synthetic arithmetic problems as prompts")
      ->check(int_range(0, kMaxProblems));
  d->add_option("--synth-difficulty", da->difficulty, "Difficulty of the synthetic problems")
      ->capture_default_str()
      ->check(int_range(1, 10));
  d->add_option("--synth-seed", da->synth_seed, "Seed of the synthetic problems")->capture_default_str()->check(uint64_any());
  d->add_option("-n,--n-predict", da->n_predict, "Tokens per completion (default 128, synthetic: 24 + 16 * difficulty)")
      ->check(int_range(0, kMaxContext));
  d->add_option("--temp", da->temperature, "Temperature (0: greedy)")->capture_default_str()->check(real_range(0, kFloatMax));
  d->add_option("--seed", da->seed, "Sampling seed of row i is seed + i")->capture_default_str()->check(uint64_any());
  d->add_option("-t,--threads", da->threads, "Threads (default: all)")->check(int_range(0, kMaxThreads));
  d->add_option("-o,--out", da->out, "Output JSONL")->required();
  d->callback([da] { run_distill(*da); });
}

}  // namespace tandem::cli
