// The router's logistic learner (its fit is a stationary point of the
// regularised log-loss, checked by finite differences; predictions by hand),
// the held-out estimates of both learners on a table a feature separates
// (both must route as the oracle), and APGR / CPT against hand-computed
// envelopes (compose/route_curve.h).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compose/route_curve.h"
#include "compose/router_logistic.h"
#include "compose/router_table.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

// n examples in 2-D: model a (cost 1) is right exactly when the first
// coordinate is positive, model b (cost 4) exactly when it is negative.
RouterTable separable(size_t n, uint32_t seed) {
  RouterTable t;
  t.embedder = "e";
  t.models = {"a", "b"};
  t.cost = {1.0, 4.0};
  t.dim = 2;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mag(0.5f, 1.0f), other(-1.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) {
    const bool pos = i % 3 != 0;
    std::vector<float> e = {pos ? mag(rng) : -mag(rng), other(rng)};
    const float norm = std::sqrt(e[0] * e[0] + e[1] * e[1]);
    for (float& x : e) x /= norm;
    t.embeddings.push_back(e);
    t.correct.push_back({pos ? 1 : 0, pos ? 0 : 1});
  }
  return t;
}

// The objective fit_logistic minimises for model m.
double objective(const RouterTable& t, size_t m, const std::vector<double>& w, double l2) {
  double loss = 0.0;
  for (size_t i = 0; i < t.embeddings.size(); ++i) {
    double z = w[t.dim];
    for (size_t j = 0; j < t.dim; ++j) z += w[j] * t.embeddings[i][j];
    const double p = 1.0 / (1.0 + std::exp(-z));
    loss -= t.correct[i][m] ? std::log(p) : std::log(1.0 - p);
  }
  double reg = 0.0;
  for (size_t j = 0; j < t.dim; ++j) reg += w[j] * w[j];
  return loss / static_cast<double>(t.embeddings.size()) + l2 / 2 * reg;
}

TEST(RouterLogistic, TheFitIsAStationaryPointOfTheRegularisedLossByFiniteDifferences) {
  // Labels that are not separable: model b right at random, with a lean to x > 0.
  RouterTable t = separable(60, 7);
  std::mt19937 rng(3);
  for (size_t i = 0; i < t.correct.size(); ++i)
    t.correct[i][1] = std::bernoulli_distribution(t.embeddings[i][0] > 0 ? 0.7 : 0.3)(rng) ? 1 : 0;
  for (double l2 : {1e-3, 0.1}) {
    const auto w = fit_logistic(t, l2);
    ASSERT_EQ(w.size(), 2u);
    for (size_t m = 0; m < 2; ++m) {
      ASSERT_EQ(w[m].size(), 3u);
      for (size_t j = 0; j < 3; ++j) {
        const double h = 1e-5;
        auto plus = w[m], minus = w[m];
        plus[j] += h;
        minus[j] -= h;
        const double grad = (objective(t, m, plus, l2) - objective(t, m, minus, l2)) / (2 * h);
        EXPECT_NEAR(grad, 0.0, 1e-6) << "model " << m << " weight " << j << " l2 " << l2;
      }
      // And a minimum: moving any weight raises the objective.
      for (size_t j = 0; j < 3; ++j) {
        auto moved = w[m];
        moved[j] += 0.05;
        EXPECT_GT(objective(t, m, moved, l2), objective(t, m, w[m], l2));
      }
    }
  }
  EXPECT_THROW(fit_logistic(t, 0.0), Error);
  EXPECT_THROW(fit_logistic(t, std::nan("")), Error);
}

TEST(RouterLogistic, NearlyParallelEmbeddingsStillFitTheBaseRates) {
  // As a small model's mean-pooled embeddings are: one shared direction plus
  // little else (cosines near 1), in 32 dimensions. Unpenalised, the bias
  // makes the mean prediction over the training rows equal their accuracy.
  RouterTable t;
  t.models = {"a", "b"};
  t.cost = {1, 2};
  t.dim = 32;
  std::mt19937 rng(9);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  for (size_t i = 0; i < 200; ++i) {
    std::vector<float> e(32);
    double norm = 0;
    for (size_t j = 0; j < 32; ++j) {
      e[j] = 1.0f / static_cast<float>(j + 1) + noise(rng);
      norm += e[j] * e[j];
    }
    for (float& x : e) x = static_cast<float>(x / std::sqrt(norm));
    t.embeddings.push_back(e);
    t.correct.push_back({i % 7 == 0 ? 1 : 0, std::bernoulli_distribution(e[3] > 0.16 ? 0.6 : 0.2)(rng) ? 1 : 0});
  }
  const std::vector<double> acc = t.accuracy();
  for (double l2 : {1e-4, 1e-2, 1.0}) {
    const auto w = fit_logistic(t, l2);
    for (size_t m = 0; m < 2; ++m) {
      double mean = 0;
      for (const auto& e : t.embeddings) mean += predict_logistic(w, e, -1)[m] / 200.0;
      EXPECT_NEAR(mean, acc[m], 1e-6) << "model " << m << " l2 " << l2;
      for (size_t j : {size_t{0}, size_t{3}, size_t{32}}) {
        const double h = 1e-6;
        auto plus = w[m], minus = w[m];
        plus[j] += h;
        minus[j] -= h;
        EXPECT_NEAR((objective(t, m, plus, l2) - objective(t, m, minus, l2)) / (2 * h), 0.0, 1e-5);
      }
    }
  }
}

TEST(RouterLogistic, PredictsTheSigmoidOfTheNormalisedEmbedding) {
  const std::vector<std::vector<double>> w = {{2.0, -1.0, 0.5}, {0.0, 0.0, -3.0}};
  const std::vector<double> p = predict_logistic(w, {3.0f, 4.0f}, -1);  // normalised: (0.6, 0.8)
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NEAR(p[0], 1.0 / (1.0 + std::exp(-(2.0 * 0.6 - 1.0 * 0.8 + 0.5))), 1e-7);  // float normalisation
  EXPECT_NEAR(p[1], 1.0 / (1.0 + std::exp(3.0)), 1e-12);
  EXPECT_THROW(predict_logistic(w, {1.0f}, -1), Error);
  // With a length weight: v * log(1 + bytes) / 8 joins the sum.
  const std::vector<std::vector<double>> wl = {{2.0, -1.0, 0.75, 0.5}};
  EXPECT_NEAR(predict_logistic(wl, {3.0f, 4.0f}, 99)[0],
              1.0 / (1.0 + std::exp(-(2.0 * 0.6 - 1.0 * 0.8 + 0.75 * std::log(100.0) / 8 + 0.5))), 1e-7);
  EXPECT_THROW(predict_logistic(wl, {3.0f, 4.0f}, -1), Error);  // the length is needed
}

TEST(RouterLearners, AFeatureThatSeparatesTheModelsGivesTheOracle) {
  const RouterTable t = separable(90, 11);
  const OperatingPoint oracle = route_quality(t, {}).oracle;
  EXPECT_NEAR(oracle.accuracy, 1.0, 1e-12);
  for (const char* learner : {"knn", "logistic"}) {
    const auto held_out = held_out_predictions(t, learner, 5, 1e-3);
    const RouteEstimate r = route_estimate(t, held_out, 0.01);
    EXPECT_NEAR(r.accuracy, 1.0, 1e-12) << learner;
    EXPECT_NEAR(r.mean_cost, oracle.cost, 1e-12) << learner;
  }
  EXPECT_THROW(held_out_predictions(t, "svm", 5, 1e-3), Error);
}

TEST(RouterLearners, TheTableCarriesTheLogisticWeights) {
  RouterTable t = separable(12, 5);
  t.learner = "logistic";
  t.weights = fit_logistic(t, 1e-3);
  const RouterTable back = parse_router_table(router_table_json(t), "r.json");
  EXPECT_EQ(back.learner, "logistic");
  ASSERT_EQ(back.weights.size(), 2u);
  for (size_t m = 0; m < 2; ++m)
    for (size_t j = 0; j < 3; ++j) EXPECT_DOUBLE_EQ(back.weights[m][j], t.weights[m][j]);
  const std::vector<double> p = predict(back, {1.0f, 0.0f}, 1, -1);  // k and length unused
  EXPECT_GT(p[0], 0.9);
  EXPECT_LT(p[1], 0.1);
  const std::string head = R"({"format": "tandem-router", "version": 1, "embedder": "e", "models": ["a"], "cost": [1],
    "examples": [{"embedding": [1, 0], "correct": [1]}])";
  auto error = [&](const std::string& tail) {
    try {
      parse_router_table(head + tail + "}", "r.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error(""), "");
  EXPECT_NE(error(R"(, "learner": "logistic")").find("needs 'weights'"), std::string::npos);
  EXPECT_NE(error(R"(, "learner": "logistic", "weights": [[1, 2]])").find("must hold 3 numbers"), std::string::npos);
  EXPECT_NE(error(R"(, "learner": "logistic", "weights": [[1, 2, 3], [1, 2, 3]])").find("one list per model"), std::string::npos);
  EXPECT_NE(error(R"(, "weights": [[1, 2, 3]])").find("learner is knn"), std::string::npos);
  EXPECT_NE(error(R"(, "learner": "svm")").find("'learner' must be"), std::string::npos);
  EXPECT_EQ(error(R"(, "learner": "logistic", "weights": [[1, 2, 3]])"), "");
}

TEST(RouterLearners, TheKnobForATargetShareIsTheSmallestThatKeepsTheShare) {
  RouterTable t = separable(90, 13);
  // Blur the labels so the share falls gradually as the knob grows.
  std::mt19937 rng(5);
  for (auto& row : t.correct) row[1] = std::bernoulli_distribution(0.5)(rng) ? 1 : row[1];
  const auto held_out = held_out_predictions(t, "knn", 5, 1.0);
  for (double share : {0.0, 0.1, 0.25, 0.5, 1.0}) {
    const double w = cost_weight_for_share(t, 5, share);
    EXPECT_LE(route_estimate(t, held_out, w).share[1], share + 1e-12) << share;
    if (w > 0) {
      EXPECT_GT(route_estimate(t, held_out, w - 0.005).share[1], share) << share;
    }
  }
  EXPECT_GT(cost_weight_for_share(t, 5, 0.0), 0.0);  // the costly model is someone's best at knob 0
  EXPECT_EQ(cost_weight_for_share(t, 5, 1.0), 0.0);
  EXPECT_THROW(cost_weight_for_share(t, 5, 1.5), Error);
  EXPECT_THROW(cost_weight_for_share(t, 5, std::nan("")), Error);
}

TEST(RouterLearners, ThePromptLengthIsAFeatureOfTheLogisticLearner) {
  // One embedding for all; model a (cheap) right on short prompts, b on long ones.
  RouterTable t;
  t.embedder = "e";
  t.models = {"a", "b"};
  t.cost = {1.0, 4.0};
  t.dim = 2;
  for (size_t i = 0; i < 60; ++i) {
    const bool is_short = i % 2 == 0;
    t.embeddings.push_back({0.6f, 0.8f});
    t.lengths.push_back(is_short ? 20.0 + static_cast<double>(i) : 2000.0 + 10.0 * static_cast<double>(i));
    t.correct.push_back({is_short ? 1 : 0, is_short ? 0 : 1});
  }
  const double oracle = route_quality(t, {}).oracle.cost;
  const RouteEstimate logistic = route_estimate(t, held_out_predictions(t, "logistic", 5, 1e-3), 0.01);
  EXPECT_NEAR(logistic.accuracy, 1.0, 1e-12);
  EXPECT_NEAR(logistic.mean_cost, oracle, 1e-12);
  // kNN sees identical embeddings only: it cannot tell the prompts apart.
  EXPECT_LT(route_estimate(t, held_out_predictions(t, "knn", 5, 1e-3), 0.01).accuracy, 0.75);
  // The table keeps the lengths, and a logistic table with them one more weight per model.
  t.learner = "logistic";
  t.weights = fit_logistic(t, 1e-3);
  ASSERT_EQ(t.weights[0].size(), 4u);
  const RouterTable back = parse_router_table(router_table_json(t), "r.json");
  ASSERT_EQ(back.lengths.size(), 60u);
  EXPECT_EQ(back.lengths[1], t.lengths[1]);
  EXPECT_GT(predict(back, {0.6f, 0.8f}, 1, 3000)[1], 0.9);
  EXPECT_GT(predict(back, {0.6f, 0.8f}, 1, 25)[0], 0.9);
  std::string text = router_table_json(t);
  text.replace(text.find(R"(,"length":20.0)"), 14, "");
  EXPECT_THROW(parse_router_table(text, "r.json"), Error);  // some examples without a length
}

// weak (cost 1) right on 2 of 4 examples, strong (cost 3) on all 4.
RouterTable two_models() {
  RouterTable t;
  t.models = {"weak", "strong"};
  t.cost = {1.0, 3.0};
  t.dim = 1;
  t.embeddings = {{1}, {1}, {1}, {1}};
  t.correct = {{1, 1}, {1, 1}, {0, 1}, {0, 1}};
  return t;
}

TEST(RouteCurve, APGRAndCPTOfAHandDrawnEnvelope) {
  const RouterTable t = two_models();
  // (x 0.5, PGR 0.8) lifts the envelope; (x 0.25, PGR 0.1) lies under it.
  const std::vector<OperatingPoint> points = {{2.0, 0.9}, {1.5, 0.55}};
  const RouteQuality q = route_quality(t, points);
  EXPECT_EQ(q.weak, 0u);
  EXPECT_EQ(q.strong, 1u);
  EXPECT_NEAR(q.apgr, 0.5 * 0.8 / 2 + 0.5 * (0.8 + 1.0) / 2, 1e-12);
  ASSERT_TRUE(q.cpt50 && q.cpt80);
  EXPECT_NEAR(*q.cpt50, 0.5 * 0.5 / 0.8, 1e-12);
  EXPECT_NEAR(*q.cpt80, 0.5, 1e-12);
  EXPECT_NEAR(envelope_pgr(t, points, 0.75), 0.9, 1e-12);
  // No points: the random router's straight line.
  EXPECT_NEAR(route_quality(t, {}).apgr, 0.5, 1e-12);
  // The oracle: weak on the two it gets right, strong on the others.
  EXPECT_DOUBLE_EQ(q.oracle.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(q.oracle.cost, (1 + 1 + 3 + 3) / 4.0);
  EXPECT_NEAR(q.oracle_apgr, 0.5 * 1.0 / 2 + 0.5 * 1.0, 1e-12);
  // A strong model no better than the weak one: undefined.
  RouterTable same = t;
  same.correct = {{1, 1}, {1, 1}, {0, 0}, {0, 0}};
  EXPECT_TRUE(std::isnan(route_quality(same, points).apgr));
}

}  // namespace
}  // namespace tandem::compose
