// A decoder-only transformer loaded from a GGUF file (llama and its relatives),
// evaluated on the CPU with weights read straight from the file mapping.
//
// Usage:
//   auto model = Transformer::load("model.gguf");
//   KvCache cache = model->new_cache(512);
//   std::vector<float> logits;
//   model->forward(cache, prompt_ids, Logits::kLast, logits);   // prefill
//   model->forward(cache, {next_id}, Logits::kLast, logits);    // one decode step
//
// Thread-safety: a Transformer is immutable after load; forward() may run on
// several caches from several threads only if each thread uses its own
// Workspace (the default overloads use one internal workspace: not
// thread-safe).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/kv_cache.h"
#include "model/lora.h"
#include "tokenizer/tokenizer.h"

namespace tandem::gguf {
class File;
}

namespace tandem {

enum class Logits {
  kNone,  // only fill the cache
  kLast,  // logits of the last token: n_vocab floats
  kAll,   // logits of every token: n_tokens x n_vocab floats
};

struct LoadOptions {
  int n_threads = 0;  // 0: all hardware threads
  // LoRA adapters merged into the weights at load time (see model/lora.h).
  std::vector<LoraAdapter> lora = {};
  // Repack Q8_0 / Q4_0 / Q4_K matrices for the AVX512-VNNI kernels where the CPU has
  // them (tensor/repack.h); false keeps the file's row-major layout.
  bool repack = true;
  // Read the matrices that are not repacked straight from the file mapping
  // instead of copying them into huge pages (util/huge_pages.h): no copy at
  // load (on a fresh VM that first touch cost 1-2 s per GB), slower passes
  // where page walks are dear. TANDEM_MAPPED_WEIGHTS=1 sets it for every load.
  bool mapped_weights = false;
};

// One sequence's share of a batched forward pass.
struct SequenceInput {
  KvCache* cache = nullptr;
  std::span<const TokenId> tokens;
  Logits logits = Logits::kLast;
  std::vector<float>* out = nullptr;  // receives the logits as requested
};

class Transformer {
 public:
  // Loads the model and its tokenizer. Throws tandem::Error naming the file
  // and the problem (unsupported architecture or tensor type, missing tensor,
  // shape contradicting the metadata, vocabulary size mismatch, ...).
  static std::unique_ptr<Transformer> load(const std::string& path, const LoadOptions& options = {});
  ~Transformer();

  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const;
  const gguf::File& file() const;
  int n_threads() const;
  void set_n_threads(int n);

  // A cache for up to n_ctx positions (n_ctx <= 0: the training context).
  KvCache new_cache(int64_t n_ctx) const;

  // Appends `tokens` to the sequence in `cache` (positions n_past ...) and
  // writes the requested logits to `out`. Throws tandem::Error if the tokens
  // do not fit into the cache or an id is outside the vocabulary.
  void forward(KvCache& cache, std::span<const TokenId> tokens, Logits which, std::vector<float>& out);

  // Several sequences in one pass: weights are read once for all their tokens.
  void forward_batch(std::span<SequenceInput> batch);

 private:
  Transformer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
