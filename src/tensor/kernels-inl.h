// Per-target bodies of the kernels declared in kernels.h; compiled once per
// instruction set by kernels.cc through hwy/foreach_target.h.
//
// Cost model: a matrix-vector product streams the weights from memory once,
// so a kernel only has to unpack and multiply faster than DRAM delivers
// (~0.5-1 byte/cycle/core). Integer formats multiply 8-bit activations with
// 8/6/5/4-bit weights widened to int16 (ReorderWidenMulAccumulate = pmaddwd:
// 16 products per AVX2 instruction), sum exactly in int32 per block and apply
// the float scales once per block (32 or 256 elements).
// Vectors are capped at 16 int16 lanes (256 bits) so a block of 32 is one or
// two vectors on every target; AVX-512 gains registers, not width, here.
// On AVX2 / AVX-512 the hottest formats take the 8-bit path in
// kernels_x86-inl.h instead (half the instructions).
//
// Files: this one (float and 32-block formats, dispatch), kernels_k-inl.h
// (K-quants), kernels_x86-inl.h (x86 8-bit path), kernels_encode-inl.h.

#if defined(TANDEM_TENSOR_KERNELS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TANDEM_TENSOR_KERNELS_INL_H_
#undef TANDEM_TENSOR_KERNELS_INL_H_
#else
#define TANDEM_TENSOR_KERNELS_INL_H_
#endif

#include <cmath>
#include <cstring>

#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/quant.h"

HWY_BEFORE_NAMESPACE();
namespace tandem::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// fp16 -> fp32 in ~5 operations: shifting the 15 magnitude bits into place
// and multiplying by 2^112 rebiases the exponent exactly, subnormals
// included; only inf/NaN need a fix-up. Used for the per-block scales.
HWY_INLINE float Half(uint16_t h) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  return _cvtsh_ss(h);  // F16C, part of the AVX2 target: one instruction
#else
  uint32_t mag = static_cast<uint32_t>(h & 0x7fff) << 13;
  float f = bits_to_float(mag) * 0x1p112f;
  if ((h & 0x7c00) == 0x7c00) f = bits_to_float(mag | 0x7f800000u);
  return (h & 0x8000) ? -f : f;
#endif
}

#undef TANDEM_KERNELS_X86_256
#if HWY_TARGET == HWY_SCALAR
// HWY_SCALAR lacks the widening multiply-add: use the scalar definitions.
template <int NT>
void DotRowsT(TensorType type, int64_t n, const void* w, const uint8_t* a, size_t stride, float* out) {
  for (int t = 0; t < NT; ++t) out[t] = vec_dot_reference(type, n, w, a + t * stride);
}
bool HasSimd(TensorType) { return false; }
void RoundToHalf(const float* x, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(fp32_to_fp16(x[i]));
}
void Encode(TensorType type, const float* x, void* dst, int64_t n) { encode_activations_reference(type, x, dst, n); }
float SumF32(const float* x, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  return s;
}
#else

using DF = hn::ScalableTag<float>;
using D16 = hn::CappedTag<int16_t, 16>;          // 8 (SSE) or 16 lanes
using D32 = hn::Repartition<int32_t, D16>;       // half as many int32 lanes
using DF32 = hn::Rebind<float, D32>;
using D8 = hn::Rebind<int8_t, D16>;              // loads of Lanes(D16) int8
using DU8 = hn::Rebind<uint8_t, D16>;
using DU16 = hn::RebindToUnsigned<D16>;
using V16 = hn::Vec<D16>;
using V32 = hn::Vec<D32>;

// Lanes(D16) int8 at p, widened to int16.
HWY_INLINE V16 LoadI8(const int8_t* p) { return hn::PromoteTo(D16(), hn::LoadU(D8(), p)); }
// Lanes(D16) uint8 at p, widened to int16 (values 0..255).
HWY_INLINE V16 LoadU8(const uint8_t* p) {
  return hn::BitCast(D16(), hn::PromoteTo(DU16(), hn::LoadU(DU8(), p)));
}
// acc += pairwise products of a and b, in int32.
HWY_INLINE V32 MulAcc(V16 a, V16 b, V32 acc) {
  V32 unused = hn::Zero(D32());
  return hn::RearrangeToOddPlusEven(hn::ReorderWidenMulAccumulate(D32(), a, b, acc, unused), unused);
}

// ---- float formats: FMA into two accumulators per activation row.

// The summation order of every float-weight product (here and in
// DotFloatTile): one vector accumulator, chunks of Lanes() in order, then the
// lane sum, then the scalar tail. A product's value therefore does not depend
// on how many tokens or rows are computed together.
template <int NT, class LoadW, class LoadA, class Scalar>
void DotFloat(int64_t n, LoadW load_w, LoadA load_a, float* out, Scalar scalar) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<DF> acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = hn::Zero(df);
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto w0 = load_w(i);
    for (int t = 0; t < NT; ++t) acc[t] = hn::MulAdd(w0, load_a(t, i), acc[t]);
  }
  for (int t = 0; t < NT; ++t) {
    float s = hn::GetLane(hn::SumOfLanes(df, acc[t]));
    for (int64_t j = i; j < n; ++j) s += scalar(t, j);
    out[t] = s;
  }
}

template <int NT>
void DotF32(int64_t n, const float* w, const uint8_t* a, size_t stride, float* out) {
  const DF df;
  DotFloat<NT>(
      n, [&](int64_t i) { return hn::LoadU(df, w + i); },
      [&](int t, int64_t i) { return hn::LoadU(df, reinterpret_cast<const float*>(a + t * stride) + i); }, out,
      [&](int t, int64_t i) { return w[i] * reinterpret_cast<const float*>(a + t * stride)[i]; });
}

template <int NT>
void DotF16(int64_t n, const uint16_t* w, const uint8_t* a, size_t stride, float* out) {
  const DF df;
  const hn::Rebind<hwy::float16_t, DF> dh;
  auto load = [&](const uint16_t* p, int64_t i) {
    return hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(p) + i));
  };
  DotFloat<NT>(
      n, [&](int64_t i) { return load(w, i); },
      [&](int t, int64_t i) { return load(reinterpret_cast<const uint16_t*>(a + t * stride), i); }, out,
      [&](int t, int64_t i) {
        return fp16_to_fp32(w[i]) * fp16_to_fp32(reinterpret_cast<const uint16_t*>(a + t * stride)[i]);
      });
}

template <int NT>
void DotBF16(int64_t n, const uint16_t* w, const uint8_t* a, size_t stride, float* out) {
  const DF df;
  const hn::RebindToUnsigned<DF> du32;
  const hn::Rebind<uint16_t, DF> du16;
  // bf16 is the top half of an fp32: widen and shift.
  auto load = [&](const uint16_t* p, int64_t i) {
    return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du32, hn::LoadU(du16, p + i))));
  };
  DotFloat<NT>(
      n, [&](int64_t i) { return load(w, i); },
      [&](int t, int64_t i) { return load(reinterpret_cast<const uint16_t*>(a + t * stride), i); }, out,
      [&](int t, int64_t i) {
        return bf16_to_fp32(w[i]) * bf16_to_fp32(reinterpret_cast<const uint16_t*>(a + t * stride)[i]);
      });
}

// ---- 32-element blocks against Q8_0 activations.

template <int NT>
HWY_INLINE void FinishRows(hn::Vec<DF32>* acc, float* out) {
  for (int t = 0; t < NT; ++t) out[t] = hn::GetLane(hn::SumOfLanes(DF32(), acc[t]));
}

template <int NT>
void DotQ8_0(int64_t n, const BlockQ8_0* w, const uint8_t* a, size_t stride, float* out) {
  const int N = static_cast<int>(hn::Lanes(D16()));
  hn::Vec<DF32> acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = hn::Zero(DF32());
  for (int64_t k = 0; k < n / kQK; ++k) {
    V32 isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = hn::Zero(D32());
    for (int j = 0; j < kQK; j += N) {
      const V16 wv = LoadI8(w[k].qs + j);
      for (int t = 0; t < NT; ++t) {
        const auto* x = reinterpret_cast<const BlockQ8_0*>(a + t * stride) + k;
        isum[t] = MulAcc(wv, LoadI8(x->qs + j), isum[t]);
      }
    }
    const float dw = Half(w[k].d);
    for (int t = 0; t < NT; ++t) {
      const auto* x = reinterpret_cast<const BlockQ8_0*>(a + t * stride) + k;
      acc[t] = hn::MulAdd(hn::ConvertTo(DF32(), isum[t]), hn::Set(DF32(), dw * Half(x->d)), acc[t]);
    }
  }
  FinishRows<NT>(acc, out);
}

// Blocks of 32 stored as 16 nibble bytes (element j low, j + 16 high), with
// an optional fifth bit, against Q8_0 (symmetric formats) or Q8_1 (formats
// with a min m: x = d*q + m, so the dot gains m * s, s = dx * sum(qx)).
// unpack(k, j, lo, hi) produces levels for elements j.. and 16 + j...
template <int NT, class ABlock, class Unpack, class Scales>
HWY_INLINE void DotNibbles(int64_t nb, const uint8_t* a, size_t stride, float* out, Unpack unpack, Scales scales) {
  const int N = static_cast<int>(hn::Lanes(D16()));
  hn::Vec<DF32> acc[NT];
  float extra[NT] = {};
  for (int t = 0; t < NT; ++t) acc[t] = hn::Zero(DF32());
  for (int64_t k = 0; k < nb; ++k) {
    V32 isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = hn::Zero(D32());
    for (int j = 0; j < kQK / 2; j += N) {
      V16 lo, hi;
      unpack(k, j, lo, hi);
      for (int t = 0; t < NT; ++t) {
        const auto* x = reinterpret_cast<const ABlock*>(a + t * stride) + k;
        isum[t] = MulAcc(lo, LoadI8(x->qs + j), isum[t]);
        isum[t] = MulAcc(hi, LoadI8(x->qs + 16 + j), isum[t]);
      }
    }
    float dw, mw;
    scales(k, &dw, &mw);
    for (int t = 0; t < NT; ++t) {
      const auto* x = reinterpret_cast<const ABlock*>(a + t * stride) + k;
      acc[t] = hn::MulAdd(hn::ConvertTo(DF32(), isum[t]), hn::Set(DF32(), dw * Half(x->d)), acc[t]);
      if constexpr (sizeof(ABlock) == sizeof(BlockQ8_1)) extra[t] += mw * Half(x->s);
    }
  }
  FinishRows<NT>(acc, out);
  for (int t = 0; t < NT; ++t) out[t] += extra[t];
}

// Fifth bits of elements j..j+N-1 of a Q5 block as 0 or 16 per lane.
HWY_INLINE V16 FifthBits(uint32_t qh, int j) {
  alignas(64) static constexpr uint16_t kBits[16] = {1,     2,     4,     8,     16,    32,     64,     128,
                                                     256,   512,   1024,  2048,  4096,  8192,  16384, 32768};
  const DU16 du;
  const auto bits = hn::Set(du, static_cast<uint16_t>(qh >> j));
  return hn::BitCast(D16(), hn::IfThenElseZero(hn::TestBit(bits, hn::Load(du, kBits)), hn::Set(du, 16)));
}

HWY_INLINE uint32_t QhWord(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, 4);  // little-endian, as stored
  return v;
}

template <int NT>
void DotQ4_0(int64_t n, const BlockQ4_0* w, const uint8_t* a, size_t stride, float* out) {
  const D16 d16;
  const V16 mask = hn::Set(d16, 0xF), eight = hn::Set(d16, 8);
  DotNibbles<NT, BlockQ8_0>(
      n / kQK, a, stride, out,
      [&](int64_t k, int j, V16& lo, V16& hi) {
        const V16 raw = LoadU8(w[k].qs + j);
        lo = hn::Sub(hn::And(raw, mask), eight);
        hi = hn::Sub(hn::ShiftRight<4>(raw), eight);
      },
      [&](int64_t k, float* d, float* m) { *d = Half(w[k].d); *m = 0; });
}

template <int NT>
void DotQ4_1(int64_t n, const BlockQ4_1* w, const uint8_t* a, size_t stride, float* out) {
  const V16 mask = hn::Set(D16(), 0xF);
  DotNibbles<NT, BlockQ8_1>(
      n / kQK, a, stride, out,
      [&](int64_t k, int j, V16& lo, V16& hi) {
        const V16 raw = LoadU8(w[k].qs + j);
        lo = hn::And(raw, mask);
        hi = hn::ShiftRight<4>(raw);
      },
      [&](int64_t k, float* d, float* m) { *d = Half(w[k].d); *m = Half(w[k].m); });
}

template <int NT>
void DotQ5_0(int64_t n, const BlockQ5_0* w, const uint8_t* a, size_t stride, float* out) {
  const D16 d16;
  const V16 mask = hn::Set(d16, 0xF), k16 = hn::Set(d16, 16);
  DotNibbles<NT, BlockQ8_0>(
      n / kQK, a, stride, out,
      [&](int64_t k, int j, V16& lo, V16& hi) {
        const V16 raw = LoadU8(w[k].qs + j);
        const uint32_t qh = QhWord(w[k].qh);
        lo = hn::Sub(hn::Or(hn::And(raw, mask), FifthBits(qh, j)), k16);
        hi = hn::Sub(hn::Or(hn::ShiftRight<4>(raw), FifthBits(qh, j + 16)), k16);
      },
      [&](int64_t k, float* d, float* m) { *d = Half(w[k].d); *m = 0; });
}

template <int NT>
void DotQ5_1(int64_t n, const BlockQ5_1* w, const uint8_t* a, size_t stride, float* out) {
  const V16 mask = hn::Set(D16(), 0xF);
  DotNibbles<NT, BlockQ8_1>(
      n / kQK, a, stride, out,
      [&](int64_t k, int j, V16& lo, V16& hi) {
        const V16 raw = LoadU8(w[k].qs + j);
        const uint32_t qh = QhWord(w[k].qh);
        lo = hn::Or(hn::And(raw, mask), FifthBits(qh, j));
        hi = hn::Or(hn::ShiftRight<4>(raw), FifthBits(qh, j + 16));
      },
      [&](int64_t k, float* d, float* m) { *d = Half(w[k].d); *m = Half(w[k].m); });
}

#include "tensor/kernels_k-inl.h"

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
#define TANDEM_KERNELS_X86_256 1
#include "tensor/kernels_x86-inl.h"
#else
#define TANDEM_KERNELS_X86_256 0
#endif

template <int NT>
void DotRowsT(TensorType type, int64_t n, const void* w, const uint8_t* a, size_t stride, float* out) {
#if TANDEM_KERNELS_X86_256
  switch (type) {
    case TensorType::Q8_0: return Dot32Blocks<NT>(n / kQK, static_cast<const BlockQ8_0*>(w), a, stride, out);
    case TensorType::Q4_0: return Dot32Blocks<NT>(n / kQK, static_cast<const BlockQ4_0*>(w), a, stride, out);
    case TensorType::Q4_K: return DotQ45_K_x86<NT, BlockQ4_K, false>(n, static_cast<const BlockQ4_K*>(w), a, stride, out);
    case TensorType::Q5_K: return DotQ45_K_x86<NT, BlockQ5_K, true>(n, static_cast<const BlockQ5_K*>(w), a, stride, out);
    case TensorType::Q6_K: return DotQ6_K_x86<NT>(n, static_cast<const BlockQ6_K*>(w), a, stride, out);
    default: break;
  }
#endif
  switch (type) {
    case TensorType::F32: return DotF32<NT>(n, static_cast<const float*>(w), a, stride, out);
    case TensorType::F16: return DotF16<NT>(n, static_cast<const uint16_t*>(w), a, stride, out);
    case TensorType::BF16: return DotBF16<NT>(n, static_cast<const uint16_t*>(w), a, stride, out);
    case TensorType::Q8_0: return DotQ8_0<NT>(n, static_cast<const BlockQ8_0*>(w), a, stride, out);
    case TensorType::Q4_0: return DotQ4_0<NT>(n, static_cast<const BlockQ4_0*>(w), a, stride, out);
    case TensorType::Q4_1: return DotQ4_1<NT>(n, static_cast<const BlockQ4_1*>(w), a, stride, out);
    case TensorType::Q5_0: return DotQ5_0<NT>(n, static_cast<const BlockQ5_0*>(w), a, stride, out);
    case TensorType::Q5_1: return DotQ5_1<NT>(n, static_cast<const BlockQ5_1*>(w), a, stride, out);
    case TensorType::Q2_K: return DotQ23_K<NT, false>(n, static_cast<const BlockQ2_K*>(w), a, stride, out);
    case TensorType::Q3_K: return DotQ23_K<NT, true>(n, static_cast<const BlockQ3_K*>(w), a, stride, out);
    case TensorType::Q4_K: return DotQ45_K<NT, BlockQ4_K, false>(n, static_cast<const BlockQ4_K*>(w), a, stride, out);
    case TensorType::Q5_K: return DotQ45_K<NT, BlockQ5_K, true>(n, static_cast<const BlockQ5_K*>(w), a, stride, out);
    case TensorType::Q6_K: return DotQ6_K<NT>(n, static_cast<const BlockQ6_K*>(w), a, stride, out);
    default:
      for (int t = 0; t < NT; ++t) out[t] = vec_dot_reference(type, n, w, a + t * stride);
  }
}

bool HasSimd(TensorType type) {
  switch (type) {
    case TensorType::F32: case TensorType::F16: case TensorType::BF16: case TensorType::Q8_0:
    case TensorType::Q4_0: case TensorType::Q4_1: case TensorType::Q5_0: case TensorType::Q5_1:
    case TensorType::Q2_K: case TensorType::Q3_K: case TensorType::Q4_K: case TensorType::Q5_K:
    case TensorType::Q6_K:
      return true;
    default:
      return false;
  }
}

#include "tensor/kernels_encode-inl.h"

// x rounded to the nearest F16 (ties to even, as fp32_to_fp16) and widened
// back: the activations of an F16 product, converted once per matmul.
// Vectorized only where DemoteTo is F16C's vcvtps2ph (AVX2, AVX-512):
// Highway 1.0.3's emulation on older targets truncates instead of rounding.
void RoundToHalf(const float* x, float* dst, int64_t n) {
  int64_t i = 0;
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  const DF df;
  const hn::Rebind<hwy::float16_t, DF> dh;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  for (; i + N <= n; i += N) hn::StoreU(hn::PromoteTo(df, hn::DemoteTo(dh, hn::LoadU(df, x + i))), df, dst + i);
#endif
  for (; i < n; ++i) dst[i] = fp16_to_fp32(fp32_to_fp16(x[i]));
}

float SumF32(const float* x, int64_t n) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    a0 = hn::Add(a0, hn::LoadU(df, x + i));
    a1 = hn::Add(a1, hn::LoadU(df, x + i + N));
    a2 = hn::Add(a2, hn::LoadU(df, x + i + 2 * N));
    a3 = hn::Add(a3, hn::LoadU(df, x + i + 3 * N));
  }
  float s = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(a0, a1), hn::Add(a2, a3))));
  for (; i < n; ++i) s += x[i];
  return s;
}

#endif  // HWY_TARGET == HWY_SCALAR

void DotRows(TensorType type, int64_t n, const void* w, const uint8_t* a, size_t stride, int nt, float* out) {
  switch (nt) {
    case 1: return DotRowsT<1>(type, n, w, a, stride, out);
    case 2: return DotRowsT<2>(type, n, w, a, stride, out);
    case 3: return DotRowsT<3>(type, n, w, a, stride, out);
    default: return DotRowsT<4>(type, n, w, a, stride, out);
  }
}

// F16 / BF16 weights against activations already rounded to the weight's
// type and widened back to F32 (exact), so each activation element is
// converted once per matmul rather than once per weight row. The SIMD
// targets take FloatMatrix below; this is the HWY_SCALAR body.
template <int NT>
void DotHalfWidened(TensorType type, int64_t n, const uint16_t* w, const uint8_t* a, size_t stride, float* out) {
  for (int t = 0; t < NT; ++t) {
    const float* x = reinterpret_cast<const float*>(a + t * stride);
    float s = 0;
    for (int64_t i = 0; i < n; ++i) s += (type == TensorType::F16 ? fp16_to_fp32(w[i]) : bf16_to_fp32(w[i])) * x[i];
    out[t] = s;
  }
}

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
// out[k] = the lane sum of acc[k] for k < count (a multiple of 8), in exactly
// SumOfLanes' order (halves, then quarters, eighths, pairs), but several
// accumulators per shuffle: a 6 x 4 tile's 24 sums take ~70 instructions
// instead of ~200, which was a tenth of a 768-wide product's prefill time.
// Highway has no two-vector 128-bit block shuffle, hence the intrinsics.
HWY_INLINE void LaneSums(const hn::Vec<hn::ScalableTag<float>>* acc, int count, float* out) {
  auto halves = [](__m512 a, __m512 b) {  // [a_i + a_i+8 | b_i + b_i+8]
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  };
  auto quarters = [](__m512 a, __m512 b) {  // 8-lane groups -> 4-lane groups, as [a0 a1 b0 b1]
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  };
  auto eighths = [](__m512 a, __m512 b) {  // per block [a0+a2, a1+a3, b0+b2, b1+b3]
    const __m512d x = _mm512_castps_pd(a), y = _mm512_castps_pd(b);
    return _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
  };
  auto pairs = [](__m512 a, __m512 b) {  // per block [a0+a1, a2+a3, b0+b1, b2+b3]
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  };
  alignas(64) float lanes[16];
  int k = 0;
  for (; k + 16 <= count; k += 16) {
    const auto* v = acc + k;
    const __m512 q0 = quarters(halves(v[0].raw, v[1].raw), halves(v[2].raw, v[3].raw));
    const __m512 q1 = quarters(halves(v[4].raw, v[5].raw), halves(v[6].raw, v[7].raw));
    const __m512 q2 = quarters(halves(v[8].raw, v[9].raw), halves(v[10].raw, v[11].raw));
    const __m512 q3 = quarters(halves(v[12].raw, v[13].raw), halves(v[14].raw, v[15].raw));
    _mm512_store_ps(lanes, pairs(eighths(q0, q1), eighths(q2, q3)));
    for (int b = 0; b < 4; ++b) {  // block b = [acc b, acc 4+b, acc 8+b, acc 12+b]
      for (int m = 0; m < 4; ++m) out[k + 4 * m + b] = lanes[4 * b + m];
    }
  }
  for (; k + 8 <= count; k += 8) {
    const auto* v = acc + k;
    const __m512 q0 = quarters(halves(v[0].raw, v[1].raw), halves(v[2].raw, v[3].raw));
    const __m512 q1 = quarters(halves(v[4].raw, v[5].raw), halves(v[6].raw, v[7].raw));
    const __m512 e = eighths(q0, q1);
    _mm512_store_ps(lanes, pairs(e, e));
    for (int b = 0; b < 4; ++b) {  // block b = [acc b, acc 4+b, (the same again)]
      out[k + b] = lanes[4 * b];
      out[k + 4 + b] = lanes[4 * b + 1];
    }
  }
}
#endif

#if HWY_TARGET != HWY_SCALAR
// Float weights (F32, or F16 / BF16 widened) against F32 activations in
// tiles of R rows x NT tokens: each loaded weight vector serves NT tokens and
// each activation vector R rows, so prefill and verification passes are bound
// by FMAs rather than loads, and a single token still has R independent
// accumulation chains. Each (row, token) sums in DotFloat's order.
// y[t * y_stride + r] for the tile's rows r and tokens t.
// `next` (or nullptr): the next tile's first row, prefetched along the way:
// R rows read side by side are R short streams, which the hardware
// prefetchers pick up too late when rows are only a few KiB (measured: 3-4x
// slower than one row at a time on a model that does not fit in cache).
template <int R, int NT, TensorType type>
void DotFloatTile(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t stride, float* y,
                  int64_t y_stride, const uint8_t* next) {
  constexpr size_t kElem = type == TensorType::F32 ? 4 : 2;
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const hn::Rebind<hwy::float16_t, DF> dh;
  const hn::RebindToUnsigned<DF> du32;
  const hn::Rebind<uint16_t, DF> du16;
  auto load_w = [&](int r, int64_t i) {
    const uint8_t* row = w + r * w_stride;
    if constexpr (type == TensorType::F32) {
      return hn::LoadU(df, reinterpret_cast<const float*>(row) + i);
    } else if constexpr (type == TensorType::F16) {
      return hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(row) + i));
    } else {
      return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du32, hn::LoadU(du16, reinterpret_cast<const uint16_t*>(row) + i))));
    }
  };
  auto weight = [&](int r, int64_t i) {
    const uint8_t* row = w + r * w_stride;
    if constexpr (type == TensorType::F32) {
      return reinterpret_cast<const float*>(row)[i];
    } else {
      const uint16_t h = reinterpret_cast<const uint16_t*>(row)[i];
      return type == TensorType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
    }
  };
  hn::Vec<DF> acc[R * NT];
  for (int k = 0; k < R * NT; ++k) acc[k] = hn::Zero(df);
  auto step = [&](int64_t i) HWY_ATTR {
    hn::Vec<DF> wv[R];
    for (int r = 0; r < R; ++r) wv[r] = load_w(r, i);
    for (int t = 0; t < NT; ++t) {
      const auto av = hn::LoadU(df, reinterpret_cast<const float*>(a + t * stride) + i);
      for (int r = 0; r < R; ++r) acc[r * NT + t] = hn::MulAdd(wv[r], av, acc[r * NT + t]);
    }
  };
  int64_t i = 0;
  if (next != nullptr) {  // two loops rather than a test per step
    for (; i + N <= n; i += N) {
      for (int r = 0; r < R; ++r) hwy::Prefetch(next + r * w_stride + static_cast<size_t>(i) * kElem);
      step(i);
    }
  } else {
    for (; i + N <= n; i += N) step(i);
  }
  // The lane sums first, fully unrolled: with the tails in the same loop GCC
  // kept the accumulators in a stack array it zeroed with `rep stos` on every
  // call (4% of a 768-wide prefill).
  float sums[R * NT];
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  if constexpr (R * NT % 8 == 0) {
    LaneSums(acc, R * NT, sums);
  } else
#endif
  {
#pragma GCC unroll 64
    for (int k = 0; k < R * NT; ++k) sums[k] = hn::GetLane(hn::SumOfLanes(df, acc[k]));
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < NT; ++t) {
      float s = sums[r * NT + t];
      const float* x = reinterpret_cast<const float*>(a + t * stride);
      for (int64_t j = i; j < n; ++j) s += weight(r, j) * x[j];
      y[t * y_stride + r] = s;
    }
  }
}

// 1..kMaxActs tokens (longer single-row sweeps: SweepRow).
template <int R, TensorType type>
void FloatTile(int64_t nt, int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t stride, float* y,
               int64_t y_stride, const uint8_t* next) {
  switch (nt) {
    case 1: return DotFloatTile<R, 1, type>(n, w, w_stride, a, stride, y, y_stride, next);
    case 2: return DotFloatTile<R, 2, type>(n, w, w_stride, a, stride, y, y_stride, next);
    case 3: return DotFloatTile<R, 3, type>(n, w, w_stride, a, stride, y, y_stride, next);
    default: return DotFloatTile<R, 4, type>(n, w, w_stride, a, stride, y, y_stride, next);
  }
}

// One row against up to kFloatSweepMax tokens in a single pass. With more
// than kMaxActs tokens the weights are also prefetched kSweepAhead bytes
// ahead (into the next rows, which follow contiguously): the hardware
// prefetchers alone fell behind once each cache line carried 8+ tokens of work.
constexpr size_t kSweepAhead = 1024;
template <TensorType type>
void SweepRow(int64_t nt, int64_t n, const uint8_t* w, const uint8_t* a, size_t stride, float* y, int64_t y_stride) {
  const uint8_t* ahead = w + kSweepAhead;
  if (nt <= kMaxActs) return FloatTile<1, type>(nt, n, w, 0, a, stride, y, y_stride, nullptr);
  switch (nt) {
    case 5: return DotFloatTile<1, 5, type>(n, w, 0, a, stride, y, y_stride, ahead);
    case 6: return DotFloatTile<1, 6, type>(n, w, 0, a, stride, y, y_stride, ahead);
    case 7: return DotFloatTile<1, 7, type>(n, w, 0, a, stride, y, y_stride, ahead);
    case 8: return DotFloatTile<1, 8, type>(n, w, 0, a, stride, y, y_stride, ahead);
    case 9: return DotFloatTile<1, 9, type>(n, w, 0, a, stride, y, y_stride, ahead);
    case 10: return DotFloatTile<1, 10, type>(n, w, 0, a, stride, y, y_stride, ahead);
    case 11: return DotFloatTile<1, 11, type>(n, w, 0, a, stride, y, y_stride, ahead);
    default: return DotFloatTile<1, 12, type>(n, w, 0, a, stride, y, y_stride, ahead);
  }
}

// Rows [row_begin, row_end) x all tokens of a float-weight product.
// Few tokens (decoding, speculative verification) whose activation rows fit
// in L1 together: one row at a time, all tokens in one sweep, so the weights
// are one sequential stream. The hardware prefetchers here follow only such
// streams: 4 rows read side by side, or a row swept twice, ran at about half
// the bandwidth on F32 matrices of 40 MB that miss the cache (9-10 vs 17-22
// GB/s), and sweeping 8 tokens of 768-wide rows (24 KiB of activations) was
// slower again. Otherwise (prefill): tiles of kTileRows rows x 4 tokens, bound by
// FMAs rather than bandwidth, the next tile prefetched in software; leftover
// rows one at a time.
// Rows per prefill tile: 6 x 4 tokens = 24 accumulators of AVX-512's 32
// registers (6 x 4 against 4 x 4: F16 products of 32 tokens 135 -> 160
// GFLOP/s in bench_matmul_bench on the Zen 5 VM; each activation vector now
// serves 6 rows); 4 where there are 16 registers.
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
constexpr int kTileRows = 6;
#else
constexpr int kTileRows = 4;
#endif
constexpr int64_t kFloatSweepMax = 12;
constexpr int64_t kFloatSweepBytes = 16 << 10;
template <TensorType type>
void FloatMatrix(int64_t n, const uint8_t* w, size_t w_stride, int64_t row_begin, int64_t row_end,
                 const uint8_t* acts, size_t act_stride, int64_t n_acts, float* y, int64_t y_stride) {
  if (n_acts <= kMaxActs || (n_acts <= kFloatSweepMax && n_acts * n * 4 <= kFloatSweepBytes)) {
    for (int64_t o = row_begin; o < row_end; ++o) {
      SweepRow<type>(n_acts, n, w + static_cast<size_t>(o) * w_stride, acts, act_stride, y + o, y_stride);
    }
    return;
  }
  for (int64_t o = row_begin; o < row_end;) {
    const bool whole = o + kTileRows <= row_end;
    const uint8_t* rows = w + static_cast<size_t>(o) * w_stride;
    const uint8_t* next = whole && o + 2 * kTileRows <= row_end ? rows + kTileRows * w_stride : nullptr;
    for (int64_t t = 0; t < n_acts; t += kMaxActs) {
      const uint8_t* a = acts + static_cast<size_t>(t) * act_stride;
      const int64_t nt = n_acts - t < kMaxActs ? n_acts - t : kMaxActs;
      if (whole) {
        FloatTile<kTileRows, type>(nt, n, rows, w_stride, a, act_stride, y + t * y_stride + o, y_stride,
                                   t == 0 ? next : nullptr);
      } else {
        FloatTile<1, type>(nt, n, rows, w_stride, a, act_stride, y + t * y_stride + o, y_stride, nullptr);
      }
    }
    o += whole ? kTileRows : 1;
  }
}
#endif

// Rows [row_begin, row_end) against n_acts activation rows, kMaxActs at a
// time; `widened`: F16/BF16 weights against F32 activations.
void DotMatrix(TensorType type, int64_t n, const uint8_t* w, size_t w_stride, int64_t row_begin, int64_t row_end,
               const uint8_t* acts, size_t act_stride, int64_t n_acts, float* y, int64_t y_stride, bool widened) {
  float out[kMaxActs];
#if HWY_TARGET != HWY_SCALAR
  // Float weights (F32; F16 / BF16 with widened activations): row tiles.
  if (type == TensorType::F32) {
    return FloatMatrix<TensorType::F32>(n, w, w_stride, row_begin, row_end, acts, act_stride, n_acts, y, y_stride);
  }
  if (widened && type == TensorType::F16) {
    return FloatMatrix<TensorType::F16>(n, w, w_stride, row_begin, row_end, acts, act_stride, n_acts, y, y_stride);
  }
  if (widened && type == TensorType::BF16) {
    return FloatMatrix<TensorType::BF16>(n, w, w_stride, row_begin, row_end, acts, act_stride, n_acts, y, y_stride);
  }
#endif
  for (int64_t o = row_begin; o < row_end; ++o) {
    const uint8_t* row = w + static_cast<size_t>(o) * w_stride;
    for (int64_t t = 0; t < n_acts; t += kMaxActs) {
      const uint8_t* a = acts + static_cast<size_t>(t) * act_stride;
      const int nt = static_cast<int>(n_acts - t < kMaxActs ? n_acts - t : kMaxActs);
      if (widened) {
        const auto* half = reinterpret_cast<const uint16_t*>(row);
        switch (nt) {
          case 1: DotHalfWidened<1>(type, n, half, a, act_stride, out); break;
          case 2: DotHalfWidened<2>(type, n, half, a, act_stride, out); break;
          case 3: DotHalfWidened<3>(type, n, half, a, act_stride, out); break;
          default: DotHalfWidened<4>(type, n, half, a, act_stride, out); break;
        }
      } else {
        DotRows(type, n, row, a, act_stride, nt, out);
      }
      for (int i = 0; i < nt; ++i) y[(t + i) * y_stride + o] = out[i];
    }
  }
}

}  // namespace tandem::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // include guard
