// The threshold sweep (eval/sweep.h): on real models, every point equals a
// cascade built with that threshold and run normally; on hand-written records
// of a three-stage cascade, the numbers computed by hand.
#include "eval/sweep.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "compose/cascade.h"
#include "compose/signals.h"
#include "eval/harness.h"
#include "eval/report.h"
#include "local/local_model.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::eval {
namespace {

namespace fs = std::filesystem;
using testing::source_path;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::shared_ptr<const api::Model> open_model(const std::string& name) {
  return std::make_shared<local::LocalModel>(name, local::load_shared(source_path("models/" + name + ".gguf")));
}

std::shared_ptr<const compose::Cascade> cascade_at(const std::shared_ptr<const api::Model>& a,
                                                   const std::shared_ptr<const api::Model>& b, double t) {
  return std::make_shared<compose::Cascade>(
      compose::CascadeOptions{"c", {a, b}, {std::make_shared<compose::MeanLogprobRule>(t)}});
}

TEST(Sweep, EveryPointEqualsACascadeBuiltWithThatThreshold) {
  const auto tiny = open_model("tandem-tiny"), small = open_model("tandem-small");
  const PreparedTask task = prepare_task(load_task(source_path("tasks/arith-d1.yaml")), {.limit = 6});
  RunOptions o;
  o.parameters = {{"tandem-tiny", 504672.0}, {"tandem-small", 2558400.0}};
  const fs::path dir = fs::temp_directory_path() / ("tandem-sweep-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    RecordStore probed((dir / "probed.sqlite").string());
    RunOptions po = o;
    po.probe = true;
    run_task(task, *cascade_at(tiny, small, -0.1), probed, po);
    const std::optional<Sweep> sw = cascade_sweep(probed.all());
    ASSERT_TRUE(sw);
    EXPECT_EQ(sw->n, 6);
    EXPECT_EQ(sw->signal, "mean_logprob");
    EXPECT_EQ(sw->first_stage, "tandem-tiny");
    EXPECT_EQ(sw->last_stage, "tandem-small");
    EXPECT_EQ(sw->configured, -0.1);
    ASSERT_GE(sw->points.size(), 3u);
    EXPECT_EQ(sw->points.front().threshold, kInf);
    EXPECT_EQ(sw->points.front().deferred, 6);
    // Grid points and thresholds between them, each against a real run.
    std::vector<double> ts{sw->points[1].threshold, sw->points[sw->points.size() / 2].threshold,
                           sw->points.back().threshold};
    ts.push_back(sw->points.back().threshold - 1.0);
    ts.push_back((sw->points[1].threshold + sw->points[2].threshold) / 2);
    for (const double t : ts) {
      SCOPED_TRACE(t);
      RecordStore plain((dir / ("plain" + std::to_string(ts.size()) + std::to_string(t) + ".sqlite")).string());
      run_task(task, *cascade_at(tiny, small, t), plain, o);
      int64_t correct = 0, deferred = 0;
      double flops = 0;
      for (const Record& r : plain.all()) {
        correct += *r.correct;
        deferred += r.answered_by == "tandem-small" ? 1 : 0;
        for (const auto& [name, u] : r.tokens.items()) flops += u["flops"].get<double>();
      }
      const SweepPoint p = point_at(*sw, t);
      EXPECT_EQ(p.correct, correct);
      EXPECT_EQ(p.deferred, deferred);
      EXPECT_NEAR(p.flops, flops, 1e-6 * flops);
    }
  }
  fs::remove_all(dir);
}

// A record of a three-stage cascade: stage signals/thresholds, correctness,
// costs (money 1, 2, 4 per call; seconds 0.5 each; FLOPs 10, 20, 40).
Record three_stage(const std::string& id, double v0, double v1, int c0, int c1, int c2) {
  Record r;
  r.task = "t";
  r.model = "three";
  r.example_id = id;
  auto stage = [](const std::string& name, double cost, double flops, int correct) {
    return nlohmann::json{{"stage", name}, {"correct", correct}, {"cost", cost},
                          {"tokens", {{name, {{"seconds", 0.5}, {"flops", flops}}}}}};
  };
  nlohmann::json s0 = stage("a", 1, 10, c0), s1 = stage("b", 2, 20, c1), s2 = stage("c", 4, 40, c2);
  s0["signal"] = "mean_logprob";
  s0["value"] = v0;
  s0["threshold"] = -0.5;
  s1["signal"] = "mean_logprob";
  s1["value"] = v1;
  s1["threshold"] = -0.3;
  r.stages = {s0, s1, s2};
  return r;
}

TEST(Sweep, ThreeStagesByHand) {
  // x: a -0.1 (wrong), b -0.2 (right), c right.  y: a -0.6 (right), b -0.4 (wrong), c wrong.
  // z: a nan, b -0.1 (right), c wrong.
  std::vector<Record> rs{three_stage("x", -0.1, -0.2, 0, 1, 1), three_stage("y", -0.6, -0.4, 1, 0, 0),
                         three_stage("z", std::numeric_limits<double>::quiet_NaN(), -0.1, 0, 1, 0)};
  rs[2].stages[0]["value"] = "nan";  // as the harness writes it
  const Sweep sw = *cascade_sweep(rs);
  ASSERT_EQ(sw.points.size(), 3u);  // +inf, -0.1, -0.6
  // +inf: x -> b (b accepts -0.2 >= -0.3): right, cost 3; y -> b defers (-0.4) -> c wrong, cost 7;
  //       z -> b accepts: right, cost 3.
  EXPECT_EQ(sw.points[0].threshold, kInf);
  EXPECT_EQ(sw.points[0].correct, 2);
  EXPECT_EQ(sw.points[0].deferred, 3);
  EXPECT_EQ(sw.points[0].cost, 13.0);
  EXPECT_EQ(sw.points[0].flops, 130.0);
  EXPECT_EQ(sw.points[0].seconds, 3.5);
  // -0.1: x kept by a (wrong, cost 1); y, z as above.
  EXPECT_EQ(sw.points[1].correct, 1);
  EXPECT_EQ(sw.points[1].deferred, 2);
  EXPECT_EQ(sw.points[1].cost, 11.0);
  // -0.6: y kept by a too (right, cost 1).
  EXPECT_EQ(sw.points[2].correct, 2);
  EXPECT_EQ(sw.points[2].deferred, 1);
  EXPECT_EQ(sw.points[2].cost, 5.0);
  // Oracle: x's a is wrong -> b right (cost 3); y's a right (1); z's a wrong -> b right (3).
  EXPECT_EQ(sw.oracle.correct, 3);
  EXPECT_EQ(sw.oracle.deferred, 2);
  EXPECT_EQ(sw.oracle.cost, 7.0);
  EXPECT_EQ(point_at(sw, -0.35).correct, 1);  // between grid values: the decisions of -0.1
  EXPECT_EQ(point_at(sw, -5).deferred, 1);
}

TEST(Sweep, ReportTableHasTheDecileRowsTheConfiguredThresholdAndTheOracle) {
  std::vector<Record> rs{three_stage("x", -0.1, -0.2, 0, 1, 1), three_stage("y", -0.6, -0.4, 1, 0, 0),
                         three_stage("z", -0.2, -0.1, 0, 1, 0)};
  const Sweep sw = *cascade_sweep(rs);  // grid +inf, -0.1, -0.2, -0.6; configured -0.5
  const std::string md = sweep_markdown({sw});
  // -0.5 keeps x and z on stage a (wrong both), y goes on (b defers, c wrong): 0 of 3, cost 1 + 1 + 7.
  EXPECT_NE(md.find("| -0.5 * | 33% | 0.0% | [0.0, 56.2]% | 3 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| +inf | 100% | 66.7% |"), std::string::npos) << md;
  EXPECT_NE(md.find("| -0.6 | 0% | 33.3% |"), std::string::npos) << md;
  // Oracle: x -> b right, y kept right, z -> b right: 3 of 3, cost 3 + 1 + 3.
  EXPECT_NE(md.find("| oracle | 67% | 100.0% |"), std::string::npos) << md;
  EXPECT_LT(md.find("| -0.2 |"), md.find("| -0.5 * |"));  // strict to lenient
  EXPECT_LT(md.find("| -0.5 * |"), md.find("| -0.6 |"));
  Record alone;
  alone.task = "t";
  alone.model = "c";
  alone.correct = 1;
  alone.metrics = {{"exact_match", 1}};
  alone.cost = 4.0;
  const std::string svg = pareto_svg({summarize({alone})}, CostAxis::kMoney, {sw});
  EXPECT_NE(svg.find("three: threshold sweep"), std::string::npos);
  EXPECT_NE(svg.find("three oracle (100%)"), std::string::npos);
}

TEST(Sweep, UnprobedRecordsGiveNoneAndAMixIsAnError) {
  Record plain;
  plain.task = "t";
  plain.model = "m";
  EXPECT_FALSE(cascade_sweep({plain}));
  EXPECT_THROW(cascade_sweep({plain, three_stage("x", -0.1, -0.2, 0, 1, 1)}), Error);
  Record bad = three_stage("x", -0.1, -0.2, 0, 1, 1);
  bad.stages[0]["value"] = "high";
  EXPECT_THROW(cascade_sweep({bad}), Error);
}

}  // namespace
}  // namespace tandem::eval
