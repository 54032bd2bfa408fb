#include "eval/arith_task.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "train/rng.h"
#include "util/error.h"

namespace tandem::eval {
namespace {

constexpr const char* kNames[] = {"Lily", "Tom", "Mia", "Ben", "Sara", "Max", "Anna", "Leo", "Emma", "Sam"};
constexpr const char* kThings[] = {"apples", "stickers", "marbles", "cookies", "books",
                                   "coins",  "pencils",  "flowers", "shells",  "cards"};

template <size_t N>
const char* pick(train::Rng& rng, const char* const (&list)[N]) {
  return list[rng.below(N)];
}

}  // namespace

std::vector<ArithProblem> generate_arith(int64_t count, int difficulty, uint64_t seed) {
  if (difficulty < 1 || difficulty > 10) throw Error("arithmetic task: difficulty must be 1..10, got " + std::to_string(difficulty));
  train::Rng rng = train::Rng::seeded(seed, static_cast<uint64_t>(difficulty));
  std::vector<ArithProblem> out;
  const int64_t max_operand = 10 * difficulty;
  for (int64_t k = 0; k < count; ++k) {
    const std::string name = pick(rng, kNames);
    std::string friend_name = pick(rng, kNames);
    while (friend_name == name) friend_name = pick(rng, kNames);
    const std::string thing = pick(rng, kThings);
    int64_t cur = 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(max_operand)));
    std::string q = name + " has " + std::to_string(cur) + " " + thing + ".";
    std::string s = name + " starts with " + std::to_string(cur) + " " + thing + ".\n";
    for (int step = 0; step < difficulty; ++step) {
      // Operation: 0 add, 1 subtract, 2 multiply, 3 divide (as difficulty allows).
      const int n_ops = difficulty >= 3 ? 4 : difficulty >= 2 ? 3 : 2;
      int op = static_cast<int>(rng.below(static_cast<uint64_t>(n_ops)));
      if (op == 1 && cur < 2) op = 0;
      if (op == 2 && cur > 10 * max_operand) op = 1;
      std::vector<int64_t> divisors;
      if (op == 3) {
        for (int64_t d = 2; d <= std::min<int64_t>(cur, 9); ++d)
          if (cur % d == 0) divisors.push_back(d);
        if (divisors.empty()) op = 0;
      }
      const int64_t before = cur;
      if (op == 0) {
        const int64_t n = 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(max_operand)));
        cur += n;
        q += " Then " + name + " finds " + std::to_string(n) + " more " + thing + ".";
        s += std::to_string(before) + " + " + std::to_string(n) + " = " + std::to_string(cur) + ".\n";
      } else if (op == 1) {
        const int64_t n = 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(std::min(cur - 1, max_operand))));
        cur -= n;
        q += " Then " + name + " gives " + std::to_string(n) + " " + thing + " to " + friend_name + ".";
        s += std::to_string(before) + " - " + std::to_string(n) + " = " + std::to_string(cur) + ".\n";
      } else if (op == 2) {
        const int64_t n = 2 + static_cast<int64_t>(rng.below(difficulty >= 4 ? 4 : 2));
        cur *= n;
        q += " Then the number of " + thing + " " + name + " has becomes " + std::to_string(n) + " times as large.";
        s += std::to_string(before) + " * " + std::to_string(n) + " = " + std::to_string(cur) + ".\n";
      } else {
        const int64_t n = divisors[rng.below(divisors.size())];
        cur /= n;
        q += " Then " + name + " splits the " + thing + " into " + std::to_string(n) + " equal groups and keeps one group.";
        s += std::to_string(before) + " / " + std::to_string(n) + " = " + std::to_string(cur) + ".\n";
      }
    }
    q += " How many " + thing + " does " + name + " have now?";
    s += "#### " + std::to_string(cur);
    out.push_back({std::move(q), std::move(s), cur, difficulty});
  }
  return out;
}

std::string arith_prompt(const ArithProblem& p) { return "Question: " + p.question + "\nAnswer:"; }
std::string arith_completion(const ArithProblem& p) { return " " + p.solution; }

std::string arith_jsonl(const std::vector<ArithProblem>& problems) {
  std::string out;
  for (size_t i = 0; i < problems.size(); ++i) {
    const ArithProblem& p = problems[i];
    nlohmann::json row = {{"id", "synth-math-d" + std::to_string(p.difficulty) + "-" + std::to_string(i)},
                          {"question", p.question},
                          {"answer", std::to_string(p.answer)},
                          {"solution", p.solution},
                          {"prompt", arith_prompt(p)},
                          {"completion", arith_completion(p)}};
    out += row.dump() + "\n";
  }
  return out;
}

}  // namespace tandem::eval
