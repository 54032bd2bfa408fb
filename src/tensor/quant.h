// Block formats of the ggml quantized types and the reference (scalar) code to
// convert rows to and from float. These are the definitions the fast kernels in
// tensor/kernels are tested against.
#pragma once

#include <cstdint>
#include <cstring>

#include "tensor/types.h"

namespace tandem {

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK = 32;    // block size of the legacy formats (Q4_0 ... Q8_1)
inline constexpr int kQK_K = 256;  // super-block size of the K-quants

// Layouts are ggml's, byte for byte (see ggml-common.h). Scales are fp16 bit
// patterns unless noted. "Element j" is element j of the block.
#pragma pack(push, 1)
struct BlockQ4_0 {
  uint16_t d;                // scale (fp16)
  uint8_t qs[kQK4_0 / 2];    // element j in low nibble of qs[j], element j+16 in the high nibble
};
struct BlockQ4_1 {           // x = d * q + m, q in [0, 15]
  uint16_t d, m;
  uint8_t qs[kQK / 2];       // nibbles as in Q4_0
};
struct BlockQ5_0 {           // x = d * (q - 16), q in [0, 31]
  uint16_t d;
  uint8_t qh[4];             // bit j of the little-endian u32 = fifth bit of element j
  uint8_t qs[kQK / 2];       // low four bits, as in Q4_0
};
struct BlockQ5_1 {           // x = d * q + m, q in [0, 31]
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ8_0 {
  uint16_t d;                // scale (fp16)
  int8_t qs[kQK8_0];
};
struct BlockQ8_1 {           // activation format for Q4_1 / Q5_1
  uint16_t d;
  uint16_t s;                // d * sum(qs), fp16
  int8_t qs[kQK];
};
// K-quants: 256 elements in sub-blocks of 16 or 32, with per-sub-block scales
// that are themselves quantized against the super-block scales d (and dmin).
struct BlockQ2_K {           // 16 sub-blocks of 16: x = d*sc*q - dmin*m, q in [0, 3]
  uint8_t scales[kQK_K / 16];  // low nibble sc, high nibble m
  uint8_t qs[kQK_K / 4];     // per 128 elements: 32 bytes, element 32*s+l at bits 2s of byte l
  uint16_t d, dmin;
};
struct BlockQ3_K {           // 16 sub-blocks of 16: x = d*(sc-32)*(q-4), q in [0, 7]
  uint8_t hmask[kQK_K / 8];  // third bit: element j at bit j/32 of hmask[j%32]
  uint8_t qs[kQK_K / 4];     // low two bits, packed as Q2_K
  uint8_t scales[12];        // sixteen 6-bit scales
  uint16_t d;
};
struct BlockQ4_K {           // 8 sub-blocks of 32: x = d*sc*q - dmin*m, q in [0, 15]
  uint16_t d, dmin;
  uint8_t scales[12];        // eight 6-bit (sc, m) pairs, see k_scale_min()
  uint8_t qs[kQK_K / 2];     // per 64 elements: 32 bytes, low nibbles first 32, high the next 32
};
struct BlockQ5_K {           // as Q4_K with q in [0, 31]
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];     // fifth bit: element j at bit j/32 of qh[j%32]
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {           // 16 sub-blocks of 16: x = d*sc*(q-32), q in [0, 63]
  uint8_t ql[kQK_K / 2];     // low four bits
  uint8_t qh[kQK_K / 4];     // high two bits
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
struct BlockQ8_K {           // activation format for the K-quants
  float d;                   // fp32 scale
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];  // sums of qs in groups of 16
};
#pragma pack(pop)
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K block: bytes
// 0-3 hold scales 0-3, 4-7 mins 0-3 (low 6 bits); bytes 8-11 hold the low
// nibbles of scales/mins 4-7 and the top two bits of bytes 0-7 their high bits.
inline void k_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// All eight (sc, m) pairs of k_scale_min at once, with 32-bit word
// operations instead of eight branchy byte extractions (little-endian).
inline void k_scales_mins(const uint8_t* q, uint8_t sc[8], uint8_t m[8]) {
  uint32_t u[3];
  std::memcpy(u, q, 12);
  const uint32_t sc_lo = u[0] & 0x3f3f3f3fu, m_lo = u[1] & 0x3f3f3f3fu;
  const uint32_t sc_hi = (u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4);
  const uint32_t m_hi = ((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4);
  std::memcpy(sc, &sc_lo, 4);
  std::memcpy(sc + 4, &sc_hi, 4);
  std::memcpy(m, &m_lo, 4);
  std::memcpy(m + 4, &m_hi, 4);
}

// The sixteen signed scales (already minus 32) of a Q3_K block.
void q3_k_scales(const uint8_t* packed, int8_t out[16]);

// True if tandem can convert rows of this type to float (and so run a model
// that stores weights in it).
bool can_dequantize(TensorType type);
// True if tandem can produce this type from float.
bool can_quantize(TensorType type);

// Converts `n` elements (a multiple of the type's block size) to float.
// Throws tandem::Error for a type without dequantization support.
void dequantize_row(TensorType type, const void* src, float* dst, int64_t n);

// Reference quantization of `n` elements, matching ggml's reference
// quantizers (quantize_row_*_ref) bit for bit.
void quantize_row(TensorType type, const float* src, void* dst, int64_t n);

// Reference dot product of one stored row with a float vector, in double
// precision over the dequantized values. Slow; for tests and fallbacks.
double dot_row_reference(TensorType type, const void* row, const float* x, int64_t n);

}  // namespace tandem
