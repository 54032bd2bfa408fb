// Speculative decoding: greedy output equals plain greedy output token for
// token; rejection sampling reproduces the target's exact distribution
// (computed independently from the synthetic model) within sampling error.
#include <gtest/gtest.h>

#include <map>

#include "decode/speculative.h"
#include "synthetic_session.h"
#include "util/error.h"

namespace tandem::decode {
namespace {

using testing::SyntheticSession;

std::vector<TokenId> plain_greedy(Session& s, const std::vector<TokenId>& prompt, int n) {
  std::vector<float> logits;
  s.eval(prompt, false, logits);
  std::vector<TokenId> out;
  for (int i = 0; i < n; ++i) {
    TokenId t = static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(t);
    s.eval(std::span<const TokenId>(&t, 1), false, logits);
  }
  return out;
}

TEST(Speculative, GreedyWithDraftModelOrLookupEqualsPlainGreedy) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const std::vector<TokenId> prompt = {1, 5, 9, 5, 9, 5};
    SyntheticSession ref(40, seed, 2.0f);
    const auto want = plain_greedy(ref, prompt, 60);

    SyntheticSession target(40, seed, 2.0f), draft(40, seed, 2.0f, 4096, seed + 100, 0.7f);
    DraftModelProposer proposer(draft, /*greedy=*/true);
    GreedyVerifier verifier;
    AdaptiveDraftLength policy(4, 1, 8);
    SpeculativeStats st;
    auto got = speculative_generate(target, prompt, 60, proposer, verifier, policy, [](TokenId, std::span<const float>) { return true; }, &st);
    EXPECT_EQ(got, want) << "seed " << seed;
    EXPECT_GT(st.accepted, 0);
    EXPECT_LT(st.rounds, 60);  // some rounds produced several tokens
    EXPECT_EQ(st.generated, 60);

    SyntheticSession target2(40, seed, 2.0f);
    PromptLookupProposer lookup(1, 3);
    FixedDraftLength fixed(5);
    auto got2 = speculative_generate(target2, prompt, 60, lookup, verifier, fixed, [](TokenId, std::span<const float>) { return true; }, nullptr);
    EXPECT_EQ(got2, want) << "seed " << seed;
  }
}

TEST(Speculative, StopsWhenCallbackSaysSoAndRespectsContext) {
  SyntheticSession target(30, 3, 2.0f, /*n_ctx=*/20), draft(30, 3, 2.0f, 20, 9, 0.5f);
  DraftModelProposer proposer(draft, true);
  GreedyVerifier verifier;
  FixedDraftLength policy(6);
  int seen = 0;
  auto out = speculative_generate(target, std::vector<TokenId>{1, 2, 3}, 100, proposer, verifier, policy,
                                  [&](TokenId, std::span<const float>) { return ++seen < 7; }, nullptr);
  EXPECT_EQ(out.size(), 7u);
  SyntheticSession t2(30, 3, 2.0f, 20), d2(30, 3, 2.0f, 20, 9, 0.5f);
  DraftModelProposer p2(d2, true);
  out = speculative_generate(t2, std::vector<TokenId>{1, 2, 3}, 100, p2, verifier, policy, [](TokenId, std::span<const float>) { return true; }, nullptr);
  EXPECT_EQ(out.size(), 18u);  // context of 20: 3 prompt tokens + 17 fed + 1 emitted but never fed
}

TEST(Speculative, PromptLookupProposesWhatFollowedTheLastNgram) {
  PromptLookupProposer p(1, 3);
  const std::vector<TokenId> ctx = {7, 1, 2, 3, 4, 5, 9, 1, 2, 3};
  EXPECT_EQ(p.propose(ctx, 3).tokens, (std::vector<TokenId>{4, 5, 9}));
  EXPECT_EQ(p.propose(ctx, 10).tokens, (std::vector<TokenId>{4, 5, 9, 1, 2, 3}));  // up to the end of the context
  EXPECT_TRUE(p.propose(std::vector<TokenId>{1, 2, 3}, 3).tokens.empty());
}

// A length below 1 would take the suffix from before the context's start (it
// read out of bounds); min above max would never try any length.
TEST(Speculative, PromptLookupRejectsBadNgramLengths) {
  EXPECT_THROW(PromptLookupProposer(0, 3), Error);
  EXPECT_THROW(PromptLookupProposer(-2, 3), Error);
  EXPECT_THROW(PromptLookupProposer(-3, -1), Error);
  EXPECT_THROW(PromptLookupProposer(3, 2), Error);
  PromptLookupProposer one(1, 1);
  EXPECT_EQ(one.propose(std::vector<TokenId>{5, 6, 5}, 2).tokens, (std::vector<TokenId>{6, 5}));
}

// Joint distribution of the first 3 generated tokens: exact (from the
// synthetic model) vs observed over many seeds. Each of the 216 cells is
// Binomial(N, P); we allow 5 standard deviations + 2 counts, and also check
// the chi-square statistic against a bound far in the tail.
void check_distribution(const std::string& what, const sample::SamplingParams& shaping, bool lookup) {
  const int32_t V = 6;
  const int N = 24000;
  const std::vector<TokenId> prompt = {0, 1, 2, 0, 1};
  SyntheticSession model(V, 42, 1.2f);
  // Exact: temperature-scaled, optionally top-k limited.
  auto exact_step = [&](const std::vector<TokenId>& ctx) {
    auto p = model.probs_after(ctx, shaping.temperature);
    if (shaping.top_k > 0) {
      std::vector<double> sorted = p;
      std::sort(sorted.rbegin(), sorted.rend());
      const double cut = sorted[static_cast<size_t>(shaping.top_k - 1)];
      double z = 0;
      for (auto& x : p) z += (x = x >= cut ? x : 0.0);
      for (auto& x : p) x /= z;
    }
    return p;
  };
  std::map<std::vector<TokenId>, double> exact;
  for (TokenId a = 0; a < V; ++a) {
    auto ctx = prompt;
    const double pa = exact_step(ctx)[a];
    ctx.push_back(a);
    auto pb_all = exact_step(ctx);
    for (TokenId b = 0; b < V; ++b) {
      auto ctx2 = ctx;
      ctx2.push_back(b);
      auto pc_all = exact_step(ctx2);
      for (TokenId c = 0; c < V; ++c) exact[{a, b, c}] = pa * pb_all[b] * pc_all[c];
    }
  }
  std::map<std::vector<TokenId>, int> count;
  SpeculativeStats st;
  for (int run = 0; run < N; ++run) {
    SyntheticSession target(V, 42, 1.2f), draft(V, 7, 1.0f);  // the draft is a different model
    sample::SamplingParams ds = shaping;
    ds.seed = static_cast<uint64_t>(run) * 2 + 1;
    DraftModelProposer dp(draft, false, ds);
    PromptLookupProposer lp(1, 2);
    Proposer& proposer = lookup ? static_cast<Proposer&>(lp) : dp;
    RejectionVerifier verifier(shaping, static_cast<uint64_t>(run) * 2 + 2);
    FixedDraftLength policy(3);
    auto out = speculative_generate(target, prompt, 3, proposer, verifier, policy, [](TokenId, std::span<const float>) { return true; }, &st);
    ASSERT_EQ(out.size(), 3u);
    ++count[out];
  }
  double chi2 = 0;
  int cells = 0;
  for (const auto& [seq, p] : exact) {
    const int c = count.count(seq) ? count[seq] : 0;
    if (p == 0) {
      EXPECT_EQ(c, 0) << what << ": impossible sequence drawn";
      continue;
    }
    const double mean = N * p, sd = std::sqrt(N * p * (1 - p));
    EXPECT_NEAR(c, mean, 5 * sd + 2) << what << " sequence " << seq[0] << seq[1] << seq[2];
    chi2 += (c - mean) * (c - mean) / mean;
    ++cells;
  }
  // For k = cells - 1 degrees of freedom, chi2 > k + 6 sqrt(2k) has probability < 1e-6.
  EXPECT_LT(chi2, (cells - 1) + 6 * std::sqrt(2.0 * (cells - 1))) << what;
  EXPECT_GT(st.accepted, 0) << what << ": the test must exercise accepted drafts";
  EXPECT_LT(st.accepted, st.drafted) << what << ": and rejected ones";
}

TEST(Speculative, RejectionSamplingPreservesTargetDistribution) {
  sample::SamplingParams plain;
  plain.temperature = 1.0f;
  plain.top_k = 0;
  plain.top_p = 1.0f;
  plain.min_p = 0.0f;
  check_distribution("draft model, T=1", plain, false);
  sample::SamplingParams shaped = plain;
  shaped.temperature = 0.7f;
  shaped.top_k = 4;
  check_distribution("draft model, T=0.7 top-k 4", shaped, false);
  check_distribution("prompt lookup, T=1", plain, true);
}

TEST(Speculative, AdaptiveDraftLengthFollowsAcceptance) {
  AdaptiveDraftLength p(4, 2, 6);
  p.observe(4, 4);
  EXPECT_EQ(p.draft_length(), 5);
  p.observe(5, 5);
  p.observe(6, 6);
  EXPECT_EQ(p.draft_length(), 6);
  p.observe(6, 1);
  EXPECT_EQ(p.draft_length(), 5);
  for (int i = 0; i < 10; ++i) p.observe(5, 0);
  EXPECT_EQ(p.draft_length(), 2);
  p.observe(2, 1);  // half accepted: unchanged
  EXPECT_EQ(p.draft_length(), 2);
}

}  // namespace
}  // namespace tandem::decode
