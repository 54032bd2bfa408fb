// Speculative decoding as three small pieces (after mistral.rs' split):
//   Proposer    guesses the next few tokens cheaply (a draft model, or n-gram
//               lookup in the context);
//   Verifier    checks a draft against the target model's logits for all
//               draft positions, computed in ONE target pass, and decides how
//               many tokens to keep plus one token of its own;
//   DraftPolicy chooses the draft length from the acceptance so far.
// speculative_generate() runs the loop. With the GreedyVerifier the output is
// exactly the target's greedy output; with the RejectionVerifier it is
// distributed exactly as sampling from the target (Leviathan et al. 2023,
// Chen et al. 2023), whatever the proposer.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "decode/session.h"
#include "grammar/token_mask.h"
#include "sample/chain.h"
#include "sample/selectors.h"

namespace tandem::decode {

// The history-dependent steps at the head of make_chain (sample/chain.h):
// logit bias, then the repetition/frequency/presence penalties over the last
// penalty_last_n tokens of the history (the prompt included, as generate()
// counts it). Speculative decoding applies them itself, because one target
// pass covers draft positions with different histories: the row of draft
// position i must see history + draft[0..i-1], as plain decoding would.
// Only logit_bias and the penalty fields of the params are read.
class HistoryPenalties {
 public:
  explicit HistoryPenalties(const sample::SamplingParams& params);
  // False when the params set no bias and no active penalty: apply() is a no-op.
  bool active() const { return bias_ != nullptr || penalties_ != nullptr; }
  // Forgets the history and starts from `history` (only its last
  // penalty_last_n tokens are read). O(min(penalty_last_n, history size)).
  void start(std::span<const TokenId> history);
  // Appends one token to the history.
  void push(TokenId t);
  // Applies the bias and the penalties for the current history to one row
  // of n_vocab logits, in place. O(n_vocab).
  void apply(std::span<float> logits);

 private:
  int last_n_;
  std::unique_ptr<sample::Sampler> bias_, penalties_;
};

struct Draft {
  std::vector<TokenId> tokens;
  // probs[i]: the distribution tokens[i] was drawn from (n_vocab floats).
  // Empty: the proposer is deterministic (one-hot on tokens[i]).
  std::vector<std::vector<float>> probs;
};

class Proposer {
 public:
  virtual ~Proposer() = default;
  virtual const char* name() const = 0;
  // Up to max_tokens guesses for what follows `context` (the whole sequence
  // so far). May return fewer, or none.
  virtual Draft propose(std::span<const TokenId> context, int max_tokens) = 0;
  // The same under a grammar in state `state`: proposers that can (a draft
  // model) draw only tokens the grammar allows. The default ignores the
  // grammar; speculative_generate cuts every draft at the first token the
  // grammar rejects anyway, so a constrained proposal is an optimization.
  virtual Draft propose_constrained(std::span<const TokenId> context, int max_tokens, grammar::TokenMasker& /*masker*/,
                                    grammar::GrammarStateId /*state*/) {
    return propose(context, max_tokens);
  }
};

// Drafts with a smaller model sharing the target's vocabulary. The draft
// session is kept in sync with the context (common prefix reused). The draft
// logits at each drafted position get `shaping`'s logit bias and penalties
// over the context plus the tokens drafted before it (HistoryPenalties), so
// the draft follows the target's penalized distribution. greedy: argmax
// drafts (deterministic); otherwise draws from `shaping` (top-k, ...,
// temperature) applied to them with its own seeded Rng, and reports the
// probabilities.
class DraftModelProposer : public Proposer {
 public:
  DraftModelProposer(Session& draft, bool greedy, const sample::SamplingParams& shaping = {});
  const char* name() const override { return "draft-model"; }
  Draft propose(std::span<const TokenId> context, int max_tokens) override;
  // Masks the draft logits with the grammar at each drafted position.
  Draft propose_constrained(std::span<const TokenId> context, int max_tokens, grammar::TokenMasker& masker,
                            grammar::GrammarStateId state) override;
  int64_t n_draft_evals() const { return n_evals_; }

 private:
  Draft propose_impl(std::span<const TokenId> context, int max_tokens, grammar::TokenMasker* masker, grammar::GrammarStateId state);
  Session& draft_;
  bool greedy_;
  sample::SamplerChain shaping_;
  HistoryPenalties penalties_;
  sample::Rng rng_;
  std::vector<float> logits_;
  int64_t n_evals_ = 0;
};

// Prompt lookup decoding: finds the most recent earlier occurrence of the
// context's last n tokens (n from ngram_max down to ngram_min) and proposes
// the tokens that followed it. Free to compute; good on repetitive text.
class PromptLookupProposer : public Proposer {
 public:
  // Throws tandem::Error unless 1 <= ngram_min <= ngram_max.
  PromptLookupProposer(int ngram_min = 1, int ngram_max = 3);
  const char* name() const override { return "prompt-lookup"; }
  Draft propose(std::span<const TokenId> context, int max_tokens) override;

 private:
  int ngram_min_, ngram_max_;
};

struct Verdict {
  int n_accepted = 0;         // draft tokens kept (a prefix of the draft)
  TokenId next = kNoToken;    // the verifier's own token after them
};

class Verifier {
 public:
  virtual ~Verifier() = default;
  virtual const char* name() const = 0;
  // target_logits: (draft size + 1) rows of n_vocab; row i is the target's
  // prediction for the position of draft.tokens[i], the last row for the
  // position after the whole draft.
  virtual Verdict verify(const Draft& draft, std::span<const float> target_logits, int32_t n_vocab) = 0;
};

// Keeps draft tokens while they equal the target's argmax.
class GreedyVerifier : public Verifier {
 public:
  const char* name() const override { return "greedy"; }
  Verdict verify(const Draft& draft, std::span<const float> target_logits, int32_t n_vocab) override;
};

// Speculative rejection sampling: token d with draft probability q(d) is kept
// with probability min(1, p(d) / q(d)); on rejection the next token is drawn
// from normalize(max(0, p - q)); after a fully accepted draft, from p. p is the
// target distribution after `shaping` (temperature, top-k, ...; logit bias and
// penalties are already in the logits, see SpeculativeExtras); the draft
// must have been drawn with the same shaping for good acceptance (correctness
// holds regardless).
class RejectionVerifier : public Verifier {
 public:
  RejectionVerifier(const sample::SamplingParams& shaping, uint64_t seed);
  const char* name() const override { return "rejection-sampling"; }
  Verdict verify(const Draft& draft, std::span<const float> target_logits, int32_t n_vocab) override;

 private:
  sample::SamplerChain shaping_;
  sample::Rng rng_;
  std::vector<float> p_, residual_;
};

class DraftPolicy {
 public:
  virtual ~DraftPolicy() = default;
  virtual int draft_length() const = 0;
  virtual void observe(int proposed, int accepted) = 0;
};

class FixedDraftLength : public DraftPolicy {
 public:
  explicit FixedDraftLength(int n) : n_(n) {}
  int draft_length() const override { return n_; }
  void observe(int, int) override {}

 private:
  int n_;
};

// Grows the draft by one after a fully accepted draft, shrinks it by one when
// less than half was accepted, within [min, max].
class AdaptiveDraftLength : public DraftPolicy {
 public:
  AdaptiveDraftLength(int initial, int min, int max) : n_(initial), min_(min), max_(max) {}
  int draft_length() const override { return n_; }
  void observe(int proposed, int accepted) override;

 private:
  int n_, min_, max_;
};

using TokenCallback = std::function<bool(TokenId, std::span<const float> logits)>;

// Decides when speculation does not pay and decoding should go plain.
//
// speculative_generate reports the wall time and emitted tokens of every
// speculative round (draft + one target pass over the draft) and of plain
// steps (a round with an empty draft: one target token, exactly what plain
// decoding does). Now and then it runs a plain step as a probe. The governor
// falls back for good (no re-probing) when, after min_rounds speculative
// rounds (the first excluded from timing: it holds the draft's prefill):
//   - no draft token was accepted at all: a round then emits one token, as a
//     plain step does, at a higher cost, whatever the clock says; or
//   - a probe was taken and speculative seconds per emitted token exceed
//     margin x the plain seconds per token.
// Pure bookkeeping: tests feed it made-up timings.
struct FallbackOptions {
  int min_rounds = 6;      // speculative rounds before any decision
  int first_probe = 2;     // the first plain probe after this many speculative rounds
  int probe_every = 16;    // then one probe per this many speculative rounds
  double margin = 1.0;     // fall back when spec s/token > margin * plain s/token
};

class SpeculationGovernor {
 public:
  explicit SpeculationGovernor(FallbackOptions options = {}) : o_(options) {}
  // Whether the next step should be plain (a probe, or after falling back).
  bool plain_next() const;
  void observe_speculative(double seconds, int drafted, int accepted, int emitted);
  void observe_plain(double seconds, int emitted);
  bool fell_back() const { return fell_back_; }
  // Mean seconds per emitted token (0 when unmeasured).
  double speculative_seconds_per_token() const { return spec_tokens_ ? spec_seconds_ / spec_tokens_ : 0.0; }
  double plain_seconds_per_token() const { return plain_tokens_ ? plain_seconds_ / plain_tokens_ : 0.0; }

 private:
  void decide();
  FallbackOptions o_;
  int64_t spec_rounds_ = 0, since_probe_ = 0, plain_steps_ = 0;
  int64_t drafted_ = 0, accepted_ = 0;
  double spec_seconds_ = 0, plain_seconds_ = 0;
  int64_t spec_tokens_ = 0, plain_tokens_ = 0;
  bool fell_back_ = false;
};

struct SpeculativeStats {
  int64_t rounds = 0;         // target passes (plain steps included)
  int64_t drafted = 0;        // draft tokens proposed
  int64_t accepted = 0;       // draft tokens kept
  int64_t generated = 0;      // tokens emitted
  int64_t plain_steps = 0;    // rounds without a draft (probes, after fallback)
  bool fell_back = false;     // the governor switched to plain decoding
  int64_t fallback_at = -1;   // tokens generated when it did
  double spec_ms_per_token = 0, plain_ms_per_token = 0;  // as the governor measured
  double acceptance_rate() const { return drafted ? static_cast<double>(accepted) / drafted : 0.0; }
  double tokens_per_round() const { return rounds ? static_cast<double>(generated) / rounds : 0.0; }
};

// Generates up to n_predict tokens after `prompt` (non-empty) into `target`
// (which must be empty or hold a prefix of the prompt). on_token(t, logits)
// is called for each token in order, with the target's logits for its
// position (valid during the call); returning false stops generation (e.g.
// at EOS or a stop string). Returns the generated tokens.
//
// extras.grammar (optional): the output must follow the grammar, starting in
// extras.grammar_state (kDeadState: the matcher's initial state). Drafts are
// proposed under the grammar and cut at the first token it rejects; the
// target's logits at every draft position are masked with the grammar state
// reached over the draft tokens before it, before the verifier sees them, so
// the verifier's own token obeys the grammar too. Greedy output then equals
// plain greedy decoding with the grammar, token for token. on_token still
// receives the raw (unmasked) logits.
// extras.penalties: the logit bias and repetition/frequency/presence
// penalties of these params are applied to the target's row at every draft
// position with the history prompt + generated + the draft tokens before it
// (after the grammar mask, as make_chain orders them), before the verifier
// sees them. Greedy output then equals plain greedy decoding with the same
// params token for token, and rejection sampling samples the penalized
// distribution. The defaults apply nothing.
// extras.governor (optional): falls back to plain steps when speculation is
// slower (see SpeculationGovernor); extras.clock gives seconds (default: a
// steady clock), injectable for tests.
struct SpeculativeExtras {
  std::shared_ptr<grammar::TokenMasker> grammar;
  grammar::GrammarStateId grammar_state = grammar::kDeadState;
  sample::SamplingParams penalties;  // only logit_bias and the penalty fields are read
  SpeculationGovernor* governor = nullptr;
  std::function<double()> clock;
};

std::vector<TokenId> speculative_generate(Session& target, std::span<const TokenId> prompt, int n_predict,
                                          Proposer& proposer, Verifier& verifier, DraftPolicy& policy,
                                          const TokenCallback& on_token, SpeculativeStats* stats,
                                          const SpeculativeExtras& extras = {});

}  // namespace tandem::decode
