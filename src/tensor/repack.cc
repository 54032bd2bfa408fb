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

// Bytes of one group's block: 16 fp16 scales, then the interleaved quants.
size_t group_block_bytes(TensorType type) { return 2 * kPackRows + kPackRows * (type == TensorType::Q8_0 ? 32 : 16); }

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

// Activations of a packed product: per token, the Q8_0 levels (n_in bytes),
// and per block the float scale and offset * sum of the levels.
struct PackedActs {
  const int8_t* qs;
  const float* dx;
  const int32_t* corr;
  int64_t nb;  // blocks per token
};

#if TANDEM_HAVE_VNNI_KERNELS
// GCC 12 warns that the "undefined" first operand inside some AVX-512
// intrinsics (cvtph_ps, cvtepi32_ps) may be used uninitialized; it is not.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// One group of 16 rows against tokens [t0, t0 + NT): y + t * y_stride gets
// the group's 16 outputs of token t0 + t.
template <int NT, bool kQ4>
TANDEM_VNNI void group_tile(const uint8_t* g, const PackedActs& a, int64_t t0, float* y, int64_t y_stride) {
  constexpr size_t kStep = 2 * kPackRows + kPackRows * (kQ4 ? 16 : 32);
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i low = _mm512_set1_epi8(0x0F);
  for (int64_t k = 0; k < a.nb; ++k, g += kStep) {
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
      const int8_t* xq = a.qs + i * kBlock;
      int32_t x4[8];
      std::memcpy(x4, xq, sizeof x4);
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
  const bool q4 = type == TensorType::Q4_0;
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* gp = packed + static_cast<size_t>(g) * group_bytes;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kMaxTile) {
      const int nt = static_cast<int>(std::min<int64_t>(kMaxTile, n_tokens - t0));
      float* yt = y + t0 * n_out + g * kPackRows;
      if (q4) {
        tile_dispatch<true>(nt, gp, a, t0, yt, n_out);
      } else {
        tile_dispatch<false>(nt, gp, a, t0, yt, n_out);
      }
    }
  }
}
#pragma GCC diagnostic pop
#endif  // TANDEM_HAVE_VNNI_KERNELS

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
  return (type == TensorType::Q8_0 || type == TensorType::Q4_0) && n_in > 0 && n_in % kBlock == 0 && n_out > 0 &&
         n_out % kPackRows == 0;
}

size_t packed_bytes(TensorType type, int64_t n_in, int64_t n_out) {
  return static_cast<size_t>(n_out / kPackRows) * static_cast<size_t>(n_in / kBlock) * group_block_bytes(type);
}

void repack(TensorType type, int64_t n_in, int64_t n_out, const uint8_t* src, uint8_t* dst) {
  if (!can_repack(type, n_in, n_out)) throw Error("repack: unsupported type or shape");
  const size_t row_stride = row_bytes(type, n_in);
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
  const int64_t n_in = w.n_in, nb = n_in / kBlock;
  const int32_t offset = w.type == TensorType::Q8_0 ? 128 : 8;
  // Scratch: levels, scales, corrections, then the encoded Q8_0 rows.
  const size_t n_blocks = static_cast<size_t>(n_tokens * nb);
  const size_t qs_bytes = n_blocks * kBlock, dx_bytes = n_blocks * sizeof(float);
  const size_t corr_bytes = n_blocks * sizeof(int32_t), row_q8 = row_bytes(TensorType::Q8_0, n_in);
  scratch.resize(qs_bytes + dx_bytes + corr_bytes + row_q8 * static_cast<size_t>(n_tokens));
  auto* qs = reinterpret_cast<int8_t*>(scratch.data());
  auto* dx = reinterpret_cast<float*>(scratch.data() + qs_bytes);
  auto* corr = reinterpret_cast<int32_t*>(scratch.data() + qs_bytes + dx_bytes);
  const size_t enc_stride = row_q8;
  // One encoded Q8_0 row per token: the same encoding as the row-major path
  // (and ggml's), then levels, scales and corrections split out.
  auto prepare = [&](int64_t t) {
    auto* enc = reinterpret_cast<BlockQ8_0*>(scratch.data() + qs_bytes + dx_bytes + corr_bytes + t * enc_stride);
    encode_activations(TensorType::Q8_0, x + t * n_in, enc, n_in);
    for (int64_t k = 0; k < nb; ++k) {
      const size_t i = static_cast<size_t>(t * nb + k);
      std::memcpy(qs + i * kBlock, enc[k].qs, kBlock);
      dx[i] = fp16_to_fp32(enc[k].d);
      int32_t sum = 0;
      for (int j = 0; j < kBlock; ++j) sum += enc[k].qs[j];
      corr[i] = offset * sum;
    }
  };
  const PackedActs acts{qs, dx, corr, nb};
  const int64_t n_groups = w.n_out / kPackRows;
  const size_t group_bytes = static_cast<size_t>(nb) * group_block_bytes(w.type);
  const bool parallel = n_threads > 1 && w.n_out * n_in * n_tokens > 32768 && n_groups > 1;
  if (!parallel) {
    for (int64_t t = 0; t < n_tokens; ++t) prepare(t);
    run_groups(w.type, w.packed, group_bytes, 0, n_groups, acts, n_tokens, y, w.n_out);
    return;
  }
  // One parallel region: the threads encode the tokens (a serial encode left
  // the other thread spinning for ~20% of a 2-thread prefill), then split the
  // row groups statically.
#pragma omp parallel num_threads(n_threads)
  {
#pragma omp for schedule(static)
    for (int64_t t = 0; t < n_tokens; ++t) prepare(t);
    const int n_thr = omp_get_num_threads(), me = omp_get_thread_num();
    run_groups(w.type, w.packed, group_bytes, n_groups * me / n_thr, n_groups * (me + 1) / n_thr, acts, n_tokens, y,
               w.n_out);
  }
#else
  (void)w, (void)x, (void)n_tokens, (void)y, (void)n_threads, (void)scratch;
  throw Error("matmul_packed: no packed kernels on this architecture");
#endif
}

}  // namespace tandem
