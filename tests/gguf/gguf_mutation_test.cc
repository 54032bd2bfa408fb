// Bounded random mutation of real GGUF files (a model, a quantized arch fixture
// and a tokenizer vocab): byte flips, overwritten integer fields, truncation,
// insertions/deletions and splices of two files. Every parse must either
// succeed with all tensors inside the image or throw tandem::Error; any other
// exception, a crash or a sanitizer report is a bug. Seeded, so a failure
// reproduces; the fuzzer in fuzz/ explores the same property without bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem {
namespace {

struct Seed {
  std::string name;
  std::vector<uint8_t> bytes;
  size_t header_end;  // start of the data section: where the parser's decisions live
  int iterations;
};

Seed make_seed(std::string name, std::vector<uint8_t> bytes, int iterations) {
  Seed seed{std::move(name), std::move(bytes), 0, iterations};
  auto f = gguf::File::parse(seed.bytes.data(), seed.bytes.size(), seed.name);
  seed.header_end = std::min(f->data_offset(), seed.bytes.size());
  return seed;
}

Seed load(const std::string& rel, int iterations) {
  std::string s = testing::read_file(testing::shared_path(rel));
  return make_seed(rel, {s.begin(), s.end()}, iterations);
}

// The same file in miniature: arrays cut to their first items and every tensor
// shrunk to one block of its real data, so all of its structure (keys, types,
// tensor infos) is kept at ~2 KiB and a mutant costs microseconds, not a copy
// and parse of a megabyte. Most rounds run on these.
Seed load_reduced(const std::string& rel, int iterations) {
  auto f = gguf::File::open(testing::shared_path(rel));
  gguf::Writer w(f->version());
  for (const auto& [key, value] : f->metadata()) {
    if (value.is_array() && value.items().size() > 8) {
      std::vector<gguf::Value> items(value.items().begin(), value.items().begin() + 8);
      w.set(key, gguf::Value::from_array(value.array_type(), std::move(items)));
    } else {
      w.set(key, value);
    }
  }
  for (const auto& t : f->tensors()) {
    const TensorTypeTraits& tr = traits(t.type);
    std::vector<int64_t> ne(t.ne.size(), 1);
    ne[0] = tr.block_size;
    w.add_tensor(t.name, t.type, ne, t.data, tr.type_size);
  }
  return make_seed(rel + " (reduced)", w.serialize(), iterations);
}

// Values that tend to sit on the edges of size and count checks.
constexpr uint64_t kInteresting[] = {0,
                                     1,
                                     2,
                                     3,
                                     4,
                                     5,
                                     9,
                                     13,
                                     31,
                                     32,
                                     33,
                                     255,
                                     0x7fff,
                                     0xffff,
                                     0x7fffffff,
                                     0x80000000,
                                     0xffffffff,
                                     1ull << 32,
                                     1ull << 40,
                                     1ull << 60,
                                     0x7fffffffffffffffull,
                                     0x8000000000000000ull,
                                     ~0ull};

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  size_t below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  // Positions are drawn mostly from the header (metadata and tensor infos),
  // where a change alters how the file is parsed; data bytes rarely matter.
  size_t position(const Seed& s, size_t size) {
    size_t limit = below(8) == 0 ? size : std::min(size, s.header_end + 1);
    return below(limit);
  }

  std::vector<uint8_t> mutate(const Seed& s, const Seed& other) {
    std::vector<uint8_t> b = s.bytes;
    int n_ops = 1 + static_cast<int>(below(4));
    for (int op = 0; op < n_ops && !b.empty(); ++op) {
      switch (below(7)) {
        case 0:  // flip a few bits
          for (int k = 0, m = 1 + static_cast<int>(below(8)); k < m; ++k) b[position(s, b.size())] ^= 1u << below(8);
          break;
        case 1: {  // overwrite a 4- or 8-byte field with an edge value
          size_t width = below(2) ? 8 : 4;
          size_t at = position(s, b.size());
          if (at + width > b.size()) break;
          uint64_t v = kInteresting[below(std::size(kInteresting))];
          if (below(3) == 0) v += below(3) - 1;  // off by one around the edge
          std::memcpy(b.data() + at, &v, width);
          break;
        }
        case 2:  // truncate
          b.resize(below(b.size()));
          break;
        case 3: {  // delete a run of bytes
          size_t at = position(s, b.size());
          size_t len = std::min(b.size() - at, 1 + below(16));
          b.erase(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + len));
          break;
        }
        case 4: {  // insert random bytes
          size_t at = position(s, b.size());
          std::vector<uint8_t> ins(1 + below(16));
          for (auto& c : ins) c = static_cast<uint8_t>(below(256));
          b.insert(b.begin() + static_cast<long>(at), ins.begin(), ins.end());
          break;
        }
        case 5: {  // splice: our prefix, the other file's suffix
          size_t cut = position(s, b.size());
          size_t from = below(other.bytes.size());
          b.resize(cut);
          b.insert(b.end(), other.bytes.begin() + static_cast<long>(from), other.bytes.end());
          break;
        }
        case 6: {  // duplicate a header chunk in place (repeated keys / tensor infos)
          size_t at = position(s, b.size());
          size_t len = std::min(b.size() - at, 1 + below(64));
          std::vector<uint8_t> chunk(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + len));
          b.insert(b.begin() + static_cast<long>(at), chunk.begin(), chunk.end());
          break;
        }
      }
    }
    return b;
  }

 private:
  std::mt19937_64 rng_;
};

TEST(GgufMutation, EveryMutantParsesOrThrowsError) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-q4_0.gguf");
  std::vector<Seed> seeds;
  seeds.push_back(load_reduced("models/stories260K.gguf", 4000));
  seeds.push_back(load_reduced("fixtures/arch/llama-q4_0.gguf", 4000));
  seeds.push_back(load_reduced("fixtures/tokenizer/ggml-vocab-llama-spm.gguf", 4000));
  // The real files too (full-size arrays and data offsets), fewer rounds; the
  // 32k-token vocab decodes ~100k values per parse, so fewest.
  seeds.push_back(load("models/stories260K.gguf", 300));
  seeds.push_back(load("fixtures/arch/llama-q4_0.gguf", 300));
  seeds.push_back(load("fixtures/tokenizer/ggml-vocab-llama-spm.gguf", 30));

  Mutator m(0x7a6d656d);
  int parsed = 0, rejected = 0;
  for (size_t si = 0; si < seeds.size(); ++si) {
    const Seed& s = seeds[si];
    const Seed& other = seeds[(si + 1) % seeds.size()];  // splice partner: another file
    for (int it = 0; it < s.iterations; ++it) {
      std::vector<uint8_t> b = m.mutate(s, other);
      try {
        auto f = gguf::File::parse(b.data(), b.size(), "mutant");
        for (const auto& t : f->tensors()) {
          ASSERT_GE(t.data, b.data()) << s.name << " iteration " << it;
          ASSERT_LE(t.data + t.nbytes, b.data() + b.size()) << s.name << " iteration " << it << " tensor " << t.name;
        }
        ++parsed;
      } catch (const Error& e) {
        ASSERT_EQ(std::string(e.what()).rfind("mutant: ", 0), 0u) << e.what();
        ++rejected;
      } catch (const std::exception& e) {
        FAIL() << s.name << " iteration " << it << ": non-tandem exception " << e.what();
      }
    }
  }
  // Both outcomes must actually occur, or the mutations are not reaching the parser.
  EXPECT_GT(parsed, 100);
  EXPECT_GT(rejected, 3000);
  std::printf("mutants: %d parsed, %d rejected\n", parsed, rejected);
}

}  // namespace
}  // namespace tandem
