// Attention of one query head over the cached keys and values of its
// sequence: the inner loop of the forward pass's causal attention.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem::ops {

// out[0..hd_v) = sum_p softmax(scale * q . k_p)_p * v_p over p < n_pos, where
// k_p = keys + p * key_stride (hd_k floats) and v_p = values + p * value_stride
// (hd_v floats). `scores` is scratch for n_pos floats. SIMD (Highway, runtime
// dispatch); the softmax is ops::softmax (double-precision sum, as before).
void attend(const float* q, const float* keys, size_t key_stride, const float* values, size_t value_stride,
            int64_t n_pos, int64_t hd_k, int64_t hd_v, float scale, float* scores, float* out);

// The same with plain scalar loops: what attend() is tested against.
void attend_reference(const float* q, const float* keys, size_t key_stride, const float* values,
                      size_t value_stride, int64_t n_pos, int64_t hd_k, int64_t hd_v, float scale, float* scores,
                      float* out);

}  // namespace tandem::ops
