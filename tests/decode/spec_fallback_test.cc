// Falling back from speculative to plain decoding: the governor's decision
// logic on made-up timings, and an end-to-end run with a proposer that always
// guesses wrong (output still the target's greedy output, and the run goes
// plain). No test depends on the real clock.
#include <gtest/gtest.h>

#include "decode/speculative.h"
#include "synthetic_session.h"

namespace tandem::decode {
namespace {

using testing::SyntheticSession;

TokenId argmax(const std::vector<float>& l) {
  return static_cast<TokenId>(std::max_element(l.begin(), l.end()) - l.begin());
}

TEST(SpeculationGovernor, ProbesOnScheduleAndKeepsFastSpeculation) {
  FallbackOptions o;
  o.min_rounds = 4;
  o.first_probe = 2;
  o.probe_every = 5;
  SpeculationGovernor g(o);
  std::vector<bool> plain;
  for (int step = 0; step < 20; ++step) {
    const bool p = g.plain_next();
    plain.push_back(p);
    // Speculation: 10 ms per round for 3 tokens; plain: 8 ms per token.
    if (p) g.observe_plain(0.008, 1);
    else g.observe_speculative(0.010, 4, 2, 3);
  }
  EXPECT_FALSE(g.fell_back());
  // Two speculative rounds, a probe, then five rounds per probe.
  const std::vector<bool> want = {false, false, true,  false, false, false, false, false, true, false,
                                  false, false, false, false, true,  false, false, false, false, false};
  EXPECT_EQ(plain, want);
  EXPECT_NEAR(g.speculative_seconds_per_token(), 0.010 / 3, 1e-12);
  EXPECT_NEAR(g.plain_seconds_per_token(), 0.008, 1e-12);
}

TEST(SpeculationGovernor, FallsBackWhenSpeculationCostsMorePerToken) {
  FallbackOptions o;
  o.min_rounds = 4;
  o.first_probe = 1;
  SpeculationGovernor g(o);
  int spec_rounds = 0;
  for (int step = 0; step < 30 && !g.fell_back(); ++step) {
    if (g.plain_next()) {
      g.observe_plain(0.005, 1);
    } else {
      // Some tokens are accepted, but a round costs 30 ms for 2 tokens: 15 ms/token > 5 ms/token.
      g.observe_speculative(0.030, 4, 1, 2);
      ++spec_rounds;
    }
  }
  EXPECT_TRUE(g.fell_back());
  EXPECT_EQ(spec_rounds, o.min_rounds);  // decided as soon as allowed
  EXPECT_TRUE(g.plain_next());           // and stays plain
  g.observe_speculative(0.0001, 8, 8, 9);
  EXPECT_TRUE(g.fell_back());
}

TEST(SpeculationGovernor, FirstRoundIsWarmUpAndMarginApplies) {
  FallbackOptions o;
  o.min_rounds = 3;
  o.first_probe = 1;
  o.margin = 1.5;
  SpeculationGovernor g(o);
  g.observe_speculative(5.0, 4, 2, 3);  // draft prefill: ignored by the timing
  g.observe_plain(0.010, 1);
  g.observe_speculative(0.036, 4, 2, 3);  // 12 ms/token: slower than plain, within the margin
  g.observe_speculative(0.036, 4, 2, 3);
  EXPECT_FALSE(g.fell_back());
  EXPECT_NEAR(g.speculative_seconds_per_token(), 0.012, 1e-12);
  g.observe_speculative(0.090, 4, 2, 3);  // mean (36+36+90)/9 = 18 ms/token > 15
  EXPECT_TRUE(g.fell_back());
}

TEST(SpeculationGovernor, NothingAcceptedFallsBackWithoutAProbe) {
  FallbackOptions o;
  o.min_rounds = 5;
  o.first_probe = 100;
  SpeculationGovernor g(o);
  for (int i = 0; i < 4; ++i) g.observe_speculative(0.0, 3, 0, 1);  // fast on the clock, but useless
  EXPECT_FALSE(g.fell_back());
  g.observe_speculative(0.0, 3, 0, 1);
  EXPECT_TRUE(g.fell_back());
}

// Proposes tokens the target never picks next: (its argmax + 1) mod V at each
// step, continuing from its own (wrong) guesses.
class WrongProposer : public Proposer {
 public:
  explicit WrongProposer(const SyntheticSession& target) : target_(target) {}
  const char* name() const override { return "wrong"; }
  Draft propose(std::span<const TokenId> context, int max_tokens) override {
    Draft d;
    std::vector<TokenId> ctx(context.begin(), context.end());
    for (int i = 0; i < max_tokens; ++i) {
      const TokenId t = (argmax(target_.logits_after(ctx)) + 1) % target_.n_vocab();
      d.tokens.push_back(t);
      ctx.push_back(t);
    }
    ++calls;
    return d;
  }
  int calls = 0;

 private:
  const SyntheticSession& target_;
};

TEST(SpeculativeFallback, WrongProposerStillGivesGreedyOutputAndGoesPlain) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const std::vector<TokenId> prompt = {3, 1, 4, 1, 5};
    // The greedy reference, brute force from the synthetic model's logits.
    SyntheticSession ref(30, seed, 2.0f);
    std::vector<TokenId> ctx = prompt, want;
    for (int i = 0; i < 50; ++i) {
      want.push_back(argmax(ref.logits_after(ctx)));
      ctx.push_back(want.back());
    }
    SyntheticSession target(30, seed, 2.0f);
    WrongProposer proposer(target);
    GreedyVerifier verifier;
    FixedDraftLength policy(4);
    FallbackOptions fo;
    fo.min_rounds = 6;
    SpeculationGovernor governor(fo);
    SpeculativeExtras extras;
    extras.governor = &governor;
    double fake_now = 0;
    extras.clock = [&] { return fake_now += 1.0; };  // every interval is 1 s: timing cannot decide
    SpeculativeStats st;
    auto got = speculative_generate(target, prompt, 50, proposer, verifier, policy,
                                    [](TokenId, std::span<const float>) { return true; }, &st, extras);
    EXPECT_EQ(got, want) << "seed " << seed;
    EXPECT_TRUE(st.fell_back) << "seed " << seed;
    EXPECT_EQ(st.accepted, 0);
    // Six speculative rounds, then plain steps only: the proposer is not asked again.
    EXPECT_EQ(proposer.calls, fo.min_rounds);
    EXPECT_EQ(st.drafted, 4 * fo.min_rounds);
    EXPECT_EQ(st.rounds, 50);  // one token per round
    EXPECT_EQ(st.plain_steps, 50 - fo.min_rounds);
    EXPECT_GT(st.fallback_at, 0);
    EXPECT_LT(st.fallback_at, 12);
  }
}

TEST(SpeculativeFallback, GoodProposerKeepsSpeculating) {
  // A draft equal to the target: everything accepted; with equal fake times
  // per step, a round of 5 tokens is 5x cheaper per token than a probe.
  const std::vector<TokenId> prompt = {2, 7, 1, 8};
  SyntheticSession target(30, 9, 2.0f), draft(30, 9, 2.0f);
  DraftModelProposer proposer(draft, true);
  GreedyVerifier verifier;
  FixedDraftLength policy(4);
  SpeculationGovernor governor;
  SpeculativeExtras extras;
  extras.governor = &governor;
  double fake_now = 0;
  extras.clock = [&] { return fake_now += 1.0; };
  SpeculativeStats st;
  speculative_generate(target, prompt, 80, proposer, verifier, policy, [](TokenId, std::span<const float>) { return true; },
                       &st, extras);
  EXPECT_FALSE(st.fell_back);
  EXPECT_GT(st.plain_steps, 0);  // probes were taken
  EXPECT_EQ(st.generated, 80);
  EXPECT_GT(st.accepted, 40);
}

}  // namespace
}  // namespace tandem::decode
