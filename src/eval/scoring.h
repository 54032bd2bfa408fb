// How an eval task scores one answer (eval/task.h): the filter that extracts a
// generated answer, the comparison with the gold answer, and the choice a
// multiple-choice task picks from log-likelihoods (lm-evaluation-harness's acc
// and acc_norm) or from a generated letter.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eval/task.h"

namespace tandem::eval {

// The answer in a generation: with a filter, the first group of its first
// match (nullopt without a match); without, util/answer.h's
// extract_final_answer (first "####", else the last number).
std::optional<std::string> extract_answer(const TaskSpec& task, std::string_view output);

// The gold answer of a generate_until example: its target without surrounding
// whitespace; a target holding "####" (a worked solution) gives its final
// answer by util/answer.h's rule instead.
std::string gold_answer(const Example& example);

// Equal answers: as numbers when both read as one (after dropping spaces, a
// leading '$', group commas and a final '.': "1,000." equals "1000.0"),
// else as text (without surrounding whitespace).
bool answers_equal(std::string_view answer, std::string_view gold);

// A decimal number in `text` (whole text, as answers_equal reads it).
std::optional<double> read_number(std::string_view text);

// lm-evaluation-harness's multiple-choice predictions: acc picks the choice
// with the largest log-likelihood, acc_norm the largest log-likelihood per
// byte of the choice's text (UTF-8 bytes, without the target delimiter; for
// ASCII text what lm-eval's len() counts). Ties: the first. Preconditions:
// lls.size() == choices.size() > 0, every choice non-empty.
struct ChoicePick {
  int acc = 0;
  int acc_norm = 0;
};
ChoicePick pick_choice(const std::vector<double>& lls, const std::vector<std::string>& choices);

// For models that cannot score: the prompt lists the choices as "A. text"
// lines after the question and asks for a letter.
std::string letter_prompt(const Example& example);
// The first capital letter among the first n_choices that stands alone in the
// output ("B", "(B)", "B." but not the "B" of "Because"); nullopt when none.
std::optional<int> extract_letter(std::string_view output, int n_choices);

}  // namespace tandem::eval
