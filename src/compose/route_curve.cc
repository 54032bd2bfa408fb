#include "compose/route_curve.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace tandem::compose {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Frame {
  size_t weak = 0, strong = 0;
  double c0 = 0, c1 = 0, a0 = 0, a1 = 0;
  bool ok = false;
};

Frame frame(const RouterTable& t) {
  const std::vector<double> acc = t.accuracy();
  Frame f;
  for (size_t m = 1; m < t.models.size(); ++m) {
    if (t.cost[m] < t.cost[f.weak] || (t.cost[m] == t.cost[f.weak] && acc[m] > acc[f.weak])) f.weak = m;
    if (acc[m] > acc[f.strong] || (acc[m] == acc[f.strong] && t.cost[m] < t.cost[f.strong])) f.strong = m;
  }
  f.c0 = t.cost[f.weak];
  f.c1 = t.cost[f.strong];
  f.a0 = acc[f.weak];
  f.a1 = acc[f.strong];
  f.ok = f.a1 > f.a0 && f.c1 > f.c0;
  return f;
}

using Vertex = std::pair<double, double>;  // (x, PGR)

// The upper concave envelope of the points with x in [0, 1], with (0, 0)
// and (1, 1), by x.
std::vector<Vertex> envelope(const Frame& f, const std::vector<OperatingPoint>& points) {
  std::vector<Vertex> v = {{0.0, 0.0}, {1.0, 1.0}};
  for (const OperatingPoint& p : points) {
    const double x = (p.cost - f.c0) / (f.c1 - f.c0);
    if (x >= -1e-12 && x <= 1.0 + 1e-12) v.push_back({std::clamp(x, 0.0, 1.0), (p.accuracy - f.a0) / (f.a1 - f.a0)});
  }
  std::sort(v.begin(), v.end(), [](const Vertex& a, const Vertex& b) { return a.first != b.first ? a.first < b.first : a.second > b.second; });
  std::vector<Vertex> h;
  for (const Vertex& p : v) {
    if (!h.empty() && h.back().first == p.first) continue;  // the best of one x came first
    while (h.size() >= 2) {
      const Vertex& o = h[h.size() - 2];
      const Vertex& a = h.back();
      const double cross = (a.first - o.first) * (p.second - o.second) - (a.second - o.second) * (p.first - o.first);
      if (cross < 0) break;  // a right turn: a stays on the upper envelope
      h.pop_back();
    }
    h.push_back(p);
  }
  return h;
}

double area(const std::vector<Vertex>& h) {
  double s = 0.0;
  for (size_t i = 0; i + 1 < h.size(); ++i) s += (h[i + 1].first - h[i].first) * (h[i].second + h[i + 1].second) / 2;
  return s;
}

std::optional<double> threshold(const std::vector<Vertex>& h, double pgr) {
  if (h.front().second >= pgr) return h.front().first;
  for (size_t i = 0; i + 1 < h.size(); ++i) {
    const auto [x0, y0] = h[i];
    const auto [x1, y1] = h[i + 1];
    if (y1 >= pgr) return x0 + (pgr - y0) / (y1 - y0) * (x1 - x0);
  }
  return std::nullopt;
}

OperatingPoint oracle(const RouterTable& t) {
  OperatingPoint o;
  const double n = static_cast<double>(t.correct.size());
  for (const std::vector<int>& row : t.correct) {
    size_t best = t.models.size();
    size_t cheapest = 0;
    for (size_t m = 0; m < row.size(); ++m) {
      if (t.cost[m] < t.cost[cheapest]) cheapest = m;
      if (row[m] && (best == t.models.size() || t.cost[m] < t.cost[best])) best = m;
    }
    const size_t m = best < t.models.size() ? best : cheapest;
    o.cost += t.cost[m] / n;
    o.accuracy += row[m] / n;
  }
  return o;
}

}  // namespace

double envelope_pgr(const RouterTable& t, const std::vector<OperatingPoint>& points, double x) {
  const Frame f = frame(t);
  if (!f.ok) return kNaN;
  const std::vector<Vertex> h = envelope(f, points);
  x = std::clamp(x, 0.0, 1.0);
  for (size_t i = 0; i + 1 < h.size(); ++i)
    if (x <= h[i + 1].first)
      return h[i].second + (x - h[i].first) / (h[i + 1].first - h[i].first) * (h[i + 1].second - h[i].second);
  return h.back().second;
}

RouteQuality route_quality(const RouterTable& t, const std::vector<OperatingPoint>& points) {
  const Frame f = frame(t);
  RouteQuality q;
  q.weak = f.weak;
  q.strong = f.strong;
  q.oracle = oracle(t);
  if (!f.ok) {
    q.apgr = q.oracle_apgr = kNaN;
    return q;
  }
  const std::vector<Vertex> h = envelope(f, points);
  q.apgr = area(h);
  q.cpt50 = threshold(h, 0.5);
  q.cpt80 = threshold(h, 0.8);
  q.oracle_apgr = area(envelope(f, {q.oracle}));
  return q;
}

}  // namespace tandem::compose
