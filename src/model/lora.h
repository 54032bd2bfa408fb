// LoRA adapters applied at load time: for every adapted matrix W (n_out rows
// of n_in), W' = W + scale * (alpha / rank) * B A, where the adapter GGUF holds
// "<W's name>.lora_a" (GGUF shape {n_in, rank}) and "<W's name>.lora_b"
// ({rank, n_out}), general.type = "adapter", adapter.type = "lora" and
// adapter.lora.alpha: the format of llama.cpp's adapters and of
// `tandem train --lora-rank`.
//
// Merging (rather than adding B (A x) at every step) keeps the forward pass
// unchanged and as fast as before; the price is memory: an adapted matrix
// becomes an owned F32 copy (a quantized base is dequantized row by row first),
// while every other matrix stays mapped from the model file.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tensor/matmul.h"

namespace tandem {

struct LoraAdapter {
  std::string path;
  float scale = 1.0f;  // user scale (llama.cpp's --lora-scaled); 0 disables
};

// Merges each adapter, in order, into the matrices of `targets` (tensor name
// -> the model's bound matrix, rebound to a buffer appended to `owned`).
// Throws tandem::Error naming the adapter file for: a file that is not a LoRA
// adapter, another architecture than `arch`, a lora_a without its lora_b (or
// the reverse), a tensor the model has no matrix for, or shapes that do not
// fit the matrix or each other.
void apply_lora_adapters(const std::vector<LoraAdapter>& adapters, const std::string& arch,
                         const std::map<std::string, WeightMatrix*>& targets, std::vector<std::vector<float>>& owned);

}  // namespace tandem
