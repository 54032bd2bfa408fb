#include "compose/router_logistic.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "util/error.h"

namespace tandem::compose {
namespace {

double sigmoid(double z) { return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)); }

// Solves A x = b for a symmetric positive definite A (n x n, row-major) by
// Cholesky; A is overwritten. Returns false when A is not positive definite.
bool cholesky_solve(std::vector<double>& a, std::vector<double>& b, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0.0)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  for (size_t i = 0; i < n; ++i) {  // L y = b
    for (size_t k = 0; k < i; ++k) b[i] -= a[i * n + k] * b[k];
    b[i] /= a[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {  // L^T x = y
    for (size_t k = i + 1; k < n; ++k) b[i] -= a[k * n + i] * b[k];
    b[i] /= a[i * n + i];
  }
  return true;
}

// The regularised mean log-loss of weights w (dim, then the bias) over the
// centred rows x (each dim values).
double objective(const std::vector<std::vector<double>>& x, const std::vector<int>& y, const std::vector<double>& w,
                 double l2) {
  const size_t dim = w.size() - 1;
  double loss = 0.0, reg = 0.0;
  for (size_t r = 0; r < x.size(); ++r) {
    double z = w[dim];
    for (size_t j = 0; j < dim; ++j) z += w[j] * x[r][j];
    // log(1 + e^z) - y z, computed without overflow.
    loss += (z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z))) - y[r] * z;
  }
  for (size_t j = 0; j < dim; ++j) reg += w[j] * w[j];
  return loss / static_cast<double>(x.size()) + l2 / 2 * reg;
}

// Newton's method with a backtracking line search on centred rows. A Hessian
// that is numerically not definite gets a growing ridge.
std::vector<double> newton(const std::vector<std::vector<double>>& x, const std::vector<int>& y, double l2) {
  const size_t dim = x[0].size(), d = dim + 1;
  const double inv_n = 1.0 / static_cast<double>(x.size());
  std::vector<double> w(d, 0.0);
  double f = objective(x, y, w, l2);
  for (int iter = 0; iter < 100; ++iter) {
    std::vector<double> grad(d, 0.0), hess(d * d, 0.0);
    for (size_t r = 0; r < x.size(); ++r) {
      double z = w[dim];
      for (size_t j = 0; j < dim; ++j) z += w[j] * x[r][j];
      const double p = sigmoid(z), err = (p - y[r]) * inv_n, s = p * (1.0 - p) * inv_n;
      for (size_t i = 0; i < d; ++i) {
        const double xi = i < dim ? x[r][i] : 1.0;
        grad[i] += err * xi;
        for (size_t j = 0; j <= i; ++j) hess[i * d + j] += s * xi * (j < dim ? x[r][j] : 1.0);
      }
    }
    for (size_t i = 0; i < d; ++i) {
      for (size_t j = 0; j < i; ++j) hess[j * d + i] = hess[i * d + j];
      if (i < dim) {
        grad[i] += l2 * w[i];
        hess[i * d + i] += l2;
      }
    }
    std::vector<double> step;
    for (double ridge = 1e-12; step.empty() && ridge < 1e6; ridge *= 100) {
      std::vector<double> h = hess, g = grad;
      for (size_t i = 0; i < d; ++i) h[i * d + i] += ridge;
      if (cholesky_solve(h, g, d)) step = std::move(g);
    }
    if (step.empty()) break;
    double t = 1.0, next = f;
    std::vector<double> trial(d);
    for (; t > 1e-10; t /= 2) {
      for (size_t i = 0; i < d; ++i) trial[i] = w[i] - t * step[i];
      next = objective(x, y, trial, l2);
      if (next <= f) break;
    }
    if (!(next <= f)) break;
    double moved = 0.0;
    for (size_t i = 0; i < d; ++i) moved = std::max(moved, std::abs(trial[i] - w[i]));
    w = trial;
    const double gained = f - next;
    f = next;
    if (moved < 1e-10 || gained < 1e-15) break;
  }
  return w;
}

// Example r's features: its embedding, then the length feature when the
// table has lengths.
std::vector<double> features(const RouterTable& t, size_t r) {
  std::vector<double> x(t.embeddings[r].begin(), t.embeddings[r].end());
  if (!t.lengths.empty()) x.push_back(length_feature(t.lengths[r]));
  return x;
}

// The rows' features centred on their mean (so the bias does not compete
// with the weights along the mean embedding), and that mean: the same for
// every candidate, so computed once per fit.
struct CentredFeatures {
  std::vector<std::vector<double>> x;
  std::vector<double> mean;
};

CentredFeatures centred_features(const RouterTable& t, const std::vector<size_t>& rows) {
  CentredFeatures c;
  for (size_t r : rows) c.x.push_back(features(t, r));
  const size_t d = c.x[0].size();
  c.mean.assign(d, 0.0);
  for (const auto& row : c.x)
    for (size_t j = 0; j < d; ++j) c.mean[j] += row[j] / static_cast<double>(c.x.size());
  for (auto& row : c.x)
    for (size_t j = 0; j < d; ++j) row[j] -= c.mean[j];
  return c;
}

// One candidate's weights (the features', then the bias) on the raw
// features, from its labels y on the centred rows.
std::vector<double> fit_one(const CentredFeatures& c, const std::vector<int>& y, double l2) {
  std::vector<double> w = newton(c.x, y, l2);
  const size_t d = c.mean.size();
  for (size_t j = 0; j < d; ++j) w[d] -= w[j] * c.mean[j];  // w.(x - mean) + b = w.x + (b - w.mean)
  return w;
}

}  // namespace

std::vector<std::vector<double>> fit_logistic(const RouterTable& t, double l2, std::span<const size_t> rows) {
  if (!(l2 > 0.0) || !std::isfinite(l2)) throw Error("router: the logistic learner's l2 must be > 0 and finite");
  std::vector<size_t> use(rows.begin(), rows.end());
  if (use.empty()) {
    use.resize(t.embeddings.size());
    std::iota(use.begin(), use.end(), size_t{0});
  }
  if (use.empty() || t.dim == 0) throw Error("router: cannot fit the logistic learner on an empty table");
  if (!t.lengths.empty() && t.lengths.size() != t.embeddings.size())
    throw Error("router: the table has lengths for some examples only");
  const CentredFeatures c = centred_features(t, use);
  std::vector<std::vector<double>> weights;
  for (size_t m = 0; m < t.models.size(); ++m) {
    std::vector<int> y;
    for (size_t r : use) y.push_back(t.correct[r][m]);
    weights.push_back(fit_one(c, y, l2));
  }
  return weights;
}

double length_feature(double bytes) { return std::log1p(std::max(bytes, 0.0)) / 8.0; }

std::vector<double> predict_logistic(const std::vector<std::vector<double>>& weights, std::vector<float> e,
                                     double length) {
  std::vector<double> p;
  e = normalised(std::move(e));
  for (const std::vector<double>& w : weights) {
    const bool with_length = w.size() == e.size() + 2;
    if (!with_length && w.size() != e.size() + 1)
      throw Error("router table: an embedding of dimension " + std::to_string(e.size()) + " does not fit weights of " +
                  std::to_string(w.size()) + " values");
    if (with_length && !(length >= 0)) throw Error("router table: the logistic learner needs the prompt's length");
    double z = w.back();
    for (size_t j = 0; j < e.size(); ++j) z += w[j] * e[j];
    if (with_length) z += w[e.size()] * length_feature(length);
    p.push_back(sigmoid(z));
  }
  return p;
}

}  // namespace tandem::compose
