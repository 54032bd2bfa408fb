// Text utilities against hand-computed values, and the reranking selectors.
#include <gtest/gtest.h>

#include "decode/rerank.h"
#include "decode/text_metrics.h"
#include "util/error.h"

namespace tandem::decode {
namespace {

TEST(TextMetrics, ExactMatchAndTokenF1) {
  EXPECT_EQ(exact_match(" 42\n", "42"), 1.0);
  EXPECT_EQ(exact_match("42", "43"), 0.0);
  // "the cat sat" vs "the cat ran away": common {the, cat} = 2; P = 2/3, R = 2/4.
  EXPECT_NEAR(token_f1("The cat sat.", "the cat ran away"), 2 * (2.0 / 3) * 0.5 / (2.0 / 3 + 0.5), 1e-12);
  EXPECT_EQ(token_f1("a a b", "a b b"), 2 * (2.0 / 3) * (2.0 / 3) / (4.0 / 3));  // multiset overlap 2
  EXPECT_EQ(token_f1("", ""), 1.0);
  EXPECT_EQ(token_f1("x", ""), 0.0);
}

TEST(TextMetrics, ChrfByHand) {
  EXPECT_NEAR(chrf("abc", "abc"), 1.0, 1e-12);
  EXPECT_EQ(chrf("abc", "xyz"), 0.0);
  // hyp "ab", ref "abc", max_n = 2: n=1 P=2/2 R=2/3; n=2 P=1/1 R=1/2.
  // avg P = 1, avg R = 7/12; F2 = 5 P R / (4 P + R).
  const double p = 1.0, r = 7.0 / 12;
  EXPECT_NEAR(chrf("a b", "abc", 2), 5 * p * r / (4 * p + r), 1e-12);  // spaces are ignored
}

Generation gen(std::string text, double sum_lp, size_t n) {
  Generation g;
  g.text = std::move(text);
  g.sum_logprob = sum_lp;
  g.tokens.assign(n, 0);
  return g;
}

TEST(Rerank, BestOfNVoteAndMbr) {
  std::vector<Generation> c = {gen("x #### 4", -6, 3), gen("y #### 5", -4, 4), gen("z #### 4", -9, 3), gen("w", -1, 2)};
  EXPECT_EQ(best_by_mean_logprob(c), 3u);  // means: -2, -1, -3, -0.5
  auto v = majority_answer(c);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->answer, "4");
  EXPECT_EQ(v->votes, 2);
  EXPECT_EQ(v->representative, 0u);
  // MBR: the candidate closest to the others wins.
  std::vector<std::string> texts = {"the cat sat on the mat", "a cat sat on a mat", "the cat sat on a mat", "dogs run"};
  EXPECT_EQ(mbr_select(texts, utility_by_name("f1")), 2u);
  EXPECT_EQ(mbr_select(texts, utility_by_name("chrf")), 2u);
  std::vector<std::string> same = {"b", "a", "b", "a", "b"};
  EXPECT_EQ(mbr_select(same, utility_by_name("exact")), 0u);
  EXPECT_THROW(utility_by_name("bleu"), Error);
}

}  // namespace
}  // namespace tandem::decode
