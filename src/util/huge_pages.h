// Anonymous memory for the weight matrices that every forward pass streams,
// advised for transparent huge pages (2 MiB on x86-64).
//
// Why: with 4 KiB pages, a pass over a few hundred MB of weights touches tens
// of thousands of pages, and each one whose translation has gone cold costs a
// page walk; under shadow or nested paging (virtual machines) that walk is
// much dearer. Measured on the 2-vCPU development VM: reading a 49 MB block
// after 200 MB of other memory traffic took 1.5-3.6 ms from huge pages but
// 13-80 ms in one pass out of three from 4 KiB pages (file mapping or
// anonymous alike).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem {

class HugePageBuffer {
 public:
  HugePageBuffer() = default;
  // `bytes` of zeroed memory, 2 MiB aligned, advised MADV_HUGEPAGE (where the
  // kernel ignores the advice the memory is simply 4 KiB pages). Throws
  // tandem::Error if the memory cannot be had.
  explicit HugePageBuffer(size_t bytes);
  ~HugePageBuffer();
  HugePageBuffer(HugePageBuffer&& other) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& other) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;     // as asked
  size_t mapped_ = 0;   // rounded up to whole huge pages
};

}  // namespace tandem
