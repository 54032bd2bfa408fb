// Hashes defined bit for bit (unlike std::hash), so what they choose — the
// tiny subsets, few-shot examples, prompt hashes — is the same on every
// machine and in every build.
#pragma once

#include <cstdint>
#include <string_view>

namespace tandem::eval {

// FNV-1a, 64 bits.
constexpr uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

// SplitMix64: advances `state` and returns the next value.
constexpr uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace tandem::eval
