// A retrieval index: passages (id + text) and their embeddings by one
// embedder model (api::Model::embed(); for local GGUF models the mean-pooled
// last hidden state), L2-normalised, searched exactly by cosine similarity.
// `tandem index build` writes one, `tandem index query` and compose::Retrieval
// (compose/retrieval.h) read it.
//
// Search is a plain scan: one dot product per passage, then a partial sort of
// the k best. At 100,000 vectors of 512 floats that is about 50M multiply-adds,
// a few tens of milliseconds on one core (docs/retrieval.md has the
// measurements), small next to one forward pass of the embedder that every
// query pays anyway; so there is no approximate index.
//
// File format (all integers little-endian, floats IEEE-754 binary32):
//
//   magic     8 bytes  "TNDMRIDX"
//   version   u32      1
//   embedder  u32 n, then n bytes     the model whose embed() made the vectors
//   dim       u32                     1 .. kMaxDim
//   count     u64                     >= 1
//   passages  count x (u32 n, n bytes id; u32 n, n bytes text)
//   vectors   count x dim floats      finite, each of unit length
//   (nothing after)
//
// The reader is strict, as the file is untrusted input: every length is
// checked against the bytes left before anything is allocated by it, so a
// truncated or corrupt file (a wrong magic or version, a count or length
// past the end, a vector that is not finite or not of unit length, trailing
// bytes, duplicate ids) is one tandem::Error naming the file and the problem,
// never a crash or a huge allocation (fuzz/retrieval_index_fuzz.cc).
//
// Thread-safety: an index is filled by add() on one thread, then immutable;
// every const method (search() included) may run concurrently. Loaded
// indexes are immutable from the start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace tandem::compose {

struct Passage {
  std::string id;
  std::string text;
};

// One search result: the passage's position in the index and its cosine
// similarity to the query.
struct RetrievalHit {
  size_t index = 0;
  float cosine = 0.0f;
};

class RetrievalIndex {
 public:
  static constexpr char kMagic[8] = {'T', 'N', 'D', 'M', 'R', 'I', 'D', 'X'};
  static constexpr uint32_t kVersion = 1;
  static constexpr uint32_t kMaxDim = 1u << 16;
  // Longest id, text or embedder name, in bytes (64 MiB).
  static constexpr uint32_t kMaxString = 1u << 26;

  // An empty index of `dim`-dimensional embeddings by `embedder`. Throws
  // tandem::Error when the name is empty or dim is not in 1..kMaxDim.
  RetrievalIndex(std::string embedder, size_t dim);

  // Appends a passage and its embedding (normalised here; a zero vector stays
  // zero). Throws tandem::Error when the id is empty or already present, the
  // text is empty, the id or text is longer than kMaxString bytes, or the
  // embedding has another dimension or a value that is not finite.
  void add(Passage passage, std::span<const float> embedding);

  const std::string& embedder() const { return embedder_; }
  size_t dim() const { return dim_; }
  size_t size() const { return passages_.size(); }
  const Passage& passage(size_t i) const { return passages_[i]; }
  // The normalised embedding of passage i (dim() floats).
  std::span<const float> vector(size_t i) const { return {vectors_.data() + i * dim_, dim_}; }

  // The min(k, size()) passages most similar to `query` (normalised here; a
  // zero query gives cosine 0 for all), by cosine, highest first; equal
  // cosines in index order. Throws tandem::Error
  // when the query's dimension is not dim() or it holds a non-finite value.
  std::vector<RetrievalHit> search(std::span<const float> query, size_t k) const;

  // The file's bytes (format above) and its reader; `name` (a file name)
  // starts every error message. parse() of serialize() gives an equal index.
  std::string serialize() const;
  static RetrievalIndex parse(std::string_view bytes, const std::string& name);

  // Writes (through PATH.tmp, renamed into place) / reads (mapped) a file.
  // Throws tandem::Error naming the file.
  void save(const std::string& path) const;
  static RetrievalIndex load(const std::string& path);

 private:
  std::string embedder_;
  size_t dim_ = 0;
  std::vector<Passage> passages_;
  std::vector<float> vectors_;  // size() x dim_, row-major
  std::unordered_set<std::string> ids_;
};

}  // namespace tandem::compose
