#include "tensor/quant.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tensor/fp16.h"
#include "tensor/quant_k.h"
#include "util/error.h"

// Reference conversions of the plain and legacy (32-element block) formats.
// The quantizers reproduce ggml's quantize_row_*_ref bit for bit: same float
// operations in the same order (the build uses ISO C++, so no FMA contraction),
// same truncating conversions. K-quants live in quant_k.cc.

namespace tandem {

bool can_dequantize(TensorType type) {
  switch (type) {
    case TensorType::F32: case TensorType::F16: case TensorType::BF16:
    case TensorType::Q4_0: case TensorType::Q4_1: case TensorType::Q5_0: case TensorType::Q5_1:
    case TensorType::Q8_0: case TensorType::Q8_1:
    case TensorType::Q2_K: case TensorType::Q3_K: case TensorType::Q4_K: case TensorType::Q5_K:
    case TensorType::Q6_K: case TensorType::Q8_K:
      return true;
    default:
      return false;
  }
}

bool can_quantize(TensorType type) { return can_dequantize(type); }

[[noreturn]] static void unsupported(TensorType type, const char* what) {
  throw Error(std::string(what) + " is not supported for tensor type " + std::string(type_name(type)));
}

void q3_k_scales(const uint8_t* packed, int8_t out[16]) {
  for (int j = 0; j < 16; ++j) {
    int lo = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
    int hi = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = static_cast<int8_t>((lo | (hi << 4)) - 32);
  }
}

namespace {

// Fifth bits of a Q5 block as one little-endian word.
uint32_t load_qh(const uint8_t qh[4]) {
  return static_cast<uint32_t>(qh[0]) | (static_cast<uint32_t>(qh[1]) << 8) |
         (static_cast<uint32_t>(qh[2]) << 16) | (static_cast<uint32_t>(qh[3]) << 24);
}
void store_qh(uint32_t v, uint8_t qh[4]) {
  for (int i = 0; i < 4; ++i) qh[i] = static_cast<uint8_t>(v >> (8 * i));
}

// The element of largest magnitude, with its sign (the first one on ties).
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* lo, float* hi) {
  float mn = FLT_MAX, mx = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < mn) mn = x[j];
    if (x[j] > mx) mx = x[j];
  }
  *lo = mn;
  *hi = mx;
}

// ggml casts the scaled values straight to int8, which is what makes results
// bit-identical to it. Only when 1/d overflows (a block of float denormals,
// whose fp16 scale is 0 anyway) or the input holds inf/NaN would the cast be
// undefined behaviour; those values become 0 instead.
static int8_t to_int8(float v) {
  return v >= -128.0f && v <= 127.0f ? static_cast<int8_t>(v) : static_cast<int8_t>(0);
}

// (x - min) * id + 0.5 truncated as ggml's Q5_1 does (no clamp: the value is
// <= 31 up to rounding); inf/NaN inputs become 0 instead of undefined behaviour.
static uint8_t to_uint8(float v) { return v >= 0.0f && v < 256.0f ? static_cast<uint8_t>(v) : static_cast<uint8_t>(0); }

// Stores the 5-bit levels of elements j and j + 16: low nibbles into qs[j],
// fifth bits into bits j and j + 16 of qh (the Q5_0 / Q5_1 layout).
static void pack_q5(uint8_t q0, uint8_t q1, int j, uint8_t* qs, uint32_t& qh) {
  qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
  qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
  qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + 16);
}

void quantize_q4_0(const float* x, BlockQ4_0* b, int64_t nb) {
  for (int64_t k = 0; k < nb; ++k, x += kQK) {
    // The scale maps the element of largest magnitude (with its sign) to -8.
    float d = signed_absmax(x, kQK) / -8.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[k].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      auto q0 = static_cast<uint8_t>(std::min<int8_t>(15, to_int8(x[j] * id + 8.5f)));
      auto q1 = static_cast<uint8_t>(std::min<int8_t>(15, to_int8(x[j + 16] * id + 8.5f)));
      b[k].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_q4_1(const float* x, BlockQ4_1* b, int64_t nb) {
  for (int64_t k = 0; k < nb; ++k, x += kQK) {
    float mn, mx;
    min_max(x, kQK, &mn, &mx);
    float d = (mx - mn) / 15.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[k].d = fp32_to_fp16(d);
    b[k].m = fp32_to_fp16(mn);
    for (int j = 0; j < kQK / 2; ++j) {
      auto q0 = static_cast<uint8_t>(std::min<int8_t>(15, to_int8((x[j] - mn) * id + 0.5f)));
      auto q1 = static_cast<uint8_t>(std::min<int8_t>(15, to_int8((x[j + 16] - mn) * id + 0.5f)));
      b[k].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_q5_0(const float* x, BlockQ5_0* b, int64_t nb) {
  for (int64_t k = 0; k < nb; ++k, x += kQK) {
    float d = signed_absmax(x, kQK) / -16.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[k].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      auto q0 = static_cast<uint8_t>(std::min<int8_t>(31, to_int8(x[j] * id + 16.5f)));
      auto q1 = static_cast<uint8_t>(std::min<int8_t>(31, to_int8(x[j + 16] * id + 16.5f)));
      pack_q5(q0, q1, j, b[k].qs, qh);
    }
    store_qh(qh, b[k].qh);
  }
}

void quantize_q5_1(const float* x, BlockQ5_1* b, int64_t nb) {
  for (int64_t k = 0; k < nb; ++k, x += kQK) {
    float mn, mx;
    min_max(x, kQK, &mn, &mx);
    float d = (mx - mn) / 31.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[k].d = fp32_to_fp16(d);
    b[k].m = fp32_to_fp16(mn);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      pack_q5(to_uint8((x[j] - mn) * id + 0.5f), to_uint8((x[j + 16] - mn) * id + 0.5f), j, b[k].qs, qh);
    }
    store_qh(qh, b[k].qh);
  }
}

void quantize_q8_0(const float* x, BlockQ8_0* b, int64_t nb) {
  for (int64_t k = 0; k < nb; ++k, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    float d = amax / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[k].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) b[k].qs[j] = to_int8(std::roundf(x[j] * id));
  }
}

void quantize_q8_1(const float* x, BlockQ8_1* b, int64_t nb) {
  for (int64_t k = 0; k < nb; ++k, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    float d = amax / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[k].d = fp32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      b[k].qs[j] = to_int8(std::roundf(x[j] * id));
      sum += b[k].qs[j];
    }
    b[k].s = fp32_to_fp16(static_cast<float>(sum) * d);
  }
}

template <typename Block, typename Fn>
void dequant_blocks(const void* src, float* dst, int64_t n, Fn&& fn) {
  const auto* b = static_cast<const Block*>(src);
  for (int64_t k = 0; k < n / kQK; ++k) fn(b[k], dst + k * kQK);
}

}  // namespace

void dequantize_row(TensorType type, const void* src, float* dst, int64_t n) {
  switch (type) {
    case TensorType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case TensorType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(s[i]);
      return;
    }
    case TensorType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(s[i]);
      return;
    }
    case TensorType::Q4_0:
      return dequant_blocks<BlockQ4_0>(src, dst, n, [](const BlockQ4_0& b, float* y) {
        float d = fp16_to_fp32(b.d);
        for (int j = 0; j < 16; ++j) {
          y[j] = static_cast<float>((b.qs[j] & 0x0f) - 8) * d;
          y[j + 16] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
        }
      });
    case TensorType::Q4_1:
      return dequant_blocks<BlockQ4_1>(src, dst, n, [](const BlockQ4_1& b, float* y) {
        float d = fp16_to_fp32(b.d), m = fp16_to_fp32(b.m);
        for (int j = 0; j < 16; ++j) {
          y[j] = static_cast<float>(b.qs[j] & 0x0f) * d + m;
          y[j + 16] = static_cast<float>(b.qs[j] >> 4) * d + m;
        }
      });
    case TensorType::Q5_0:
      return dequant_blocks<BlockQ5_0>(src, dst, n, [](const BlockQ5_0& b, float* y) {
        float d = fp16_to_fp32(b.d);
        uint32_t qh = load_qh(b.qh);
        for (int j = 0; j < 16; ++j) {
          int q0 = (b.qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1) << 4);
          int q1 = (b.qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
          y[j] = static_cast<float>(q0 - 16) * d;
          y[j + 16] = static_cast<float>(q1 - 16) * d;
        }
      });
    case TensorType::Q5_1:
      return dequant_blocks<BlockQ5_1>(src, dst, n, [](const BlockQ5_1& b, float* y) {
        float d = fp16_to_fp32(b.d), m = fp16_to_fp32(b.m);
        uint32_t qh = load_qh(b.qh);
        for (int j = 0; j < 16; ++j) {
          int q0 = (b.qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1) << 4);
          int q1 = (b.qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
          y[j] = static_cast<float>(q0) * d + m;
          y[j + 16] = static_cast<float>(q1) * d + m;
        }
      });
    case TensorType::Q8_0:
      return dequant_blocks<BlockQ8_0>(src, dst, n, [](const BlockQ8_0& b, float* y) {
        float d = fp16_to_fp32(b.d);
        for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
      });
    case TensorType::Q8_1:
      return dequant_blocks<BlockQ8_1>(src, dst, n, [](const BlockQ8_1& b, float* y) {
        float d = fp16_to_fp32(b.d);
        for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
      });
    case TensorType::Q2_K: case TensorType::Q3_K: case TensorType::Q4_K:
    case TensorType::Q5_K: case TensorType::Q6_K: case TensorType::Q8_K:
      return dequantize_row_k(type, src, dst, n);
    default:
      unsupported(type, "dequantization");
  }
}

void quantize_row(TensorType type, const float* src, void* dst, int64_t n) {
  const int64_t nb = n / kQK;
  switch (type) {
    case TensorType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case TensorType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_fp16(src[i]);
      return;
    }
    case TensorType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_bf16(src[i]);
      return;
    }
    case TensorType::Q4_0: return quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), nb);
    case TensorType::Q4_1: return quantize_q4_1(src, static_cast<BlockQ4_1*>(dst), nb);
    case TensorType::Q5_0: return quantize_q5_0(src, static_cast<BlockQ5_0*>(dst), nb);
    case TensorType::Q5_1: return quantize_q5_1(src, static_cast<BlockQ5_1*>(dst), nb);
    case TensorType::Q8_0: return quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), nb);
    case TensorType::Q8_1: return quantize_q8_1(src, static_cast<BlockQ8_1*>(dst), nb);
    case TensorType::Q2_K: case TensorType::Q3_K: case TensorType::Q4_K:
    case TensorType::Q5_K: case TensorType::Q6_K: case TensorType::Q8_K:
      return quantize_row_k(type, src, dst, n);
    default:
      unsupported(type, "quantization");
  }
}

double dot_row_reference(TensorType type, const void* row, const float* x, int64_t n) {
  std::vector<float> w(static_cast<size_t>(n));
  dequantize_row(type, row, w.data(), n);
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(w[i]) * x[i];
  return s;
}

}  // namespace tandem
