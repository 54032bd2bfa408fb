#include "tensor/matmul.h"

#include <omp.h>

#include <algorithm>
#include <string>

#include "tensor/kernels.h"
#include "tensor/quant.h"
#include "tensor/repack.h"
#include "util/error.h"
#include "util/system.h"

namespace tandem {

namespace {
bool g_reference = env_flag("TANDEM_REFERENCE_KERNELS");
}  // namespace

void set_reference_kernels(bool on) { g_reference = on; }
bool reference_kernels() { return g_reference; }

// As ggml's vec_dot_type: the type the activations are encoded to.
TensorType activation_type(TensorType weight_type) {
  using T = TensorType;
  switch (weight_type) {
    case T::F32: return T::F32;
    case T::F16: return T::F16;
    case T::BF16: return T::BF16;
    case T::Q4_0: case T::Q5_0: case T::Q8_0: return T::Q8_0;
    case T::Q4_1: case T::Q5_1: return T::Q8_1;
    case T::Q2_K: case T::Q3_K: case T::Q4_K: case T::Q5_K: case T::Q6_K: return T::Q8_K;
    default:
      throw Error("matrix products are not supported for tensor type " + std::string(type_name(weight_type)));
  }
}

bool matmul_supports(TensorType t) {
  using T = TensorType;
  switch (t) {
    case T::F32: case T::F16: case T::BF16: case T::Q4_0: case T::Q4_1: case T::Q5_0: case T::Q5_1:
    case T::Q8_0: case T::Q2_K: case T::Q3_K: case T::Q4_K: case T::Q5_K: case T::Q6_K:
      return true;
    default:
      return false;
  }
}

void encode_activations(TensorType act_type, const float* x, void* dst, int64_t n) {
  if (g_reference) {
    encode_activations_reference(act_type, x, dst, n);
  } else {
    kernels::encode(act_type, x, dst, n);
  }
}

float vec_dot(TensorType weight_type, int64_t n, const void* w, const void* a) {
  if (g_reference) return vec_dot_reference(weight_type, n, w, a);
  float out;
  kernels::dot_rows(weight_type, n, w, static_cast<const uint8_t*>(a), 0, 1, &out);
  return out;
}

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int n_threads,
            std::vector<uint8_t>& scratch) {
  if (w.packed != nullptr && !g_reference) return matmul_packed(w, x, n_tokens, y, n_threads, scratch);
  const TensorType act = activation_type(w.type);
  // F16 / BF16 weights: round the activations to the weight type as usual,
  // then widen them back to F32 once (exact), so the kernel converts only the
  // weights (kernels::dot_matrix with widened = true). Same values as the
  // encoded rows; for a single token it saves one conversion per weight vector.
  const bool widened = !g_reference && (act == TensorType::F16 || act == TensorType::BF16);
  const size_t act_stride = widened ? static_cast<size_t>(w.n_in) * sizeof(float) : row_bytes(act, w.n_in);
  const void* acts = x;
  // Activation row t in the kernels' input format (nothing to do for F32).
  auto prepare = [&](int64_t t) {
    uint8_t* dst = scratch.data() + static_cast<size_t>(t) * act_stride;
    if (!widened) {
      encode_activations(act, x + t * w.n_in, dst, w.n_in);
    } else if (act == TensorType::F16) {
      kernels::round_to_half(x + t * w.n_in, reinterpret_cast<float*>(dst), w.n_in);  // encode + widen, vectorized
    } else {  // BF16: encode into this token's spare half row, then widen
      uint8_t* half = scratch.data() + act_stride * static_cast<size_t>(n_tokens) + static_cast<size_t>(t) * row_bytes(act, w.n_in);
      encode_activations(act, x + t * w.n_in, half, w.n_in);
      dequantize_row(act, half, reinterpret_cast<float*>(dst), w.n_in);
    }
  };
  const bool encoded = act != TensorType::F32;
  if (encoded) {
    scratch.resize(act_stride * static_cast<size_t>(n_tokens) +
                   (widened ? row_bytes(act, w.n_in) * static_cast<size_t>(n_tokens) : 0));
    acts = scratch.data();
  }
  const auto* act_bytes = static_cast<const uint8_t*>(acts);
  const int64_t n_out = w.n_out;
  const bool parallel = n_threads > 1 && n_out * w.n_in * n_tokens > 32768;
  // The threaded SIMD path shares the encoding among its threads (done
  // serially, it left the other thread spinning for a fifth of a 2-thread
  // prefill); every other path encodes here.
  const bool shared_encoding = parallel && !g_reference;
  if (encoded && !shared_encoding) {
    for (int64_t t = 0; t < n_tokens; ++t) prepare(t);
  }
  if (g_reference) {
#pragma omp parallel for num_threads(n_threads) schedule(static) if (parallel)
    for (int64_t o = 0; o < n_out; ++o) {
      for (int64_t t = 0; t < n_tokens; ++t) {
        y[t * n_out + o] = vec_dot_reference(w.type, w.n_in, w.row(o), act_bytes + static_cast<size_t>(t) * act_stride);
      }
    }
    return;
  }
  // Tiling for prefill: tokens are taken in panels whose encoded activations
  // fit in L2 (~256 KiB), so each pass over the weights (from DRAM) serves a
  // whole panel; within a panel, dot_rows unpacks each weight row once per
  // kMaxActs tokens. Matrix-vector products (n_tokens == 1) are one panel.
  const int64_t panel = std::max<int64_t>(kernels::kMaxActs, static_cast<int64_t>((256 << 10) / act_stride) /
                                                                 kernels::kMaxActs * kernels::kMaxActs);
  const size_t w_stride = w.row_stride();
  // Rows [r0, r1) for every panel: one kernel call per panel.
  auto rows = [&](int64_t r0, int64_t r1) {
    for (int64_t t0 = 0; t0 < n_tokens; t0 += panel) {
      const int64_t t1 = std::min(n_tokens, t0 + panel);
      kernels::dot_matrix(w.type, w.n_in, w.data, w_stride, r0, r1, act_bytes + static_cast<size_t>(t0) * act_stride,
                          act_stride, t1 - t0, y + t0 * n_out, n_out, widened);
    }
  };
  if (!parallel) {  // no OpenMP region at all: small products are dominated by overhead
    rows(0, n_out);
    return;
  }
#pragma omp parallel num_threads(n_threads)
  {
    if (encoded) {
#pragma omp for schedule(static)
      for (int64_t t = 0; t < n_tokens; ++t) prepare(t);
    }
    // Static split of the rows, as `omp for schedule(static)` would do, but one
    // kernel call per thread and panel.
    const int n_thr = omp_get_num_threads(), me = omp_get_thread_num();
    rows(n_out * me / n_thr, n_out * (me + 1) / n_thr);
  }
}

}  // namespace tandem
