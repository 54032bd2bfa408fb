// K-quant dot products (portable int16 path), included by kernels-inl.h
// inside its per-target namespace; re-included once per target, so no
// include guard. The 256-bit x86 targets use kernels_x86-inl.h for Q4_K,
// Q5_K and Q6_K instead.

// ---- K-quants against Q8_K. Weights are multiplied by their 6/8-bit
// sub-block scale in int16 (|q * sc| <= 4096), so one int32 accumulator per
// super-block suffices; the float scale is applied once per 256 elements.

// Q4_K / Q5_K: per 64 elements, 32 bytes of nibbles (low: sub-block 2c,
// high: 2c + 1), for Q5_K a fifth bit from qh; x = d*sc*q - dmin*m.
template <int NT, class Block, bool kFive>
void DotQ45_K(int64_t n, const Block* w, const uint8_t* a, size_t stride, float* out) {
  const D16 d16;
  const int N = static_cast<int>(hn::Lanes(d16));
  const V16 mask = hn::Set(d16, 0xF), one = hn::Set(d16, 1);
  hn::Vec<DF32> acc[NT];
  float mins[NT] = {};
  for (int t = 0; t < NT; ++t) acc[t] = hn::Zero(DF32());
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    uint8_t sc[8], m[8];
    k_scales_mins(w[k].scales, sc, m);
    V32 isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = hn::Zero(D32());
    for (int c = 0; c < 4; ++c) {
      const V16 s_lo = hn::Set(d16, sc[2 * c]), s_hi = hn::Set(d16, sc[2 * c + 1]);
      for (int j = 0; j < 32; j += N) {
        const V16 raw = LoadU8(w[k].qs + 32 * c + j);
        V16 lo = hn::And(raw, mask), hi = hn::ShiftRight<4>(raw);
        if constexpr (kFive) {
          const V16 h = LoadU8(w[k].qh + j);
          lo = hn::Or(lo, hn::ShiftLeft<4>(hn::And(hn::ShiftRightSame(h, 2 * c), one)));
          hi = hn::Or(hi, hn::ShiftLeft<4>(hn::And(hn::ShiftRightSame(h, 2 * c + 1), one)));
        }
        lo = hn::Mul(lo, s_lo);
        hi = hn::Mul(hi, s_hi);
        for (int t = 0; t < NT; ++t) {
          const int8_t* q = (reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k)->qs + 64 * c + j;
          isum[t] = MulAcc(lo, LoadI8(q), isum[t]);
          isum[t] = MulAcc(hi, LoadI8(q + 32), isum[t]);
        }
      }
    }
    const float d = Half(w[k].d), dmin = Half(w[k].dmin);
    for (int t = 0; t < NT; ++t) {
      const auto* x = reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k;
      int32_t summ = 0;
      for (int j = 0; j < 8; ++j) summ += m[j] * (x->bsums[2 * j] + x->bsums[2 * j + 1]);
      acc[t] = hn::MulAdd(hn::ConvertTo(DF32(), isum[t]), hn::Set(DF32(), d * x->d), acc[t]);
      mins[t] += dmin * x->d * static_cast<float>(summ);
    }
  }
  FinishRows<NT>(acc, out);
  for (int t = 0; t < NT; ++t) out[t] -= mins[t];
}

// Q2_K / Q3_K: per 128 elements, 32 bytes of 2-bit fields (element 32s + l in
// bits 2s of byte l); Q3_K subtracts 4 where its hmask bit is clear.
// Q2_K: x = d*(sc&15)*q - dmin*(sc>>4); Q3_K: x = d*(sc-32)*(q-4+4*hbit).
template <int NT, bool kThree, class Block>
void DotQ23_K(int64_t n, const Block* w, const uint8_t* a, size_t stride, float* out) {
  const D16 d16;
  const int N = static_cast<int>(hn::Lanes(d16));
  const V16 three = hn::Set(d16, 3), one = hn::Set(d16, 1), four = hn::Set(d16, 4);
  hn::Vec<DF32> acc[NT];
  float mins[NT] = {};
  for (int t = 0; t < NT; ++t) acc[t] = hn::Zero(DF32());
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    int8_t sc[16];
    if constexpr (kThree) {
      q3_k_scales(w[k].scales, sc);
    } else {
      for (int j = 0; j < 16; ++j) sc[j] = static_cast<int8_t>(w[k].scales[j] & 0xF);
    }
    V32 isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = hn::Zero(D32());
    for (int h = 0; h < 2; ++h) {
      for (int l = 0; l < 32; l += N) {
        const V16 raw = LoadU8(w[k].qs + 32 * h + l);
        V16 hm;
        if constexpr (kThree) hm = LoadU8(w[k].hmask + l);
        for (int s = 0; s < 4; ++s) {
          V16 q = hn::And(hn::ShiftRightSame(raw, 2 * s), three);
          if constexpr (kThree) {
            // subtract 4 where bit 4h + s of hmask[l] is clear
            const V16 bit = hn::And(hn::ShiftRightSame(hm, 4 * h + s), one);
            q = hn::Sub(q, hn::Sub(four, hn::ShiftLeft<2>(bit)));
          }
          q = hn::Mul(q, hn::Set(d16, sc[8 * h + 2 * s + l / 16]));
          for (int t = 0; t < NT; ++t) {
            const int8_t* x = (reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k)->qs + 128 * h + 32 * s + l;
            isum[t] = MulAcc(q, LoadI8(x), isum[t]);
          }
        }
      }
    }
    const float d = Half(w[k].d);
    for (int t = 0; t < NT; ++t) {
      const auto* x = reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k;
      acc[t] = hn::MulAdd(hn::ConvertTo(DF32(), isum[t]), hn::Set(DF32(), d * x->d), acc[t]);
      if constexpr (!kThree) {
        int32_t summ = 0;
        for (int j = 0; j < 16; ++j) summ += (w[k].scales[j] >> 4) * x->bsums[j];
        mins[t] += Half(w[k].dmin) * x->d * static_cast<float>(summ);
      }
    }
  }
  FinishRows<NT>(acc, out);
  for (int t = 0; t < NT; ++t) out[t] -= mins[t];
}

template <int NT>
void DotQ6_K(int64_t n, const BlockQ6_K* w, const uint8_t* a, size_t stride, float* out) {
  const D16 d16;
  const int N = static_cast<int>(hn::Lanes(d16));
  const V16 m4 = hn::Set(d16, 0xF), m2 = hn::Set(d16, 3), k32 = hn::Set(d16, 32);
  hn::Vec<DF32> acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = hn::Zero(DF32());
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    V32 isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = hn::Zero(D32());
    for (int h = 0; h < 2; ++h) {  // 128 elements: ql[64], qh[32], 8 scales
      const uint8_t* ql = w[k].ql + 64 * h;
      const uint8_t* qh = w[k].qh + 32 * h;
      const int8_t* sc = w[k].scales + 8 * h;
      for (int l = 0; l < 32; l += N) {
        const V16 a0 = LoadU8(ql + l), a1 = LoadU8(ql + 32 + l), hb = LoadU8(qh + l);
        const int is = l / 16;
        // Element l + 32 g: four bits from ql, two from qh, minus 32, times its scale.
        const V16 q0 = hn::Mul(hn::Sub(hn::Or(hn::And(a0, m4), hn::ShiftLeft<4>(hn::And(hb, m2))), k32),
                               hn::Set(d16, sc[is]));
        const V16 q1 = hn::Mul(hn::Sub(hn::Or(hn::And(a1, m4), hn::ShiftLeft<4>(hn::And(hn::ShiftRight<2>(hb), m2))), k32),
                               hn::Set(d16, sc[is + 2]));
        const V16 q2 = hn::Mul(hn::Sub(hn::Or(hn::ShiftRight<4>(a0), hn::ShiftLeft<4>(hn::And(hn::ShiftRight<4>(hb), m2))), k32),
                               hn::Set(d16, sc[is + 4]));
        const V16 q3 = hn::Mul(hn::Sub(hn::Or(hn::ShiftRight<4>(a1), hn::ShiftLeft<4>(hn::ShiftRight<6>(hb))), k32),
                               hn::Set(d16, sc[is + 6]));
        for (int t = 0; t < NT; ++t) {
          const int8_t* q = (reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k)->qs + 128 * h + l;
          isum[t] = MulAcc(q0, LoadI8(q), isum[t]);
          isum[t] = MulAcc(q1, LoadI8(q + 32), isum[t]);
          isum[t] = MulAcc(q2, LoadI8(q + 64), isum[t]);
          isum[t] = MulAcc(q3, LoadI8(q + 96), isum[t]);
        }
      }
    }
    const float d = Half(w[k].d);
    for (int t = 0; t < NT; ++t) {
      const auto* x = reinterpret_cast<const BlockQ8_K*>(a + t * stride) + k;
      acc[t] = hn::MulAdd(hn::ConvertTo(DF32(), isum[t]), hn::Set(DF32(), d * x->d), acc[t]);
    }
  }
  FinishRows<NT>(acc, out);
}
