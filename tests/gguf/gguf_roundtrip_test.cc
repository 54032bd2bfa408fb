// Every GGUF shipped in shared/ is read, written back with gguf::Writer and
// read again; metadata (keys, order, types, values) and tensors (names, types,
// shapes, bytes) must survive unchanged. The files' contents are also checked
// against facts recorded independently of tandem: models/MANIFEST.md,
// fixtures/arch/tensor_types.json (written by a separate parser) and the
// tokenizer fixtures' expected token ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem {
namespace {

using gguf::File;
using gguf::Value;
using gguf::ValueType;
using testing::shared_path;
using testing::source_path;

std::vector<std::string> all_gguf_files() {
  std::vector<std::string> files;
  for (const char* dir : {"models", "fixtures/arch", "fixtures/tokenizer"}) {
    for (const auto& e : std::filesystem::directory_iterator(shared_path(dir))) {
      if (e.path().extension() == ".gguf") files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::string s = testing::read_file(path);
  return {s.begin(), s.end()};
}

void expect_same_file(const File& a, const File& b) {
  ASSERT_EQ(a.metadata().size(), b.metadata().size()) << a.path();
  for (size_t i = 0; i < a.metadata().size(); ++i) {
    const auto& [ka, va] = a.metadata()[i];
    const auto& [kb, vb] = b.metadata()[i];
    EXPECT_EQ(ka, kb) << a.path() << " key #" << i;
    EXPECT_EQ(va.type(), vb.type()) << ka;
    if (va.is_array()) {
      EXPECT_EQ(va.array_type(), vb.array_type()) << ka;
      EXPECT_EQ(va.items().size(), vb.items().size()) << ka;
    }
    EXPECT_TRUE(va == vb) << ka << ": " << va.to_string() << " vs " << vb.to_string();
  }
  ASSERT_EQ(a.tensors().size(), b.tensors().size()) << a.path();
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    const auto& ta = a.tensors()[i];
    const auto& tb = b.tensors()[i];
    EXPECT_EQ(ta.name, tb.name);
    EXPECT_EQ(ta.type, tb.type) << ta.name;
    EXPECT_EQ(ta.ne, tb.ne) << ta.name;
    ASSERT_EQ(ta.nbytes, tb.nbytes) << ta.name;
    EXPECT_EQ(0, std::memcmp(ta.data, tb.data, ta.nbytes)) << ta.name;
  }
}

std::vector<uint8_t> rewrite(const File& f, uint32_t version) {
  gguf::Writer w(version);
  w.copy_metadata(f);
  for (const auto& t : f.tensors()) w.add_tensor(t.name, t.type, t.ne, t.data, t.nbytes);
  return w.serialize();
}

TEST(GgufRoundTrip, EverySharedFileSurvivesWriteAndReread) {
  TANDEM_REQUIRE_SHARED("fixtures/arch");
  auto files = all_gguf_files();
  ASSERT_GE(files.size(), 30u) << "expected the models, arch and tokenizer fixtures under " << testing::shared_dir();
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    auto f = File::open(path);
    EXPECT_EQ(f->version(), 3u);
    std::vector<uint8_t> bytes = rewrite(*f, 3);
    auto g = File::parse(bytes.data(), bytes.size(), path + " (rewritten)");
    expect_same_file(*f, *g);
    // The files were written by ggml's or gguf-py's writers, which lay out
    // tensors back to back at aligned offsets with zero padding, exactly like
    // gguf::Writer, so the rewritten image equals the original byte for byte.
    // One exception: the vocab-only files (no tensors) end right after the
    // metadata, while gguf::Writer (like ggml's gguf_write_out) always pads
    // the header to the alignment; there the rewrite may only add zeros.
    std::vector<uint8_t> original = read_bytes(path);
    if (f->tensors().empty() && bytes.size() > original.size()) {
      EXPECT_EQ(bytes.size(), (original.size() + f->alignment() - 1) / f->alignment() * f->alignment());
      EXPECT_TRUE(std::equal(original.begin(), original.end(), bytes.begin()));
      EXPECT_TRUE(std::all_of(bytes.begin() + static_cast<long>(original.size()), bytes.end(),
                              [](uint8_t b) { return b == 0; }));
    } else {
      EXPECT_TRUE(bytes == original) << "rewritten file differs from the original (" << bytes.size() << " vs "
                                     << original.size() << " bytes)";
    }
  }
}

TEST(GgufRoundTrip, WriteToDiskAndOpen) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-q4_0.gguf");
  for (const char* rel : {"models/stories260K.gguf", "fixtures/arch/llama-q4_0.gguf"}) {
    auto f = File::open(shared_path(rel));
    std::string out = ::testing::TempDir() + "roundtrip.gguf";
    gguf::Writer w;
    w.copy_metadata(*f);
    for (const auto& t : f->tensors()) w.add_tensor(t.name, t.type, t.ne, t.data, t.nbytes);
    w.write(out);
    EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));
    auto h = File::open(out);
    expect_same_file(*f, *h);
    EXPECT_EQ(testing::read_file(out), testing::read_file(shared_path(rel)));
    std::filesystem::remove(out);
  }
}

TEST(GgufRoundTrip, VersionTwoRewriteReadsBackTheSame) {
  auto f = File::open(source_path("models/stories260K.gguf"));
  std::vector<uint8_t> bytes = rewrite(*f, 2);
  auto g = File::parse(bytes.data(), bytes.size(), "v2");
  EXPECT_EQ(g->version(), 2u);
  uint32_t version;
  std::memcpy(&version, bytes.data() + 4, 4);
  EXPECT_EQ(version, 2u);
  expect_same_file(*f, *g);
}

// Facts from shared/models/MANIFEST.md.
TEST(GgufFacts, Stories260KMatchesManifest) {
  auto f = File::open(source_path("models/stories260K.gguf"));
  EXPECT_EQ(f->file_size(), 1185376u);
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->get_string("general.name"), "llama");
  EXPECT_FALSE(f->has("general.file_type"));
  EXPECT_EQ(f->get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f->get_int("llama.block_count"), 5);
  EXPECT_EQ(f->get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(f->get_int("llama.attention.head_count_kv"), 4);
  EXPECT_EQ(f->get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(f->get_int("llama.rope.dimension_count"), 8);
  EXPECT_EQ(f->get_int("llama.context_length"), 2048);
  EXPECT_NEAR(f->get_float("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-12);
  EXPECT_EQ(f->get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens").size(), 512u);
  EXPECT_EQ(f->get_array("tokenizer.ggml.scores").size(), 512u);
  EXPECT_EQ(f->find("tokenizer.ggml.tokens")->array_type(), ValueType::STRING);
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens")[1].as_string(), "<s>");
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens")[3].as_string(), "<0x00>");
  EXPECT_EQ(f->get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(f->get_int("tokenizer.ggml.eos_token_id"), 2);
  EXPECT_EQ(f->find("tokenizer.ggml.seperator_token_id")->as_uint(), 4294967295u);
  EXPECT_FALSE(f->has("tokenizer.ggml.merges"));
  ASSERT_EQ(f->tensors().size(), 48u);
  int64_t elements = 0;
  for (const auto& t : f->tensors()) {
    EXPECT_EQ(t.type, TensorType::F32) << t.name;
    elements += t.n_elements();
  }
  EXPECT_EQ(elements, 292800);
  EXPECT_EQ(f->tensor("token_embd.weight").ne, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(f->tensor("blk.0.attn_k.weight").ne, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(f->tensor("blk.4.ffn_down.weight").ne, (std::vector<int64_t>{172, 64}));
  EXPECT_EQ(f->tensor("output_norm.weight").ne, (std::vector<int64_t>{64}));
  // output.weight is a copy of token_embd.weight (llama2.c ties them).
  const auto& a = f->tensor("output.weight");
  const auto& b = f->tensor("token_embd.weight");
  ASSERT_EQ(a.nbytes, b.nbytes);
  EXPECT_EQ(0, std::memcmp(a.data, b.data, a.nbytes));
}

TEST(GgufFacts, TinyRandomMatchesManifest) {
  TANDEM_REQUIRE_SHARED("models/llama-2-tiny-random.gguf");
  auto f = File::open(shared_path("models/llama-2-tiny-random.gguf"));
  EXPECT_EQ(f->file_size(), 1750560u);
  EXPECT_EQ(f->get_string("general.name"), "LLaMA v2");
  EXPECT_EQ(f->get_int("general.file_type"), 1);
  EXPECT_EQ(f->get_int("llama.embedding_length"), 8);
  EXPECT_EQ(f->get_int("llama.context_length"), 4096);
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens").size(), 32000u);
  ASSERT_EQ(f->tensors().size(), 12u);
  int64_t elements = 0;
  int n_f16 = 0, n_f32 = 0;
  for (const auto& t : f->tensors()) {
    elements += t.n_elements();
    n_f16 += t.type == TensorType::F16;
    n_f32 += t.type == TensorType::F32;
    if (t.type == TensorType::F32) {
      EXPECT_EQ(t.ne, (std::vector<int64_t>{8})) << t.name;
    }
  }
  EXPECT_EQ(elements, 513048);
  EXPECT_EQ(n_f16, 9);
  EXPECT_EQ(n_f32, 3);
  EXPECT_EQ(f->tensor("token_embd.weight").ne, (std::vector<int64_t>{8, 32000}));
  EXPECT_EQ(f->tensor("blk.0.ffn_down.weight").ne, (std::vector<int64_t>{32, 8}));
  // MANIFEST: tokens, scores and token types equal those of the llama-spm vocab fixture.
  auto v = File::open(shared_path("fixtures/tokenizer/ggml-vocab-llama-spm.gguf"));
  for (const char* key : {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
    EXPECT_TRUE(*f->find(key) == *v->find(key)) << key;
  }
}

// fixtures/arch/tensor_types.json was produced by a separate GGUF parser.
TEST(GgufFacts, ArchFixturesMatchTensorTypesJson) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/tensor_types.json");
  auto facts = testing::read_json(shared_path("fixtures/arch/tensor_types.json"));
  ASSERT_GE(facts.size(), 10u);
  for (const auto& [file, fact] : facts.items()) {
    SCOPED_TRACE(file);
    auto f = File::open(shared_path("fixtures/arch/" + file));
    EXPECT_EQ(f->file_size(), fact["bytes"].get<size_t>());
    EXPECT_EQ(f->get_int("general.file_type"), fact["general.file_type"].get<int64_t>());
    ASSERT_EQ(f->tensors().size(), fact["tensors"].size());
    for (const auto& [name, tf] : fact["tensors"].items()) {
      const gguf::TensorInfo* t = f->find_tensor(name);
      ASSERT_NE(t, nullptr) << name;
      EXPECT_EQ(type_name(t->type), tf["type"].get<std::string>()) << name;
      EXPECT_EQ(t->ne, tf["ne"].get<std::vector<int64_t>>()) << name;
    }
  }
}

// Every expected token id in the tokenizer fixtures' .out files must be a valid
// index into the vocab read from the matching .gguf, and the parallel arrays
// (tokens, scores, token types) must have equal lengths.
TEST(GgufFacts, TokenizerVocabsCoverTheirExpectedIds) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer");
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(shared_path("fixtures/tokenizer"))) {
    if (e.path().extension() != ".gguf") continue;
    SCOPED_TRACE(e.path().string());
    auto f = File::open(e.path().string());
    EXPECT_TRUE(f->tensors().empty());
    const auto& tokens = f->get_array("tokenizer.ggml.tokens");
    EXPECT_EQ(f->find("tokenizer.ggml.tokens")->array_type(), ValueType::STRING);
    for (const char* key : {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
      if (f->has(key)) {
        EXPECT_EQ(f->get_array(key).size(), tokens.size()) << key;
      }
    }
    std::string out = e.path().string() + ".out";
    if (!std::filesystem::exists(out)) continue;
    std::istringstream in(testing::read_file(out));
    int64_t id, max_id = -1;
    while (in >> id) max_id = std::max(max_id, id);
    EXPECT_GE(max_id, 0);
    EXPECT_LT(max_id, static_cast<int64_t>(tokens.size()));
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

}  // namespace
}  // namespace tandem
