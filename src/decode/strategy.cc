#include "decode/strategy.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "decode/combine.h"
#include "decode/context.h"
#include "decode/judge.h"
#include "decode/rerank.h"
#include "grammar/json_schema.h"
#include "grammar/token_mask.h"
#include "sample/selectors.h"
#include "util/error.h"

namespace tandem::decode {

namespace {

// The helper model `m` (required): throws naming the strategy when it is
// missing, or when `same_vocab` and its vocabulary differs from the main model's.
const Transformer& helper(const std::shared_ptr<const Transformer>& m, const std::string& name, const char* what,
                          const std::string& strategy, const Transformer& main) {
  if (!m) throw Error("strategy '" + strategy + "' needs " + what + "");
  if (!same_vocabulary(main.tokenizer(), m->tokenizer()))
    throw Error((name.empty() ? std::string(what) : name) + ": its vocabulary differs from the main model's; strategy '" +
                strategy + "' needs models sharing one tokenizer");
  return *m;
}

// The grammar masker for the options' grammar or schema (nullptr if none).
std::shared_ptr<grammar::TokenMasker> make_masker(const StrategyOptions& o, const Tokenizer& tok) {
  if (o.grammar.empty() && o.json_schema.empty()) return nullptr;
  if (!o.grammar.empty() && !o.json_schema.empty()) throw Error("give either a grammar or a JSON schema, not both");
  const std::string gbnf = o.grammar.empty() ? grammar::json_schema_to_gbnf(std::string_view(o.json_schema)) : o.grammar;
  auto grammar = std::make_shared<grammar::Grammar>(grammar::parse_gbnf(gbnf));
  std::vector<std::string> pieces(static_cast<size_t>(tok.n_vocab()));
  std::vector<int32_t> eog;
  for (TokenId t = 0; t < tok.n_vocab(); ++t) {
    if (tok.is_eog(t)) eog.push_back(t);
    const TokenKind kind = tok.vocab().kinds.empty() ? TokenKind::kNormal : tok.vocab().kinds[static_cast<size_t>(t)];
    if (kind != TokenKind::kControl && kind != TokenKind::kUnknown && kind != TokenKind::kUnused)
      pieces[static_cast<size_t>(t)] = tok.token_to_piece(t, false);
  }
  return std::make_shared<grammar::TokenMasker>(std::make_shared<grammar::GrammarMatcher>(grammar), std::move(pieces), std::move(eog));
}

sample::SamplerChain chain_for(const StrategyOptions& o, const std::shared_ptr<grammar::TokenMasker>& masker, uint64_t seed,
                               bool greedy) {
  sample::SamplingParams p = o.sampling;
  p.seed = seed;
  if (greedy) p.temperature = 0.0f;
  sample::SamplerChain chain = sample::make_chain(p);
  if (masker) chain.add_front(std::make_unique<grammar::GrammarSampler>(masker));
  return chain;
}

}  // namespace

std::string StrategyResult::summary() const {
  char buf[512];
  const double tps = seconds > 0 ? static_cast<double>(output.tokens.size()) / seconds : 0.0;
  int n = std::snprintf(buf, sizeof buf, "strategy %s: %zu tokens in %.3f s (%.1f tokens/s), finish %s", strategy.c_str(),
                        output.tokens.size(), seconds, tps, output.finish_reason.c_str());
  std::string s(buf, static_cast<size_t>(std::max(n, 0)));
  if (speculative.rounds > 0) {
    std::snprintf(buf, sizeof buf, "; %lld target passes, %lld drafted, %lld accepted (%.1f%%), %.2f tokens/pass",
                  static_cast<long long>(speculative.rounds), static_cast<long long>(speculative.drafted),
                  static_cast<long long>(speculative.accepted), 100.0 * speculative.acceptance_rate(),
                  speculative.tokens_per_round());
    s += buf;
    std::snprintf(buf, sizeof buf, "; %lld plain steps, fallback %s", static_cast<long long>(speculative.plain_steps),
                  speculative.fell_back ? "yes" : "no");
    s += buf;
    if (speculative.fell_back) s += " (after " + std::to_string(speculative.fallback_at) + " tokens)";
    if (speculative.spec_ms_per_token > 0 || speculative.plain_ms_per_token > 0) {
      std::snprintf(buf, sizeof buf, "; %.2f ms/token speculative, %.2f ms/token plain", speculative.spec_ms_per_token,
                    speculative.plain_ms_per_token);
      s += buf;
    }
  }
  if (!candidates.empty()) {
    std::snprintf(buf, sizeof buf, "; chose candidate %zu of %zu", chosen + 1, candidates.size());
    s += buf;
    if (chosen < scores.size()) {
      std::snprintf(buf, sizeof buf, " (%s %.4f)", judged ? "scorer logprob" : "mean logprob", scores[chosen]);
      s += buf;
    }
  }
  if (!answer.empty()) s += "; answer " + answer + " (" + std::to_string(votes) + " votes)";
  return s;
}

namespace {

void run_sample(const StrategyCall& c, StrategyResult& r) {
  const StrategyOptions& o = c.options;
  const Tokenizer& tok = c.model.tokenizer();
  auto masker = make_masker(o, tok);
  sample::SamplerChain chain = chain_for(o, masker, o.sampling.seed, o.strategy == "greedy");
  ModelSession s(c.model, c.n_ctx);
  OutputStream out(tok, o.text, c.on_text);
  generate(s, c.prompt.tokens, chain, out);
  r.output = out.finish();
}

void run_speculative(const StrategyCall& c, StrategyResult& r) {
  const StrategyOptions& o = c.options;
  const std::string& st = o.strategy;
  const Tokenizer& tok = c.model.tokenizer();
  const bool greedy = o.sampling.temperature <= 0.0f;
  auto masker = make_masker(o, tok);
  if (o.draft_min < 1 || o.draft_max < o.draft_min) throw Error("draft lengths must satisfy 1 <= draft-min <= draft-max");
  std::unique_ptr<ModelSession> draft_session;
  std::unique_ptr<Proposer> proposer;
  if (st == "speculative") {
    draft_session = std::make_unique<ModelSession>(helper(o.models.draft, o.draft_model, "a draft model (--draft)", st, c.model),
                                                   c.n_ctx);
    proposer = std::make_unique<DraftModelProposer>(*draft_session, greedy, o.sampling);
  } else {
    proposer = std::make_unique<PromptLookupProposer>(o.ngram_min, o.ngram_max);
  }
  std::unique_ptr<Verifier> verifier;
  if (greedy) verifier = std::make_unique<GreedyVerifier>();
  else verifier = std::make_unique<RejectionVerifier>(o.sampling, o.sampling.seed);
  std::unique_ptr<DraftPolicy> policy;
  if (o.adaptive_draft) policy = std::make_unique<AdaptiveDraftLength>(std::clamp(o.draft_init, o.draft_min, o.draft_max), o.draft_min, o.draft_max);
  else policy = std::make_unique<FixedDraftLength>(o.draft_max);
  ModelSession target(c.model, c.n_ctx);
  OutputStream out(tok, o.text, c.on_text);
  const int limit = o.text.n_predict < 0 ? static_cast<int>(c.n_ctx) : o.text.n_predict + 1;
  SpeculationGovernor governor;
  SpeculativeExtras extras;
  extras.grammar = masker;
  extras.penalties = o.sampling;
  if (o.spec_fallback) extras.governor = &governor;
  speculative_generate(target, c.prompt.tokens, limit, *proposer, *verifier, *policy,
                       [&](TokenId t, std::span<const float> logits) { return out.push(t, logits); }, &r.speculative,
                       extras);
  r.output = out.finish();
  if (draft_session)
    r.helpers.push_back({"draft", static_cast<int64_t>(c.prompt.tokens.size()), r.speculative.drafted});
}

void run_combined(const StrategyCall& c, StrategyResult& r) {
  const StrategyOptions& o = c.options;
  const std::string& st = o.strategy;
  const Tokenizer& tok = c.model.tokenizer();
  auto masker = make_masker(o, tok);
  sample::SamplerChain chain = chain_for(o, masker, o.sampling.seed, false);
  std::vector<std::unique_ptr<ModelSession>> sessions;
  std::vector<const char*> roles;
  sessions.push_back(std::make_unique<ModelSession>(c.model, c.n_ctx));
  std::unique_ptr<LogitCombiner> combiner;
  auto add = [&](const Transformer& m, const char* role) {
    sessions.push_back(std::make_unique<ModelSession>(m, c.n_ctx));
    roles.push_back(role);
  };
  if (st == "contrastive") {
    add(helper(o.models.amateur, o.amateur_model, "an amateur model (--amateur)", st, c.model), "amateur");
    combiner = std::make_unique<ContrastiveCombiner>(o.alpha);
  } else {
    add(helper(o.models.expert, o.tuned_model, "a tuned model (--expert)", st, c.model), "expert");
    add(helper(o.models.anti_expert, o.untuned_model, "an untuned model (--anti-expert)", st, c.model), "anti-expert");
    combiner = std::make_unique<ProxyTuningCombiner>(o.proxy_strength);
  }
  std::vector<Session*> ptrs;
  for (auto& s : sessions) ptrs.push_back(s.get());
  OutputStream out(tok, o.text, c.on_text);
  generate_combined(ptrs, c.prompt.tokens, *combiner, chain, out);
  r.output = out.finish();
  // Each helper evaluates the prompt and every generated token, as the main model.
  for (const char* role : roles)
    r.helpers.push_back({role, static_cast<int64_t>(c.prompt.tokens.size()), static_cast<int64_t>(r.output.tokens.size())});
}

// best-of-n: the judge's verdict logprob per candidate.
void judge_candidates(const StrategyCall& c, StrategyResult& r) {
  const StrategyOptions& o = c.options;
  const std::string_view templ = o.scorer_template.empty() ? kDefaultJudgeTemplate : o.scorer_template;
  const std::string_view verdict = o.scorer_verdict.empty() ? kDefaultVerdict : o.scorer_verdict;
  HelperUsage use{"scorer", 0, 0};
  for (const auto& cand : r.candidates) {
    const std::string text = fill_judge_template(templ, c.prompt.text, cand.text);
    r.scores.push_back(judge_logprob(*o.models.scorer, text, verdict));
    use.prompt_tokens += static_cast<int64_t>(o.models.scorer->tokenizer().encode(text, true, true).size() +
                                              o.models.scorer->tokenizer().encode(verdict, false, false).size());
  }
  r.helpers.push_back(use);
  r.judged = true;
  r.chosen = static_cast<size_t>(std::max_element(r.scores.begin(), r.scores.end()) - r.scores.begin());
}

void run_rerank(const StrategyCall& c, StrategyResult& r) {
  const StrategyOptions& o = c.options;
  const std::string& st = o.strategy;
  if (o.n_samples < 1) throw Error("n_samples must be at least 1");
  // Check the template before sampling, so a bad one fails fast.
  if (o.models.scorer) fill_judge_template(o.scorer_template.empty() ? kDefaultJudgeTemplate : o.scorer_template, "", "");
  auto masker = make_masker(o, c.model.tokenizer());
  ModelSession base(c.model, c.n_ctx);
  r.candidates = sample_candidates(
      base, c.prompt.tokens, o.n_samples,
      [&](int i) { return chain_for(o, masker, o.sampling.seed + static_cast<uint64_t>(i), false); },
      c.model.tokenizer(), o.text);
  if (st == "best-of-n" && o.models.scorer) {
    judge_candidates(c, r);
  } else if (st == "best-of-n") {
    r.chosen = best_by_mean_logprob(r.candidates);
    for (const auto& cand : r.candidates) r.scores.push_back(cand.mean_logprob());
  } else if (st == "self-consistency") {
    if (auto vote = majority_answer(r.candidates)) {
      r.chosen = vote->representative;
      r.answer = vote->answer;
      r.votes = vote->votes;
    }
  } else {
    std::vector<std::string> texts;
    for (const auto& cand : r.candidates) texts.push_back(cand.text);
    r.chosen = mbr_select(texts, utility_by_name(o.mbr_utility));
  }
  r.output = r.candidates[r.chosen];
  if (c.on_text && !r.output.text.empty() && !c.on_text(r.output.text)) r.output.finish_reason = "cancelled";
}

constexpr StrategyInfo kRegistry[] = {
    {"sample", run_sample, false},         {"greedy", run_sample, false},         {"speculative", run_speculative, true},
    {"lookup", run_speculative, true},     {"contrastive", run_combined, false},  {"proxy", run_combined, false},
    {"best-of-n", run_rerank, false},      {"self-consistency", run_rerank, false}, {"mbr", run_rerank, false},
};

}  // namespace

std::span<const StrategyInfo> strategies() { return kRegistry; }

const StrategyInfo* find_strategy(std::string_view name) {
  for (const StrategyInfo& s : kRegistry)
    if (s.name == name) return &s;
  return nullptr;
}

Prompt tokenize_prompt(const Transformer& model, std::string_view text) {
  Prompt p{std::string(text), model.tokenizer().encode(text, true, true)};
  if (p.tokens.empty()) throw Error("the prompt is empty and the model adds no BOS token: nothing to continue");
  return p;
}

StrategyResult run_strategy(const Transformer& model, std::string_view prompt, const StrategyOptions& o,
                            const TextCallback& on_text) {
  return run_strategy(model, tokenize_prompt(model, prompt), o, on_text);
}

StrategyResult run_strategy(const Transformer& model, const Prompt& prompt, const StrategyOptions& o,
                            const TextCallback& on_text) {
  validate(o);
  const StrategyInfo* info = find_strategy(o.strategy);
  if (!info) throw Error("unknown strategy '" + o.strategy + "'");  // validate() lets only known ones through
  if (prompt.tokens.empty()) throw Error("the prompt has no tokens: nothing to continue");
  const int64_t n_prompt = static_cast<int64_t>(prompt.tokens.size());
  const int64_t n_ctx = context_size(model.config(), n_prompt, o.text.n_predict, info->speculative ? o.draft_max + 1 : 0,
                                     o.n_ctx);
  check_prompt_fits(model.config(), n_prompt, n_ctx);

  StrategyResult r;
  r.strategy = o.strategy;
  r.n_ctx = n_ctx;
  r.prompt_tokens = n_prompt;
  if (o.text.n_predict == 0) {  // nothing asked for: no token is decoded (every strategy samples one before it counts)
    r.output.finish_reason = "length";
    return r;
  }
  const auto t0 = std::chrono::steady_clock::now();
  info->run(StrategyCall{model, prompt, o, n_ctx, on_text}, r);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (r.candidates.empty()) r.generated_tokens = static_cast<int64_t>(r.output.tokens.size());
  for (const auto& cand : r.candidates) r.generated_tokens += static_cast<int64_t>(cand.tokens.size());
  return r;
}

}  // namespace tandem::decode
