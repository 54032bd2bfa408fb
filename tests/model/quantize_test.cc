// tandem quantize against llama-quantize: fixtures/arch/llama-<type>.gguf were
// made with `llama-quantize --pure` from llama-f32.gguf, so quantizing the same
// input must give the same tensors, and the round-trip error (RMSE against the
// F32 weights) must be no worse than llama.cpp's by more than 2%.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "gguf/gguf.h"
#include "model/quantize.h"
#include "model/transformer.h"
#include "tensor/quant.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem {
namespace {

using testing::shared_path;

double rmse_vs(const gguf::File& ref_f32, const gguf::File& q) {
  double se = 0;
  int64_t n = 0;
  for (const auto& t : q.tensors()) {
    const auto& r = ref_f32.tensor(t.name);
    std::vector<float> deq(static_cast<size_t>(t.n_elements()));
    dequantize_row(t.type, t.data, deq.data(), t.n_elements());
    const float* x = reinterpret_cast<const float*>(r.data);
    for (int64_t i = 0; i < t.n_elements(); ++i) se += (deq[i] - x[i]) * static_cast<double>(deq[i] - x[i]);
    n += t.n_elements();
  }
  return std::sqrt(se / static_cast<double>(n));
}

class QuantizeFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantizeFixture, SameTensorsAndErrorAsLlamaQuantize) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  const std::string type = GetParam();
  const std::string out = ::testing::TempDir() + "tandem-quantize-" + type + ".gguf";
  std::string lower = type;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  QuantizeStats st = quantize_model(shared_path("fixtures/arch/llama-f32.gguf"), out, *parse_tensor_type(type));
  EXPECT_EQ(st.n_quantized, 16);
  EXPECT_EQ(st.n_kept, 5);

  auto f32 = gguf::File::open(shared_path("fixtures/arch/llama-f32.gguf"));
  auto ours = gguf::File::open(out);
  auto theirs = gguf::File::open(shared_path("fixtures/arch/llama-" + lower + ".gguf"));
  ASSERT_EQ(ours->tensors().size(), theirs->tensors().size());
  for (const auto& t : theirs->tensors()) {
    const auto& o = ours->tensor(t.name);
    EXPECT_EQ(o.type, t.type) << t.name;
    EXPECT_EQ(o.ne, t.ne) << t.name;
    ASSERT_EQ(o.nbytes, t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(o.data, t.data, t.nbytes), 0) << t.name << " differs from llama-quantize's";
  }
  EXPECT_EQ(ours->get_int("general.file_type"), theirs->get_int("general.file_type"));
  const double ours_rmse = rmse_vs(*f32, *ours), theirs_rmse = rmse_vs(*f32, *theirs);
  EXPECT_LE(ours_rmse, theirs_rmse * 1.02);
  std::printf("%s: RMSE tandem %.6g, llama.cpp %.6g\n", type.c_str(), ours_rmse, theirs_rmse);

  // The output is a model tandem runs.
  auto model = Transformer::load(out, {.n_threads = 1});
  KvCache cache = model->new_cache(16);
  ForwardContext ctx = model->new_context();
  std::vector<float> logits;
  const std::vector<TokenId> prompt = {1, 403, 407, 261, 378};
  model->forward(ctx, cache, prompt, Logits::kLast, logits);
  EXPECT_EQ(static_cast<int64_t>(logits.size()), model->config().n_vocab);
  std::remove(out.c_str());
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeFixture,
                         ::testing::Values("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"));

// Logits of every position of a fixed token sequence (fresh cache).
std::vector<float> all_logits(const std::string& path, const std::vector<TokenId>& tokens) {
  auto model = Transformer::load(path, {.n_threads = 1});
  KvCache cache = model->new_cache(static_cast<int64_t>(tokens.size()));
  ForwardContext fc = model->new_context();
  std::vector<float> logits;
  model->forward(fc, cache, tokens, Logits::kAll, logits);
  EXPECT_EQ(static_cast<int64_t>(logits.size()), model->config().n_vocab * static_cast<int64_t>(tokens.size()));
  return logits;
}

// F16 / BF16: every weight is the nearest representable value (RMSE no larger
// than converting each value independently), and the model's logits stay
// within the type's bound of the F32 model's.
TEST(Quantize, HalfPrecisionTypes) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  auto f32 = gguf::File::open(shared_path("fixtures/arch/llama-f32.gguf"));
  const std::vector<TokenId> tokens = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 400, 428, 426};
  const auto want = all_logits(shared_path("fixtures/arch/llama-f32.gguf"), tokens);
  for (const char* type : {"F16", "BF16"}) {
    const std::string out = ::testing::TempDir() + "tandem-quantize-" + type + ".gguf";
    quantize_model(shared_path("fixtures/arch/llama-f32.gguf"), out, *parse_tensor_type(type));
    auto q = gguf::File::open(out);
    for (const auto& t : q->tensors()) {
      if (t.ne.size() < 2) continue;
      const float* x = reinterpret_cast<const float*>(f32->tensor(t.name).data);
      std::vector<float> deq(static_cast<size_t>(t.n_elements()));
      dequantize_row(t.type, t.data, deq.data(), t.n_elements());
      for (int64_t i = 0; i < t.n_elements(); ++i) {
        // Round to nearest: the error is at most half a unit in the last place.
        const double rel = std::string(type) == "F16" ? 1.0 / 2048 : 1.0 / 256;
        ASSERT_LE(std::fabs(deq[i] - x[i]), std::fabs(x[i]) * rel + 1e-7) << t.name << "[" << i << "]";
      }
    }
    // Logits against the F32 model's (the half-precision model also rounds
    // the activations to its type before each product). Measured max abs
    // differences over the 13 x 512 logits (|logit| up to 6.46): F16 0.0126,
    // BF16 0.0865 (about 2^-3 times F16's, as the types' precisions); the
    // bounds leave a margin of about 25% above them.
    const double bound = std::string(type) == "F16" ? 0.016 : 0.11;
    const auto got = all_logits(out, tokens);
    ASSERT_EQ(got.size(), want.size());
    double max_diff = 0, max_abs = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(got[i]) - want[i]));
      max_abs = std::max(max_abs, std::fabs(static_cast<double>(want[i])));
    }
    std::printf("%s: max |logit - F32 logit| = %.6g (max |logit| %.4g)\n", type, max_diff, max_abs);
    EXPECT_LE(max_diff, bound) << type;
    std::remove(out.c_str());
  }
}

TEST(Quantize, RejectsUnknownTargetAndUnreadableInput) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  EXPECT_THROW(quantize_model(shared_path("fixtures/arch/llama-f32.gguf"), ::testing::TempDir() + "x.gguf",
                              TensorType::I32),
               Error);
  EXPECT_THROW(quantize_model("/nonexistent.gguf", ::testing::TempDir() + "x.gguf", TensorType::Q8_0), Error);
}

}  // namespace
}  // namespace tandem
