// GGUF files (versions 2 and 3): reading through a memory mapping, and writing.
//
// Layout (little-endian): magic "GGUF", u32 version, u64 tensor count, u64
// metadata count, metadata key/value pairs, tensor infos (name, n_dims, dims,
// type, offset), padding to `general.alignment` (default 32), tensor data.
// Every offset and size read from a file is checked against the file's size
// before use, so a corrupt or hostile file produces a tandem::Error, never an
// out-of-bounds read or a huge allocation.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gguf/value.h"
#include "tensor/types.h"

namespace tandem {
class MappedFile;
}

namespace tandem::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian u32
inline constexpr uint64_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

struct TensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ne[0] is the innermost (contiguous) dimension
  TensorType type = TensorType::F32;
  uint64_t offset = 0;       // relative to the start of the data section
  size_t nbytes = 0;         // computed from ne and type
  const uint8_t* data = nullptr;  // points into the file's mapping

  int64_t n_elements() const;
  std::string shape_string() const;  // "[64, 512]"
};

class File {
 public:
  // Opens and validates `path`. Throws tandem::Error with a one-line message
  // "<path>: <problem>" on any problem (missing file, bad magic, unsupported
  // version, truncation, offsets past the end, unknown tensor type, ...).
  static std::unique_ptr<File> open(const std::string& path);

  // Parses an in-memory image. `data` must outlive the File. `name` is used in
  // error messages. Used by tests and the fuzzer.
  static std::unique_ptr<File> parse(const uint8_t* data, size_t size, std::string name);

  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }  // start of the tensor data section
  size_t file_size() const { return size_; }
  // True if p points into this file's mapping (tensor data lives there).
  bool maps(const void* p) const {
    const auto* b = static_cast<const uint8_t*>(p);
    return base_ != nullptr && b >= base_ && b < base_ + size_;
  }

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters: throw tandem::Error "<path>: metadata key K ..." when the key
  // is missing (get_*) or has the wrong type. The *_or variants return the
  // default when the key is absent but still reject a wrong type.
  int64_t get_int(std::string_view key) const;
  int64_t get_int_or(std::string_view key, int64_t def) const;
  double get_float(std::string_view key) const;
  double get_float_or(std::string_view key, double def) const;
  bool get_bool_or(std::string_view key, bool def) const;
  std::string get_string(std::string_view key) const;
  std::string get_string_or(std::string_view key, std::string def) const;
  const std::vector<Value>& get_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;
  // Throws "<path>: tensor NAME is missing" if absent.
  const TensorInfo& tensor(std::string_view name) const;

  // "<path>: <message>" as a tandem::Error, for callers validating content.
  [[noreturn]] void fail(const std::string& message) const;

 private:
  File() = default;
  void parse_all();

  std::string name_;
  std::unique_ptr<MappedFile> mapping_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::map<std::string, size_t, std::less<>> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Builds a GGUF file in memory and writes it. Metadata keeps insertion order;
// setting an existing key replaces its value in place. Tensor data is copied.
class Writer {
 public:
  explicit Writer(uint32_t version = 3) : version_(version) {}

  void set(const std::string& key, Value value);
  void remove(const std::string& key);
  // Copies `bytes` (must be exactly the size implied by type and ne).
  void add_tensor(const std::string& name, TensorType type, std::vector<int64_t> ne,
                  const void* bytes, size_t nbytes);

  // Copies all metadata of `src` (in order); keys already set are replaced in
  // place. Use remove() afterwards to drop keys.
  void copy_metadata(const File& src);

  // Writes to `path` atomically (temp file + rename). Throws tandem::Error.
  void write(const std::string& path) const;
  std::vector<uint8_t> serialize() const;

 private:
  struct PendingTensor {
    std::string name;
    TensorType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> bytes;
  };
  uint32_t version_;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace tandem::gguf
