#include "compose/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "util/error.h"

namespace tandem::compose {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified
// Lentz). It converges in O(sqrt(max(a, b))) steps for x < (a+1)/(a+b+2); the
// cap only turns a bug into an error instead of a hang.
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 1'000'000;
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-16;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));  // even step
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));  // odd step
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < kEpsilon) return h;
  }
  throw Error("regularized_incomplete_beta(" + num(a) + ", " + num(b) + ", " + num(x) +
              "): the continued fraction did not converge");
}

// I_x(a, b) with y = 1 - x given by the caller, so that a tiny y (binomial_cdf
// at a tiny p) keeps its precision.
double incomplete_beta(double a, double b, double x, double y) {
  if (x <= 0.0) return 0.0;
  if (y <= 0.0) return 1.0;
  // x^a y^b / (a B(a, b)), in logs.
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(y);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * beta_continued_fraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * beta_continued_fraction(b, a, y) / b;
}

bool is_loss(const CalibrationExample& e, LossKind kind) {
  return kind == LossKind::kLabelled ? (!e.small_correct && e.large_correct) : !e.agree;
}

// The calibration set's counts at thresholds visited from strict to lenient:
// examples enter the accepted set as the threshold falls to their signal.
class Sweep {
 public:
  explicit Sweep(const CalibrationSet& set) : set_(set) {
    for (const CalibrationExample& e : set.examples) {
      if (!std::isnan(e.signal)) order_.push_back(&e);
      if (e.large_correct) ++large_correct_;
      cost_all_deferred_ += e.small_cost + e.large_cost;
    }
    std::stable_sort(order_.begin(), order_.end(),
                     [](const CalibrationExample* l, const CalibrationExample* r) { return l->signal > r->signal; });
  }

  // +inf, then the distinct non-NaN signals, descending: each is the
  // strictest threshold of the thresholds that accept the same examples.
  std::vector<double> default_grid() const {
    std::vector<double> grid = {kInf};
    for (const CalibrationExample* e : order_)
      if (e->signal != grid.back()) grid.push_back(e->signal);
    return grid;
  }

  // The counts at threshold t; t must not exceed the previous call's.
  CalibrationResult at(double t) {
    while (next_ < order_.size() && order_[next_]->signal >= t) {
      const CalibrationExample& e = *order_[next_++];
      if (is_loss(e, set_.loss)) ++losses_;
      if (e.small_correct) ++accepted_small_correct_;
      if (e.large_correct) ++accepted_large_correct_;
      accepted_large_cost_ += e.large_cost;
    }
    CalibrationResult r;
    r.threshold = t;
    r.n = static_cast<int64_t>(set_.examples.size());
    r.deferred = r.n - static_cast<int64_t>(next_);
    r.losses = losses_;
    r.empirical_loss = r.n > 0 ? static_cast<double>(losses_) / r.n : 0.0;
    r.accuracy = set_.loss == LossKind::kLabelled && r.n > 0
                     ? static_cast<double>(accepted_small_correct_ + large_correct_ - accepted_large_correct_) / r.n
                     : kNaN;
    r.p_value = kNaN;
    r.cost = r.n > 0 ? (cost_all_deferred_ - accepted_large_cost_) / static_cast<double>(r.n) : 0.0;
    return r;
  }

 private:
  const CalibrationSet& set_;
  std::vector<const CalibrationExample*> order_;
  size_t next_ = 0;
  int64_t large_correct_ = 0;
  int64_t losses_ = 0, accepted_small_correct_ = 0, accepted_large_correct_ = 0;
  double cost_all_deferred_ = 0.0, accepted_large_cost_ = 0.0;
};

void require_examples(const CalibrationSet& set, const char* what) {
  if (set.examples.empty()) throw Error(std::string(what) + ": the calibration set is empty");
}

}  // namespace

double regularized_incomplete_beta(double a, double b, double x) {
  if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0 && x <= 1.0) || std::isinf(a) || std::isinf(b))
    throw Error("regularized_incomplete_beta(" + num(a) + ", " + num(b) + ", " + num(x) +
                "): needs finite a > 0, b > 0 and x in [0, 1]");
  return incomplete_beta(a, b, x, 1.0 - x);
}

double binomial_cdf(int64_t k, int64_t n, double p) {
  if (n < 0) throw Error("binomial_cdf: the number of trials is negative (" + std::to_string(n) + ")");
  if (!(p >= 0.0 && p <= 1.0)) throw Error("binomial_cdf: the probability " + num(p) + " is outside [0, 1]");
  if (k < 0) return 0.0;
  if (k >= n) return 1.0;
  if (p == 0.0) return 1.0;
  if (p == 1.0) return 0.0;
  return incomplete_beta(static_cast<double>(n - k), static_cast<double>(k) + 1.0, 1.0 - p, p);
}

CalibrationResult calibrate_max_loss(const CalibrationSet& set, double eps, double delta, std::span<const double> grid) {
  if (!(eps > 0.0 && eps < 1.0)) throw Error("calibrate: the maximum loss eps = " + num(eps) + " must lie in (0, 1)");
  if (!(delta > 0.0 && delta < 1.0)) throw Error("calibrate: delta = " + num(delta) + " must lie in (0, 1)");
  const auto n = static_cast<int64_t>(set.examples.size());
  // Zero losses give p = (1 - eps)^n; below this size nothing can pass.
  const double needed = std::ceil(std::log(delta) / std::log1p(-eps));
  if (static_cast<double>(n) * std::log1p(-eps) > std::log(delta))
    throw Error("calibrate: " + std::to_string(n) + " calibration examples cannot certify a loss of at most " +
                num(eps) + " with probability " + num(1.0 - delta) + ": at least " + num(needed) +
                " are needed (ln(1/delta)/eps = " + num(std::log(1.0 / delta) / eps) +
                " always suffice); give more examples or a larger eps or delta");
  Sweep sweep(set);
  std::vector<double> thresholds;
  if (grid.empty()) {
    thresholds = sweep.default_grid();
  } else {
    for (double t : grid)
      if (std::isnan(t)) throw Error("calibrate: the threshold grid holds a NaN");
    thresholds.assign(grid.begin(), grid.end());
    std::sort(thresholds.begin(), thresholds.end(), std::greater<>());
    thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  }
  CalibrationResult chosen = sweep.at(kInf);  // always defer, unless a threshold passes
  chosen.p_value = kNaN;
  int64_t tested = 0;
  for (double t : thresholds) {
    CalibrationResult r = sweep.at(t);
    ++tested;
    r.p_value = binomial_cdf(r.losses, n, eps);
    if (r.p_value > delta) break;
    chosen = r;
  }
  chosen.tested = tested;
  return chosen;
}

CalibrationResult calibrate_large_share(const CalibrationSet& set, double share) {
  require_examples(set, "calibrate_large_share");
  if (!(share >= 0.0 && share <= 1.0)) throw Error("calibrate: the large share " + num(share) + " must lie in [0, 1]");
  Sweep sweep(set);
  const std::vector<double> candidates = sweep.default_grid();
  CalibrationResult chosen = sweep.at(candidates.front());
  // The deferred share only falls as the threshold falls: stop before it drops below `share`.
  for (size_t i = 1; i < candidates.size(); ++i) {
    CalibrationResult r = sweep.at(candidates[i]);
    if (static_cast<double>(r.deferred) / static_cast<double>(r.n) < share) break;
    chosen = r;
  }
  return chosen;
}

CalibrationResult calibrate_target_accuracy(const CalibrationSet& set, double target) {
  require_examples(set, "calibrate_target_accuracy");
  if (set.loss != LossKind::kLabelled)
    throw Error("calibrate: a target accuracy needs labelled examples (whether each stage's answer is correct)");
  if (!(target >= 0.0 && target <= 1.0))
    throw Error("calibrate: the target accuracy " + num(target) + " must lie in [0, 1]");
  Sweep sweep(set);
  CalibrationResult best, chosen;
  bool found = false;
  for (double t : sweep.default_grid()) {
    CalibrationResult r = sweep.at(t);
    if (t == kInf || r.accuracy > best.accuracy) best = r;
    if (r.accuracy >= target) {  // later candidates are more lenient
      chosen = r;
      found = true;
    }
  }
  if (!found)
    throw Error("calibrate: no threshold reaches accuracy " + num(target) + " on the calibration set (the best is " +
                num(best.accuracy) + ", at threshold " + num(best.threshold) + ")");
  return chosen;
}

CalibrationResult calibrate_budget(const CalibrationSet& set, double budget) {
  require_examples(set, "calibrate_budget");
  if (!(budget >= 0.0) || std::isinf(budget)) throw Error("calibrate: the budget " + num(budget) + " must be a finite cost >= 0");
  Sweep sweep(set);
  CalibrationResult chosen, cheapest;
  bool found = false;
  for (double t : sweep.default_grid()) {
    const CalibrationResult r = sweep.at(t);
    if (t == kInf || r.cost < cheapest.cost) cheapest = r;
    if (r.cost > budget) continue;
    // Labelled: the most accurate within the budget (the strictest of equals);
    // unlabelled: the strictest within the budget.
    const bool better = set.loss == LossKind::kLabelled ? r.accuracy > chosen.accuracy : false;
    if (!found || better) chosen = r;
    found = true;
  }
  if (!found)
    throw Error("calibrate: no threshold keeps the mean cost per example within " + num(budget) +
                " on the calibration set (the cheapest is " + num(cheapest.cost) + ", at threshold " +
                num(cheapest.threshold) + ")");
  return chosen;
}

}  // namespace tandem::compose
