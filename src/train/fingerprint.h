// 64-bit fingerprints of training inputs (token streams, model files), stored
// in checkpoints so that a resume can tell that its inputs changed.
//
// FNV-1a over 64-bit words (the tail byte by byte): every step is a bijection
// of the state, so changing any one word always changes the result. Not a
// cryptographic hash: it detects edits, not tampering. Words are read in host
// byte order, like the rest of a checkpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace tandem::train {

class Fingerprint {
 public:
  Fingerprint& add_bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (; n >= 8; n -= 8, p += 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      mix(w);
    }
    for (; n > 0; --n, ++p) mix(*p);
    return *this;
  }
  Fingerprint& add(uint64_t v) {
    mix(v);
    return *this;
  }
  Fingerprint& add(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    mix(bits);
    return *this;
  }
  uint64_t value() const { return h_; }

 private:
  void mix(uint64_t w) { h_ = (h_ ^ w) * 0x100000001B3ull; }
  uint64_t h_ = 0xCBF29CE484222325ull;
};

// The fingerprint of a whole file's bytes (read through a mapping). Throws
// tandem::Error naming the path when it cannot be read.
uint64_t file_fingerprint(const std::string& path);

// "0123456789abcdef": 16 lowercase hex digits.
std::string fingerprint_hex(uint64_t fp);

}  // namespace tandem::train
