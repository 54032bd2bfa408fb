// SIMD bodies of the per-row operations of ops.h (RMSNorm, RoPE, softmax,
// SiLU gating), compiled once per instruction set through
// hwy/foreach_target.h. Each keeps its scalar twin's arithmetic (the same
// float roundings in the same places) except where noted in ops.h: the
// order of the double sums and Highway's exp.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "model/ops_simd.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <cmath>

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "model/ops.h"

HWY_BEFORE_NAMESPACE();
namespace tandem::ops::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using DD = hn::ScalableTag<double>;
// As many floats as DD has doubles: the half of a float vector that widens into one.
using DFHalf = hn::Rebind<float, DD>;
constexpr size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);  // buffer size for one padded vector

// sum over i of double(f(x[i])) for a float -> float vector function f,
// in two double accumulators.
template <class F>
HWY_INLINE double SumAsDouble(const float* x, int64_t n, F f) {
  const DD dd;
  const DFHalf dh;
  const int64_t N = static_cast<int64_t>(hn::Lanes(dd));
  auto s0 = hn::Zero(dd), s1 = hn::Zero(dd);
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    s0 = hn::Add(s0, hn::PromoteTo(dd, f(dh, hn::LoadU(dh, x + i))));
    s1 = hn::Add(s1, hn::PromoteTo(dd, f(dh, hn::LoadU(dh, x + i + N))));
  }
  for (; i + N <= n; i += N) s0 = hn::Add(s0, hn::PromoteTo(dd, f(dh, hn::LoadU(dh, x + i))));
  double sum = hn::GetLane(hn::SumOfLanes(dd, hn::Add(s0, s1)));
  const hn::CappedTag<float, 1> d1;
  for (; i < n; ++i) sum += static_cast<double>(hn::GetLane(f(d1, hn::Set(d1, x[i]))));
  return sum;
}

void RmsNorm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  const double sum = SumAsDouble(x, n, [](auto d, auto v) {
    (void)d;
    return hn::Mul(v, v);
  });
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto vs = hn::Set(df, scale);
  int64_t i = 0;
  if (weight) {
    for (; i + N <= n; i += N) {
      hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(df, x + i), vs), hn::LoadU(df, weight + i)), df, out + i);
    }
    for (; i < n; ++i) out[i] = x[i] * scale * weight[i];
  } else {
    for (; i + N <= n; i += N) hn::StoreU(hn::Mul(hn::LoadU(df, x + i), vs), df, out + i);
    for (; i < n; ++i) out[i] = x[i] * scale;
  }
}

void Softmax(float* x, int64_t n) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  float max = -INFINITY;
  {
    auto vmax = hn::Set(df, -INFINITY);
    int64_t i = 0;
    for (; i + N <= n; i += N) vmax = hn::Max(vmax, hn::LoadU(df, x + i));
    max = hn::GetLane(hn::MaxOfLanes(df, vmax));
    for (; i < n; ++i) max = x[i] > max ? x[i] : max;
  }
  const auto vmax = hn::Set(df, max);
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(hn::Exp(df, hn::Sub(hn::LoadU(df, x + i), vmax)), df, x + i);
  if (i < n) {
    // The tail through the same exp (one padded vector), not std::exp.
    alignas(64) float tail[kMaxLanes];
    const int64_t r = n - i;
    for (int64_t j = 0; j < N; ++j) tail[j] = j < r ? x[i + j] : max;
    hn::Store(hn::Exp(df, hn::Sub(hn::Load(df, tail), vmax)), df, tail);
    for (int64_t j = 0; j < r; ++j) x[i + j] = tail[j];
  }
  const double sum = SumAsDouble(x, n, [](auto d, auto v) {
    (void)d;
    return v;
  });
  const float inv = static_cast<float>(1.0 / sum);
  const auto vinv = hn::Set(df, inv);
  i = 0;
  for (; i + N <= n; i += N) hn::StoreU(hn::Mul(hn::LoadU(df, x + i), vinv), df, x + i);
  for (; i < n; ++i) x[i] *= inv;
}

// gate = gate / (1 + exp(-gate)) * up. exp's argument is capped at 88 (its
// value stays finite; silu of gate < -88 is below 1e-36 either way).
void SiluGate(float* gate, const float* up, int64_t n) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto one = hn::Set(df, 1.0f), cap = hn::Set(df, 88.0f);
  auto silu = [&](auto g) { return hn::Div(g, hn::Add(one, hn::Exp(df, hn::Min(hn::Neg(g), cap)))); };
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(hn::Mul(silu(hn::LoadU(df, gate + i)), hn::LoadU(df, up + i)), df, gate + i);
  }
  if (i < n) {
    alignas(64) float g[kMaxLanes] = {}, u[kMaxLanes] = {};
    const int64_t r = n - i;
    for (int64_t j = 0; j < r; ++j) g[j] = gate[i + j], u[j] = up[i + j];
    hn::Store(hn::Mul(silu(hn::Load(df, g)), hn::Load(df, u)), df, g);
    for (int64_t j = 0; j < r; ++j) gate[i + j] = g[j];
  }
}

// Rotates pairs (x0[i], x1[i]) by (cos[i], sin[i]) for i < half, where the
// pairs are interleaved (normal style: x0 = v[2i], x1 = v[2i+1]) or halves
// (NeoX style: x0 = v[i], x1 = v[half + i]).
void RopeHead(float* v, const float* cos, const float* sin, int64_t half, bool interleaved) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + N <= half; i += N) {
    hn::Vec<DF> x0, x1;
    if (interleaved) {
      hn::LoadInterleaved2(df, v + 2 * i, x0, x1);
    } else {
      x0 = hn::LoadU(df, v + i);
      x1 = hn::LoadU(df, v + half + i);
    }
    const auto c = hn::LoadU(df, cos + i), s = hn::LoadU(df, sin + i);
    const auto r0 = hn::Sub(hn::Mul(x0, c), hn::Mul(x1, s));
    const auto r1 = hn::Add(hn::Mul(x0, s), hn::Mul(x1, c));
    if (interleaved) {
      hn::StoreInterleaved2(r0, r1, df, v + 2 * i);
    } else {
      hn::StoreU(r0, df, v + i);
      hn::StoreU(r1, df, v + half + i);
    }
  }
  for (; i < half; ++i) {
    float* a = interleaved ? v + 2 * i : v + i;
    float* b = interleaved ? v + 2 * i + 1 : v + half + i;
    const float x0 = *a, x1 = *b;
    *a = x0 * cos[i] - x1 * sin[i];
    *b = x0 * sin[i] + x1 * cos[i];
  }
}

}  // namespace tandem::ops::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace tandem::ops {

HWY_EXPORT(RmsNorm);
HWY_EXPORT(Softmax);
HWY_EXPORT(SiluGate);
HWY_EXPORT(RopeHead);

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  HWY_DYNAMIC_DISPATCH(RmsNorm)(x, weight, out, n, eps);
}

void softmax(float* x, int64_t n) { HWY_DYNAMIC_DISPATCH(Softmax)(x, n); }

void gated_activation(float* gate, const float* up, int64_t n, FfnActivation act) {
  if (act == FfnActivation::kSilu) return HWY_DYNAMIC_DISPATCH(SiluGate)(gate, up, n);
  gated_activation_reference(gate, up, n, act);
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
          float freq_scale, RopeStyle style) {
  constexpr int64_t kMaxHalf = 512;
  const int64_t half = n_rot / 2;
  if (half > kMaxHalf) return rope_reference(x, n_heads, head_dim, n_rot, pos, freq_base, freq_scale, style);
  float cos[kMaxHalf], sin[kMaxHalf];
  RopeAngles angles(n_rot, pos, freq_base, freq_scale);
  for (int64_t i = 0; i < half; ++i) angles.next(&cos[i], &sin[i]);
  const bool interleaved = style == RopeStyle::kNormal;
  for (int64_t h = 0; h < n_heads; ++h) HWY_DYNAMIC_DISPATCH(RopeHead)(x + h * head_dim, cos, sin, half, interleaved);
}

}  // namespace tandem::ops
#endif  // HWY_ONCE
