#include "decode/speculative.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "sample/penalties.h"
#include "util/error.h"

namespace tandem::decode {

namespace {
TokenId argmax(const float* x, int32_t n) {
  TokenId best = 0;
  for (int32_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}
}  // namespace

HistoryPenalties::HistoryPenalties(const sample::SamplingParams& p) : last_n_(p.penalty_last_n) {
  // The same conditions as make_chain, so both apply exactly the same steps.
  if (!p.logit_bias.empty()) bias_ = std::make_unique<sample::LogitBias>(p.logit_bias);
  if (p.penalty_last_n != 0 &&
      (p.repeat_penalty != 1.0f || p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f))
    penalties_ = std::make_unique<sample::Penalties>(p.penalty_last_n, p.repeat_penalty, p.frequency_penalty,
                                                     p.presence_penalty);
}

void HistoryPenalties::start(std::span<const TokenId> history) {
  if (!penalties_) return;
  penalties_->reset();
  // Penalties keeps a window of the last last_n_ tokens: older ones would
  // drop out again, so only the tail is fed.
  if (last_n_ > 0 && history.size() > static_cast<size_t>(last_n_)) history = history.last(static_cast<size_t>(last_n_));
  for (TokenId t : history) penalties_->accept(t);
}

void HistoryPenalties::push(TokenId t) {
  if (penalties_) penalties_->accept(t);
}

void HistoryPenalties::apply(std::span<float> logits) {
  if (!active()) return;
  sample::Candidates c = sample::Candidates::from_logits(logits);
  if (bias_) bias_->apply(c);  // bias first, as in make_chain: the penalties depend on the logit's sign
  if (penalties_) penalties_->apply(c);
  for (const auto& x : c.items) logits[static_cast<size_t>(x.id)] = x.logit;
}

DraftModelProposer::DraftModelProposer(Session& draft, bool greedy, const sample::SamplingParams& shaping)
    : draft_(draft),
      greedy_(greedy),
      shaping_(sample::make_shaping_chain(shaping)),
      penalties_(shaping),
      rng_(shaping.seed ^ 0x5eedd4a7ULL) {}

Draft DraftModelProposer::propose(std::span<const TokenId> context, int max_tokens) {
  return propose_impl(context, max_tokens, nullptr, grammar::kDeadState);
}

Draft DraftModelProposer::propose_constrained(std::span<const TokenId> context, int max_tokens, grammar::TokenMasker& masker,
                                              grammar::GrammarStateId state) {
  return propose_impl(context, max_tokens, &masker, state);
}

Draft DraftModelProposer::propose_impl(std::span<const TokenId> context, int max_tokens, grammar::TokenMasker* masker,
                                       grammar::GrammarStateId state) {
  Draft d;
  if (max_tokens <= 0 || context.empty()) return d;
  // Room in the draft's cache: the context plus max_tokens - 1 drafted tokens.
  const int64_t room = draft_.n_ctx() - static_cast<int64_t>(context.size());
  max_tokens = static_cast<int>(std::min<int64_t>(max_tokens, room + 1));
  if (max_tokens <= 0) return d;
  n_evals_ += sync_session(draft_, context, 1, logits_) > 0;
  TokenId last = context.back();
  const int32_t n_vocab = draft_.n_vocab();
  penalties_.start(context);
  for (int i = 0; i < max_tokens; ++i) {
    draft_.eval(std::span<const TokenId>(&last, 1), false, logits_);
    ++n_evals_;
    const auto row = std::span<float>(logits_).first(static_cast<size_t>(n_vocab));
    if (masker) {
      if (state == grammar::kDeadState) break;
      if (!grammar::mask_logits(masker->mask(state), masker->n_vocab(), row)) break;
    }
    penalties_.apply(row);
    TokenId t;
    if (greedy_) {
      t = argmax(logits_.data(), n_vocab);
    } else {
      std::vector<float> q;
      sample::shaped_probs(shaping_, logits_, q);
      t = sample::draw(q.data(), q.size(), rng_);
      if (t < 0) break;
      d.probs.push_back(std::move(q));
    }
    d.tokens.push_back(t);
    penalties_.push(t);
    if (masker) {
      state = masker->advance(state, t);
      if (masker->is_eog(t)) break;  // nothing follows the end of generation
    }
    last = t;
  }
  return d;
}

PromptLookupProposer::PromptLookupProposer(int ngram_min, int ngram_max) : ngram_min_(ngram_min), ngram_max_(ngram_max) {
  // A length below 1 would take a suffix from before the context's start.
  if (ngram_min < 1 || ngram_max < ngram_min) {
    throw Error("prompt lookup: n-gram lengths must satisfy 1 <= ngram-min <= ngram-max, got " + std::to_string(ngram_min) +
                " and " + std::to_string(ngram_max));
  }
}

Draft PromptLookupProposer::propose(std::span<const TokenId> context, int max_tokens) {
  Draft d;
  const auto len = static_cast<int64_t>(context.size());
  for (int n = ngram_max_; n >= ngram_min_ && max_tokens > 0; --n) {
    if (len <= n) continue;
    const auto suffix = context.subspan(static_cast<size_t>(len - n));
    // Most recent earlier occurrence that is followed by at least one token.
    for (int64_t j = len - n - 1; j >= 0; --j) {
      if (!std::equal(suffix.begin(), suffix.end(), context.begin() + j)) continue;
      const int64_t from = j + n;
      const int64_t to = std::min<int64_t>(from + max_tokens, len);
      d.tokens.assign(context.begin() + from, context.begin() + to);
      return d;
    }
  }
  return d;
}

Verdict GreedyVerifier::verify(const Draft& draft, std::span<const float> logits, int32_t n_vocab) {
  const int k = static_cast<int>(draft.tokens.size());
  for (int i = 0; i < k; ++i) {
    const TokenId t = argmax(logits.data() + static_cast<size_t>(i) * n_vocab, n_vocab);
    if (t != draft.tokens[static_cast<size_t>(i)]) return {i, t};
  }
  return {k, argmax(logits.data() + static_cast<size_t>(k) * n_vocab, n_vocab)};
}

RejectionVerifier::RejectionVerifier(const sample::SamplingParams& shaping, uint64_t seed)
    : shaping_(sample::make_shaping_chain(shaping)), rng_(seed) {}

Verdict RejectionVerifier::verify(const Draft& draft, std::span<const float> logits, int32_t n_vocab) {
  const int k = static_cast<int>(draft.tokens.size());
  for (int i = 0; i < k; ++i) {
    sample::shaped_probs(shaping_, logits.subspan(static_cast<size_t>(i) * n_vocab, static_cast<size_t>(n_vocab)), p_);
    const TokenId d = draft.tokens[static_cast<size_t>(i)];
    const bool one_hot = draft.probs.empty();
    const double q_d = one_hot ? 1.0 : draft.probs[static_cast<size_t>(i)][static_cast<size_t>(d)];
    const double p_d = p_[static_cast<size_t>(d)];
    if (q_d > 0.0 && rng_.uniform() * q_d < p_d) continue;  // accept with probability min(1, p/q)
    residual_.resize(static_cast<size_t>(n_vocab));
    for (int32_t t = 0; t < n_vocab; ++t) {
      const float q_t = one_hot ? (t == d ? 1.0f : 0.0f) : draft.probs[static_cast<size_t>(i)][static_cast<size_t>(t)];
      residual_[static_cast<size_t>(t)] = std::max(0.0f, p_[static_cast<size_t>(t)] - q_t);
    }
    int t = sample::draw(residual_.data(), residual_.size(), rng_);
    if (t < 0) t = sample::draw(p_.data(), p_.size(), rng_);  // p == q up to rounding
    return {i, t};
  }
  sample::shaped_probs(shaping_, logits.subspan(static_cast<size_t>(k) * n_vocab, static_cast<size_t>(n_vocab)), p_);
  return {k, sample::draw(p_.data(), p_.size(), rng_)};
}

void AdaptiveDraftLength::observe(int proposed, int accepted) {
  if (proposed <= 0) return;
  if (accepted == proposed) n_ = std::min(n_ + 1, max_);
  else if (2 * accepted < proposed) n_ = std::max(n_ - 1, min_);
}

bool SpeculationGovernor::plain_next() const {
  if (fell_back_) return true;
  if (plain_steps_ == 0) return spec_rounds_ >= o_.first_probe;
  return since_probe_ >= o_.probe_every;
}

void SpeculationGovernor::observe_speculative(double seconds, int drafted, int accepted, int emitted) {
  ++spec_rounds_;
  ++since_probe_;
  drafted_ += drafted;
  accepted_ += accepted;
  if (spec_rounds_ > 1) {  // the first round also prefills the draft model
    spec_seconds_ += seconds;
    spec_tokens_ += emitted;
  }
  decide();
}

void SpeculationGovernor::observe_plain(double seconds, int emitted) {
  ++plain_steps_;
  since_probe_ = 0;
  plain_seconds_ += seconds;
  plain_tokens_ += emitted;
  decide();
}

void SpeculationGovernor::decide() {
  if (fell_back_ || spec_rounds_ < o_.min_rounds) return;
  if (drafted_ > 0 && accepted_ == 0) {
    fell_back_ = true;
    return;
  }
  if (plain_tokens_ > 0 && spec_tokens_ > 0 &&
      speculative_seconds_per_token() > o_.margin * plain_seconds_per_token())
    fell_back_ = true;
}

std::vector<TokenId> speculative_generate(Session& target, std::span<const TokenId> prompt, int n_predict,
                                          Proposer& proposer, Verifier& verifier, DraftPolicy& policy,
                                          const TokenCallback& on_token, SpeculativeStats* stats,
                                          const SpeculativeExtras& extras) {
  if (prompt.empty()) throw Error("speculative decoding needs a non-empty prompt");
  SpeculativeStats local;
  SpeculativeStats& st = stats ? *stats : local;
  std::vector<TokenId> context(prompt.begin(), prompt.end());
  std::vector<TokenId> out;
  std::vector<float> logits, masked;
  grammar::TokenMasker* grammar = extras.grammar.get();
  grammar::GrammarStateId gstate = grammar::kDeadState;
  if (grammar) gstate = extras.grammar_state != grammar::kDeadState ? extras.grammar_state : grammar->matcher().initial();
  SpeculationGovernor* gov = extras.governor;
  const auto now = [&]() -> double {
    if (extras.clock) return extras.clock();
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  // Invariant: the target holds context minus its last token ("pending"),
  // which is evaluated together with the next draft.
  sync_session(target, context, 1, logits);
  const int32_t n_vocab = target.n_vocab();
  std::vector<TokenId> input;
  std::vector<grammar::GrammarStateId> states;  // grammar state before each draft position
  HistoryPenalties penalties(extras.penalties);
  while (static_cast<int>(out.size()) < n_predict) {
    const int64_t room = target.n_ctx() - target.n_past() - 1;  // positions left after the pending token
    if (room < 0) break;
    const bool plain = gov && gov->plain_next();
    const double t_start = gov ? now() : 0.0;
    int want = static_cast<int>(std::min<int64_t>({policy.draft_length(), room,
                                                   static_cast<int64_t>(n_predict - static_cast<int>(out.size()) - 1)}));
    if (plain) want = 0;
    Draft draft;
    if (want > 0) draft = grammar ? proposer.propose_constrained(context, want, *grammar, gstate) : proposer.propose(context, want);
    if (static_cast<int>(draft.tokens.size()) > std::max(want, 0)) draft.tokens.resize(static_cast<size_t>(std::max(want, 0)));
    if (grammar) {
      // States before each draft position; cut at the first rejected token
      // (and after an end-of-generation token: nothing may follow it).
      states.assign(1, gstate);
      size_t keep = 0;
      while (keep < draft.tokens.size()) {
        const TokenId t = draft.tokens[keep];
        const grammar::GrammarStateId next = grammar->advance(states.back(), t);
        if (next == grammar::kDeadState) break;
        ++keep;
        states.push_back(next);
        if (grammar->is_eog(t)) break;
      }
      draft.tokens.resize(keep);
      states.resize(keep + 1);
    }
    if (draft.probs.size() > draft.tokens.size()) draft.probs.resize(draft.tokens.size());
    input.assign(1, context.back());
    input.insert(input.end(), draft.tokens.begin(), draft.tokens.end());
    const int64_t base = target.n_past();
    target.eval(input, true, logits);
    std::span<const float> verify_logits = logits;
    if (grammar || penalties.active()) {
      // The target's row of every draft position as the plain sampler chain
      // would see it there: grammar mask, then bias and penalties over the
      // history up to that position.
      masked.assign(logits.begin(), logits.end());
      penalties.start(context);
      for (size_t i = 0; i <= draft.tokens.size(); ++i) {
        const auto row = std::span<float>(masked).subspan(i * static_cast<size_t>(n_vocab), static_cast<size_t>(n_vocab));
        if (grammar) grammar::mask_logits(grammar->mask(states[i]), grammar->n_vocab(), row);
        penalties.apply(row);
        if (i < draft.tokens.size()) penalties.push(draft.tokens[i]);
      }
      verify_logits = masked;
    }
    const Verdict v = verifier.verify(draft, verify_logits, n_vocab);
    target.truncate(base + 1 + v.n_accepted);
    const int n_drafted = static_cast<int>(draft.tokens.size());
    if (!plain) policy.observe(n_drafted, v.n_accepted);
    ++st.rounds;
    st.drafted += n_drafted;
    st.accepted += v.n_accepted;
    if (n_drafted == 0) ++st.plain_steps;
    if (gov) {
      const double dt = now() - t_start;
      const bool was_fallen = gov->fell_back();
      if (plain) gov->observe_plain(dt, 1);
      else if (n_drafted > 0) gov->observe_speculative(dt, n_drafted, v.n_accepted, v.n_accepted + 1);
      else if (want > 0) gov->observe_plain(dt, 1);  // nothing proposed (lookup found no match): a plain step
      if (!was_fallen && gov->fell_back()) {
        st.fell_back = true;
        st.fallback_at = st.generated + v.n_accepted + 1;
      }
    }
    bool keep_going = true;
    for (int i = 0; i <= v.n_accepted && keep_going; ++i) {
      const TokenId t = i < v.n_accepted ? draft.tokens[static_cast<size_t>(i)] : v.next;
      if (grammar) {
        const grammar::GrammarStateId next = grammar->advance(gstate, t);
        if (next == grammar::kDeadState)
          throw Error("speculative decoding: token " + std::to_string(t) + " is not allowed by the grammar");
        gstate = next;
      }
      context.push_back(t);
      out.push_back(t);
      ++st.generated;
      const auto row = std::span<const float>(logits).subspan(static_cast<size_t>(i) * n_vocab, static_cast<size_t>(n_vocab));
      keep_going = on_token(t, row) && static_cast<int>(out.size()) < n_predict;
    }
    if (!keep_going) break;
  }
  if (gov) {
    st.spec_ms_per_token = 1e3 * gov->speculative_seconds_per_token();
    st.plain_ms_per_token = 1e3 * gov->plain_seconds_per_token();
  }
  return out;
}

}  // namespace tandem::decode
