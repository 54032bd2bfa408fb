// Element-wise and per-row operations of the forward pass (everything except
// matrix products, which live in tensor/matmul.h). All operate in place or on
// caller-owned buffers and never allocate.
#pragma once

#include <cstdint>

#include "model/arch.h"

namespace tandem::ops {

// The per-row operations below are SIMD (Highway, runtime dispatch, in
// ops_simd.cc); each has a *_reference twin with plain scalar loops in the
// order ggml uses, which the SIMD version is tested against
// (tests/model/ops_test.cc) and which the forward pass runs instead when
// reference kernels are selected (set_reference_kernels).

// out = x / sqrt(mean(x^2) + eps) * weight (weight may be null: no scaling).
// Each square is rounded to float and summed in double, as ggml does; the
// SIMD version sums in a different order, which moves the double sum by at
// most a few of its ulps (the float result almost never).
void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps);
void rms_norm_reference(const float* x, const float* weight, float* out, int64_t n, float eps);

// Rotates the first n_rot dims of each of n_heads heads (head_dim apart) for
// position `pos`, as llama.cpp's rope with the given style. Both versions
// rotate by the sines and cosines of RopeAngles below.
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
          float freq_scale, RopeStyle style);

// The angles both rope versions rotate by, in order i = 0, 1, ...:
// theta_i = pos * base^(-2i/n_rot), by repeated multiplication in float as
// ggml builds its rope cache, so the angles agree with it bit for bit.
class RopeAngles {
 public:
  RopeAngles(int64_t n_rot, int64_t pos, float freq_base, float freq_scale);
  // cos and sin of theta_i * freq_scale for the next i.
  void next(float* cos, float* sin);

 private:
  float theta_, theta_scale_, freq_scale_;
};
void rope_reference(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
                    float freq_scale, RopeStyle style);

// In-place softmax of n values (sum in double). -inf entries become 0. The
// SIMD version's exp is Highway's (at most 1 ulp from the correctly rounded
// value, like std::exp).
void softmax(float* x, int64_t n);
void softmax_reference(float* x, int64_t n);

// GELU (tanh approximation), evaluated like ggml: via an F16 lookup table.
float gelu(float x);

// gate[i] = act(gate[i]) * up[i]. SiLU is vectorized; GELU is a table lookup
// in both versions.
void gated_activation(float* gate, const float* up, int64_t n, FfnActivation act);
void gated_activation_reference(float* gate, const float* up, int64_t n, FfnActivation act);

inline void add(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace tandem::ops
