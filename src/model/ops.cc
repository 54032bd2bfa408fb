#include "model/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/fp16.h"

namespace tandem::ops {

void rms_norm_reference(const float* x, const float* weight, float* out, int64_t n, float eps) {
  // As ggml_compute_forward_rms_norm_f32: each square is rounded to float,
  // then summed in double. Summing exact squares moves the scale by an ulp
  // now and then, which flips exact rounding ties when the activations are
  // quantized to Q8 (visible on quantized models with few distinct levels).
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (weight) {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale;
  }
}

RopeAngles::RopeAngles(int64_t n_rot, int64_t pos, float freq_base, float freq_scale)
    : theta_(static_cast<float>(pos)),
      theta_scale_(std::pow(freq_base, -2.0f / static_cast<float>(n_rot))),
      freq_scale_(freq_scale) {}

void RopeAngles::next(float* cos, float* sin) {
  *cos = std::cos(theta_ * freq_scale_);
  *sin = std::sin(theta_ * freq_scale_);
  theta_ *= theta_scale_;
}

void rope_reference(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
                    float freq_scale, RopeStyle style) {
  RopeAngles angles(n_rot, pos, freq_base, freq_scale);
  const int64_t half = n_rot / 2;
  for (int64_t i = 0; i < half; ++i) {
    float c, s;
    angles.next(&c, &s);
    const int64_t a = style == RopeStyle::kNormal ? 2 * i : i;
    const int64_t b = style == RopeStyle::kNormal ? 2 * i + 1 : i + half;
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + h * head_dim;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

namespace {

float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kGeluCoef = 0.044715f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kGeluCoef * x * x)));
}

// ggml evaluates GELU through a table indexed by the F16 encoding of x (with
// the result rounded to F16); doing the same keeps gemma's logits within
// llama.cpp's own run-to-run tolerance. Built once, 128 KiB.
const std::vector<uint16_t>& gelu_table() {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(65536);
    for (uint32_t h = 0; h < 65536; ++h) t[h] = fp32_to_fp16(gelu_tanh(fp16_to_fp32(static_cast<uint16_t>(h))));
    return t;
  }();
  return table;
}

}  // namespace

float gelu(float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return fp16_to_fp32(gelu_table()[fp32_to_fp16(x)]);
}

void softmax_reference(float* x, int64_t n) {
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void gated_activation_reference(float* gate, const float* up, int64_t n, FfnActivation act) {
  if (act == FfnActivation::kSilu) {
    for (int64_t i = 0; i < n; ++i) {
      const float g = gate[i];
      gate[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) gate[i] = gelu(gate[i]) * up[i];
  }
}

}  // namespace tandem::ops
