// quantize_row against llama.cpp itself: fixtures/arch/llama-q8_0.gguf and
// llama-q4_0.gguf were made by `llama-quantize --pure` from llama-f32.gguf (see
// fixtures/arch/README.md), which runs ggml's reference quantizers row by row.
// Quantizing every tensor of llama-f32.gguf to the type stored in the fixture
// must give the same bytes, tensor by tensor.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tensor/quant.h"
#include "test_util.h"

namespace tandem {
namespace {

void expect_requantized_equal(const std::string& quantized_file, TensorType expected_type) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  auto src = gguf::File::open(testing::shared_path("fixtures/arch/llama-f32.gguf"));
  auto ref = gguf::File::open(testing::shared_path("fixtures/arch/" + quantized_file));
  ASSERT_EQ(src->tensors().size(), ref->tensors().size());
  int n_quantized = 0;
  for (const auto& t : ref->tensors()) {
    SCOPED_TRACE(t.name);
    const gguf::TensorInfo& s = src->tensor(t.name);
    ASSERT_EQ(s.type, TensorType::F32);
    ASSERT_EQ(s.ne, t.ne);
    // --pure quantizes every 2-D weight; 1-D norms stay F32.
    EXPECT_EQ(t.type, t.ne.size() == 1 ? TensorType::F32 : expected_type);
    std::vector<uint8_t> mine(t.nbytes);
    const int64_t row = t.ne[0];
    const int64_t rows = t.n_elements() / row;
    const size_t stride = row_bytes(t.type, row);
    const auto* x = reinterpret_cast<const float*>(s.data);
    for (int64_t r = 0; r < rows; ++r) quantize_row(t.type, x + r * row, mine.data() + r * stride, row);
    ASSERT_EQ(mine.size(), t.nbytes);
    size_t first_diff = 0;
    while (first_diff < mine.size() && mine[first_diff] == t.data[first_diff]) ++first_diff;
    EXPECT_EQ(first_diff, mine.size()) << "first differing byte " << first_diff << " (block "
                                       << first_diff / traits(t.type).type_size << ")";
    n_quantized += t.type == expected_type;
  }
  EXPECT_EQ(n_quantized, 16);
}

TEST(QuantizeFixture, Q8_0MatchesLlamaQuantizeBitExactly) { expect_requantized_equal("llama-q8_0.gguf", TensorType::Q8_0); }

TEST(QuantizeFixture, Q4_0MatchesLlamaQuantizeBitExactly) { expect_requantized_equal("llama-q4_0.gguf", TensorType::Q4_0); }

}  // namespace
}  // namespace tandem
