// ops::attend (SIMD) against ops::attend_reference (scalar loops) and a
// brute-force softmax-weighted sum in double precision, over head dims that
// are and are not multiples of the vector width and strided caches.
#include "model/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace tandem::ops {
namespace {

TEST(Attend, MatchesReferenceAndDoublePrecision) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t hd : {1, 7, 8, 24, 40, 64, 80, 128, 256}) {
    for (int64_t n_pos : {1, 2, 5, 33, 200}) {
      const size_t stride = static_cast<size_t>(hd * 3 + 5);  // several heads per position, unaligned
      std::vector<float> q(static_cast<size_t>(hd)), keys(stride * n_pos), values(stride * n_pos);
      for (float& x : q) x = normal(rng);
      for (float& x : keys) x = normal(rng);
      for (float& x : values) x = normal(rng);
      const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
      std::vector<float> scores(static_cast<size_t>(n_pos)), out(static_cast<size_t>(hd)), ref(out.size());
      attend(q.data(), keys.data() + 3, stride, values.data() + 1, stride, n_pos, hd, hd, scale, scores.data(),
             out.data());
      attend_reference(q.data(), keys.data() + 3, stride, values.data() + 1, stride, n_pos, hd, hd, scale,
                       scores.data(), ref.data());
      // Brute force in double.
      std::vector<double> s(static_cast<size_t>(n_pos));
      double mx = -1e300, sum = 0;
      for (int64_t p = 0; p < n_pos; ++p) {
        double d = 0;
        for (int64_t i = 0; i < hd; ++i) d += double(q[i]) * keys[3 + p * stride + i];
        s[p] = d * scale;
        mx = std::max(mx, s[p]);
      }
      for (double& x : s) sum += (x = std::exp(x - mx));
      for (int64_t i = 0; i < hd; ++i) {
        double want = 0;
        for (int64_t p = 0; p < n_pos; ++p) want += s[p] / sum * values[1 + p * stride + i];
        EXPECT_NEAR(out[i], want, 1e-4) << "hd " << hd << " n_pos " << n_pos << " i " << i;
        EXPECT_NEAR(ref[i], want, 1e-4) << "hd " << hd << " n_pos " << n_pos << " i " << i;
      }
    }
  }
}

}  // namespace
}  // namespace tandem::ops
