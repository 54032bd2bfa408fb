// Malformed GGUF input: every case must end in a tandem::Error whose single-line
// message names the file and the problem, never in a crash, a hang or a huge
// allocation (absurd counts are rejected before anything is reserved).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "raw_gguf.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem {
namespace {

using gguf::File;
using testing::RawGguf;

// Parses `bytes` and requires an Error whose message contains the file name
// and every one of `needles`.
void expect_parse_error(const std::vector<uint8_t>& bytes, std::vector<std::string> needles) {
  const std::string name = "bad.gguf";
  try {
    File::parse(bytes.data(), bytes.size(), name);
    ADD_FAILURE() << "parsed without error; expected: " << (needles.empty() ? "an error" : needles[0]);
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind(name + ": ", 0), 0u) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << "message is not one line: " << m;
    for (const auto& n : needles) EXPECT_NE(m.find(n), std::string::npos) << "'" << n << "' not in: " << m;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

void expect_open_error(const std::string& path, const std::string& needle) {
  try {
    File::open(path);
    ADD_FAILURE() << path << " opened without error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind(path + ": ", 0), 0u) << m;
    EXPECT_NE(m.find(needle), std::string::npos) << m;
  }
}

TEST(GgufBadInput, MissingFileDirectoryAndEmptyFile) {
  expect_open_error("/nonexistent/dir/model.gguf", "cannot open");
  expect_open_error(testing::source_path("models"), "directory");
  std::string empty = testing::write_temp("empty.gguf", {});
  expect_open_error(empty, "too small");
  std::filesystem::remove(empty);
  expect_parse_error({'G', 'G'}, {"too small"});
}

// Pipes and devices are refused at once: opening a FIFO nobody writes to must
// not block, and /dev/zero must not be "mapped" as an endless file.
TEST(GgufBadInput, PipesAndDevicesAreRejectedWithoutBlocking) {
  std::string fifo = ::testing::TempDir() + "gguf-test-fifo";
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  expect_open_error(fifo, "not a regular file");
  std::filesystem::remove(fifo);
  expect_open_error("/dev/zero", "not a regular file");
}

TEST(GgufBadInput, WrongMagic) {
  RawGguf g = testing::small_valid_gguf();
  g.bytes[0] = 'g';
  expect_parse_error(g.bytes, {"not a GGUF file"});
  expect_parse_error({'G', 'G', 'M', 'L', 3, 0, 0, 0}, {"not a GGUF file"});
  std::string text = "this is a text file, not a model\n";
  expect_parse_error({text.begin(), text.end()}, {"not a GGUF file"});
}

TEST(GgufBadInput, UnsupportedVersions) {
  RawGguf v1;
  v1.header(0, 0, 1);
  expect_parse_error(v1.bytes, {"version 1"});
  RawGguf v4;
  v4.header(0, 0, 4);
  expect_parse_error(v4.bytes, {"version 4"});
  RawGguf v0;
  v0.header(0, 0, 0);
  expect_parse_error(v0.bytes, {"version 0"});
  RawGguf be;  // version 3 written big-endian
  be.header(0, 0, 0x03000000u);
  expect_parse_error(be.bytes, {"big-endian"});
}

TEST(GgufBadInput, TruncationAnywhere) {
  RawGguf g = testing::small_valid_gguf();
  // Header (magic 4 + version 4 + counts 16), then metadata, tensor infos, data.
  std::vector<size_t> cuts = {6, 8, 12, 23, 24, 30, 40, 60, 70, 80, 100, 120, g.size() - 4, g.size() - 1};
  for (size_t cut : cuts) {
    SCOPED_TRACE(cut);
    ASSERT_LT(cut, g.size());
    std::vector<uint8_t> b(g.bytes.begin(), g.bytes.begin() + static_cast<long>(cut));
    expect_parse_error(b, {});
  }
  // Every single prefix: error, never a crash.
  for (size_t cut = 0; cut < g.size(); ++cut) {
    std::vector<uint8_t> b(g.bytes.begin(), g.bytes.begin() + static_cast<long>(cut));
    EXPECT_THROW(File::parse(b.data(), b.size(), "p"), Error) << cut;
  }
}

TEST(GgufBadInput, TruncationMessagesSayWhatWasCut) {
  RawGguf h;
  h.header(0, 0);
  std::vector<uint8_t> b(h.bytes.begin(), h.bytes.begin() + 12);
  expect_parse_error(b, {"truncated", "tensor count"});

  RawGguf m;
  m.header(0, 1).str("general.name").u32(8).u64(100).raw({'a', 'b'});
  expect_parse_error(m.bytes, {"truncated", "metadata value"});

  RawGguf t;
  t.header(1, 0).str("w").u32(2).u64(4);  // second dimension missing
  t.zeros(40);                             // keeps the count check happy
  t.bytes.resize(24 + 8 + 1 + 4 + 8 + 3);
  expect_parse_error(t.bytes, {"truncated", "tensor dimension"});

  RawGguf d = testing::small_valid_gguf();
  d.bytes.resize(d.size() - 4);
  expect_parse_error(d.bytes, {"tensor w", "extends past the end", "truncated"});
}

TEST(GgufBadInput, TensorOffsetOrSizePastTheEnd) {
  RawGguf far;
  far.header(1, 0).tensor_info("w", {8}, 0, 1ull << 40).pad_to(32).zeros(32);
  expect_parse_error(far.bytes, {"tensor w", "past the end"});

  // offset + size wraps around 2^64: must not pass a naive bounds check.
  RawGguf wrap;
  wrap.header(1, 0).tensor_info("w", {8}, 0, ~0ull - 31).pad_to(32).zeros(32);
  expect_parse_error(wrap.bytes, {"tensor w", "past the end"});

  RawGguf big;  // 2^40 floats claimed, 32 bytes present
  big.header(1, 0).tensor_info("w", {1ull << 20, 1ull << 20}, 0, 0).pad_to(32).zeros(32);
  expect_parse_error(big.bytes, {"tensor w", "past the end"});

  RawGguf overflow;  // element count overflows 64 bits
  overflow.header(1, 0).tensor_info("w", {1ull << 32, 1ull << 32, 1ull << 32}, 0, 0).pad_to(32);
  expect_parse_error(overflow.bytes, {"tensor w"});

  RawGguf negative;
  negative.header(1, 0).tensor_info("w", {~0ull}, 0, 0).pad_to(32);
  expect_parse_error(negative.bytes, {"tensor w", "negative"});
}

TEST(GgufBadInput, UnalignedTensorOffset) {
  RawGguf g;
  g.header(1, 0).tensor_info("w", {2}, 0, 4).pad_to(32).zeros(64);
  expect_parse_error(g.bytes, {"tensor w", "offset 4", "alignment 32"});
}

TEST(GgufBadInput, UnknownTensorAndValueTypes) {
  RawGguf t;
  t.header(1, 0).tensor_info("w", {2}, 99, 0).pad_to(32).zeros(32);
  expect_parse_error(t.bytes, {"tensor w", "unknown tensor type 99"});

  RawGguf v;
  v.header(0, 1).str("general.weird").u32(13).u32(0).zeros(16);
  expect_parse_error(v.bytes, {"general.weird", "unknown value type 13"});

  RawGguf a;
  a.header(0, 1).str("arr").u32(9).u32(0xdeadbeef).u64(1).zeros(16);
  expect_parse_error(a.bytes, {"arr", "unknown type"});

  RawGguf nested;
  nested.header(0, 1).str("arr").u32(9).u32(9).u64(1).zeros(16);
  expect_parse_error(nested.bytes, {"arr", "nested array"});
}

TEST(GgufBadInput, AbsurdCountsAndLengthsAreRejectedBeforeAllocating) {
  RawGguf kv;
  kv.header(0, 1ull << 60).zeros(64);
  expect_parse_error(kv.bytes, {"metadata count"});

  RawGguf tensors;
  tensors.header(1ull << 60, 0).zeros(64);
  expect_parse_error(tensors.bytes, {"tensor count"});

  for (uint32_t elem : {0u, 8u, 10u}) {  // u8, string, u64 items
    RawGguf items;
    items.header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(elem).u64(1ull << 60).zeros(64);
    expect_parse_error(items.bytes, {"tokenizer.ggml.tokens", "array items"});
  }

  RawGguf key;
  key.header(0, 1).u64(1ull << 60).zeros(64);
  expect_parse_error(key.bytes, {"metadata key"});

  RawGguf value;
  value.header(0, 1).str("general.name").u32(8).u64(~0ull).zeros(64);
  expect_parse_error(value.bytes, {"metadata value"});

  RawGguf name;
  name.header(1, 0).u64(1ull << 50).zeros(64);
  expect_parse_error(name.bytes, {"tensor name"});
}

// Arrays that fit in the file but would decode to gigabytes of Values: the
// total item count is capped (2^23; real models use ~1.5M at most).
TEST(GgufBadInput, TooManyArrayItemsInTotal) {
  // The check runs before an array is decoded: 10 items in "a", then "b"
  // pushes the total past the cap while its bytes are all present.
  RawGguf g;
  const uint64_t rest = (1ull << 23) - 5;
  g.header(0, 2);
  g.str("a").u32(9).u32(0).u64(10).zeros(10);
  g.str("b").u32(9).u32(0).u64(rest).zeros(rest);
  expect_parse_error(g.bytes, {"metadata key b", "arrays", "limit"});
}

TEST(GgufBadInput, DimensionCounts) {
  RawGguf zero;
  zero.header(1, 0).str("w").u32(0).u32(0).u64(0).pad_to(32).zeros(32);
  expect_parse_error(zero.bytes, {"tensor w", "0 dimensions"});

  RawGguf five;
  five.header(1, 0).tensor_info("w", {1, 1, 1, 1, 1}, 0, 0).pad_to(32).zeros(32);
  expect_parse_error(five.bytes, {"tensor w", "5 dimensions"});

  RawGguf huge;
  huge.header(1, 0).str("w").u32(0xffffffffu).zeros(64);
  expect_parse_error(huge.bytes, {"tensor w", "dimensions"});
}

TEST(GgufBadInput, RowLengthNotAMultipleOfTheBlockSize) {
  RawGguf g;
  g.header(1, 0).tensor_info("blk.0.attn_q.weight", {16, 2}, 8 /* Q8_0 */, 0).pad_to(32).zeros(128);
  expect_parse_error(g.bytes, {"blk.0.attn_q.weight", "Q8_0", "row length 16", "block size 32"});
  RawGguf k;
  k.header(1, 0).tensor_info("w", {128}, 12 /* Q4_K */, 0).pad_to(32).zeros(256);
  expect_parse_error(k.bytes, {"Q4_K", "block size 256"});
}

TEST(GgufBadInput, DuplicateKeysAndTensors) {
  RawGguf k;
  k.header(0, 2).kv_u32("llama.block_count", 1).kv_u32("llama.block_count", 2);
  expect_parse_error(k.bytes, {"llama.block_count", "twice"});

  RawGguf t;
  t.header(2, 0).tensor_info("w", {8}, 0, 0).tensor_info("w", {8}, 0, 32).pad_to(32).zeros(64);
  expect_parse_error(t.bytes, {"tensor w", "twice"});
}

TEST(GgufBadInput, BadAlignmentValues) {
  for (uint32_t al : {0u, 3u, 48u}) {
    RawGguf g;
    g.header(0, 1).kv_u32("general.alignment", al);
    expect_parse_error(g.bytes, {"general.alignment", "power of two"});
  }
  RawGguf s;
  s.header(0, 1).kv_str("general.alignment", "32");
  expect_parse_error(s.bytes, {"general.alignment", "u32"});
}

// Names in messages come from the file; control characters and megabyte-long
// names must not break the one-line, readable message.
TEST(GgufBadInput, HostileNamesAreSanitizedInMessages) {
  std::string nasty = "evil\nkey\x1b[31m" + std::string(5000, 'x');
  RawGguf g;
  g.header(0, 2).kv_u32(nasty, 1).kv_u32(nasty, 2);
  try {
    File::parse(g.bytes.data(), g.bytes.size(), "n.gguf");
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.find('\x1b'), std::string::npos) << m;
    EXPECT_LT(m.size(), 400u) << m;
    EXPECT_NE(m.find("twice"), std::string::npos) << m;
  }
}

// A zero-element tensor is legal (size 0) and must not point outside the image.
TEST(GgufEdge, ZeroSizedTensorAndTensorAtTheVeryEnd) {
  RawGguf g;
  g.header(2, 0).tensor_info("empty", {0, 4}, 0, 0).tensor_info("last", {2}, 0, 0).pad_to(32).f32(1).f32(2);
  auto f = File::parse(g.bytes.data(), g.bytes.size(), "e.gguf");
  EXPECT_EQ(f->tensor("empty").nbytes, 0u);
  EXPECT_EQ(f->tensor("empty").n_elements(), 0);
  EXPECT_EQ(f->tensor("last").nbytes, 8u);
  EXPECT_EQ(f->tensor("last").data + 8, g.bytes.data() + g.size());
}

}  // namespace
}  // namespace tandem
