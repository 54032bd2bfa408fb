#include "compose/retrieval_index.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "compose/embedding.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace tandem::compose {
namespace {

static_assert(std::endian::native == std::endian::little, "the index file is little-endian, as this host must be");

// Lengths of ids, texts and the embedder name: far above any real passage,
// far below what a u32 read from a corrupt file could claim.
constexpr uint32_t kMaxString = RetrievalIndex::kMaxString;

// Sum of squares in double, for checking unit length.
double squared_norm(std::span<const float> v) {
  double s = 0.0;
  for (float x : v) s += static_cast<double>(x) * x;
  return s;
}

// An id as error messages quote it: one line, at most 60 bytes.
std::string printable_id(const std::string& id) {
  std::string s = "'";
  s.append(id, 0, 60);
  s += id.size() > 60 ? "...'" : "'";
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

bool all_finite(std::span<const float> v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

// Dot product of two equal-length rows with 16 independent partial sums, so
// the compiler keeps them in vector registers (a single running sum is one
// long dependency chain: 100,000 rows of 512 took 27 ms with it, 7.7 ms with
// these on the test VM).
float dot(const float* a, const float* b, size_t n) {
  constexpr size_t kLanes = 16;
  float part[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) part[j] += a[i + j] * b[i + j];
  float s = 0.0f;
  for (; i < n; ++i) s += a[i] * b[i];
  for (float p : part) s += p;
  return s;
}

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_string(std::string& out, const std::string& s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

// Reads the file's fields in order; every read checks the bytes left first.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(name_ + ": retrieval index: " + what + " (rebuild it with `tandem index build`)");
  }
  size_t left() const { return bytes_.size() - at_; }
  size_t offset() const { return at_; }

  std::string_view take(size_t n, const char* what) {
    if (n > left())
      fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes at offset " +
           std::to_string(at_) + ", " + std::to_string(left()) + " left");
    const std::string_view s = bytes_.substr(at_, n);
    at_ += n;
    return s;
  }
  uint32_t u32(const char* what) {
    uint32_t v;
    std::memcpy(&v, take(sizeof v, what).data(), sizeof v);
    return v;
  }
  uint64_t u64(const char* what) {
    uint64_t v;
    std::memcpy(&v, take(sizeof v, what).data(), sizeof v);
    return v;
  }
  std::string string(const char* what) {
    const uint32_t n = u32(what);
    if (n > kMaxString) fail(std::string(what) + " claims " + std::to_string(n) + " bytes, more than any passage");
    return std::string(take(n, what));
  }

 private:
  std::string_view bytes_;
  const std::string& name_;
  size_t at_ = 0;
};

}  // namespace

RetrievalIndex::RetrievalIndex(std::string embedder, size_t dim) : embedder_(std::move(embedder)), dim_(dim) {
  if (embedder_.empty() || embedder_.size() > kMaxString)
    throw Error("retrieval index: the embedder's name is empty or too long");
  if (dim_ < 1 || dim_ > kMaxDim)
    throw Error("retrieval index: embedding dimension " + std::to_string(dim_) + " is not in 1.." +
                std::to_string(kMaxDim));
}

void RetrievalIndex::add(Passage passage, std::span<const float> embedding) {
  const std::string self = "retrieval index: passage " + printable_id(passage.id);
  if (passage.id.empty()) throw Error("retrieval index: a passage without an id");
  if (passage.text.empty()) throw Error(self + " has no text");
  if (passage.id.size() > kMaxString || passage.text.size() > kMaxString)
    throw Error(self + ": its id or text is longer than " + std::to_string(kMaxString) + " bytes");
  if (embedding.size() != dim_)
    throw Error(self + ": an embedding of dimension " + std::to_string(embedding.size()) + ", the index's is " +
                std::to_string(dim_));
  if (!all_finite(embedding)) throw Error(self + ": its embedding holds a value that is not finite");
  if (ids_.count(passage.id)) throw Error(self + " is there twice (ids must be unique)");
  const std::vector<float> unit = normalised({embedding.begin(), embedding.end()});
  vectors_.insert(vectors_.end(), unit.begin(), unit.end());
  ids_.insert(passage.id);
  passages_.push_back(std::move(passage));
}

std::vector<RetrievalHit> RetrievalIndex::search(std::span<const float> query, size_t k) const {
  if (query.size() != dim_)
    throw Error("retrieval index: a query embedding of dimension " + std::to_string(query.size()) +
                ", the index's is " + std::to_string(dim_) + " (was it built with embedder " + printable_id(embedder_) + "?)");
  if (!all_finite(query)) throw Error("retrieval index: the query embedding holds a value that is not finite");
  const std::vector<float> q = normalised({query.begin(), query.end()});
  // The k best so far in a heap whose front is the worst of them: no
  // per-query allocation of the index's size.
  const auto better = [](const RetrievalHit& a, const RetrievalHit& b) {
    return a.cosine != b.cosine ? a.cosine > b.cosine : a.index < b.index;
  };
  k = std::min(k, size());
  std::vector<RetrievalHit> best;
  best.reserve(k);
  for (size_t i = 0; i < size() && k > 0; ++i) {
    const RetrievalHit hit{i, dot(vectors_.data() + i * dim_, q.data(), dim_)};
    if (best.size() < k) {
      best.push_back(hit);
      std::push_heap(best.begin(), best.end(), better);
    } else if (better(hit, best.front())) {
      std::pop_heap(best.begin(), best.end(), better);
      best.back() = hit;
      std::push_heap(best.begin(), best.end(), better);
    }
  }
  std::sort_heap(best.begin(), best.end(), better);
  return best;
}

std::string RetrievalIndex::serialize() const {
  std::string out(kMagic, sizeof kMagic);
  put_u32(out, kVersion);
  put_string(out, embedder_);
  put_u32(out, static_cast<uint32_t>(dim_));
  put_u64(out, passages_.size());
  for (const Passage& p : passages_) {
    put_string(out, p.id);
    put_string(out, p.text);
  }
  out.append(reinterpret_cast<const char*>(vectors_.data()), vectors_.size() * sizeof(float));
  return out;
}

RetrievalIndex RetrievalIndex::parse(std::string_view bytes, const std::string& name) {
  Reader r(bytes, name);
  if (r.take(sizeof kMagic, "the magic") != std::string_view(kMagic, sizeof kMagic))
    r.fail("not a tandem retrieval index (wrong magic)");
  if (const uint32_t v = r.u32("the version"); v != kVersion)
    r.fail("version " + std::to_string(v) + ", this tandem reads version " + std::to_string(kVersion));
  std::string embedder = r.string("the embedder's name");
  if (embedder.empty()) r.fail("the embedder's name is empty");
  const uint32_t dim = r.u32("the dimension");
  if (dim < 1 || dim > kMaxDim) r.fail("dimension " + std::to_string(dim) + " is not in 1.." + std::to_string(kMaxDim));
  const uint64_t count = r.u64("the count");
  // Each passage takes at least two lengths, one byte of id and of text, and its vector.
  const uint64_t least = 10 + uint64_t{4} * dim;
  if (count < 1) r.fail("no passages");
  if (count > r.left() / least)
    r.fail("truncated: " + std::to_string(count) + " passages of dimension " + std::to_string(dim) + " need at least " +
           std::to_string(least) + " bytes each, " + std::to_string(r.left()) + " left");
  RetrievalIndex index(std::move(embedder), dim);
  index.passages_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    Passage p;
    p.id = r.string("a passage id");
    if (p.id.empty()) r.fail("passage " + std::to_string(i + 1) + " has an empty id");
    p.text = r.string("a passage text");
    if (p.text.empty()) r.fail("passage " + std::to_string(i + 1) + " has an empty text");
    index.passages_.push_back(std::move(p));
  }
  for (const Passage& p : index.passages_)
    if (!index.ids_.insert(p.id).second) r.fail("passage id " + printable_id(p.id) + " is there twice");
  const size_t floats = count * dim;
  if (r.left() != floats * sizeof(float))
    r.fail(r.left() < floats * sizeof(float) ? "truncated: the vectors need " + std::to_string(floats * sizeof(float)) +
                                                   " bytes, " + std::to_string(r.left()) + " left"
                                             : std::to_string(r.left() - floats * sizeof(float)) +
                                                   " bytes after the last vector");
  index.vectors_.resize(floats);
  std::memcpy(index.vectors_.data(), r.take(floats * sizeof(float), "the vectors").data(), floats * sizeof(float));
  for (uint64_t i = 0; i < count; ++i) {
    const std::span<const float> v = index.vector(i);
    if (!all_finite(v)) r.fail("the vector of passage " + printable_id(index.passages_[i].id) + " holds a value that is not finite");
    const double n2 = squared_norm(v);
    if (n2 != 0.0 && std::abs(n2 - 1.0) > 1e-3)
      r.fail("the vector of passage " + printable_id(index.passages_[i].id) + " is not of unit length");
  }
  return index;
}

void RetrievalIndex::save(const std::string& path) const {
  // Written beside the target and renamed over it: a failed write never
  // leaves a truncated index under the final name.
  const std::string bytes = serialize();
  const std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  std::error_code ec;
  if (out) std::filesystem::rename(tmp, path, ec);
  if (!out || ec) {
    std::filesystem::remove(tmp, ec);
    throw Error(path + ": cannot write the retrieval index");
  }
}

RetrievalIndex RetrievalIndex::load(const std::string& path) {
  std::unique_ptr<MappedFile> file;
  try {
    file = std::make_unique<MappedFile>(path);
  } catch (const Error& e) {
    std::string why = e.what();  // "PATH: cannot open file: ..."
    if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
    throw Error(path + ": cannot read the retrieval index (" + why + "; write one with `tandem index build`)");
  }
  return parse(std::string_view(reinterpret_cast<const char*>(file->data()), file->size()), path);
}

}  // namespace tandem::compose
