// Calibration of a cascade stage's threshold (DeferralRule::threshold()) from
// measured calibration examples: one stage's signal value per prompt and
// whether its answer would have cost accuracy against the last stage's.
// Pure functions, no I/O; the `tandem calibrate` command feeds them records.
//
// Three ways to pick a threshold t (the stage's answer is accepted when its
// signal s >= t, never when s is NaN; +inf defers every finite signal):
//   calibrate_max_loss        Learn-then-Test with a statistical guarantee
//   calibrate_large_share     a share P of prompts goes to the last stage
//   calibrate_target_accuracy cascade accuracy on the calibration set >= A
// Only the first carries a guarantee about live traffic; the other two are
// empirical choices on the calibration set.
//
// Assumptions behind the guarantee of calibrate_max_loss: the calibration
// examples and the live prompts are independent draws from one distribution
// (the same task mix, the same models and prompts, the same sampling); the
// signal and both answers of a prompt may depend on each other in any way.
// The guarantee is then: with probability at least 1 - delta over the draw of
// the calibration set, the returned threshold t has risk
//   R(t) = P[ accepted at t and loss ] <= eps
// for a fresh prompt from that distribution. R is an expectation, not the
// share observed on a finite batch of live prompts, which fluctuates around it.
// With the labelled loss, the cascade's accuracy is at least the last stage's
// minus R(t) (a stage answer that is right while the last stage is wrong only
// helps). For a cascade of several stages each stage is calibrated against the
// last one; certifying all of them at once needs a union bound (split delta).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tandem::compose {

// The regularized incomplete beta function I_x(a, b), a > 0, b > 0, x in
// [0, 1], by its continued fraction (modified Lentz), evaluated at 1 - x with
// I_x(a,b) = 1 - I_{1-x}(b,a) when x > (a+1)/(a+b+2), where it converges
// fast. Relative error, measured through binomial_cdf against long-double
// summation: ~1e-13 at a + b ~ 100, ~2e-12 at 1e3, ~3e-11 at 1e4 (the rounding
// of lgamma and of the exponent grows with a + b). Throws tandem::Error for
// arguments outside the domain (non-finite a or b included).
double regularized_incomplete_beta(double a, double b, double x);

// P[X <= k] for X ~ Binomial(n, p), n >= 0, p in [0, 1]: 0 when k < 0, 1 when
// k >= n, otherwise I_{1-p}(n-k, k+1) (exact at p = 0 and p = 1). Small lower
// tails keep their relative accuracy. Throws tandem::Error for n < 0 or p
// outside [0, 1].
double binomial_cdf(int64_t k, int64_t n, double p);

// What decides the loss of an accepted stage answer.
enum class LossKind {
  kLabelled,  // loss: the stage's answer is wrong while the last stage's is right
  kAgreement, // loss (no labels): the stage's answer differs from the last stage's
};

// One calibration prompt. kLabelled reads small_correct and large_correct;
// kAgreement reads agree. "small" is the stage being calibrated, "large" the
// cascade's last stage.
struct CalibrationExample {
  double signal = 0.0;  // the stage's signal (NaN: never accepted)
  bool small_correct = false;
  bool large_correct = false;
  bool agree = false;  // the stage's final answer equals the last stage's
  double small_cost = 0.0;  // cost of the stage's answer (always paid)
  double large_cost = 0.0;  // cost of the last stage's answer (paid when deferred)
};

struct CalibrationSet {
  LossKind loss = LossKind::kLabelled;
  std::vector<CalibrationExample> examples;
};

// A chosen threshold and what it does on the calibration set.
struct CalibrationResult {
  double threshold = 0.0;  // +inf: always defer
  int64_t n = 0;           // calibration examples
  int64_t deferred = 0;    // examples sent to the last stage at `threshold`
  int64_t losses = 0;      // k: examples accepted at `threshold` with a loss
  double empirical_loss = 0.0;  // losses / n
  // kLabelled: share of examples the cascade answers correctly (the stage's
  // answer when accepted, the last stage's otherwise); NaN for kAgreement.
  double accuracy = 0.0;
  double cost = 0.0;  // mean cost per example at `threshold` (small_cost, plus large_cost when deferred)
  // calibrate_max_loss only (0 and NaN otherwise): grid thresholds tested,
  // counting the one that failed, and the p-value of the returned threshold
  // (NaN when none passed).
  int64_t tested = 0;
  double p_value = 0.0;
};

// Learn-then-Test with fixed-sequence testing. For each threshold t of the
// grid, from strict (high) to lenient (low): k(t) = calibration losses at t,
// p(t) = binomial_cdf(k(t), n, eps), a valid p-value for "R(t) > eps"; the
// walk stops at the first p(t) > delta and returns the last threshold that
// passed, or +inf (always defer) when the first one failed.
//
// The grid: empty means the distinct non-NaN signal values plus +inf. That
// grid is chosen from the data, and a caller's grid may be too; the guarantee
// still holds because the loss is monotone in t: k(t) only grows as t falls,
// so a threshold with R(t) > eps can pass only if t* (the strictest threshold
// with R > eps, fixed by the distribution, not by the data) passes its own
// test, which happens with probability at most delta. The same monotonicity
// makes the walk return the most lenient passing grid point. Among thresholds
// with equal calibration decisions the default grid returns the strictest (an
// observed value), which accepts the fewest live prompts.
//
// Throws tandem::Error when eps or delta is outside (0, 1), the grid holds a
// NaN, or n is too small for any certificate: even zero losses give p =
// (1 - eps)^n, so n >= ln(delta) / ln(1 - eps) is needed (slightly fewer than
// ln(1/delta)/eps, which always suffices); the message says how many.
CalibrationResult calibrate_max_loss(const CalibrationSet& set, double eps, double delta,
                                     std::span<const double> grid = {});

// The threshold that sends a share `share` in [0, 1] of the calibration
// prompts to the last stage, as RouteLLM calibrates: the most lenient of
// +inf and the observed signal values whose deferred share is at least
// `share` (an observed value is the strictest of the thresholds that defer
// the same calibration prompts; share 0 gives the lowest signal, not -inf). Ties in the signal go to one side together, so the realized share
// (CalibrationResult::deferred / n) can exceed `share`; NaN signals always
// defer, so it can exceed it at share 0 too. No guarantee about live traffic.
// Throws tandem::Error for an empty set or a share outside [0, 1].
CalibrationResult calibrate_large_share(const CalibrationSet& set, double share);

// The most lenient of +inf and the observed signal values whose cascade
// accuracy on the calibration set is at least `target` (accuracy need not be
// monotone in t; every candidate is checked). kLabelled only. No guarantee
// about live traffic. Throws tandem::Error for an empty or unlabelled set, a
// target outside [0, 1], or a target no threshold reaches (naming the best).
CalibrationResult calibrate_target_accuracy(const CalibrationSet& set, double target);

// Within a cost budget: among +inf and the observed signal values whose mean
// cost per example on the calibration set is at most `budget`, the one with
// the highest cascade accuracy (kLabelled; the strictest of equals), or the
// strictest (kAgreement). No guarantee about live traffic. Throws
// tandem::Error for an empty set, a negative or non-finite budget, or a
// budget no threshold meets (naming the cheapest).
CalibrationResult calibrate_budget(const CalibrationSet& set, double budget);

}  // namespace tandem::compose
