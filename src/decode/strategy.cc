#include "decode/strategy.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "decode/combine.h"
#include "decode/json_schema.h"
#include "decode/judge.h"
#include "decode/rerank.h"
#include "decode/token_mask.h"
#include "sample/selectors.h"
#include "util/error.h"

namespace tandem::decode {

namespace {

std::unique_ptr<Transformer> load_aux(const std::string& path, const char* what, const std::string& strategy,
                                      const Transformer& main, int n_threads) {
  if (path.empty()) throw Error("strategy '" + strategy + "' needs " + what + " (a GGUF path)");
  auto m = Transformer::load(path, {.n_threads = n_threads > 0 ? n_threads : main.n_threads()});
  if (!same_vocabulary(main.tokenizer(), m->tokenizer()))
    throw Error(path + ": its vocabulary differs from the main model's; strategy '" + strategy +
                "' needs models sharing one tokenizer");
  return m;
}

// The grammar masker for the options' grammar or schema (nullptr if none).
std::shared_ptr<TokenMasker> make_masker(const StrategyOptions& o, const Tokenizer& tok) {
  if (o.grammar.empty() && o.json_schema.empty()) return nullptr;
  if (!o.grammar.empty() && !o.json_schema.empty()) throw Error("give either a grammar or a JSON schema, not both");
  const std::string gbnf = o.grammar.empty() ? json_schema_to_gbnf(std::string_view(o.json_schema)) : o.grammar;
  auto grammar = std::make_shared<Grammar>(parse_gbnf(gbnf));
  std::vector<std::string> pieces(static_cast<size_t>(tok.n_vocab()));
  std::vector<int32_t> eog;
  for (TokenId t = 0; t < tok.n_vocab(); ++t) {
    if (tok.is_eog(t)) eog.push_back(t);
    const TokenKind kind = tok.vocab().kinds.empty() ? TokenKind::kNormal : tok.vocab().kinds[static_cast<size_t>(t)];
    if (kind != TokenKind::kControl && kind != TokenKind::kUnknown && kind != TokenKind::kUnused)
      pieces[static_cast<size_t>(t)] = tok.token_to_piece(t, false);
  }
  return std::make_shared<TokenMasker>(std::make_shared<GrammarMatcher>(grammar), std::move(pieces), std::move(eog));
}

sample::SamplerChain chain_for(const StrategyOptions& o, const std::shared_ptr<TokenMasker>& masker, uint64_t seed,
                               bool greedy) {
  sample::SamplingParams p = o.sampling;
  p.seed = seed;
  if (greedy) p.temperature = 0.0f;
  sample::SamplerChain chain = sample::make_chain(p);
  if (masker) chain.add_front(std::make_unique<GrammarSampler>(masker));
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

StrategyResult run_strategy(const Transformer& model, std::string_view prompt_text, const StrategyOptions& o,
                            const TextCallback& on_text) {
  validate(o);
  const Tokenizer& tok = model.tokenizer();
  const std::vector<TokenId> prompt = tok.encode(prompt_text, true, true);
  if (prompt.empty()) throw Error("the prompt is empty and the model adds no BOS token: nothing to continue");
  const std::string& st = o.strategy;
  const int64_t n_train = model.config().n_ctx_train > 0 ? model.config().n_ctx_train : 4096;
  int64_t n_ctx = o.n_ctx;
  if (n_ctx <= 0) {
    const int64_t want = o.text.n_predict < 0 ? n_train : static_cast<int64_t>(prompt.size()) + o.text.n_predict + o.draft_max + 2;
    n_ctx = std::min(n_train, want);
  }
  if (static_cast<int64_t>(prompt.size()) >= n_ctx)
    throw Error("the prompt has " + std::to_string(prompt.size()) + " tokens but the context holds only " +
                std::to_string(n_ctx));

  StrategyResult r;
  r.strategy = st;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  const bool greedy = o.sampling.temperature <= 0.0f;

  if (st == "sample" || st == "greedy") {
    auto masker = make_masker(o, tok);
    sample::SamplerChain chain = chain_for(o, masker, o.sampling.seed, st == "greedy");
    ModelSession s(model, n_ctx);
    OutputStream out(tok, o.text, on_text);
    generate(s, prompt, chain, out);
    r.output = out.finish();
  } else if (st == "speculative" || st == "lookup") {
    auto masker = make_masker(o, tok);
    if (o.draft_min < 1 || o.draft_max < o.draft_min) throw Error("draft lengths must satisfy 1 <= draft-min <= draft-max");
    std::unique_ptr<Transformer> draft_model;
    std::unique_ptr<ModelSession> draft_session;
    std::unique_ptr<Proposer> proposer;
    if (st == "speculative") {
      draft_model = load_aux(o.draft_model, "a draft model", st, model, o.n_threads);
      draft_session = std::make_unique<ModelSession>(*draft_model, n_ctx);
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
    ModelSession target(model, n_ctx);
    OutputStream out(tok, o.text, on_text);
    const int limit = o.text.n_predict < 0 ? static_cast<int>(n_ctx) : o.text.n_predict + 1;
    SpeculationGovernor governor;
    SpeculativeExtras extras;
    extras.grammar = masker;
    extras.penalties = o.sampling;
    if (o.spec_fallback) extras.governor = &governor;
    speculative_generate(target, prompt, limit, *proposer, *verifier, *policy,
                         [&](TokenId t, std::span<const float> logits) { return out.push(t, logits); }, &r.speculative,
                         extras);
    r.output = out.finish();
  } else if (st == "contrastive" || st == "proxy") {
    auto masker = make_masker(o, tok);
    sample::SamplerChain chain = chain_for(o, masker, o.sampling.seed, false);
    std::vector<std::unique_ptr<Transformer>> aux;
    std::vector<std::unique_ptr<ModelSession>> sessions;
    sessions.push_back(std::make_unique<ModelSession>(model, n_ctx));
    std::unique_ptr<LogitCombiner> combiner;
    if (st == "contrastive") {
      aux.push_back(load_aux(o.amateur_model, "an amateur model", st, model, o.n_threads));
      combiner = std::make_unique<ContrastiveCombiner>(o.alpha);
    } else {
      aux.push_back(load_aux(o.tuned_model, "a tuned model", st, model, o.n_threads));
      aux.push_back(load_aux(o.untuned_model, "an untuned model", st, model, o.n_threads));
      combiner = std::make_unique<ProxyTuningCombiner>(o.proxy_strength);
    }
    for (auto& m : aux) sessions.push_back(std::make_unique<ModelSession>(*m, n_ctx));
    std::vector<Session*> ptrs;
    for (auto& s : sessions) ptrs.push_back(s.get());
    OutputStream out(tok, o.text, on_text);
    generate_combined(ptrs, prompt, *combiner, chain, out);
    r.output = out.finish();
  } else if (st == "best-of-n" || st == "self-consistency" || st == "mbr") {
    if (o.n_samples < 1) throw Error("n_samples must be at least 1");
    std::unique_ptr<Transformer> scorer;
    if (!o.scorer_model.empty()) {
      try {
        scorer = Transformer::load(o.scorer_model, {.n_threads = o.n_threads > 0 ? o.n_threads : model.n_threads()});
      } catch (const Error& e) {
        throw Error(std::string("scorer model: ") + e.what());
      }
      // Check the template before sampling, so a bad one fails fast.
      fill_judge_template(o.scorer_template.empty() ? kDefaultJudgeTemplate : o.scorer_template, "", "");
    }
    auto masker = make_masker(o, tok);
    ModelSession base(model, n_ctx);
    r.candidates = sample_candidates(
        base, prompt, o.n_samples,
        [&](int i) { return chain_for(o, masker, o.sampling.seed + static_cast<uint64_t>(i), false); }, tok, o.text);
    if (st == "best-of-n" && scorer) {
      const std::string_view templ = o.scorer_template.empty() ? kDefaultJudgeTemplate : o.scorer_template;
      const std::string_view verdict = o.scorer_verdict.empty() ? kDefaultVerdict : o.scorer_verdict;
      for (const auto& c : r.candidates)
        r.scores.push_back(judge_logprob(*scorer, fill_judge_template(templ, prompt_text, c.text), verdict));
      r.judged = true;
      r.chosen = static_cast<size_t>(std::max_element(r.scores.begin(), r.scores.end()) - r.scores.begin());
    } else if (st == "best-of-n") {
      r.chosen = best_by_mean_logprob(r.candidates);
      for (const auto& c : r.candidates) r.scores.push_back(c.mean_logprob());
    } else if (st == "self-consistency") {
      auto vote = majority_answer(r.candidates);
      if (vote) {
        r.chosen = vote->representative;
        r.answer = vote->answer;
        r.votes = vote->votes;
      }
    } else {
      std::vector<std::string> texts;
      for (const auto& c : r.candidates) texts.push_back(c.text);
      r.chosen = mbr_select(texts, utility_by_name(o.mbr_utility));
    }
    r.output = r.candidates[r.chosen];
    if (on_text && !r.output.text.empty()) on_text(r.output.text);
  } else {
    throw Error("unknown strategy '" + st + "'");  // validate() lets only known ones through
  }
  r.seconds = elapsed();
  return r;
}

}  // namespace tandem::decode
