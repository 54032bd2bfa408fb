// `tandem generate` as a user runs it: greedy output against llama.cpp's
// fixture text, seeded sampling, and one-line errors for bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "gguf/gguf.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::read_json;
using testing::run_command;
using testing::shared_path;
using testing::source_path;
using testing::shell_quote;
using testing::tandem_binary;

std::string generate(const std::string& model, const std::string& prompt, const std::string& extra) {
  return tandem_binary() + " generate -m " + shell_quote(model) + " -p " + shell_quote(prompt) + " " + extra;
}

TEST(GenerateCli, GreedyOutputIsLlamaCppText) {
  TANDEM_REQUIRE_SHARED("fixtures/stories260K/greedy-1.json");
  for (int i = 1; i <= 3; ++i) {
    const auto fx = read_json(shared_path("fixtures/stories260K/greedy-" + std::to_string(i) + ".json"));
    auto r = run_command(generate(source_path("models/stories260K.gguf"), fx["prompt"], "-n 48 --temp 0 -t 1"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, fx["full_text"].get<std::string>() + "\n");
    // --no-display-prompt prints the continuation alone, like llama-completion.
    r = run_command(generate(source_path("models/stories260K.gguf"), fx["prompt"], "-n 48 --temp 0 --no-display-prompt"));
    EXPECT_EQ(r.out, fx["generated_text"].get<std::string>() + "\n");
  }
}

TEST(GenerateCli, SeededSamplingIsReproducible) {
  const std::string model = source_path("models/stories260K.gguf");
  auto a = run_command(generate(model, "The little dog", "-n 40 --temp 1.0 -s 7"));
  auto b = run_command(generate(model, "The little dog", "-n 40 --temp 1.0 -s 7"));
  auto c = run_command(generate(model, "The little dog", "-n 40 --temp 1.0 -s 8"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);  // 40 tokens at temperature 1: different seeds diverge
}

TEST(GenerateCli, StopStringEndsGeneration) {
  auto r = run_command(generate(source_path("models/stories260K.gguf"), "Once upon a time", "-n 48 --temp 0 --stop Lily"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Once upon a time, there was a little girl named \n");
}

void expect_one_line_error(const testing::CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tandem_cli_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes a copy of stories260K.gguf with `edit` applied to its metadata.
std::string edited_model(const TempDir& dir, const std::string& name,
                         const std::function<void(gguf::Writer&, const gguf::File&)>& edit) {
  auto src = gguf::File::open(source_path("models/stories260K.gguf"));
  gguf::Writer w;
  w.copy_metadata(*src);
  for (const auto& t : src->tensors()) w.add_tensor(t.name, t.type, t.ne, t.data, t.nbytes);
  edit(w, *src);
  const std::string path = dir.file(name);
  w.write(path);
  return path;
}

TEST(GenerateCli, BadInputGivesOneLineError) {
  TempDir dir;
  expect_one_line_error(run_command(generate(dir.file("missing.gguf"), "hi", "-n 4")), "missing.gguf");

  {
    FILE* f = std::fopen(dir.file("text.gguf").c_str(), "wb");
    std::fputs("this is not a model", f);
    std::fclose(f);
    expect_one_line_error(run_command(generate(dir.file("text.gguf"), "hi", "-n 4")), "not a GGUF file");
  }

  // A vocabulary of 500 tokens for a model whose embedding has 512 rows.
  const std::string small_vocab = edited_model(dir, "vocab.gguf", [](gguf::Writer& w, const gguf::File& f) {
    for (const char* key : {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
      auto items = f.find(key)->items();
      items.resize(500);
      w.set(key, gguf::Value::from_array(f.find(key)->array_type(), items));
    }
  });
  expect_one_line_error(run_command(generate(small_vocab, "hi", "-n 4")), "vocabulary");

  // Metadata that contradicts the tensor shapes.
  const std::string bad_shape = edited_model(dir, "shape.gguf", [](gguf::Writer& w, const gguf::File&) {
    w.set("llama.embedding_length", gguf::Value::u32(128));
  });
  expect_one_line_error(run_command(generate(bad_shape, "hi", "-n 4")), "shape");

  const std::string bad_arch = edited_model(dir, "arch.gguf", [](gguf::Writer& w, const gguf::File&) {
    w.set("general.architecture", gguf::Value::str("mamba"));
  });
  expect_one_line_error(run_command(generate(bad_arch, "hi", "-n 4")), "mamba");

  // A prompt longer than the context.
  expect_one_line_error(
      run_command(generate(source_path("models/stories260K.gguf"), "Once upon a time there was a dog", "-c 4 -n 4")),
      "context");
}

}  // namespace
}  // namespace tandem
