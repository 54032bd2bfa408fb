#include "tensor/repack.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "tensor/fp16.h"
#include "tensor/quant.h"
#include "util/error.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define TANDEM_HAVE_VNNI_KERNELS 1
// Only these functions use AVX-512; the rest of the binary runs on any x86-64.
#define TANDEM_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,f16c,fma")))
#else
#define TANDEM_HAVE_VNNI_KERNELS 0
#endif

namespace tandem {
namespace {

constexpr int kBlock = 32;      // elements per Q8_0 / Q4_0 block
constexpr int kMaxTile = 8;     // tokens per kernel call: 8 float + 8 int accumulators + 8 weight vectors

// Q4_K per group and super-block: d and dmin (16 fp16 each), the sub-block
// mins and scales unpacked to bytes (8 x 16 each), then 8 x 4 vectors of
// quants (see repack.h), in the order the kernel reads them.
constexpr size_t kQ4KMins = 4 * kPackRows;
constexpr size_t kQ4KScales = kQ4KMins + 8 * kPackRows;
constexpr size_t kQ4KQuants = kQ4KScales + 8 * kPackRows;
constexpr size_t kQ4KBlockBytes = kQ4KQuants + kPackRows * kQK_K / 2;

// Bytes of one group's block (32 elements; Q4_K: 256).
constexpr size_t group_block_bytes(TensorType type) {
  if (type == TensorType::Q4_K) return kQ4KBlockBytes;
  return 2 * kPackRows + kPackRows * (type == TensorType::Q8_0 ? 32 : 16);
}
int64_t block_elements(TensorType type) { return type == TensorType::Q4_K ? kQK_K : kBlock; }

bool cpu_has_vnni() {
#if TANDEM_HAVE_VNNI_KERNELS
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

// Activations of a packed product: the tokens' encoded blocks (Q8_0 for
// Q8_0/Q4_0 weights, Q8_K for Q4_K), nb per token, and per block what the
// kernels would otherwise recompute for every row group.
struct PackedActs {
  int64_t nb;  // blocks (Q4_K: super-blocks) per token
  // Q8_0 / Q4_0: the blocks, their scales as float, and offset * sum of the levels.
  const BlockQ8_0* q8 = nullptr;
  const float* dx = nullptr;
  const int32_t* corr = nullptr;
  // Q4_K: the tokens' Q8_K blocks and, per block, the 8 sums of 32 levels.
  const BlockQ8_K* q8k = nullptr;
  const int32_t* bsum32 = nullptr;
};

#if TANDEM_HAVE_VNNI_KERNELS
// GCC 12 warns that the "undefined" first operand inside some AVX-512
// intrinsics (cvtph_ps, cvtepi32_ps) may be used uninitialized; it is not.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Software prefetch distance of the Q4_0 and Q4_K kernels, in bytes of the
// packed stream. Measured on the 2-core EPYC VM (`tandem bench -p 0 -n 64`,
// 125M models): without it Q4_K decoding read its weights at ~17 GB/s and
// Q4_0 at ~37; 16 KiB ahead roughly doubled Q4_K and added 10-20% to Q4_0
// (4-8 KiB gained less). These kernels spend more instructions per byte
// than Q8_0, whose decoding the prefetches made ~5% slower, so it has none.
constexpr size_t kPrefetchAhead = 16 << 10;
// One group of 16 rows against tokens [t0, t0 + NT): y + t * y_stride gets
// the group's 16 outputs of token t0 + t.
template <int NT, bool kQ4>
TANDEM_VNNI void group_tile(const uint8_t* g, const PackedActs& a, int64_t t0, float* y, int64_t y_stride) {
  constexpr size_t kStep = group_block_bytes(kQ4 ? TensorType::Q4_0 : TensorType::Q8_0);
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i low = _mm512_set1_epi8(0x0F);
  for (int64_t k = 0; k < a.nb; ++k, g += kStep) {
    if constexpr (kQ4) {
      for (size_t l = 0; l < kStep; l += 64) _mm_prefetch(reinterpret_cast<const char*>(g + kPrefetchAhead + l), _MM_HINT_T0);
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g)));
    // wv[c]: elements 4c..4c+3 of each of the 16 rows (see repack.h).
    __m512i wv[8];
    if constexpr (kQ4) {
      for (int v = 0; v < 4; ++v) {
        const __m512i raw = _mm512_loadu_si512(g + 32 + 64 * v);
        wv[v] = _mm512_and_si512(raw, low);
        wv[v + 4] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low);
      }
    } else {
      for (int c = 0; c < 8; ++c) wv[c] = _mm512_loadu_si512(g + 32 + 64 * c);
    }
    for (int t = 0; t < NT; ++t) {
      const int64_t i = (t0 + t) * a.nb + k;
      int32_t x4[8];
      std::memcpy(x4, a.q8[i].qs, sizeof x4);
      // Two dependency chains; the first starts at -offset * sum(x).
      __m512i s0 = _mm512_set1_epi32(-a.corr[i]), s1 = _mm512_setzero_si512();
      for (int c = 0; c < 8; c += 2) {
        s0 = _mm512_dpbusd_epi32(s0, wv[c], _mm512_set1_epi32(x4[c]));
        s1 = _mm512_dpbusd_epi32(s1, wv[c + 1], _mm512_set1_epi32(x4[c + 1]));
      }
      // sum += isum * (dw * dx), rounded as vec_dot_reference does (no fused
      // multiply-add), so each output equals the scalar definition exactly.
      const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(a.dx[i]));
      acc[t] = _mm512_add_ps(acc[t], _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), scale));
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

// Q4_K, rounding exactly as the row-major x86 kernel (DotQ45_K_x86 in
// kernels_x86-inl.h), whose per-row vector has 8 int32 lanes: lane v sums
// sc * (4 products) over elements 4v..4v+3 of every 32. Here each lane v is
// its own 16-row vector (quant vector (c, v) of repack.h), built with the
// same pmaddubsw + pmaddwd, accumulated per super-block with the same fma,
// and the 8 lanes are added in SumOfLanes' order at the end; the mins
// correction is the same exact integer times dmin * dx, fma-accumulated.
template <int NT>
TANDEM_VNNI void group_tile_q4_k(const uint8_t* g, const PackedActs& a, int64_t t0, float* y, int64_t y_stride) {
  __m512 lane[NT][8], mins[NT];
  for (int t = 0; t < NT; ++t) {
    mins[t] = _mm512_setzero_ps();
    for (int v = 0; v < 8; ++v) lane[t][v] = _mm512_setzero_ps();
  }
  const __m512i low = _mm512_set1_epi8(0x0F);
  for (int64_t k = 0; k < a.nb; ++k, g += kQ4KBlockBytes) {
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + 2 * kPackRows)));
    __m512 dd[NT];
    for (int t = 0; t < NT; ++t) dd[t] = _mm512_mul_ps(d, _mm512_set1_ps(a.q8k[(t0 + t) * a.nb + k].d));
    // The pmaddwd operands: each row's sub-block scale in both int16 halves of its lane.
    __m512i scale[8];
    for (int j = 0; j < 8; ++j) {
      const __m512i s32 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g + kQ4KScales + kPackRows * j)));
      scale[j] = _mm512_or_si512(s32, _mm512_slli_epi32(s32, 16));
    }
    for (int v = 0; v < 8; ++v) {
      // The super-block's 37 lines, 16 KiB ahead, spread over the 8 steps.
      for (int l = 0; l < 5; ++l) {
        _mm_prefetch(reinterpret_cast<const char*>(g + kPrefetchAhead + 64 * (5 * v + l)), _MM_HINT_T0);
      }
      __m512i isum[NT];
      for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
      for (int c = 0; c < 4; ++c) {
        const __m512i raw = _mm512_loadu_si512(g + kQ4KQuants + 64 * (4 * v + c));
        const __m512i lo = _mm512_and_si512(raw, low), hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low);
        const __m512i sc_lo = scale[2 * c], sc_hi = scale[2 * c + 1];
        for (int t = 0; t < NT; ++t) {
          const int8_t* xq = a.q8k[(t0 + t) * a.nb + k].qs + 64 * c + 4 * v;
          int32_t xl, xh;
          std::memcpy(&xl, xq, 4);
          std::memcpy(&xh, xq + 32, 4);
          const __m512i pl = _mm512_madd_epi16(_mm512_maddubs_epi16(lo, _mm512_set1_epi32(xl)), sc_lo);
          const __m512i ph = _mm512_madd_epi16(_mm512_maddubs_epi16(hi, _mm512_set1_epi32(xh)), sc_hi);
          isum[t] = _mm512_add_epi32(isum[t], _mm512_add_epi32(pl, ph));
        }
      }
      for (int t = 0; t < NT; ++t) lane[t][v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), dd[t], lane[t][v]);
    }
    for (int t = 0; t < NT; ++t) {
      const int64_t i = (t0 + t) * a.nb + k;
      const int32_t* b32 = a.bsum32 + 8 * i;
      __m512i summ = _mm512_setzero_si512();
      for (int j = 0; j < 8; ++j) {
        const __m512i m = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g + kQ4KMins + kPackRows * j)));
        summ = _mm512_add_epi32(summ, _mm512_mullo_epi32(m, _mm512_set1_epi32(b32[j])));
      }
      const __m512 md = _mm512_mul_ps(dmin, _mm512_set1_ps(a.q8k[i].d));
      mins[t] = _mm512_fmadd_ps(md, _mm512_cvtepi32_ps(summ), mins[t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    const __m512* l = lane[t];
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(l[0], l[4]), _mm512_add_ps(l[2], l[6])),
                                     _mm512_add_ps(_mm512_add_ps(l[1], l[5]), _mm512_add_ps(l[3], l[7])));
    _mm512_storeu_ps(y + t * y_stride, _mm512_sub_ps(sum, mins[t]));
  }
}

template <bool kQ4>
void tile_dispatch(int nt, const uint8_t* g, const PackedActs& a, int64_t t0, float* y, int64_t y_stride) {
  switch (nt) {
    case 1: return group_tile<1, kQ4>(g, a, t0, y, y_stride);
    case 2: return group_tile<2, kQ4>(g, a, t0, y, y_stride);
    case 3: return group_tile<3, kQ4>(g, a, t0, y, y_stride);
    case 4: return group_tile<4, kQ4>(g, a, t0, y, y_stride);
    case 5: return group_tile<5, kQ4>(g, a, t0, y, y_stride);
    case 6: return group_tile<6, kQ4>(g, a, t0, y, y_stride);
    case 7: return group_tile<7, kQ4>(g, a, t0, y, y_stride);
    default: return group_tile<8, kQ4>(g, a, t0, y, y_stride);
  }
}

// Groups [g0, g1) against all tokens; each group's weights (a few KiB to
// ~70 KiB) stay in L1/L2 while every token tile passes over them.
void run_groups(TensorType type, const uint8_t* packed, size_t group_bytes, int64_t g0, int64_t g1,
                const PackedActs& a, int64_t n_tokens, float* y, int64_t n_out) {
  const bool q4 = type == TensorType::Q4_0, q4k = type == TensorType::Q4_K;
  const int64_t tile = q4k ? 2 : kMaxTile;  // Q4_K: 8 float accumulators per token
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* gp = packed + static_cast<size_t>(g) * group_bytes;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += tile) {
      const int nt = static_cast<int>(std::min<int64_t>(tile, n_tokens - t0));
      float* yt = y + t0 * n_out + g * kPackRows;
      if (q4k) {
        if (nt == 1) {
          group_tile_q4_k<1>(gp, a, t0, yt, n_out);
        } else {
          group_tile_q4_k<2>(gp, a, t0, yt, n_out);
        }
      } else if (q4) {
        tile_dispatch<true>(nt, gp, a, t0, yt, n_out);
      } else {
        tile_dispatch<false>(nt, gp, a, t0, yt, n_out);
      }
    }
  }
}

// Encodes the activations (prepare(t) for every token) and runs all row
// groups, in one parallel region when the product is large enough: the
// threads share the encoding (a serial encode left the other thread spinning
// for ~20% of a 2-thread prefill), then split the groups statically.
template <class Prepare>
void encode_and_run(const WeightMatrix& w, const PackedActs& acts, int64_t n_tokens, float* y, int n_threads,
                    Prepare prepare) {
  const int64_t n_groups = w.n_out / kPackRows;
  const size_t group_bytes = static_cast<size_t>(acts.nb) * group_block_bytes(w.type);
  const bool parallel = n_threads > 1 && w.n_out * w.n_in * n_tokens > 32768 && n_groups > 1;
  if (!parallel) {
    for (int64_t t = 0; t < n_tokens; ++t) prepare(t);
    run_groups(w.type, w.packed, group_bytes, 0, n_groups, acts, n_tokens, y, w.n_out);
    return;
  }
#pragma omp parallel num_threads(n_threads)
  {
#pragma omp for schedule(static)
    for (int64_t t = 0; t < n_tokens; ++t) prepare(t);
    const int n_thr = omp_get_num_threads(), me = omp_get_thread_num();
    run_groups(w.type, w.packed, group_bytes, n_groups * me / n_thr, n_groups * (me + 1) / n_thr, acts, n_tokens, y,
               w.n_out);
  }
}

void matmul_packed_q4_k(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int n_threads,
                        std::vector<uint8_t>& scratch) {
  const int64_t nb = w.n_in / kQK_K;
  const size_t q8k_row = row_bytes(TensorType::Q8_K, w.n_in);
  const size_t q8k_bytes = static_cast<size_t>(n_tokens) * q8k_row;
  scratch.resize(q8k_bytes + static_cast<size_t>(n_tokens * nb) * 8 * sizeof(int32_t));
  auto* q8k = reinterpret_cast<BlockQ8_K*>(scratch.data());
  auto* bsum32 = reinterpret_cast<int32_t*>(scratch.data() + q8k_bytes);
  auto prepare = [&](int64_t t) {
    encode_activations(TensorType::Q8_K, x + t * w.n_in, q8k + t * nb, w.n_in);
    for (int64_t i = t * nb; i < (t + 1) * nb; ++i) {
      for (int j = 0; j < 8; ++j) bsum32[8 * i + j] = q8k[i].bsums[2 * j] + q8k[i].bsums[2 * j + 1];
    }
  };
  const PackedActs acts{.nb = nb, .q8k = q8k, .bsum32 = bsum32};
  encode_and_run(w, acts, n_tokens, y, n_threads, prepare);
}
#pragma GCC diagnostic pop
#endif  // TANDEM_HAVE_VNNI_KERNELS

void repack_q4_k(int64_t n_in, int64_t n_out, const uint8_t* src, size_t row_stride, uint8_t* dst) {
  for (int64_t g = 0; g < n_out / kPackRows; ++g) {
    for (int64_t k = 0; k < n_in / kQK_K; ++k) {
      for (int r = 0; r < kPackRows; ++r) {
        const auto& b = *(reinterpret_cast<const BlockQ4_K*>(src + static_cast<size_t>(g * kPackRows + r) * row_stride) + k);
        std::memcpy(dst + 2 * r, &b.d, 2);
        std::memcpy(dst + 2 * kPackRows + 2 * r, &b.dmin, 2);
        uint8_t sc[8], m[8];
        k_scales_mins(b.scales, sc, m);
        for (int j = 0; j < 8; ++j) {
          dst[kQ4KMins + kPackRows * j + r] = m[j];
          dst[kQ4KScales + kPackRows * j + r] = sc[j];
        }
        for (int c = 0; c < 4; ++c) {
          for (int v = 0; v < 8; ++v) std::memcpy(dst + kQ4KQuants + 64 * (4 * v + c) + 4 * r, b.qs + 32 * c + 4 * v, 4);
        }
      }
      dst += kQ4KBlockBytes;
    }
  }
}

}  // namespace

bool repack_available() {
  static const bool available = [] {
    const char* v = std::getenv("TANDEM_REPACK");
    if (v != nullptr && std::strcmp(v, "0") == 0) return false;
    return cpu_has_vnni();
  }();
  return available;
}

bool can_repack(TensorType type, int64_t n_in, int64_t n_out) {
  return (type == TensorType::Q8_0 || type == TensorType::Q4_0 || type == TensorType::Q4_K) && n_in > 0 &&
         n_in % block_elements(type) == 0 && n_out > 0 && n_out % kPackRows == 0;
}

size_t packed_bytes(TensorType type, int64_t n_in, int64_t n_out) {
  if (!can_repack(type, n_in, n_out)) return 0;
  return static_cast<size_t>(n_out / kPackRows) * static_cast<size_t>(n_in / block_elements(type)) *
         group_block_bytes(type);
}

void repack(TensorType type, int64_t n_in, int64_t n_out, const uint8_t* src, uint8_t* dst) {
  if (!can_repack(type, n_in, n_out)) throw Error("repack: unsupported type or shape");
  const size_t row_stride = row_bytes(type, n_in);
  if (type == TensorType::Q4_K) return repack_q4_k(n_in, n_out, src, row_stride, dst);
  const int64_t nb = n_in / kBlock;
  const bool q8 = type == TensorType::Q8_0;
  for (int64_t g = 0; g < n_out / kPackRows; ++g) {
    for (int64_t k = 0; k < nb; ++k) {
      uint8_t* scales = dst;
      uint8_t* quants = dst + 2 * kPackRows;
      for (int r = 0; r < kPackRows; ++r) {
        const uint8_t* row = src + static_cast<size_t>(g * kPackRows + r) * row_stride;
        if (q8) {
          const auto* b = reinterpret_cast<const BlockQ8_0*>(row) + k;
          std::memcpy(scales + 2 * r, &b->d, 2);
          for (int c = 0; c < 8; ++c) {
            for (int j = 0; j < 4; ++j) {
              quants[64 * c + 4 * r + j] = static_cast<uint8_t>(static_cast<uint8_t>(b->qs[4 * c + j]) ^ 0x80u);
            }
          }
        } else {
          const auto* b = reinterpret_cast<const BlockQ4_0*>(row) + k;
          std::memcpy(scales + 2 * r, &b->d, 2);
          for (int v = 0; v < 4; ++v) std::memcpy(quants + 64 * v + 4 * r, b->qs + 4 * v, 4);
        }
      }
      dst += group_block_bytes(type);
    }
  }
}

void matmul_packed(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int n_threads,
                   std::vector<uint8_t>& scratch) {
#if TANDEM_HAVE_VNNI_KERNELS
  if (w.type == TensorType::Q4_K) return matmul_packed_q4_k(w, x, n_tokens, y, n_threads, scratch);
  const int64_t n_in = w.n_in, nb = n_in / kBlock;
  const int32_t offset = w.type == TensorType::Q8_0 ? 128 : 8;
  // Scratch: the encoded Q8_0 rows (the same encoding as the row-major path
  // and ggml's), then per block the scale as float and the correction.
  const size_t n_blocks = static_cast<size_t>(n_tokens * nb);
  // Q8_0 blocks are 34 bytes, so the float array after them starts at the
  // next 64-byte boundary rather than wherever the last block ends.
  const size_t q8_bytes = (static_cast<size_t>(n_tokens) * row_bytes(TensorType::Q8_0, n_in) + 63) & ~size_t{63};
  const size_t dx_bytes = n_blocks * sizeof(float);
  scratch.resize(q8_bytes + dx_bytes + n_blocks * sizeof(int32_t));
  auto* q8 = reinterpret_cast<BlockQ8_0*>(scratch.data());
  auto* dx = reinterpret_cast<float*>(scratch.data() + q8_bytes);
  auto* corr = reinterpret_cast<int32_t*>(scratch.data() + q8_bytes + dx_bytes);
  auto prepare = [&](int64_t t) {
    encode_activations(TensorType::Q8_0, x + t * n_in, q8 + t * nb, n_in);
    for (int64_t i = t * nb; i < (t + 1) * nb; ++i) {
      dx[i] = fp16_to_fp32(q8[i].d);
      int32_t sum = 0;
      for (int j = 0; j < kBlock; ++j) sum += q8[i].qs[j];
      corr[i] = offset * sum;
    }
  };
  const PackedActs acts{.nb = nb, .q8 = q8, .dx = dx, .corr = corr};
  encode_and_run(w, acts, n_tokens, y, n_threads, prepare);
#else
  (void)w, (void)x, (void)n_tokens, (void)y, (void)n_threads, (void)scratch;
  throw Error("matmul_packed: no packed kernels on this architecture");
#endif
}

}  // namespace tandem
