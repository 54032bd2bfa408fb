// Spending limits per model, shared by the compositions of a config: a model
// whose spend in the last `window_s` seconds reached a limit is skipped by the
// compositions that call it (compose/cascade.h: the next stage answers), and
// the trace says so. Spend is charged from the same usage entries the
// compositions report (api::Response::usage, by underlying model name), so
// what is reported and what is enforced never disagree.
//
//   budgets:                                    # in a config (configs/README.md)
//     base: {max_cost: 0.50, window_s: 3600}    # at most 0.50 per sliding hour
//     big:  {max_tokens: 200000, window_s: 60}  # prompt + completion tokens per minute
//
// A limit is checked before a call and charged after it, so a call that
// starts under the limit may end over it (a budget caps spending to within one
// call's cost, it does not predict a call's cost). The window slides: a charge
// counts until window_s seconds after the call that made it.
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "api/types.h"

namespace tandem::compose {

struct BudgetLimit {
  double max_cost = std::numeric_limits<double>::infinity();        // in the price table's currency
  int64_t max_tokens = std::numeric_limits<int64_t>::max();         // prompt + completion tokens
  double window_s = 3600.0;                                         // > 0
};

struct Spend {
  double cost = 0.0;
  int64_t tokens = 0;
};

class Budgets {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic
  // `clock` for tests; by default std::chrono::steady_clock.
  explicit Budgets(Clock clock = {});

  // Sets the limit of `model` (replacing one set before). Throws
  // tandem::Error for a window <= 0 or a negative or NaN limit.
  void set(const std::string& model, const BudgetLimit& limit);
  bool has_limit(const std::string& model) const;

  // Empty when `model` may be called now (no limit, or its spend in the
  // window is under every limit); else why not ("over budget: cost 0.52 of
  // 0.5 in the last 3600 s").
  std::optional<std::string> refusal(const std::string& model) const;
  // Charges every usage entry whose model has a limit.
  void charge(const std::map<std::string, api::Usage>& usage);
  // The spend of `model` in the current window.
  Spend spent(const std::string& model) const;

 private:
  struct Entry {
    double at;
    double cost;
    int64_t tokens;
  };
  struct Account {
    BudgetLimit limit;
    std::deque<Entry> entries;
  };
  Spend window_spend(Account& a, double now) const;  // drops expired entries; under mu_

  Clock clock_;
  mutable std::mutex mu_;
  mutable std::map<std::string, Account> accounts_;
};

}  // namespace tandem::compose
