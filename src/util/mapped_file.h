// A read-only memory mapping of a whole file: opening a multi-GB GGUF costs no
// read and no allocation. The transformer then moves its matrices into huge
// pages (util/huge_pages.h) and releases their mapped pages; small tensors and
// the embedding table are read from the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tandem {

class MappedFile {
 public:
  // Maps `path` read-only. Throws tandem::Error naming the path if it cannot be
  // opened or mapped. An empty file is mapped as size 0 with data() == nullptr.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Drops the pages wholly inside [p, p + bytes) of a MappedFile from this
// process's resident set (madvise MADV_DONTNEED). The contents stay valid: a
// later read faults them in again from the file. Used after copying weights
// into another layout, so the copy does not double the resident size.
void release_mapped_pages(const void* p, size_t bytes);

}  // namespace tandem
