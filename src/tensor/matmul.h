// Matrix products of stored (possibly quantized) weights with float activations.
//
// As in llama.cpp, activations are first converted to the weight type's
// "activation type" (F16 for F16 weights, Q8_0 for Q4_0/Q8_0 weights, ...) and
// the dot products run on the two encoded rows. This is what makes results
// agree with llama.cpp and what makes quantized products fast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/types.h"

namespace tandem {

// A 2-D weight: n_out rows of n_in elements, each row stored contiguously.
struct WeightMatrix {
  TensorType type = TensorType::F32;
  int64_t n_in = 0;   // ne[0]
  int64_t n_out = 0;  // ne[1]
  const uint8_t* data = nullptr;
  // Optional copy of the same rows in the interleaved layout of
  // tensor/repack.h (set at model load where the CPU has AVX512-VNNI); matmul
  // uses it unless reference kernels are selected. Owned by whoever set it.
  const uint8_t* packed = nullptr;

  size_t row_stride() const { return row_bytes(type, n_in); }
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_stride(); }
};

// The encoding activations get before a dot product with rows of `weight_type`.
TensorType activation_type(TensorType weight_type);

// True if matmul supports weights of this type.
bool matmul_supports(TensorType weight_type);

// Encodes n floats into the activation type (dst holds row_bytes(act, n)).
void encode_activations(TensorType act_type, const float* x, void* dst, int64_t n);

// The scalar definition of encode_activations: what ggml's CPU backend does on
// x86 (type_traits_cpu from_float). Q8_0 and Q8_1 differ from the reference
// quantizers that write model files (quantize_row): the multiplier is
// 127 / amax (not 1 / (amax / 127)) and levels round to nearest with ties to
// even (not half away from zero). The two differ only on exact ties, which
// are common when the input holds few distinct levels, e.g. a normalized row
// of a Q4_0/Q5_0 token embedding. Q8_K and float types use quantize_row.
void encode_activations_reference(TensorType act_type, const float* x, void* dst, int64_t n);

// Dot product of one weight row with one encoded activation row. Uses the SIMD
// kernels (tensor/kernels.h) unless reference kernels are selected.
// Precondition (met by encode_activations): 8-bit activation quants lie in
// [-127, 127]; the x86 kernels move weight signs onto them (as ggml's do).
float vec_dot(TensorType weight_type, int64_t n, const void* w_row, const void* act_row);

// The scalar definition of vec_dot (exact integer sums per block, float
// scaling, as ggml's generic kernels). Slow; what the fast kernels are tested against.
float vec_dot_reference(TensorType weight_type, int64_t n, const void* w_row, const void* act_row);

// Selects the scalar reference code for vec_dot, encode_activations and matmul
// (for tests and comparisons). Defaults to true if the environment variable
// TANDEM_REFERENCE_KERNELS is set to a non-empty value other than "0".
// Not synchronized: set it before starting parallel work.
void set_reference_kernels(bool on);
bool reference_kernels();

// y[t * n_out + o] = dot(W row o, x[t * n_in ...]) for t < n_tokens.
// `scratch` is reused between calls to avoid per-call allocation.
// Splits output rows across `n_threads` OpenMP threads.
void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int n_threads,
            std::vector<uint8_t>& scratch);

}  // namespace tandem
