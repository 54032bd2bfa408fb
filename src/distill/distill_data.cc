#include "distill/distill_data.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "decode/strategy.h"
#include "eval/arith_task.h"
#include "model/transformer.h"
#include "train/data.h"
#include "util/error.h"

namespace tandem::distill {

std::string cut_after_final_answer(const std::string& text) {
  const size_t p = text.find("#### ");
  if (p == std::string::npos) return text;
  const size_t eol = text.find('\n', p);
  return eol == std::string::npos ? text : text.substr(0, eol);
}

namespace {

std::vector<std::string> distill_prompts(const DistillDataOptions& a) {
  if (!a.prompts.empty()) return train::load_jsonl_field(a.prompts, "prompt");
  std::vector<std::string> prompts;
  for (const auto& p : eval::generate_arith(a.synth, a.difficulty, a.synth_seed)) prompts.push_back(eval::arith_prompt(p));
  return prompts;
}

}  // namespace

DistillStatus write_distill_data(const DistillDataOptions& a, const DistillProgress& progress) {
  if (a.prompts.empty() == (a.synth <= 0)) throw Error("distill-data: give either --prompts FILE or --synth-math N");
  const std::vector<std::string> prompts = distill_prompts(a);
  auto teacher = Transformer::load(a.teacher, {.n_threads = a.threads});
  std::ofstream out(a.out, std::ios::binary);
  if (!out) throw Error(a.out + ": cannot write");
  decode::StrategyOptions o;
  o.strategy = "sample";
  o.sampling.temperature = a.temperature;
  o.text.n_predict = a.n_predict > 0 ? a.n_predict : (a.synth > 0 ? eval::arith_answer_tokens(a.difficulty) : 128);
  DistillStatus status{.total = prompts.size()};
  for (size_t i = 0; i < prompts.size(); ++i) {
    o.sampling.seed = a.seed + i;  // each row reproducible on its own
    const auto r = decode::run_strategy(*teacher, prompts[i], o);
    const std::string completion = a.synth > 0 ? cut_after_final_answer(r.output.text) : r.output.text;
    status.teacher_tokens += static_cast<int64_t>(r.output.tokens.size());
    out << nlohmann::json{{"prompt", prompts[i]}, {"completion", completion}}.dump() << "\n";
    status.done = i + 1;
    if (progress) progress(status);
  }
  status.finished = true;
  if (progress) progress(status);
  out.close();
  if (!out) throw Error(a.out + ": write failed");
  return status;
}

}  // namespace tandem::distill
