// `tandem inspect` end to end: on bad files it prints exactly one line
// "error: <file>: <problem>" on stderr, nothing on stdout, and exits 1; on good
// files it prints the tensor table, the parameter count and bits per weight
// (checked against fixtures/arch/tensor_types.json, written by another parser).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "raw_gguf.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::run_command;
using testing::tandem_binary;

testing::CommandResult inspect(const std::string& args) {
  return run_command(tandem_binary() + " inspect " + args);
}

void expect_one_error_line(const std::string& path, const std::string& needle) {
  SCOPED_TRACE(path);
  auto r = inspect("'" + path + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  std::string prefix = "error: " + path + ": ";
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(InspectCli, BadFilesGiveOneErrorLineAndExitOne) {
  std::string dir = ::testing::TempDir();
  expect_one_error_line(dir + "does-not-exist.gguf", "cannot open");
  expect_one_error_line(testing::source_path("models"), "directory");
  expect_one_error_line(testing::write_temp("cli-empty.gguf", {}), "too small");
  expect_one_error_line(testing::write_temp("cli-text.gguf", {'h', 'e', 'l', 'l', 'o', '\n'}), "not a GGUF file");
  testing::RawGguf v1;
  v1.header(0, 0, 1);
  expect_one_error_line(testing::write_temp("cli-v1.gguf", v1.bytes), "version 1");
  testing::RawGguf trunc = testing::small_valid_gguf();
  trunc.bytes.resize(trunc.size() - 8);
  expect_one_error_line(testing::write_temp("cli-trunc.gguf", trunc.bytes), "extends past the end");
  testing::RawGguf huge;
  huge.header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(1ull << 60).zeros(32);
  expect_one_error_line(testing::write_temp("cli-huge.gguf", huge.bytes), "array items");
}

TEST(InspectCli, MissingArgumentIsAUsageError) {
  auto r = inspect("");
  EXPECT_NE(r.exit_code, 0);
}

// Bits per element of the types in the arch fixtures, from ggml's block
// definitions (bytes per block * 8 / elements per block).
double bits_per_element(const std::string& type) {
  static const std::map<std::string, double> bits = {
      {"F32", 32}, {"F16", 16}, {"BF16", 16}, {"Q8_0", 34 * 8 / 32.0}, {"Q4_0", 18 * 8 / 32.0},
      {"Q4_1", 20 * 8 / 32.0}, {"Q5_0", 22 * 8 / 32.0}, {"Q5_1", 24 * 8 / 32.0}, {"Q4_K", 144 * 8 / 256.0},
      {"Q5_K", 176 * 8 / 256.0}, {"Q6_K", 210 * 8 / 256.0}};
  return bits.at(type);
}

std::string line_starting(const std::string& out, const std::string& prefix) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

TEST(InspectCli, ParameterCountAndBitsPerWeightMatchIndependentTable) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/tensor_types.json");
  auto facts = testing::read_json(testing::shared_path("fixtures/arch/tensor_types.json"));
  for (const char* file : {"llama-q8_0.gguf", "llama-q4_0.gguf", "llama-q4_k.gguf", "llama-f16.gguf", "qwen2-f32.gguf"}) {
    SCOPED_TRACE(file);
    double elements = 0, bits = 0;
    for (const auto& [name, t] : facts[file]["tensors"].items()) {
      double n = 1;
      for (int64_t d : t["ne"]) n *= static_cast<double>(d);
      elements += n;
      bits += n * bits_per_element(t["type"]);
    }
    auto r = inspect(testing::shared_path(std::string("fixtures/arch/") + file));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string params = line_starting(r.out, "parameters: ");
    std::string digits;
    for (char c : params.substr(0, params.find(" ("))) {
      if (c >= '0' && c <= '9') digits += c;
    }
    EXPECT_EQ(std::stod(digits), elements) << params;
    std::string bpw = line_starting(r.out, "bits per weight: ");
    ASSERT_FALSE(bpw.empty()) << r.out;
    EXPECT_NEAR(std::stod(bpw.substr(17)), bits / elements, 1e-4) << bpw;
  }
}

TEST(InspectCli, ArraysAbbreviatedByDefaultAndFullWithAll) {
  std::string model = testing::source_path("models/stories260K.gguf");
  auto r = inspect(model);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tensors (48):"), std::string::npos);
  EXPECT_NE(line_starting(r.out, "parameters: ").find("292,800 (292.80 K)"), std::string::npos) << r.out;
  EXPECT_NE(line_starting(r.out, "bits per weight: ").find("32.0000"), std::string::npos);
  std::string tokens = line_starting(r.out, "  tokenizer.ggml.tokens ");
  EXPECT_NE(tokens.find("... (512 items)"), std::string::npos) << tokens;
  EXPECT_LT(tokens.size(), 300u);

  auto full = inspect("--all " + model);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  std::string all_tokens = line_starting(full.out, "  tokenizer.ggml.tokens ");
  EXPECT_EQ(all_tokens.find("items)"), std::string::npos);
  EXPECT_NE(all_tokens.find("\"<0xFF>\""), std::string::npos);
  // 512 quoted strings: 511 separators between them.
  size_t commas = 0;
  for (size_t p = all_tokens.find("\", \""); p != std::string::npos; p = all_tokens.find("\", \"", p + 1)) ++commas;
  EXPECT_EQ(commas, 511u);
}

TEST(InspectCli, LongStringsAbbreviatedByDefault) {
  std::string long_value;
  for (int i = 0; i < 100; ++i) long_value += "{% for m in messages %}\n";
  testing::RawGguf g;
  g.header(0, 1).kv_str("tokenizer.chat_template", long_value);
  std::string path = testing::write_temp("cli-long-string.gguf", g.bytes);
  auto r = inspect(path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string line = line_starting(r.out, "  tokenizer.chat_template ");
  EXPECT_NE(line.find("...\" (" + std::to_string(long_value.size()) + " bytes)"), std::string::npos) << line;
  EXPECT_LT(line.size(), 300u);
  auto full = inspect("--all " + path);
  std::string full_line = line_starting(full.out, "  tokenizer.chat_template ");
  EXPECT_EQ(full_line.find("bytes)"), std::string::npos);
  EXPECT_GT(full_line.size(), long_value.size());  // newlines printed as \n escapes: longer than the value
}

TEST(InspectCli, VocabOnlyFileHasNoParameters) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer/ggml-vocab-gpt-2.gguf");
  auto r = inspect(testing::shared_path("fixtures/tokenizer/ggml-vocab-gpt-2.gguf"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tensors (0):"), std::string::npos);
  EXPECT_NE(line_starting(r.out, "parameters: ").find("0"), std::string::npos);
  EXPECT_NE(line_starting(r.out, "bits per weight: ").find("n/a"), std::string::npos);
}

}  // namespace
}  // namespace tandem
