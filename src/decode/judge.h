// A second model as evaluator ("LLM as judge") for best-of-N: a candidate's
// score is the judge model's log-probability of a verdict (default " Yes")
// after a judge prompt built from a template holding {prompt} and
// {candidate}. The judge has its own tokenizer: everything goes through text,
// so any GGUF model can judge any other's output.
#pragma once

#include <string>
#include <string_view>

#include "model/transformer.h"

namespace tandem::decode {

inline constexpr std::string_view kDefaultJudgeTemplate =
    "Question: {prompt}\nAnswer: {candidate}\nIs the answer correct? (Yes or No)\nVerdict:";
inline constexpr std::string_view kDefaultVerdict = " Yes";

// The template with every "{prompt}" and "{candidate}" replaced (replacement
// text is not scanned again). Throws tandem::Error if the template has no
// "{candidate}" (every candidate would score the same).
std::string fill_judge_template(std::string_view templ, std::string_view prompt, std::string_view candidate);

// sum_j log P(v_j | judge tokens, v_<j) under `judge`, where the judge tokens
// are judge_text encoded with the judge's BOS convention (special tokens
// parsed) and v = verdict encoded without BOS, as plain text. One forward
// pass in a fresh cache. Throws tandem::Error if the verdict encodes to no
// tokens or the sequence exceeds the judge's training context.
double judge_logprob(const Transformer& judge, std::string_view judge_text, std::string_view verdict);

}  // namespace tandem::decode
