// Loading and evaluating a decoder-only transformer. The forward pass is written
// once for all supported architectures; ArchTraits (model/arch.h) selects the
// variations (rope style, biases, q/k norm, fused matrices, activation).
#include "model/transformer.h"

#include <omp.h>

#include <algorithm>
#include <map>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>

#include "gguf/gguf.h"
#include "model/arch.h"
#include "model/attention.h"
#include "model/ops.h"
#include "tensor/matmul.h"
#include "tensor/quant.h"
#include "tensor/repack.h"
#include "util/error.h"
#include "util/huge_pages.h"
#include "util/mapped_file.h"
#include "util/system.h"

namespace tandem {
namespace {

struct LayerWeights {
  const float* attn_norm = nullptr;
  WeightMatrix wq, wk, wv, wqkv, wo;
  const float* bq = nullptr;
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* q_norm = nullptr;
  const float* k_norm = nullptr;
  const float* ffn_norm = nullptr;
  WeightMatrix w_gate, w_up, w_down;
};

}  // namespace

// Buffers reused across forward passes; they only grow, so after the first
// calls a decode step allocates nothing.
struct ForwardContext::Buffers {
  std::vector<float> x, xn, q, k, v, qkv, attn, tmp, gate, up, scores, last_rows;
  std::vector<uint8_t> scratch;
  std::vector<int32_t> seq_of;  // batch token -> its sequence
  std::vector<int64_t> pos_of;  // batch token -> its position
  static void grow(std::vector<float>& b, size_t n) {
    if (b.size() < n) b.resize(n);
  }
};

ForwardContext::ForwardContext(int n_threads) {
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  n_threads_ = n_threads > 0 ? n_threads : (hw > 0 ? hw : 1);
}
ForwardContext::~ForwardContext() = default;
ForwardContext::ForwardContext(ForwardContext&& other) noexcept = default;
ForwardContext& ForwardContext::operator=(ForwardContext&& other) noexcept = default;

ForwardContext::Buffers& ForwardContext::buffers() {
  if (!buffers_) buffers_ = std::make_unique<Buffers>();
  return *buffers_;
}

struct Transformer::Impl {
  std::unique_ptr<gguf::File> file;
  ModelConfig config;
  const ArchTraits* arch = nullptr;
  std::unique_ptr<Tokenizer> tokenizer;
  const gguf::TensorInfo* token_embd = nullptr;
  // Unmap the embedding table after each lookup (see forward); false while
  // the output product reads the same mapped rows (tied, not repacked).
  bool release_embedding_pages = false;
  const float* output_norm = nullptr;
  WeightMatrix output;
  std::vector<LayerWeights> layers;
  std::vector<std::vector<float>> owned;  // 1-D tensors, copied as F32
  // The matrices in the layout the kernels read (place_weights).
  HugePageBuffer matrices;
  int n_threads = 1;  // for new contexts

  void bind_weights();
  void place_weights(bool repack_matrices, bool copy_others);
  WeightMatrix matrix(const std::string& name, int64_t n_in, int64_t n_out);
  const float* vector(const std::string& name, int64_t n, bool required = true);
  void check_shape(const gguf::TensorInfo& t, std::initializer_list<int64_t> want);
  void forward(ForwardContext::Buffers& w, int n_threads, std::span<SequenceInput> batch) const;
};

void Transformer::Impl::check_shape(const gguf::TensorInfo& t, std::initializer_list<int64_t> want) {
  std::vector<int64_t> w(want);
  std::vector<int64_t> got = t.ne;
  while (got.size() > w.size() && got.back() == 1) got.pop_back();
  if (got != w) {
    std::string ws = "[";
    for (size_t i = 0; i < w.size(); ++i) ws += (i ? ", " : "") + std::to_string(w[i]);
    file->fail("tensor " + t.name + " has shape " + t.shape_string() + " but the metadata implies " + ws + "]");
  }
}

WeightMatrix Transformer::Impl::matrix(const std::string& name, int64_t n_in, int64_t n_out) {
  const gguf::TensorInfo& t = file->tensor(name);
  check_shape(t, {n_in, n_out});
  if (!matmul_supports(t.type)) {
    file->fail("tensor " + name + " has type " + std::string(type_name(t.type)) +
               ", which tandem cannot multiply yet");
  }
  return WeightMatrix{t.type, n_in, n_out, t.data};
}

const float* Transformer::Impl::vector(const std::string& name, int64_t n, bool required) {
  const gguf::TensorInfo* t = file->find_tensor(name);
  if (!t) {
    if (required) file->fail("tensor " + name + " is missing");
    return nullptr;
  }
  check_shape(*t, {n});
  if (!can_dequantize(t->type)) file->fail("tensor " + name + " has unsupported type " + std::string(type_name(t->type)));
  // Always a copy, F32 included: these few KiB sit between large matrices in
  // the file, and reading them from the mapping would fault in their
  // neighbours' pages (fault-around, large page-cache folios), undoing
  // place_weights' release of the original matrices.
  owned.emplace_back(static_cast<size_t>(n));
  dequantize_row(t->type, t->data, owned.back().data(), n);
  return owned.back().data();
}

void Transformer::Impl::bind_weights() {
  const ModelConfig& c = config;
  token_embd = &file->tensor("token_embd.weight");
  check_shape(*token_embd, {c.n_embd, c.n_vocab});
  if (!can_dequantize(token_embd->type)) {
    file->fail("tensor token_embd.weight has unsupported type " + std::string(type_name(token_embd->type)));
  }
  output_norm = vector("output_norm.weight", c.n_embd);
  if (file->find_tensor("output.weight")) {
    output = matrix("output.weight", c.n_embd, c.n_vocab);
  } else {
    output = matrix("token_embd.weight", c.n_embd, c.n_vocab);  // tied embeddings
  }
  const int64_t q_dim = c.n_head * c.head_dim_k, k_dim = c.n_head_kv * c.head_dim_k;
  const int64_t v_dim = c.n_head_kv * c.head_dim_v, o_dim = c.n_head * c.head_dim_v;
  layers.resize(static_cast<size_t>(c.n_layer));
  for (int64_t l = 0; l < c.n_layer; ++l) {
    LayerWeights& L = layers[static_cast<size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    L.attn_norm = vector(p + "attn_norm.weight", c.n_embd);
    if (arch->fused_qkv) {
      L.wqkv = matrix(p + "attn_qkv.weight", c.n_embd, q_dim + k_dim + v_dim);
    } else {
      L.wq = matrix(p + "attn_q.weight", c.n_embd, q_dim);
      L.wk = matrix(p + "attn_k.weight", c.n_embd, k_dim);
      L.wv = matrix(p + "attn_v.weight", c.n_embd, v_dim);
    }
    if (arch->qkv_bias) {
      L.bq = vector(p + "attn_q.bias", q_dim);
      L.bk = vector(p + "attn_k.bias", k_dim);
      L.bv = vector(p + "attn_v.bias", v_dim);
    }
    if (arch->qk_norm) {
      L.q_norm = vector(p + "attn_q_norm.weight", c.head_dim_k);
      L.k_norm = vector(p + "attn_k_norm.weight", c.head_dim_k);
    }
    L.wo = matrix(p + "attn_output.weight", o_dim, c.n_embd);
    L.ffn_norm = vector(p + "ffn_norm.weight", c.n_embd);
    if (arch->fused_gate_up) {
      L.w_up = matrix(p + "ffn_up.weight", c.n_embd, 2 * c.n_ff);
    } else {
      L.w_gate = matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff);
      L.w_up = matrix(p + "ffn_up.weight", c.n_embd, c.n_ff);
    }
    L.w_down = matrix(p + "ffn_down.weight", c.n_ff, c.n_embd);
  }
}

// Moves every matrix that lies in the mapped file into one huge-page buffer
// (util/huge_pages.h): repacked where `repack_matrices` and the type has a
// packed layout (tensor/repack.h), else copied row for row if `copy_others`
// (else left in the mapping); then releases the file's pages of the
// original, so resident memory stays about one model's size. A
// tied output matrix is moved too: the embedding lookup then faults back in
// only the rows it reads. Matrices merged with LoRA adapters are owned F32
// copies already and stay where they are.
void Transformer::Impl::place_weights(bool repack_matrices, bool copy_others) {
  std::vector<WeightMatrix*> all{&output};
  for (LayerWeights& L : layers) {
    for (WeightMatrix* w : {&L.wq, &L.wk, &L.wv, &L.wqkv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) all.push_back(w);
  }
  auto packs = [&](const WeightMatrix& w) { return repack_matrices && can_repack(w.type, w.n_in, w.n_out); };
  std::erase_if(all, [&](const WeightMatrix* w) {
    return w->data == nullptr || !file->maps(w->data) || (!copy_others && !packs(*w));
  });
  auto rows_bytes = [](const WeightMatrix& w) { return static_cast<size_t>(w.n_out) * w.row_stride(); };
  auto bytes = [&](const WeightMatrix& w) {
    const size_t n = packs(w) ? packed_bytes(w.type, w.n_in, w.n_out) : rows_bytes(w);
    return (n + 63) / 64 * 64;  // every matrix 64-byte aligned
  };
  size_t total = 0;
  for (const WeightMatrix* w : all) total += bytes(*w);
  matrices = HugePageBuffer(total);
  uint8_t* dst = matrices.data();
  for (WeightMatrix* w : all) {
    const uint8_t* original = w->data;
    if (packs(*w)) {
      repack(w->type, w->n_in, w->n_out, original, dst);
      w->packed = dst;
    } else {
      std::memcpy(dst, original, rows_bytes(*w));
      w->data = dst;
    }
    dst += bytes(*w);
    release_mapped_pages(original, rows_bytes(*w));
  }
}

Transformer::Transformer() : impl_(std::make_unique<Impl>()) {}
Transformer::~Transformer() = default;

std::unique_ptr<Transformer> Transformer::load(const std::string& path, const LoadOptions& options) {
  std::unique_ptr<Transformer> t(new Transformer());
  Impl& m = *t->impl_;
  m.file = gguf::File::open(path);
  m.config = ModelConfig::from_gguf(*m.file);
  m.arch = find_arch(m.config.arch);
  m.tokenizer = Tokenizer::from_gguf(*m.file);
  const gguf::TensorInfo& embd = m.file->tensor("token_embd.weight");
  if (embd.ne.size() < 2) m.file->fail("tensor token_embd.weight must be 2-D");
  m.config.n_vocab = embd.ne[1];
  if (m.tokenizer->n_vocab() != m.config.n_vocab) {
    m.file->fail("the tokenizer has " + std::to_string(m.tokenizer->n_vocab()) +
                 " tokens but token_embd.weight has " + std::to_string(m.config.n_vocab) +
                 " rows: the vocabulary does not fit the model");
  }
  if (int64_t vs = m.file->get_int_or(m.config.arch + ".vocab_size", m.config.n_vocab); vs != m.config.n_vocab) {
    m.file->fail(m.config.arch + ".vocab_size is " + std::to_string(vs) + " but token_embd.weight has " +
                 std::to_string(m.config.n_vocab) + " rows");
  }
  m.bind_weights();
  if (!options.lora.empty()) {
    std::map<std::string, WeightMatrix*> targets;
    if (m.file->find_tensor("output.weight")) targets["output.weight"] = &m.output;
    for (int64_t l = 0; l < m.config.n_layer; ++l) {
      LayerWeights& L = m.layers[static_cast<size_t>(l)];
      const std::string p = "blk." + std::to_string(l) + ".";
      for (auto [name, w] : {std::pair{"attn_q", &L.wq}, {"attn_k", &L.wk}, {"attn_v", &L.wv}, {"attn_qkv", &L.wqkv},
                             {"attn_output", &L.wo}, {"ffn_gate", &L.w_gate}, {"ffn_up", &L.w_up},
                             {"ffn_down", &L.w_down}}) {
        if (w->data) targets[p + name + ".weight"] = w;
      }
    }
    apply_lora_adapters(options.lora, m.config.arch, targets, m.owned);
  }
  const bool mapped_weights = options.mapped_weights || env_flag("TANDEM_MAPPED_WEIGHTS");
  m.place_weights(options.repack && repack_available(), !mapped_weights);
  m.release_embedding_pages = m.output.packed != nullptr || m.output.data != m.token_embd->data;
  m.n_threads = ForwardContext(options.n_threads).n_threads();
  return t;
}

const ModelConfig& Transformer::config() const { return impl_->config; }
const Tokenizer& Transformer::tokenizer() const { return *impl_->tokenizer; }
const gguf::File& Transformer::file() const { return *impl_->file; }
int Transformer::n_threads() const { return impl_->n_threads; }

KvCache Transformer::new_cache(int64_t n_ctx) const {
  return KvCache(impl_->config, n_ctx > 0 ? n_ctx : impl_->config.n_ctx_train);
}

void Transformer::forward(ForwardContext& ctx, KvCache& cache, std::span<const TokenId> tokens, Logits which,
                          std::vector<float>& out) const {
  SequenceInput in{&cache, tokens, which, &out};
  impl_->forward(ctx.buffers(), ctx.n_threads(), std::span<SequenceInput>(&in, 1));
}

void Transformer::forward_batch(ForwardContext& ctx, std::span<SequenceInput> batch) const {
  impl_->forward(ctx.buffers(), ctx.n_threads(), batch);
}

void Transformer::Impl::forward(ForwardContext::Buffers& w, int n_threads, std::span<SequenceInput> batch) const {
  const ModelConfig& c = config;
  const int64_t n_embd = c.n_embd, hd_k = c.head_dim_k, hd_v = c.head_dim_v;
  const int64_t q_dim = c.n_head * hd_k, k_dim = c.n_head_kv * hd_k, v_dim = c.n_head_kv * hd_v;
  const int64_t o_dim = c.n_head * hd_v;
  const int64_t group = c.n_head / c.n_head_kv;

  // Token t of the whole batch belongs to sequence seq_of[t] at position pos_of[t].
  int64_t T = 0;
  int64_t max_ctx = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const SequenceInput& s = batch[i];
    if (!s.cache) throw Error("forward: sequence without a KV cache");
    for (size_t j = 0; j < i; ++j) {
      if (batch[j].cache == s.cache) throw Error("forward_batch: sequences " + std::to_string(j) + " and " +
                                                 std::to_string(i) + " share one KV cache (give each its own)");
    }
    if (s.logits != Logits::kNone && !s.out) throw Error("forward: logits requested without an output buffer");
    const int64_t n = static_cast<int64_t>(s.tokens.size());
    if (s.cache->n_past() + n > s.cache->n_ctx()) {
      throw Error("the input of " + std::to_string(n) + " tokens does not fit into the context: " +
                  std::to_string(s.cache->n_past()) + " of " + std::to_string(s.cache->n_ctx()) +
                  " positions are used (increase the context size or shorten the prompt)");
    }
    for (TokenId id : s.tokens) {
      if (id < 0 || id >= c.n_vocab) {
        throw Error("token id " + std::to_string(id) + " is outside the vocabulary (0.." + std::to_string(c.n_vocab - 1) + ")");
      }
    }
    T += n;
    max_ctx = std::max(max_ctx, s.cache->n_past() + n);
  }
  if (T == 0) return;
  w.seq_of.resize(static_cast<size_t>(T));
  w.pos_of.resize(static_cast<size_t>(T));
  std::vector<int32_t>& seq_of = w.seq_of;
  std::vector<int64_t>& pos_of = w.pos_of;
  {
    int64_t t = 0;
    for (size_t s = 0; s < batch.size(); ++s) {
      for (size_t i = 0; i < batch[s].tokens.size(); ++i, ++t) {
        seq_of[static_cast<size_t>(t)] = static_cast<int32_t>(s);
        pos_of[static_cast<size_t>(t)] = batch[s].cache->n_past() + static_cast<int64_t>(i);
      }
    }
  }

  w.grow(w.x, static_cast<size_t>(T * n_embd));
  w.grow(w.xn, static_cast<size_t>(T * n_embd));
  w.grow(w.tmp, static_cast<size_t>(T * n_embd));
  w.grow(w.q, static_cast<size_t>(T * q_dim));
  w.grow(w.k, static_cast<size_t>(T * k_dim));
  w.grow(w.v, static_cast<size_t>(T * v_dim));
  w.grow(w.attn, static_cast<size_t>(T * o_dim));
  w.grow(w.gate, static_cast<size_t>(T * c.n_ff * (arch->fused_gate_up ? 2 : 1)));
  w.grow(w.up, static_cast<size_t>(T * c.n_ff));
  if (arch->fused_qkv) w.grow(w.qkv, static_cast<size_t>(T * (q_dim + k_dim + v_dim)));
  w.grow(w.scores, static_cast<size_t>(n_threads * max_ctx));

  // Embeddings.
  {
    int64_t t = 0;
    const size_t stride = row_bytes(token_embd->type, n_embd);
    const float scale = arch->scale_embeddings ? std::sqrt(static_cast<float>(n_embd)) : 1.0f;
    for (const SequenceInput& s : batch) {
      for (TokenId id : s.tokens) {
        float* dst = w.x.data() + t * n_embd;
        dequantize_row(token_embd->type, token_embd->data + static_cast<size_t>(id) * stride, dst, n_embd);
        if (scale != 1.0f) {
          for (int64_t i = 0; i < n_embd; ++i) dst[i] *= scale;
        }
        ++t;
      }
    }
    // Reading a row maps its neighbours too (fault-around, large page-cache
    // folios); over a few hundred random tokens that made 45 of the 50 MiB of
    // a 32k x 1536 Q8_0 table resident. Unmapping the table after each lookup
    // keeps its resident share at one batch's rows; the pages stay in the
    // page cache, so the next lookup costs a minor fault per row.
    if (release_embedding_pages) release_mapped_pages(token_embd->data, token_embd->nbytes);
  }

  const float attn_scale = 1.0f / std::sqrt(static_cast<float>(hd_k));
  const bool use_reference = reference_kernels();
  const auto rms_norm = use_reference ? ops::rms_norm_reference : ops::rms_norm;
  const auto rope = use_reference ? ops::rope_reference : ops::rope;
  const auto gated_activation = use_reference ? ops::gated_activation_reference : ops::gated_activation;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& L = layers[static_cast<size_t>(l)];
    for (int64_t t = 0; t < T; ++t) {
      rms_norm(w.x.data() + t * n_embd, L.attn_norm, w.xn.data() + t * n_embd, n_embd, c.norm_eps);
    }
    if (arch->fused_qkv) {
      const int64_t n = q_dim + k_dim + v_dim;
      matmul(L.wqkv, w.xn.data(), T, w.qkv.data(), n_threads, w.scratch);
      for (int64_t t = 0; t < T; ++t) {
        const float* row = w.qkv.data() + t * n;
        std::copy_n(row, q_dim, w.q.data() + t * q_dim);
        std::copy_n(row + q_dim, k_dim, w.k.data() + t * k_dim);
        std::copy_n(row + q_dim + k_dim, v_dim, w.v.data() + t * v_dim);
      }
    } else {
      matmul(L.wq, w.xn.data(), T, w.q.data(), n_threads, w.scratch);
      matmul(L.wk, w.xn.data(), T, w.k.data(), n_threads, w.scratch);
      matmul(L.wv, w.xn.data(), T, w.v.data(), n_threads, w.scratch);
    }
    for (int64_t t = 0; t < T; ++t) {
      float* q = w.q.data() + t * q_dim;
      float* k = w.k.data() + t * k_dim;
      float* v = w.v.data() + t * v_dim;
      if (L.bq) {
        ops::add(q, L.bq, q_dim);
        ops::add(k, L.bk, k_dim);
        ops::add(v, L.bv, v_dim);
      }
      if (L.q_norm) {
        for (int64_t h = 0; h < c.n_head; ++h) rms_norm(q + h * hd_k, L.q_norm, q + h * hd_k, hd_k, c.norm_eps);
        for (int64_t h = 0; h < c.n_head_kv; ++h) rms_norm(k + h * hd_k, L.k_norm, k + h * hd_k, hd_k, c.norm_eps);
      }
      const int64_t pos = pos_of[static_cast<size_t>(t)];
      rope(q, c.n_head, hd_k, c.n_rot, pos, c.rope_freq_base, c.rope_freq_scale, arch->rope);
      rope(k, c.n_head_kv, hd_k, c.n_rot, pos, c.rope_freq_base, c.rope_freq_scale, arch->rope);
      KvCache& cache = *batch[static_cast<size_t>(seq_of[static_cast<size_t>(t)])].cache;
      std::copy_n(k, k_dim, cache.keys(l, pos));
      std::copy_n(v, v_dim, cache.values(l, pos));
    }

    // Causal attention: token t sees positions 0..pos_of[t] of its own sequence.
    // Threads only pay off when there is enough work to amortize waking them.
    const int64_t n_work = T * c.n_head;
    const bool parallel = n_threads > 1 && n_work > 1 && n_work * max_ctx * (hd_k + hd_v) >= (1 << 16);
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1) if (parallel)
    for (int64_t job = 0; job < n_work; ++job) {
      const int64_t t = job / c.n_head, h = job % c.n_head, kvh = h / group;
      const KvCache& cache = *batch[static_cast<size_t>(seq_of[static_cast<size_t>(t)])].cache;
      const int64_t n_pos = pos_of[static_cast<size_t>(t)] + 1;
      float* scores = w.scores.data() + static_cast<int64_t>(omp_get_thread_num()) * max_ctx;
      const float* q = w.q.data() + t * q_dim + h * hd_k;
      float* out = w.attn.data() + t * o_dim + h * hd_v;
      (use_reference ? ops::attend_reference : ops::attend)(q, cache.keys(l, 0) + kvh * hd_k, cache.key_stride(),
                                                             cache.values(l, 0) + kvh * hd_v, cache.value_stride(),
                                                             n_pos, hd_k, hd_v, attn_scale, scores, out);
    }
    matmul(L.wo, w.attn.data(), T, w.tmp.data(), n_threads, w.scratch);
    ops::add(w.x.data(), w.tmp.data(), T * n_embd);

    // Feed-forward.
    for (int64_t t = 0; t < T; ++t) {
      rms_norm(w.x.data() + t * n_embd, L.ffn_norm, w.xn.data() + t * n_embd, n_embd, c.norm_eps);
    }
    if (arch->fused_gate_up) {
      matmul(L.w_up, w.xn.data(), T, w.gate.data(), n_threads, w.scratch);
      // Each row holds gate (first n_ff) then up (next n_ff); compact in place.
      for (int64_t t = 0; t < T; ++t) {
        const float* row = w.gate.data() + t * 2 * c.n_ff;
        std::copy_n(row + c.n_ff, c.n_ff, w.up.data() + t * c.n_ff);
      }
      for (int64_t t = 0; t < T; ++t) {
        std::copy_n(w.gate.data() + t * 2 * c.n_ff, c.n_ff, w.gate.data() + t * c.n_ff);
      }
    } else {
      matmul(L.w_gate, w.xn.data(), T, w.gate.data(), n_threads, w.scratch);
      matmul(L.w_up, w.xn.data(), T, w.up.data(), n_threads, w.scratch);
    }
    gated_activation(w.gate.data(), w.up.data(), T * c.n_ff, arch->activation);
    matmul(L.w_down, w.gate.data(), T, w.tmp.data(), n_threads, w.scratch);
    ops::add(w.x.data(), w.tmp.data(), T * n_embd);
  }

  // Output: normalize and project only the rows whose logits are wanted.
  int64_t t0 = 0;
  for (SequenceInput& s : batch) {
    const int64_t n = static_cast<int64_t>(s.tokens.size());
    s.cache->set_n_past(s.cache->n_past() + n);
    if (s.logits == Logits::kHidden && n > 0) {
      s.out->resize(static_cast<size_t>(n * n_embd));
      for (int64_t r = 0; r < n; ++r)
        rms_norm(w.x.data() + (t0 + r) * n_embd, output_norm, s.out->data() + r * n_embd, n_embd, c.norm_eps);
    } else if (s.logits != Logits::kNone && n > 0) {
      const int64_t first = s.logits == Logits::kAll ? t0 : t0 + n - 1;
      const int64_t rows = t0 + n - first;
      w.grow(w.last_rows, static_cast<size_t>(rows * n_embd));
      for (int64_t r = 0; r < rows; ++r) {
        rms_norm(w.x.data() + (first + r) * n_embd, output_norm, w.last_rows.data() + r * n_embd, n_embd,
                      c.norm_eps);
      }
      s.out->resize(static_cast<size_t>(rows * c.n_vocab));
      matmul(output, w.last_rows.data(), rows, s.out->data(), n_threads, w.scratch);
    }
    t0 += n;
  }
}

}  // namespace tandem
