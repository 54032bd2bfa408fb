// load(): the `budgets:` section.
#include <limits>

#include "config/load_internal.h"

namespace tandem::config::detail {

void parse_budgets(const Fields& budgets, Config& config) {
  for (const auto& [key, value] : budgets.entries()) {
    const std::string& name = key.Scalar();
    const Location at = location(config.file, key.Mark());
    const ModelSpec* m = config.find(name);
    if (m == nullptr) fail(at, "a budget for " + unknown_model(name, config));
    if (m->type() != "local" && m->type() != "remote")
      fail(at, "a budget applies to local and remote models (what they spend is what compositions report); '" + name +
                   "' is a " + std::string(m->type()) + ": give its stages budgets");
    const Fields f(config.file, value, "the budget of '" + name + "'", {"max_cost", "max_tokens", "window_s"});
    BudgetSpec b;
    b.at = at;
    b.max_cost = f.number("max_cost", 0, std::numeric_limits<double>::max());
    b.max_tokens = f.integer("max_tokens", 0, std::numeric_limits<int64_t>::max());
    if (!b.max_cost && !b.max_tokens) fail(f.at(), "the budget of '" + name + "' needs max_cost or max_tokens");
    b.window_s = f.number("window_s", 1e-3, 1e9).value_or(3600.0);
    config.budgets[name] = b;
  }
}

}  // namespace tandem::config::detail
