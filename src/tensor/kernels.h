// SIMD kernels (Highway, dynamic dispatch: AVX-512 / AVX2 / SSE4 / SSSE3 /
// scalar chosen at run time) for the hot loops of matmul. Each has a scalar
// definition in vec_dot_ref.cc / quant.cc that it is tested against
// (tests/tensor/kernels_test.cc); results agree to float rounding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/types.h"

namespace tandem::kernels {

// Maximum number of activation rows dot_rows handles in one call.
inline constexpr int kMaxActs = 4;

// out[t] = vec_dot(type, n, w_row, acts + t * act_stride) for t < n_acts
// (1..kMaxActs). One pass over the weight row serves all n_acts activation
// rows: the weights are loaded and unpacked once, which is what makes prefill
// (many tokens) cheaper per token than decoding one token at a time.
// Types without a SIMD kernel fall back to vec_dot_reference.
void dot_rows(TensorType type, int64_t n, const void* w_row, const uint8_t* acts, size_t act_stride, int n_acts,
              float* out);

// The matrix form: for rows o in [row_begin, row_end) of a weight matrix whose
// rows are w_stride bytes apart, y[t * y_stride + o] = vec_dot(row o, act t)
// for t < n_acts (any count; taken kMaxActs at a time). One dispatch per call
// instead of one per row: small models have short rows, where the per-call
// overhead of dot_rows is a large share of the work.
void dot_matrix(TensorType type, int64_t n, const uint8_t* w, size_t w_stride, int64_t row_begin, int64_t row_end,
                const uint8_t* acts, size_t act_stride, int64_t n_acts, float* y, int64_t y_stride,
                bool widened = false);
// widened = true: F16 / BF16 weights with activation rows given as F32 values
// that are exactly representable in the weight type (encode, then widen):
// the same results as on the encoded rows, with one conversion per
// activation element per matmul instead of one per weight row.

// True if `type` has a SIMD dot kernel (the others run the scalar reference).
bool has_simd_dot(TensorType type);

// Encodes n floats into the activation type (Q8_0 / Q8_1 / Q8_K vectorized,
// bit-identical to encode_activations_reference in tensor/matmul.h; other
// types go to quantize_row).
void encode(TensorType act_type, const float* x, void* dst, int64_t n);

// dst[i] = x[i] rounded to F16 and widened back to F32 (fp32_to_fp16's
// rounding: nearest, ties to even). dst may equal x.
void round_to_half(const float* x, float* dst, int64_t n);

// Sum of n floats, streaming (memory-bandwidth probe for the benchmark).
float sum_f32(const float* x, int64_t n);

// Name of the instruction set chosen at run time ("AVX3", "AVX2", ...).
const char* target_name();

// For tests: the instruction sets compiled in that this CPU supports (Highway
// target bits), and restricting dispatch to one of them (0 restores the
// default). Not thread-safe: call while no kernel runs.
std::vector<int64_t> available_targets();
void restrict_to_target(int64_t target);

}  // namespace tandem::kernels
