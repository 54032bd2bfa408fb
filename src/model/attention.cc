// SIMD bodies of ops::attend, compiled once per instruction set through
// hwy/foreach_target.h. Dot products and the weighted sum of values are
// vectorized over the head dimension (32-256 floats in current models); the
// number of positions varies per call, so it stays the outer loop.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "model/attention.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "model/attention.h"
#include "model/ops.h"

HWY_BEFORE_NAMESPACE();
namespace tandem::ops::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Capped at 8 lanes: head dims are multiples of 8 but not always of 16
// (e.g. 40, 24), and a full vector per step beats a masked tail.
using DF = hn::CappedTag<float, 8>;

HWY_INLINE float Dot(const float* a, const float* b, int64_t n) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  auto acc0 = hn::Zero(d), acc1 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    acc0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), acc0);
    acc1 = hn::MulAdd(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N), acc1);
  }
  for (; i + N <= n; i += N) acc0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), acc0);
  float s = hn::GetLane(hn::SumOfLanes(d, hn::Add(acc0, acc1)));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void Attend(const float* q, const float* keys, size_t key_stride, const float* values, size_t value_stride,
            int64_t n_pos, int64_t hd_k, int64_t hd_v, float scale, float* scores, float* out) {
  for (int64_t p = 0; p < n_pos; ++p) scores[p] = Dot(q, keys + static_cast<size_t>(p) * key_stride, hd_k) * scale;
  softmax(scores, n_pos);
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  // Blocks of 4 vectors of the output stay in registers across all positions.
  for (; i + 4 * N <= hd_v; i += 4 * N) {
    auto o0 = hn::Zero(d), o1 = hn::Zero(d), o2 = hn::Zero(d), o3 = hn::Zero(d);
    for (int64_t p = 0; p < n_pos; ++p) {
      const float* v = values + static_cast<size_t>(p) * value_stride + i;
      const auto a = hn::Set(d, scores[p]);
      o0 = hn::MulAdd(a, hn::LoadU(d, v), o0);
      o1 = hn::MulAdd(a, hn::LoadU(d, v + N), o1);
      o2 = hn::MulAdd(a, hn::LoadU(d, v + 2 * N), o2);
      o3 = hn::MulAdd(a, hn::LoadU(d, v + 3 * N), o3);
    }
    hn::StoreU(o0, d, out + i);
    hn::StoreU(o1, d, out + i + N);
    hn::StoreU(o2, d, out + i + 2 * N);
    hn::StoreU(o3, d, out + i + 3 * N);
  }
  for (; i + N <= hd_v; i += N) {
    auto o = hn::Zero(d);
    for (int64_t p = 0; p < n_pos; ++p) {
      o = hn::MulAdd(hn::Set(d, scores[p]), hn::LoadU(d, values + static_cast<size_t>(p) * value_stride + i), o);
    }
    hn::StoreU(o, d, out + i);
  }
  for (; i < hd_v; ++i) {
    float s = 0.0f;
    for (int64_t p = 0; p < n_pos; ++p) s += scores[p] * values[static_cast<size_t>(p) * value_stride + i];
    out[i] = s;
  }
}

}  // namespace tandem::ops::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace tandem::ops {

HWY_EXPORT(Attend);

void attend(const float* q, const float* keys, size_t key_stride, const float* values, size_t value_stride,
            int64_t n_pos, int64_t hd_k, int64_t hd_v, float scale, float* scores, float* out) {
  HWY_DYNAMIC_DISPATCH(Attend)(q, keys, key_stride, values, value_stride, n_pos, hd_k, hd_v, scale, scores, out);
}

void attend_reference(const float* q, const float* keys, size_t key_stride, const float* values,
                      size_t value_stride, int64_t n_pos, int64_t hd_k, int64_t hd_v, float scale, float* scores,
                      float* out) {
  for (int64_t p = 0; p < n_pos; ++p) {
    const float* k = keys + static_cast<size_t>(p) * key_stride;
    float s = 0.0f;
    for (int64_t i = 0; i < hd_k; ++i) s += q[i] * k[i];
    scores[p] = s * scale;
  }
  softmax_reference(scores, n_pos);
  for (int64_t i = 0; i < hd_v; ++i) out[i] = 0.0f;
  for (int64_t p = 0; p < n_pos; ++p) {
    const float* v = values + static_cast<size_t>(p) * value_stride;
    for (int64_t i = 0; i < hd_v; ++i) out[i] += scores[p] * v[i];
  }
}

}  // namespace tandem::ops
#endif  // HWY_ONCE
