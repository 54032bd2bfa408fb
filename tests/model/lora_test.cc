// LoRA adapters merged at load: the adapted model's logits equal those of the
// model `tandem train --merged-out` writes for the same adapter (an independent
// merge, in the trainer), scale 0 is the base model, and bad adapters are
// clear errors.
#include "model/lora.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "gguf/gguf.h"
#include "model/transformer.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem {
namespace {

using testing::run_command;
using testing::source_path;
using testing::tandem_binary;

std::filesystem::path temp_dir() {
  // Per process: ctest runs the tests of this file in parallel processes.
  auto d = std::filesystem::temp_directory_path() / ("tandem_lora_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

// Trains a small adapter (and its merged model) on the bundled tiny model once.
struct Trained {
  std::string base = source_path("models/tandem-tiny.gguf");
  std::string adapter, merged;
  Trained() {
    const auto d = temp_dir();
    const std::string data = (d / "pairs.jsonl").string();
    std::ofstream f(data);
    for (int i = 0; i < 40; ++i) f << R"({"prompt": "Q: color of the sky?\nA:", "completion": " The sky is green."})" << "\n";
    f.close();
    adapter = (d / "adapter.gguf").string();
    merged = (d / "merged.gguf").string();
    auto r = run_command(tandem_binary() + " train --init " + base + " --lora-rank 4 --lora-alpha 8 --pairs " + data +
                         " --steps 10 --lr 1e-2 --seq 32 --batch 4 --threads 1 --eval-every 0 -o " + adapter +
                         " --merged-out " + merged);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
};
const Trained& trained() {
  static Trained t;
  return t;
}

std::vector<float> all_logits(const std::string& path, const std::vector<LoraAdapter>& lora) {
  auto m = Transformer::load(path, {.n_threads = 1, .lora = lora});
  auto cache = m->new_cache(64);
  const auto ids = m->tokenizer().encode("Q: color of the sky?\nA: The", true, false);
  ForwardContext ctx = m->new_context();
  std::vector<float> out;
  m->forward(ctx, cache, ids, Logits::kAll, out);
  return out;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

TEST(Lora, AdaptedLogitsEqualTheTrainersMergedModel) {
  const auto& t = trained();
  const auto adapted = all_logits(t.base, {{t.adapter, 1.0f}});
  const auto merged = all_logits(t.merged, {});
  const auto base = all_logits(t.base, {});
  EXPECT_LT(max_diff(adapted, merged), 1e-4);
  EXPECT_GT(max_diff(adapted, base), 1e-2);  // the adapter does change the model
  EXPECT_EQ(max_diff(all_logits(t.base, {{t.adapter, 0.0f}}), base), 0.0);
  // Two half-scaled copies of the adapter are the adapter at full scale (merging is linear).
  EXPECT_LT(max_diff(all_logits(t.base, {{t.adapter, 0.5f}, {t.adapter, 0.5f}}), merged), 1e-4);
}

TEST(Lora, CliGenerateWithLoraEqualsTheMergedModel) {
  const auto& t = trained();
  const std::string prompt = " -p 'Q: color of the sky?\nA:' -n 12 --temp 0 -t 1";
  auto a = run_command(tandem_binary() + " generate -m " + t.base + " --lora " + t.adapter + prompt);
  auto m = run_command(tandem_binary() + " generate -m " + t.merged + prompt);
  auto s = run_command(tandem_binary() + " generate -m " + t.base + " --lora-scaled " + t.adapter + " 1.0" + prompt);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, m.out);
  EXPECT_EQ(s.out, m.out);
}

TEST(Lora, BadAdaptersAreClearErrors) {
  const auto& t = trained();
  const auto d = temp_dir();
  // A model file is not an adapter.
  auto r = run_command(tandem_binary() + " generate -m " + t.base + " --lora " + t.base + " -p hi -n 2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a LoRA adapter"), std::string::npos) << r.err;

  auto src = gguf::File::open(t.adapter);
  auto rewrite = [&](const std::string& name, auto&& edit_tensors) {
    gguf::Writer w;
    w.copy_metadata(*src);
    edit_tensors(w);
    const std::string path = (d / name).string();
    w.write(path);
    return path;
  };
  // A lora_a without its lora_b.
  const std::string lonely = rewrite("lonely.gguf", [&](gguf::Writer& w) {
    for (const auto& ti : src->tensors())
      if (ti.name != "blk.0.attn_q.weight.lora_b") w.add_tensor(ti.name, ti.type, ti.ne, ti.data, ti.nbytes);
  });
  // A pair whose shapes do not fit the matrix (rank dimension and n_in swapped).
  const std::string wrong = rewrite("wrong.gguf", [&](gguf::Writer& w) {
    for (const auto& ti : src->tensors()) {
      auto ne = ti.ne;
      if (ti.name == "blk.0.attn_q.weight.lora_a") std::swap(ne[0], ne[1]);
      w.add_tensor(ti.name, ti.type, ne, ti.data, ti.nbytes);
    }
  });
  // A matrix the model does not have.
  const std::string unknown = rewrite("unknown.gguf", [&](gguf::Writer& w) {
    for (const auto& ti : src->tensors()) {
      std::string name = ti.name;
      if (name.rfind("blk.0.", 0) == 0) name = "blk.99." + name.substr(6);
      w.add_tensor(name, ti.type, ti.ne, ti.data, ti.nbytes);
    }
  });
  for (const auto& [path, message] : {std::pair{lonely, "has no blk.0.attn_q.weight.lora_b"},
                                      {wrong, "blk.0.attn_q.weight have shapes"},
                                      {unknown, "no adaptable matrix blk.99."}}) {
    r = run_command(tandem_binary() + " generate -m " + t.base + " --lora " + path + " -p hi -n 2");
    EXPECT_EQ(r.exit_code, 1) << path;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
    EXPECT_THROW(Transformer::load(t.base, {.lora = {{path, 1.0f}}}), tandem::Error);
  }
  // An adapter of another architecture.
  const std::string other = (d / "other.gguf").string();
  {
    gguf::Writer w;
    w.copy_metadata(*src);
    w.set("general.architecture", gguf::Value::str("qwen2"));
    for (const auto& ti : src->tensors()) w.add_tensor(ti.name, ti.type, ti.ne, ti.data, ti.nbytes);
    w.write(other);
  }
  r = run_command(tandem_binary() + " generate -m " + t.base + " --lora " + other + " -p hi -n 2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("architecture 'qwen2'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tandem
