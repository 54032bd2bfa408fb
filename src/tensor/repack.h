// Weights repacked at load time for the 8-bit multiply-accumulate instruction
// of AVX512-VNNI (vpdpbusd: 64 unsigned x signed byte products, summed in
// fours into 16 int32 lanes, in one instruction).
//
// Why: in the row-major file layout one weight row's block gives a vector of
// partial sums that needs a horizontal sum and a scalar scale per row and
// token; that bookkeeping, not the multiplies, bounds quantized decoding and
// prefill on small and mid-sized models. Interleaving 16 rows so that one
// int32 lane holds one row makes every instruction serve 16 rows: no
// horizontal sums, the 16 scales convert in one instruction, and a prefill
// tile reuses each loaded weight vector for up to 8 tokens.
//
// Layout: rows in groups of kPackRows; for each group and 32-element block,
// the group's 16 fp16 scales (32 bytes), then the quants:
//   Q8_0: 8 vectors of 64 bytes; in vector c, lane r (4 bytes) holds row r's
//         elements 4c..4c+3 as w + 128 (unsigned);
//   Q4_0: 4 vectors of 64 bytes; in vector v, lane r holds row r's stored
//         bytes 4v..4v+3 unchanged: low nibbles are elements 4v..4v+3, high
//         nibbles elements 16+4v..16+4v+3, levels w + 8 in 0..15.
//   Q4_K (per 256-element super-block): d and dmin (16 fp16 each), the 8
//         sub-block mins and scales unpacked to bytes (8 x 16 each), then 32
//         vectors: vector 4v + c, lane r holds row r's stored bytes
//         32c + 4v..32c + 4v + 3 (low nibbles: elements 64c + 4v.., high:
//         64c + 32 + 4v..). 2368 bytes per 16 rows instead of 2304.
// Q8_0 / Q4_0: the offset (128 or 8) is taken out with the activation block's sum:
// sum((w + o) x) = sum(w x) + o sum(x). Each block's product is the same exact
// int32 sum times dw * dx, and the blocks are summed in order, rounded as in
// vec_dot_reference (ggml's scalar definition): the results are bit-identical
// to it. (The row-major SIMD kernels sum 8 partial sums per row instead.)
// Q4_K instead reproduces the row-major x86 kernel bit for bit (8 partial
// sums per row, kept as 8 vectors of 16 rows; pmaddubsw + pmaddwd with the
// sub-block scales): on the llama.cpp fixture model the scalar order flips a
// greedy token, the x86 order matches llama.cpp's own non-repacked kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/matmul.h"
#include "tensor/types.h"

namespace tandem {

inline constexpr int kPackRows = 16;

// True if this CPU has AVX512 F/BW/VL/VNNI and the environment variable
// TANDEM_REPACK is not "0" (set it to compare with the row-major kernels).
bool repack_available();

// True if a matrix of this type and shape has a packed layout (Q8_0 or Q4_0
// with n_in a multiple of 32, Q4_K with n_in a multiple of 256; n_out a
// multiple of kPackRows).
bool can_repack(TensorType type, int64_t n_in, int64_t n_out);

// Bytes of the packed copy (the row-major size; Q4_K 2.8% more), 0 if none.
size_t packed_bytes(TensorType type, int64_t n_in, int64_t n_out);

// Writes the packed copy of the row-major matrix `src` to `dst`
// (packed_bytes). Precondition: can_repack(type, n_in, n_out).
void repack(TensorType type, int64_t n_in, int64_t n_out, const uint8_t* src, uint8_t* dst);

// y[t * n_out + o] = dot(row o, x[t * n_in ...]) on w.packed, as matmul.
// Precondition: w.packed is set and repack_available().
void matmul_packed(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int n_threads,
                   std::vector<uint8_t>& scratch);

}  // namespace tandem
