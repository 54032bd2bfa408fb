// The key/value cache of one sequence: for every layer, the keys and values of
// all positions processed so far, stored as F32 [position][kv_head][head_dim].
//
// One KvCache per sequence keeps sequences independent (best-of-N, speculative
// decoding, the server's slots); a shared prompt is computed once and copied
// with copy_prefix_from(). Memory is allocated once, for n_ctx positions.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace tandem {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t n_ctx);

  int64_t n_ctx() const { return n_ctx_; }
  // Number of positions stored; the next token goes to position n_past().
  int64_t n_past() const { return n_past_; }
  // Forgets positions >= n (e.g. rejected draft tokens). n <= n_past().
  void truncate(int64_t n);
  void clear() { n_past_ = 0; }
  // Makes this cache hold the first n positions of `other` (same model).
  void copy_prefix_from(const KvCache& other, int64_t n);

  float* keys(int64_t layer, int64_t pos) { return k_[layer].data() + pos * k_stride_; }
  float* values(int64_t layer, int64_t pos) { return v_[layer].data() + pos * v_stride_; }
  const float* keys(int64_t layer, int64_t pos) const { return k_[layer].data() + pos * k_stride_; }
  const float* values(int64_t layer, int64_t pos) const { return v_[layer].data() + pos * v_stride_; }
  // Floats from one position's keys (values) to the next position's.
  size_t key_stride() const { return static_cast<size_t>(k_stride_); }
  size_t value_stride() const { return static_cast<size_t>(v_stride_); }
  void set_n_past(int64_t n) { n_past_ = n; }  // used by the model after a forward pass

  size_t bytes() const;

 private:
  int64_t n_ctx_;
  int64_t n_past_ = 0;
  int64_t k_stride_, v_stride_;  // floats per position
  std::vector<std::vector<float>> k_, v_;
};

}  // namespace tandem
