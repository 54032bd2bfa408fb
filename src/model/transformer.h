// A decoder-only transformer loaded from a GGUF file (llama and its relatives),
// evaluated on the CPU.
//
// Where the weights live: load copies every weight matrix out of the file
// mapping into one huge-page buffer (util/huge_pages.h), repacked for the
// AVX512-VNNI kernels where the CPU has them (tensor/repack.h), and releases
// the mapping's pages of the originals, so resident memory stays about one
// model's size (place_weights in transformer.cc). Norm weights and biases are
// copied as F32, and matrices merged with LoRA adapters are owned F32 copies.
// What stays in the mapping: the token embedding table (each pass reads only
// its tokens' rows) and, with LoadOptions::mapped_weights, the matrices that
// are not repacked.
//
// Usage:
//   auto model = Transformer::load("model.gguf");
//   KvCache cache = model->new_cache(512);
//   ForwardContext ctx = model->new_context();
//   std::vector<float> logits;
//   model->forward(ctx, cache, prompt_ids, Logits::kLast, logits);   // prefill
//   model->forward(ctx, cache, {next_id}, Logits::kLast, logits);    // one decode step
//
// The model keeps no per-request state (as gemma.cpp's Gemma, which takes the
// KV cache and the matmul environment per call): a sequence is its KvCache,
// and the working memory of a pass is a ForwardContext the caller owns.
//
// Thread-safety: a Transformer is immutable after load, and all its methods
// are const. Any number of threads may call forward() / forward_batch() on
// one Transformer at the same time, each with its own KvCache(s) and its own
// ForwardContext; a cache or a context must not be used by two passes at
// once. Several models may live in one process (nothing is global, except the
// kernel selection of tensor/matmul.h: set it before starting parallel work).
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
  // The final hidden state of every token, after the output norm: n_tokens x
  // n_embd floats (row t times the output matrix gives kAll's row t). For
  // embeddings (LocalModel::embed mean-pools these rows).
  kHidden,
};

struct LoadOptions {
  // Threads of the contexts new_context() makes; 0: all hardware threads.
  int n_threads = 0;
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

// One sequence's share of a batched forward pass (the caller owns `cache`
// and `out`; they must stay alive for the call).
struct SequenceInput {
  KvCache* cache = nullptr;
  std::span<const TokenId> tokens;
  Logits logits = Logits::kLast;
  std::vector<float>* out = nullptr;  // receives the logits as requested
};

// The working memory of forward passes, plus the number of threads they run
// on. Buffers grow to the largest pass seen and are kept, so after the first
// calls a decode step allocates nothing: keep one context per caller (e.g.
// per sequence, or one for a loop of batched passes) rather than one per
// call. A context is not tied to a model; used with several, it grows to fit
// the largest. Creating one allocates nothing (buffers come with the first
// pass). Movable (a moved-from context is empty, still usable); not copyable:
// a copy would only duplicate scratch.
//
// Not thread-safe: one context serves one pass at a time. Concurrent passes
// each start their own OpenMP team of n_threads(); give each a share of the
// cores, or they oversubscribe them.
class ForwardContext {
 public:
  // n_threads <= 0: all hardware threads.
  explicit ForwardContext(int n_threads = 0);
  ~ForwardContext();
  ForwardContext(ForwardContext&& other) noexcept;
  ForwardContext& operator=(ForwardContext&& other) noexcept;
  ForwardContext(const ForwardContext&) = delete;
  ForwardContext& operator=(const ForwardContext&) = delete;

  int n_threads() const { return n_threads_; }  // >= 1

 private:
  friend class Transformer;
  struct Buffers;  // defined in transformer.cc
  Buffers& buffers();  // created on first use
  int n_threads_;
  std::unique_ptr<Buffers> buffers_;
};

class Transformer {
 public:
  // Loads the model and its tokenizer. Throws tandem::Error naming the file
  // and the problem (unsupported architecture or tensor type, missing tensor,
  // shape contradicting the metadata, vocabulary size mismatch, ...).
  static std::unique_ptr<Transformer> load(const std::string& path, const LoadOptions& options = {});
  ~Transformer();
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const;
  const gguf::File& file() const;
  // LoadOptions::n_threads resolved (>= 1): the thread count of new_context().
  int n_threads() const;

  // A cache for up to n_ctx positions (n_ctx <= 0: the training context).
  KvCache new_cache(int64_t n_ctx) const;
  // An empty context running on n_threads() threads.
  ForwardContext new_context() const { return ForwardContext(n_threads()); }

  // Appends `tokens` to the sequence in `cache` (positions n_past ...) and
  // writes the requested logits to `out`, using `ctx` as working memory.
  // `cache` must come from this model's new_cache(). Throws tandem::Error if
  // the tokens do not fit into the cache or an id is outside the vocabulary;
  // then the cache is unchanged.
  void forward(ForwardContext& ctx, KvCache& cache, std::span<const TokenId> tokens, Logits which,
               std::vector<float>& out) const;

  // Several sequences in one pass, the weights read once for all their
  // tokens; `ctx` is the working memory of the whole pass. Each sequence has
  // its own cache (two inputs naming one cache throw tandem::Error). Errors
  // as forward(), checked for every sequence before any cache changes.
  void forward_batch(ForwardContext& ctx, std::span<SequenceInput> batch) const;

 private:
  Transformer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
