#include "eval/scoring.h"

#include <cctype>
#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <regex>

#include "util/answer.h"
#include "util/text.h"

namespace tandem::eval {
namespace {

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::optional<std::string> extract_answer(const TaskSpec& task, std::string_view output) {
  if (task.filter.empty()) return extract_final_answer(output);
  // Compiled per call: a std::regex is cheap next to a generation, and this
  // keeps TaskSpec a plain value.
  const std::regex re(task.filter, std::regex::ECMAScript);
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(output.begin(), output.end(), m, re) || !m[1].matched) return std::nullopt;
  return std::string(trim(std::string_view(&*m[1].first, static_cast<size_t>(m[1].length()))));
}

std::string gold_answer(const Example& example) {
  if (example.target.find("####") != std::string::npos) {
    if (auto a = extract_final_answer(example.target)) return *a;
  }
  return std::string(trim(example.target));
}

std::optional<double> read_number(std::string_view text) {
  std::string s;
  for (const char c : trim(text)) {
    if (c != ',' && c != ' ') s += c;
  }
  if (!s.empty() && s.front() == '$') s.erase(0, 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s.empty() || s.find_first_not_of("0123456789.-+eE") != std::string::npos) return std::nullopt;
  if (!std::isdigit(static_cast<unsigned char>(s.back()))) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool answers_equal(std::string_view answer, std::string_view gold) {
  const auto a = read_number(answer), g = read_number(gold);
  if (a && g) return std::fabs(*a - *g) <= 1e-9 * std::max(1.0, std::fabs(*g));
  return trim(answer) == trim(gold);
}

ChoicePick pick_choice(const std::vector<double>& lls, const std::vector<std::string>& choices) {
  ChoicePick p;
  auto bytes = [&](size_t i) { return static_cast<double>(std::max<size_t>(1, choices[i].size())); };
  double best = lls[0], best_norm = lls[0] / bytes(0);
  for (size_t i = 1; i < lls.size(); ++i) {
    const double norm = lls[i] / bytes(i);
    if (lls[i] > best) best = lls[i], p.acc = static_cast<int>(i);
    if (norm > best_norm) best_norm = norm, p.acc_norm = static_cast<int>(i);
  }
  return p;
}

std::string letter_prompt(const Example& example) {
  std::string p = example.text;
  if (!p.empty() && p.back() != '\n') p += "\n";
  for (size_t i = 0; i < example.choices.size(); ++i)
    p += std::string(1, static_cast<char>('A' + i)) + ". " + example.choices[i] + "\n";
  return p + "Answer with the letter of the correct choice.\nAnswer:";
}

std::optional<int> extract_letter(std::string_view output, int n_choices) {
  for (size_t i = 0; i < output.size(); ++i) {
    const char c = output[i];
    if (c < 'A' || c >= 'A' + n_choices) continue;
    const bool alone_before = i == 0 || !alnum(output[i - 1]);
    const bool alone_after = i + 1 == output.size() || !alnum(output[i + 1]);
    if (alone_before && alone_after) return c - 'A';
  }
  return std::nullopt;
}

}  // namespace tandem::eval
