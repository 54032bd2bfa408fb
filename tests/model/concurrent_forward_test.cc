// One loaded Transformer serving several threads at once, each with its own
// KvCache and ForwardContext: every thread's logits and tokens must equal,
// bit for bit, those of the same work run alone (before any thread starts).
// Several threads run OpenMP teams of 2 inside their std::thread, so this
// also checks that concurrent teams share no buffers. Run under ASan+UBSan
// too (-DTANDEM_SANITIZE=ON). Checked to fail: with one context shared by
// the four threads the first test corrupts the heap.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "model/transformer.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem {
namespace {

using testing::source_path;

constexpr int kSteps = 32;
const char* const kPrompts[] = {"Once upon a time", "The little dog ran to the", "Lily and Tom went to the park.",
                                "12 + 30 = 42. The cat sat"};

// Every logit row a greedy decode produced, and its tokens.
struct Trace {
  std::vector<std::vector<float>> logits;
  std::vector<TokenId> tokens;
};

TokenId argmax(const std::vector<float>& v) {
  return static_cast<TokenId>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Prefills `prompt` and decodes kSteps tokens greedily, one forward per step,
// on a context of n_threads threads.
Trace greedy(const Transformer& m, const std::vector<TokenId>& prompt, int n_threads) {
  KvCache cache = m.new_cache(static_cast<int64_t>(prompt.size()) + kSteps);
  ForwardContext ctx(n_threads);
  Trace t;
  std::vector<float> logits;
  m.forward(ctx, cache, prompt, Logits::kLast, logits);
  for (int i = 0; i < kSteps; ++i) {
    t.logits.push_back(logits);
    const TokenId next = argmax(logits);
    t.tokens.push_back(next);
    m.forward(ctx, cache, std::span<const TokenId>(&next, 1), Logits::kLast, logits);
  }
  t.logits.push_back(logits);
  return t;
}

// Two sequences in lockstep through forward_batch with one context: a
// batched prefill of both prompts, then one batched step per token.
std::vector<Trace> greedy_batch(const Transformer& m, const std::vector<TokenId>& a, const std::vector<TokenId>& b) {
  std::vector<KvCache> caches;
  caches.push_back(m.new_cache(static_cast<int64_t>(a.size()) + kSteps));
  caches.push_back(m.new_cache(static_cast<int64_t>(b.size()) + kSteps));
  ForwardContext ctx = m.new_context();
  std::vector<Trace> t(2);
  std::vector<std::vector<float>> out(2);
  std::vector<SequenceInput> batch = {{&caches[0], a, Logits::kLast, &out[0]}, {&caches[1], b, Logits::kLast, &out[1]}};
  m.forward_batch(ctx, batch);
  std::vector<TokenId> next(2);
  for (int i = 0; i <= kSteps; ++i) {
    for (size_t s = 0; s < 2; ++s) {
      t[s].logits.push_back(out[s]);
      if (i == kSteps) continue;
      next[s] = argmax(out[s]);
      t[s].tokens.push_back(next[s]);
      batch[s].tokens = std::span<const TokenId>(&next[s], 1);
    }
    if (i < kSteps) m.forward_batch(ctx, batch);
  }
  return t;
}

void expect_identical(const Trace& got, const Trace& want, const std::string& what) {
  EXPECT_EQ(got.tokens, want.tokens) << what;
  ASSERT_EQ(got.logits.size(), want.logits.size()) << what;
  for (size_t i = 0; i < want.logits.size(); ++i) {
    // operator== on the floats: bit for bit (no NaN appears in these logits).
    ASSERT_EQ(got.logits[i], want.logits[i]) << what << ", step " << i;
  }
}

// Threads 0 and 2 run OpenMP teams of 2 inside their std::thread, 1 and 3 run
// on one thread: the nesting is exercised with fewer spinning threads (4 x 2
// busy-waiting OpenMP threads on the shared 2-core machine made this test
// 20x slower on the loaded development VM: 42 s instead of 2 s).
int threads_of(size_t i) { return i % 2 == 0 ? 2 : 1; }

class ConcurrentForward : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    model_ = Transformer::load(GetParam(), {.n_threads = 2});
    for (const char* p : kPrompts) prompts_.push_back(model_->tokenizer().encode(p, true, false));
  }
  std::unique_ptr<Transformer> model_;
  std::vector<std::vector<TokenId>> prompts_;
};

TEST_P(ConcurrentForward, FourThreadsDecodeAsEachAlone) {
  std::vector<Trace> alone;
  for (size_t i = 0; i < prompts_.size(); ++i) alone.push_back(greedy(*model_, prompts_[i], threads_of(i)));
  // The prompts must lead to different decodes, or a thread reading another's
  // buffers could still produce the expected tokens.
  EXPECT_NE(alone[0].tokens, alone[1].tokens);

  std::vector<Trace> got(prompts_.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < prompts_.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = greedy(*model_, prompts_[i], threads_of(i)); });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < prompts_.size(); ++i) expect_identical(got[i], alone[i], "thread " + std::to_string(i));
}

TEST_P(ConcurrentForward, BatchedPassConcurrentWithSingleForwards) {
  const std::vector<Trace> batch_alone = greedy_batch(*model_, prompts_[0], prompts_[1]);
  const Trace alone2 = greedy(*model_, prompts_[2], 1), alone3 = greedy(*model_, prompts_[3], 1);

  std::vector<Trace> batch_got;
  Trace got2, got3;
  std::thread tb([&] { batch_got = greedy_batch(*model_, prompts_[0], prompts_[1]); });
  std::thread t2([&] { got2 = greedy(*model_, prompts_[2], 1); });
  std::thread t3([&] { got3 = greedy(*model_, prompts_[3], 1); });
  tb.join();
  t2.join();
  t3.join();
  ASSERT_EQ(batch_got.size(), 2u);
  expect_identical(batch_got[0], batch_alone[0], "batch sequence 0");
  expect_identical(batch_got[1], batch_alone[1], "batch sequence 1");
  expect_identical(got2, alone2, "single thread 2");
  expect_identical(got3, alone3, "single thread 3");
}

INSTANTIATE_TEST_SUITE_P(Models, ConcurrentForward,
                         ::testing::Values(source_path("models/tandem-base.gguf"),
                                           source_path("models/stories260K.gguf")));

// Two models in one process, decoded at the same time from two threads.
TEST(ConcurrentForwardModels, TwoModelsAtOnceDecodeAsEachAlone) {
  auto a = Transformer::load(source_path("models/tandem-base.gguf"), {.n_threads = 2});
  auto b = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 2});
  const auto pa = a->tokenizer().encode(kPrompts[0], true, false);
  const auto pb = b->tokenizer().encode(kPrompts[0], true, false);
  const Trace want_a = greedy(*a, pa, 2), want_b = greedy(*b, pb, 2);
  Trace got_a, got_b;
  std::thread ta([&] { got_a = greedy(*a, pa, 2); });
  std::thread tb([&] { got_b = greedy(*b, pb, 2); });
  ta.join();
  tb.join();
  expect_identical(got_a, want_a, "tandem-base");
  expect_identical(got_b, want_b, "stories260K");
}

// Two inputs naming one cache would write the same positions twice: rejected
// before anything changes.
TEST(ConcurrentForwardModels, BatchRejectsOneCacheForTwoSequences) {
  auto m = Transformer::load(source_path("models/stories260K.gguf"), {.n_threads = 1});
  KvCache cache = m->new_cache(16);
  ForwardContext ctx = m->new_context();
  const std::vector<TokenId> a = {1, 403}, b = {1, 407};
  std::vector<float> oa, ob;
  std::vector<SequenceInput> batch = {{&cache, a, Logits::kLast, &oa}, {&cache, b, Logits::kLast, &ob}};
  EXPECT_THROW(m->forward_batch(ctx, batch), Error);
  EXPECT_EQ(cache.n_past(), 0);
}

}  // namespace
}  // namespace tandem
