// The SIMD per-row operations (ops_simd.cc) on every instruction set this CPU
// runs, against brute-force double-precision formulas and against their
// scalar *_reference twins, over lengths that are and are not multiples of
// the vector width.
#include "model/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "test_util.h"

namespace tandem::ops {
namespace {

const std::vector<int64_t> kLengths = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 768, 2049};

TEST(Ops, RmsNormMatchesDoublePrecisionAndReference) {
  testing::on_every_target([] {
    std::mt19937 rng(1);
    for (int64_t n : kLengths) {
      for (float scale : {1e-3f, 1.0f, 300.0f}) {
        const auto x = testing::normal_floats(rng, n, scale), weight = testing::normal_floats(rng, n, 1.0f);
        for (bool with_weight : {false, true}) {
          const float* w = with_weight ? weight.data() : nullptr;
          std::vector<float> got(x.size()), ref(x.size());
          rms_norm(x.data(), w, got.data(), n, 1e-5f);
          rms_norm_reference(x.data(), w, ref.data(), n, 1e-5f);
          double ss = 0;
          for (float v : x) ss += double(v) * v;
          const double inv = 1.0 / std::sqrt(ss / double(n) + 1e-5);
          for (int64_t i = 0; i < n; ++i) {
            const double want = x[i] * inv * (w ? w[i] : 1.0);
            EXPECT_NEAR(got[i], want, 1e-6 * std::fabs(want) + 1e-30) << "n " << n << " i " << i;
            // Only the order of the double sum differs from the reference:
            // at most one ulp of the scale.
            EXPECT_NEAR(got[i], ref[i], 2.5e-7 * std::fabs(ref[i]) + 1e-30) << "n " << n << " i " << i;
          }
        }
      }
    }
  });
}

TEST(Ops, RmsNormInPlace) {
  std::mt19937 rng(2);
  auto x = testing::normal_floats(rng, 100, 2.0f);
  std::vector<float> want(x.size());
  rms_norm(x.data(), nullptr, want.data(), 100, 1e-6f);
  rms_norm(x.data(), nullptr, x.data(), 100, 1e-6f);
  EXPECT_EQ(x, want);
}

TEST(Ops, SoftmaxMatchesDoublePrecision) {
  testing::on_every_target([] {
    std::mt19937 rng(3);
    for (int64_t n : kLengths) {
      for (float scale : {0.1f, 5.0f, 40.0f}) {
        auto x = testing::normal_floats(rng, n, scale);
        if (n > 4) x[2] = -INFINITY;  // a masked entry
        std::vector<double> want(x.size());
        double mx = -INFINITY, sum = 0;
        for (float v : x) mx = std::max(mx, double(v));
        for (size_t i = 0; i < x.size(); ++i) sum += (want[i] = std::exp(double(x[i]) - mx));
        auto ref = x;
        const auto orig = x;
        softmax(x.data(), n);
        softmax_reference(ref.data(), n);
        double total = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double w = want[i] / sum;
          // x - max is rounded to float first (in both versions): an
          // absolute error of half an ulp of |x - max| in exp's argument.
          const double tol = w == 0 ? 1e-37 : w * (2e-6 + 6e-8 * std::fabs(double(orig[i]) - mx)) + 1e-37;
          EXPECT_NEAR(x[i], w, tol) << "n " << n << " i " << i;
          EXPECT_NEAR(x[i], ref[i], tol) << "n " << n << " i " << i;
          total += x[i];
        }
        EXPECT_NEAR(total, 1.0, 1e-5);
        if (n > 4) {
          EXPECT_EQ(x[2], 0.0f);
        }
      }
    }
  });
}

TEST(Ops, SiluGateMatchesDoublePrecision) {
  testing::on_every_target([] {
    std::mt19937 rng(4);
    for (int64_t n : kLengths) {
      for (float scale : {1.0f, 30.0f}) {
        auto gate = testing::normal_floats(rng, n, scale);
        const auto up = testing::normal_floats(rng, n, 1.0f);
        if (n > 2) {  // exp's extremes
          gate[1] = -100.0f;
          gate[0] = 100.0f;
        }
        auto ref = gate;
        const auto x = gate;
        gated_activation(gate.data(), up.data(), n, FfnActivation::kSilu);
        gated_activation_reference(ref.data(), up.data(), n, FfnActivation::kSilu);
        for (int64_t i = 0; i < n; ++i) {
          const double want = double(x[i]) / (1.0 + std::exp(-double(x[i]))) * up[i];
          EXPECT_NEAR(gate[i], want, 1e-6 * std::fabs(want) + 1e-30) << "n " << n << " x " << x[i];
          EXPECT_NEAR(gate[i], ref[i], 1e-6 * std::fabs(want) + 1e-30) << "n " << n << " x " << x[i];
        }
      }
    }
  });
}

TEST(Ops, GeluGateIsTheReference) {
  std::mt19937 rng(5);
  auto gate = testing::normal_floats(rng, 77, 3.0f);
  const auto up = testing::normal_floats(rng, 77, 1.0f);
  auto ref = gate;
  gated_activation(gate.data(), up.data(), 77, FfnActivation::kGeluTanh);
  gated_activation_reference(ref.data(), up.data(), 77, FfnActivation::kGeluTanh);
  EXPECT_EQ(gate, ref);
}

TEST(Ops, RopeMatchesTheRotationInDoublePrecision) {
  testing::on_every_target([] {
    std::mt19937 rng(6);
    struct Shape {
      int64_t n_heads, head_dim, n_rot;
    };
    for (const Shape& s : {Shape{4, 64, 64}, Shape{3, 128, 128}, Shape{2, 80, 32}, Shape{5, 24, 24},
                           Shape{1, 256, 256}, Shape{2, 96, 40}, Shape{3, 6, 6}}) {
      for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
        for (int64_t pos : {0, 1, 17, 1000}) {
          auto x = testing::normal_floats(rng, s.n_heads * s.head_dim, 1.0f);
          auto ref = x;
          const auto orig = x;
          rope(x.data(), s.n_heads, s.head_dim, s.n_rot, pos, 10000.0f, 0.5f, style);
          rope_reference(ref.data(), s.n_heads, s.head_dim, s.n_rot, pos, 10000.0f, 0.5f, style);
          const int64_t half = s.n_rot / 2;
          for (int64_t h = 0; h < s.n_heads; ++h) {
            const float* o = orig.data() + h * s.head_dim;
            const float* g = x.data() + h * s.head_dim;
            for (int64_t i = 0; i < half; ++i) {
              // theta as ggml builds it (float products), rotation in double.
              const float theta = static_cast<float>(pos) *
                                  static_cast<float>(std::pow(10000.0, -2.0 * double(i) / double(s.n_rot)));
              const double c = std::cos(double(theta) * 0.5), sn = std::sin(double(theta) * 0.5);
              const int64_t a = style == RopeStyle::kNormal ? 2 * i : i;
              const int64_t b = style == RopeStyle::kNormal ? 2 * i + 1 : i + half;
              // The float angle of i repeated products drifts from pow's by up
              // to about i ulps.
              const double tol = 1e-6 + 1.2e-7 * double(i + 1) * std::fabs(theta);
              EXPECT_NEAR(g[a], o[a] * c - o[b] * sn, tol) << "head " << h << " pair " << i;
              EXPECT_NEAR(g[b], o[a] * sn + o[b] * c, tol) << "head " << h << " pair " << i;
            }
            for (int64_t i = s.n_rot; i < s.head_dim; ++i) EXPECT_EQ(g[i], o[i]);  // not rotated
          }
          for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], ref[i], 1e-6) << i;
        }
      }
    }
  });
}

}  // namespace
}  // namespace tandem::ops
