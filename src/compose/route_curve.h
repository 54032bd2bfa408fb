// How good a router is, in RouteLLM's terms, from its operating points
// (mean cost, accuracy) measured on labelled examples:
//
// - weak: the cheapest candidate; strong: the most accurate one (ties: the
//   cheaper). A router's cost is placed on x = (cost - cost_weak) /
//   (cost_strong - cost_weak) in [0, 1] and its accuracy on the performance
//   gap recovered, PGR = (acc - acc_weak) / (acc_strong - acc_weak).
// - The curve: the upper concave envelope of the points with x in [0, 1]
//   plus the two pure policies (all weak at x = 0, all strong at x = 1):
//   a router can reach any mix of two operating points by choosing between
//   them at random per prompt.
// - APGR: the area under PGR(x) over [0, 1]. The random router (each prompt
//   to strong with probability x) is the straight line: APGR 0.5.
// - CPT(p): the least x at which the curve's PGR reaches p (RouteLLM's
//   "call-performance threshold", here as a cost share rather than a share
//   of calls, so it holds for any number of candidates).
// - The oracle: every example to its cheapest candidate that is right (the
//   cheapest overall when none is): the best any router could do.
//
// Undefined (NaN) when strong is not more accurate than weak or costs no more.
#pragma once

#include <optional>
#include <vector>

#include "compose/router_table.h"

namespace tandem::compose {

struct OperatingPoint {
  double cost = 0.0;      // mean cost per example
  double accuracy = 0.0;  // share right
};

struct RouteQuality {
  size_t weak = 0, strong = 0;        // candidates
  double apgr = 0.0;                  // the router's (NaN when undefined)
  std::optional<double> cpt50, cpt80;  // cost shares x; empty when the curve never reaches the PGR
  OperatingPoint oracle;
  double oracle_apgr = 0.0;
};

// PGR(x) of the envelope of `points` at x in [0, 1].
double envelope_pgr(const RouterTable& table, const std::vector<OperatingPoint>& points, double x);

RouteQuality route_quality(const RouterTable& table, const std::vector<OperatingPoint>& points);

}  // namespace tandem::compose
