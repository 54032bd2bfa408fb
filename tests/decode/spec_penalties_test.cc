// Logit bias and repetition/frequency/presence penalties under speculative
// decoding. The reference is computed here by brute force from llama.cpp's
// formula (sample/penalties.h) over the exact logits of the synthetic model:
// greedy speculative output (draft model or prompt lookup) must equal greedy
// decoding of the penalized logits token for token, and rejection sampling
// must draw from the penalized distribution. On real models, greedy
// speculative / lookup under penalties must equal --strategy greedy.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "decode/speculative.h"
#include "decode/strategy.h"
#include "synthetic_session.h"
#include "test_util.h"

namespace tandem::decode {
namespace {

using testing::SyntheticSession;

// llama.cpp's order and formula, written out: bias, then for every token seen
// c > 0 times in the last penalty_last_n tokens of the history,
// l = l <= 0 ? l * repeat : l / repeat; l -= c * frequency + presence.
std::vector<float> penalized(std::vector<float> l, const std::vector<TokenId>& history, const sample::SamplingParams& p) {
  for (const auto& [id, b] : p.logit_bias) l[static_cast<size_t>(id)] += b;
  const size_t n = p.penalty_last_n < 0 ? history.size() : std::min(history.size(), static_cast<size_t>(p.penalty_last_n));
  std::map<TokenId, int> counts;
  for (size_t i = history.size() - n; i < history.size(); ++i) ++counts[history[i]];
  for (const auto& [t, c] : counts) {
    float& x = l[static_cast<size_t>(t)];
    x = x <= 0.0f ? x * p.repeat_penalty : x / p.repeat_penalty;
    x -= static_cast<float>(c) * p.frequency_penalty + p.presence_penalty;
  }
  return l;
}

TokenId first_argmax(const std::vector<float>& l) {
  return static_cast<TokenId>(std::max_element(l.begin(), l.end()) - l.begin());
}

std::vector<TokenId> reference_greedy(const SyntheticSession& model, std::vector<TokenId> ctx, int n,
                                      const sample::SamplingParams& p) {
  std::vector<TokenId> out;
  for (int i = 0; i < n; ++i) {
    const TokenId t = first_argmax(penalized(model.logits_after(ctx), ctx, p));
    ctx.push_back(t);
    out.push_back(t);
  }
  return out;
}

sample::SamplingParams penalty_params(int last_n) {
  sample::SamplingParams p;
  p.temperature = 0.0f;
  p.penalty_last_n = last_n;
  p.repeat_penalty = 1.6f;
  p.frequency_penalty = 0.4f;
  p.presence_penalty = 0.3f;
  p.logit_bias = {{3, -std::numeric_limits<float>::infinity()}, {7, 1.5f}, {7, 0.5f}, {11, -2.0f}};
  return p;
}

const auto kKeepGoing = [](TokenId, std::span<const float>) { return true; };

TEST(SpeculativePenalties, HistoryPenaltiesMatchTheFormula) {
  sample::SamplingParams p = penalty_params(3);
  HistoryPenalties h(p);
  ASSERT_TRUE(h.active());
  const std::vector<TokenId> history = {7, 7, 1, 2, 2};  // window of 3: {1, 2, 2}
  h.start(history);
  std::vector<float> l = {0.5f, 2.0f, -1.0f, 4.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 1.0f};
  h.apply(l);
  EXPECT_FLOAT_EQ(l[0], 0.5f);
  EXPECT_FLOAT_EQ(l[1], 2.0f / 1.6f - 0.4f - 0.3f);         // seen once
  EXPECT_FLOAT_EQ(l[2], -1.0f * 1.6f - 2 * 0.4f - 0.3f);    // seen twice, negative logit
  EXPECT_EQ(l[3], -std::numeric_limits<float>::infinity());  // banned
  EXPECT_FLOAT_EQ(l[7], 3.0f);                                // biased twice, out of the window
  EXPECT_FLOAT_EQ(l[11], -1.0f);
  h.push(9);  // window now {2, 2, 9}
  std::vector<float> m(12, 1.0f);
  h.apply(m);
  EXPECT_FLOAT_EQ(m[1], 1.0f);
  EXPECT_FLOAT_EQ(m[2], 1.0f / 1.6f - 2 * 0.4f - 0.3f);
  EXPECT_FLOAT_EQ(m[9], 1.0f / 1.6f - 0.4f - 0.3f);
  EXPECT_FALSE(HistoryPenalties(sample::SamplingParams{}).active());
}

TEST(SpeculativePenalties, GreedySpeculativeAndLookupEqualPenalizedGreedy) {
  int differs_from_unpenalized = 0;
  int64_t accepted = 0, lookup_accepted = 0;
  for (int last_n : {8, -1}) {
    for (uint64_t seed = 1; seed <= 8; ++seed) {
      const sample::SamplingParams p = penalty_params(last_n);
      const std::vector<TokenId> prompt = {1, 5, 9, 5, 9, 5, 7};
      SyntheticSession ref(40, seed, 2.0f);
      const auto want = reference_greedy(ref, prompt, 60, p);
      differs_from_unpenalized += want != reference_greedy(ref, prompt, 60, sample::SamplingParams{});
      // The plain sampler chain agrees with the hand-written reference.
      sample::SamplerChain chain = sample::make_chain(p);
      chain.accept_prompt(prompt);
      std::vector<TokenId> ctx = prompt, plain;
      for (int i = 0; i < 60; ++i) {
        plain.push_back(chain.sample(ref.logits_after(ctx)));
        chain.accept(plain.back());
        ctx.push_back(plain.back());
      }
      ASSERT_EQ(plain, want) << "seed " << seed;

      SpeculativeExtras extras;
      extras.penalties = p;
      SyntheticSession target(40, seed, 2.0f), draft(40, seed, 2.0f, 4096, seed + 100, 0.5f);
      DraftModelProposer proposer(draft, /*greedy=*/true, p);
      GreedyVerifier verifier;
      AdaptiveDraftLength policy(4, 1, 8);
      SpeculativeStats st;
      auto got = speculative_generate(target, prompt, 60, proposer, verifier, policy, kKeepGoing, &st, extras);
      EXPECT_EQ(got, want) << "draft model, last_n " << last_n << ", seed " << seed;
      accepted += st.accepted;

      SyntheticSession target2(40, seed, 2.0f);
      PromptLookupProposer lookup(1, 3);
      FixedDraftLength fixed(5);
      SpeculativeStats st2;
      auto got2 = speculative_generate(target2, prompt, 60, lookup, verifier, fixed, kKeepGoing, &st2, extras);
      EXPECT_EQ(got2, want) << "lookup, last_n " << last_n << ", seed " << seed;
      lookup_accepted += st2.accepted;
    }
  }
  EXPECT_GE(differs_from_unpenalized, 12);  // the penalties change the output
  EXPECT_GT(accepted, 200);                  // the penalized draft model is mostly right
  EXPECT_GT(lookup_accepted, 0);
}

// Joint distribution of the first 3 tokens under rejection sampling with
// penalties over the whole history and a bias: exact (brute force) vs
// observed, as in speculative_test.cc.
void check_penalized_distribution(const std::string& what, bool lookup) {
  const int32_t V = 6;
  const int N = 20000;
  const std::vector<TokenId> prompt = {0, 1, 2, 0, 1};
  sample::SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.penalty_last_n = -1;
  p.repeat_penalty = 2.0f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.3f;
  p.logit_bias = {{5, 1.0f}};
  SyntheticSession model(V, 42, 1.2f);
  auto exact_step = [&](const std::vector<TokenId>& ctx) {
    const auto l = penalized(model.logits_after(ctx), ctx, p);
    std::vector<double> q(l.size());
    double z = 0;
    for (size_t i = 0; i < l.size(); ++i) z += q[i] = std::exp(static_cast<double>(l[i]));
    for (auto& x : q) x /= z;
    return q;
  };
  std::map<std::vector<TokenId>, double> exact;
  for (TokenId a = 0; a < V; ++a) {
    auto c1 = prompt;
    c1.push_back(a);
    const auto pb = exact_step(c1);
    for (TokenId b = 0; b < V; ++b) {
      auto c2 = c1;
      c2.push_back(b);
      const auto pc = exact_step(c2);
      for (TokenId c = 0; c < V; ++c) exact[{a, b, c}] = exact_step(prompt)[a] * pb[b] * pc[c];
    }
  }
  std::map<std::vector<TokenId>, int> count;
  SpeculativeStats st;
  SpeculativeExtras extras;
  extras.penalties = p;
  for (int run = 0; run < N; ++run) {
    SyntheticSession target(V, 42, 1.2f), draft(V, 7, 1.0f);
    sample::SamplingParams ds = p;
    ds.seed = static_cast<uint64_t>(run) * 2 + 1;
    DraftModelProposer dp(draft, false, ds);
    PromptLookupProposer lp(1, 2);
    Proposer& proposer = lookup ? static_cast<Proposer&>(lp) : dp;
    RejectionVerifier verifier(p, static_cast<uint64_t>(run) * 2 + 2);
    FixedDraftLength policy(3);
    auto out = speculative_generate(target, prompt, 3, proposer, verifier, policy, kKeepGoing, &st, extras);
    ASSERT_EQ(out.size(), 3u);
    ++count[out];
  }
  double chi2 = 0;
  int cells = 0;
  for (const auto& [seq, q] : exact) {
    const int c = count.count(seq) ? count[seq] : 0;
    const double mean = N * q, sd = std::sqrt(N * q * (1 - q));
    EXPECT_NEAR(c, mean, 5 * sd + 2) << what << " sequence " << seq[0] << seq[1] << seq[2];
    chi2 += (c - mean) * (c - mean) / mean;
    ++cells;
  }
  // k = cells - 1 degrees of freedom: chi2 > k + 6 sqrt(2k) has probability < 1e-6.
  EXPECT_LT(chi2, (cells - 1) + 6 * std::sqrt(2.0 * (cells - 1))) << what;
  EXPECT_GT(st.accepted, 0) << what;
  EXPECT_LT(st.accepted, st.drafted) << what;
}

TEST(SpeculativePenalties, RejectionSamplingDrawsFromThePenalizedDistribution) {
  check_penalized_distribution("draft model", false);
  check_penalized_distribution("prompt lookup", true);
}

// tandem-base with tandem-tiny as the draft (same tokenizer), and lookup.
TEST(SpeculativePenalties, RealModelsGreedySpeculativeEqualsGreedyUnderPenalties) {
  auto model = Transformer::load(testing::source_path("models/tandem-base.gguf"), {.n_threads = 1});
  const std::shared_ptr<const Transformer> draft = Transformer::load(testing::source_path("models/tandem-tiny.gguf"), {.n_threads = 1});
  const Tokenizer& tok = model->tokenizer();
  const TokenId the = tok.encode(" the", false, false).at(0);
  int differs = 0, compared = 0;
  int64_t accepted = 0;
  for (const char* prompt : {"Once upon a time, there was a little dog.", "Tom and Lily went to the park. Tom"}) {
    for (int variant = 0; variant < 3; ++variant) {
      StrategyOptions o;
      o.strategy = "greedy";
      o.text.n_predict = 48;
      o.text.ignore_eos = true;
      o.sampling.temperature = 0.0f;
      o.sampling.penalty_last_n = variant == 2 ? -1 : 32;
      if (variant == 0) o.sampling.repeat_penalty = 1.5f;
      if (variant == 1) o.sampling.frequency_penalty = 0.8f;
      if (variant == 2) o.sampling.presence_penalty = 1.0f;
      o.sampling.logit_bias = {{the, -3.0f}};
      const auto want = run_strategy(*model, prompt, o);
      StrategyOptions unpenalized = o;
      unpenalized.sampling = sample::SamplingParams{};
      unpenalized.sampling.temperature = 0.0f;
      differs += run_strategy(*model, prompt, unpenalized).output.tokens != want.output.tokens;
      for (const char* st : {"speculative", "lookup"}) {
        StrategyOptions s = o;
        s.strategy = st;
        if (s.strategy == "speculative") s.models.draft = draft;
        s.spec_fallback = false;  // every round speculative
        const auto got = run_strategy(*model, prompt, s);
        EXPECT_EQ(got.output.tokens, want.output.tokens) << st << " variant " << variant << " prompt " << prompt;
        EXPECT_EQ(got.output.text, want.output.text);
        accepted += got.speculative.accepted;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 12);
  EXPECT_GE(differs, 4);    // the penalties and the bias change the greedy text
  EXPECT_GT(accepted, 20);  // drafts were kept, so verification of draft positions ran
}

}  // namespace
}  // namespace tandem::decode
