#include "compose/budget.h"

#include <cmath>
#include <cstdio>

#include "util/error.h"

namespace tandem::compose {

Budgets::Budgets(Clock clock) : clock_(std::move(clock)) {
  if (!clock_) {
    const auto start = std::chrono::steady_clock::now();
    clock_ = [start] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  }
}

void Budgets::set(const std::string& model, const BudgetLimit& limit) {
  if (!(limit.window_s > 0.0) || std::isinf(limit.window_s))
    throw Error("budget of '" + model + "': window_s must be a positive number of seconds");
  if (!(limit.max_cost >= 0.0)) throw Error("budget of '" + model + "': max_cost must be >= 0");
  if (limit.max_tokens < 0) throw Error("budget of '" + model + "': max_tokens must be >= 0");
  std::lock_guard lock(mu_);
  accounts_[model].limit = limit;
}

bool Budgets::has_limit(const std::string& model) const {
  std::lock_guard lock(mu_);
  return accounts_.count(model) > 0;
}

Spend Budgets::window_spend(Account& a, double now) const {
  while (!a.entries.empty() && a.entries.front().at + a.limit.window_s <= now) a.entries.pop_front();
  Spend s;
  for (const Entry& e : a.entries) {
    s.cost += e.cost;
    s.tokens += e.tokens;
  }
  return s;
}

std::optional<std::string> Budgets::refusal(const std::string& model) const {
  std::lock_guard lock(mu_);
  const auto it = accounts_.find(model);
  if (it == accounts_.end()) return std::nullopt;
  Account& a = it->second;
  const Spend s = window_spend(a, clock_());
  char buf[160];
  if (s.cost >= a.limit.max_cost) {
    std::snprintf(buf, sizeof buf, "over budget: cost %.6g of %.6g in the last %g s", s.cost, a.limit.max_cost,
                  a.limit.window_s);
    return std::string(buf);
  }
  if (s.tokens >= a.limit.max_tokens) {
    std::snprintf(buf, sizeof buf, "over budget: %lld of %lld tokens in the last %g s", static_cast<long long>(s.tokens),
                  static_cast<long long>(a.limit.max_tokens), a.limit.window_s);
    return std::string(buf);
  }
  return std::nullopt;
}

void Budgets::charge(const std::map<std::string, api::Usage>& usage) {
  std::lock_guard lock(mu_);
  const double now = clock_();
  for (const auto& [model, u] : usage) {
    const auto it = accounts_.find(model);
    if (it == accounts_.end()) continue;
    it->second.entries.push_back({now, u.cost, u.prompt_tokens + u.completion_tokens});
  }
}

Spend Budgets::spent(const std::string& model) const {
  std::lock_guard lock(mu_);
  const auto it = accounts_.find(model);
  return it == accounts_.end() ? Spend{} : window_spend(it->second, clock_());
}

}  // namespace tandem::compose
