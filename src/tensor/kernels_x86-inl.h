// 256-bit x86 bodies (AVX2 and AVX-512 targets) of the hottest integer dots,
// included by kernels-inl.h inside its per-target namespace; no include guard
// because it is re-included once per target.
//
// Why intrinsics: Highway 1.0.3 has no 8-bit multiply-add. pmaddubsw
// multiplies 32 unsigned by 32 signed bytes and adds pairs into int16, and
// pmaddwd then adds pairs into int32 (with a weight: the sub-block scale).
// Two instructions per 32 products, against six (3 widenings, 2 pmaddwd, an
// add) for the portable int16 path: ~1.6-2x faster on compute-bound rows.
// Overflow: pmaddubsw saturates at 32767; unsigned weights <= 128 (or 63)
// times |x| <= 127, in pairs, stay below 32512.

using D8x32 = hn::Full256<int8_t>;
using DU8x32 = hn::Full256<uint8_t>;
using DI32x8 = hn::Full256<int32_t>;
using DF32x8 = hn::Full256<float>;
using V8x32 = hn::Vec256<int8_t>;
using VU8x32 = hn::Vec256<uint8_t>;
using VI32x8 = hn::Vec256<int32_t>;

// Sums of four u[i] * s[i] per int32 lane, each pair first weighted by w16.
HWY_INLINE VI32x8 DotQuads(VU8x32 u, V8x32 s, __m256i w16 = _mm256_set1_epi16(1)) {
  return VI32x8{_mm256_madd_epi16(_mm256_maddubs_epi16(u.raw, s.raw), w16)};
}
template <int NT, class Block>
HWY_INLINE void Dot32Blocks(int64_t nb, const Block* w, const uint8_t* a, size_t stride, float* out) {
  hn::Vec256<float> acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = hn::Zero(DF32x8());
  for (int64_t k = 0; k < nb; ++k) {
    V8x32 wv;
    if constexpr (sizeof(Block) == sizeof(BlockQ8_0)) {
      wv = hn::LoadU(D8x32(), reinterpret_cast<const int8_t*>(w[k].qs));
    } else {  // Q4_0: [low nibbles | high nibbles] is elements 0..31; minus 8
      const auto raw = hn::LoadU(hn::Full128<uint8_t>(), w[k].qs);
      const auto m = hn::Set(hn::Full128<uint8_t>(), 0xF);
      const VU8x32 q = hn::Combine(DU8x32(), hn::And(hn::ShiftRight<4>(raw), m), hn::And(raw, m));
      wv = hn::Sub(hn::BitCast(D8x32(), q), hn::Set(D8x32(), 8));
    }
    const float dw = Half(w[k].d);
    // Signed x signed via pmaddubsw: |w| as the unsigned operand, w's sign moved onto x.
    const auto aw = hn::BitCast(DU8x32(), hn::Abs(wv));
    for (int t = 0; t < NT; ++t) {
      const auto* x = reinterpret_cast<const BlockQ8_0*>(a + t * stride) + k;
      const V8x32 xv = hn::LoadU(D8x32(), x->qs);
      const VI32x8 p = DotQuads(aw, V8x32{_mm256_sign_epi8(xv.raw, wv.raw)});
      acc[t] = hn::MulAdd(hn::ConvertTo(DF32x8(), p), hn::Set(DF32x8(), dw * Half(x->d)), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hn::GetLane(hn::SumOfLanes(DF32x8(), acc[t]));
}

// Q4_K / Q5_K (kFive: plus a fifth bit from qh), levels unsigned.
template <int NT, class Block, bool kFive>
void DotQ45_K_x86(int64_t n, const Block* w, const uint8_t* a, size_t stride, float* out) {
  hn::Vec256<float> acc[NT];
  float mins[NT] = {};
  for (int t = 0; t < NT; ++t) acc[t] = hn::Zero(DF32x8());
  const VU8x32 mask = hn::Set(DU8x32(), 0xF);
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    uint8_t sc[8], m[8];
    k_scales_mins(w[k].scales, sc, m);
    VI32x8 isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = hn::Zero(DI32x8());
    for (int c = 0; c < 4; ++c) {  // 64 elements: low nibbles, then high
      const VU8x32 raw = hn::LoadU(DU8x32(), w[k].qs + 32 * c);
      VU8x32 lo = hn::And(raw, mask), hi = hn::And(hn::ShiftRight<4>(raw), mask);
      if constexpr (kFive) {
        const VU8x32 h = hn::LoadU(DU8x32(), w[k].qh), one = hn::Set(DU8x32(), 1);
        lo = hn::Or(lo, hn::ShiftLeft<4>(hn::And(hn::ShiftRightSame(h, 2 * c), one)));
        hi = hn::Or(hi, hn::ShiftLeft<4>(hn::And(hn::ShiftRightSame(h, 2 * c + 1), one)));
      }
      const __m256i s_lo = _mm256_set1_epi16(sc[2 * c]), s_hi = _mm256_set1_epi16(sc[2 * c + 1]);
      for (int t = 0; t < NT; ++t) {
        const int8_t* q = (reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k)->qs + 64 * c;
        isum[t] = hn::Add(isum[t], hn::Add(DotQuads(lo, hn::LoadU(D8x32(), q), s_lo),
                                           DotQuads(hi, hn::LoadU(D8x32(), q + 32), s_hi)));
      }
    }
    const float d = Half(w[k].d), dmin = Half(w[k].dmin);
    // sum_j m_j * (bsums[2j] + bsums[2j + 1]): pair sums <= 2 * 16 * 127 fit
    // int16, so pairwise add and one pmaddwd give it exactly.
    const __m128i m16 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(m)));
    for (int t = 0; t < NT; ++t) {
      const auto* x = reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k;
      const __m128i b_lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->bsums));
      const __m128i b_hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->bsums + 8));
      __m128i prod = _mm_madd_epi16(m16, _mm_hadd_epi16(b_lo, b_hi));
      prod = _mm_add_epi32(prod, _mm_shuffle_epi32(prod, 0x4e));
      prod = _mm_add_epi32(prod, _mm_shuffle_epi32(prod, 0xb1));
      const int32_t summ = _mm_cvtsi128_si32(prod);
      acc[t] = hn::MulAdd(hn::ConvertTo(DF32x8(), isum[t]), hn::Set(DF32x8(), d * x->d), acc[t]);
      // An explicit fma, so tensor/repack.cc's 16-row kernel can round identically.
      mins[t] = std::fma(dmin * x->d, static_cast<float>(summ), mins[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hn::GetLane(hn::SumOfLanes(DF32x8(), acc[t])) - mins[t];
}

// Q6_K with unsigned levels q in [0, 63]: sum(sc * (q - 32) * x) =
// sum(sc * q * x) - 32 * sum(sc * bsum), the second term from Q8_K's bsums.
template <int NT>
void DotQ6_K_x86(int64_t n, const BlockQ6_K* w, const uint8_t* a, size_t stride, float* out) {
  hn::Vec256<float> acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = hn::Zero(DF32x8());
  const DU8x32 du;
  const VU8x32 m4 = hn::Set(du, 0xF), m2 = hn::Set(du, 3);
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    VI32x8 isum[NT];
    int32_t offset[NT] = {};
    for (int t = 0; t < NT; ++t) {
      isum[t] = hn::Zero(DI32x8());
      const auto* x = reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k;
      for (int j = 0; j < 16; ++j) offset[t] += w[k].scales[j] * x->bsums[j];
    }
    for (int h = 0; h < 2; ++h) {  // 128 elements
      const VU8x32 l0 = hn::LoadU(du, w[k].ql + 64 * h), l1 = hn::LoadU(du, w[k].ql + 64 * h + 32);
      const VU8x32 hb = hn::LoadU(du, w[k].qh + 32 * h);
      VU8x32 q[4];
      q[0] = hn::Or(hn::And(l0, m4), hn::ShiftLeft<4>(hn::And(hb, m2)));
      q[1] = hn::Or(hn::And(l1, m4), hn::ShiftLeft<4>(hn::And(hn::ShiftRight<2>(hb), m2)));
      q[2] = hn::Or(hn::ShiftRight<4>(l0), hn::ShiftLeft<4>(hn::And(hn::ShiftRight<4>(hb), m2)));
      q[3] = hn::Or(hn::ShiftRight<4>(l1), hn::ShiftLeft<4>(hn::ShiftRight<6>(hb)));
      const int8_t* sc = w[k].scales + 8 * h;
      for (int g = 0; g < 4; ++g) {
        // 32 elements = two sub-blocks: pmaddubsw lanes 0-7 and 8-15.
        const __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[2 * g + 1]), _mm_set1_epi16(sc[2 * g]));
        for (int t = 0; t < NT; ++t) {
          const int8_t* x = (reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k)->qs + 128 * h + 32 * g;
          isum[t] = hn::Add(isum[t], DotQuads(q[g], hn::LoadU(D8x32(), x), s));
        }
      }
    }
    const float d = Half(w[k].d);
    for (int t = 0; t < NT; ++t) {
      const auto* x = reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k;
      // Exact integer correction, in lane 0 (only the lane sum matters).
      const VI32x8 fix = hn::IfThenElseZero(hn::FirstN(DI32x8(), 1), hn::Set(DI32x8(), 32 * offset[t]));
      acc[t] = hn::MulAdd(hn::ConvertTo(DF32x8(), hn::Sub(isum[t], fix)), hn::Set(DF32x8(), d * x->d), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hn::GetLane(hn::SumOfLanes(DF32x8(), acc[t]));
}
