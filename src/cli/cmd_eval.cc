// tandem eval-math: held-out accuracy on the synthetic arithmetic task.
// tandem distill-data: a teacher model's generations for a set of prompts, as
// {"prompt", "completion"} JSONL rows: the data of sequence-level
// distillation (train a student on them with `tandem train --pairs`).
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/lora_options.h"
#include "cli/numeric_options.h"
#include "decode/strategy.h"
#include "eval/arith_eval.h"
#include "eval/arith_task.h"
#include "model/transformer.h"
#include "train/data.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

// `tandem train --seed S` holds out the problem stream eval::arith_heldout_seed(S);
// the default here is that stream for the recipes' seed 1.
constexpr uint64_t kHeldOutSeed = eval::arith_heldout_seed(1);

struct EvalMathArgs {
  std::string model;
  int64_t count = 200;
  int difficulty = 2;
  uint64_t seed = kHeldOutSeed;
  int max_tokens = 0;
  int threads = 0;
  bool json = false;
  LoraOptions lora;
};

void run_eval_math(const EvalMathArgs& a) {
  if (a.count <= 0) throw Error("eval-math: -n must be positive");
  if (a.difficulty < 1 || a.difficulty > 10) throw Error("eval-math: --difficulty must be in 1..10");
  auto model = Transformer::load(a.model, {.n_threads = a.threads, .lora = a.lora.adapters()});
  const auto problems = eval::generate_arith(a.count, a.difficulty, a.seed);
  const int max_new = a.max_tokens > 0 ? a.max_tokens : eval::arith_answer_tokens(a.difficulty);
  const auto total = eval::evaluate_arith(*model, problems, max_new, 3, [](const eval::ArithEvalResult& r, size_t n) {
    std::fprintf(stderr, "\reval-math: %ld/%zu problems, %ld correct", static_cast<long>(r.n), n,
                 static_cast<long>(r.correct));
  });
  std::fprintf(stderr, "\n");
  if (a.json) {
    nlohmann::json j = {{"model", a.model},       {"difficulty", a.difficulty}, {"seed", a.seed},
                        {"problems", total.n},    {"correct", total.correct},   {"accuracy", total.accuracy()}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s: %ld/%ld correct, accuracy %.4f (difficulty %d, seed %lu, greedy)\n", a.model.c_str(),
                static_cast<long>(total.correct), static_cast<long>(total.n), total.accuracy(), a.difficulty,
                static_cast<unsigned long>(a.seed));
  }
}

struct DistillArgs {
  std::string teacher, prompts, out;
  int64_t synth = 0;
  int difficulty = 2;
  uint64_t synth_seed = 1;
  int n_predict = 0;
  float temperature = 0.0f;
  uint64_t seed = 1;
  int threads = 0;
};

// A synthetic solution ends with its "#### N" line; what a teacher writes
// after it (if it does not stop) is not part of the answer.
std::string cut_after_final_answer(const std::string& text) {
  const size_t p = text.find("#### ");
  if (p == std::string::npos) return text;
  const size_t eol = text.find('\n', p);
  return eol == std::string::npos ? text : text.substr(0, eol);
}

void run_distill(const DistillArgs& a) {
  if (a.prompts.empty() == (a.synth <= 0)) throw Error("distill-data: give either --prompts FILE or --synth-math N");
  std::vector<std::string> prompts;
  if (!a.prompts.empty()) {
    prompts = train::load_jsonl_field(a.prompts, "prompt");
  } else {
    for (const auto& p : eval::generate_arith(a.synth, a.difficulty, a.synth_seed)) prompts.push_back(eval::arith_prompt(p));
  }
  auto teacher = Transformer::load(a.teacher, {.n_threads = a.threads});
  std::ofstream out(a.out, std::ios::binary);
  if (!out) throw Error(a.out + ": cannot write");
  decode::StrategyOptions o;
  o.strategy = "sample";
  o.sampling.temperature = a.temperature;
  o.text.n_predict = a.n_predict > 0 ? a.n_predict : (a.synth > 0 ? eval::arith_answer_tokens(a.difficulty) : 128);
  int64_t tokens = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    o.sampling.seed = a.seed + i;  // each row reproducible on its own
    const auto r = decode::run_strategy(*teacher, prompts[i], o);
    const std::string completion = a.synth > 0 ? cut_after_final_answer(r.output.text) : r.output.text;
    tokens += static_cast<int64_t>(r.output.tokens.size());
    out << nlohmann::json{{"prompt", prompts[i]}, {"completion", completion}}.dump() << "\n";
    std::fprintf(stderr, "\rdistill-data: %zu/%zu prompts, %ld teacher tokens", i + 1, prompts.size(),
                 static_cast<long>(tokens));
  }
  std::fprintf(stderr, "\n");
  out.close();
  if (!out) throw Error(a.out + ": write failed");
  std::printf("wrote %zu rows to %s\n", prompts.size(), a.out.c_str());
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto em = std::make_shared<EvalMathArgs>();
  auto* e = app.add_subcommand("eval-math", "Exact-answer accuracy on held-out synthetic arithmetic problems (greedy)");
  e->add_option("-m,--model", em->model, "GGUF model")->required();
  e->add_option("-n,--count", em->count, "Problems")->capture_default_str()->check(int_range(1, kMaxProblems));
  e->add_option("--difficulty", em->difficulty, "Difficulty (1-10)")->capture_default_str()->check(int_range(1, 10));
  e->add_option("--seed", em->seed, "Problem seed (default: the held-out stream of `tandem train --seed 1`)")
      ->capture_default_str()
      ->check(uint64_any());
  e->add_option("--max-tokens", em->max_tokens, "Tokens generated per problem (default 24 + 16 * difficulty)")
      ->check(int_range(0, kMaxContext));
  e->add_option("-t,--threads", em->threads, "Threads (default: all)")->check(int_range(0, kMaxThreads));
  e->add_flag("--json", em->json, "Print one JSON object");
  add_lora_options(e, em->lora);
  e->callback([em] { run_eval_math(*em); });

  auto da = std::make_shared<DistillArgs>();
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
