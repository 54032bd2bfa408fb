#include "decode/strategy_options.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "decode/strategy.h"
#include "util/error.h"

namespace tandem::decode {

namespace {

// An option and whether it is set (see validate()'s contract).
struct Setting {
  const char* flag;
  bool differs;  // its value differs from the default
};

class Given {
 public:
  explicit Given(std::span<const std::string> names) : names_(names) {}
  bool operator()(const Setting& s) const { return s.differs || written(s.flag); }
  bool written(std::string_view flag) const { return std::find(names_.begin(), names_.end(), flag) != names_.end(); }

 private:
  std::span<const std::string> names_;
};

// Options only some strategies apply.
void check_strategy_specific(const StrategyOptions& o, const Given& set) {
  const StrategyOptions d;
  const std::string& st = o.strategy;
  const bool spec = st == "speculative" || st == "lookup";
  const bool rerank = st == "best-of-n" || st == "self-consistency" || st == "mbr";
  struct Owned {
    Setting setting;
    bool applies;
    const char* owners;
  };
  const Owned owned[] = {
      {{"--draft", !o.draft_model.empty() || o.models.draft != nullptr}, st == "speculative", "speculative"},
      {{"--draft-max", o.draft_max != d.draft_max}, spec, "speculative and lookup"},
      {{"--draft-min", o.draft_min != d.draft_min}, spec, "speculative and lookup"},
      {{"draft_init", o.draft_init != d.draft_init}, spec, "speculative and lookup"},
      {{"--no-adaptive-draft", !o.adaptive_draft}, spec, "speculative and lookup"},
      {{"--no-spec-fallback", !o.spec_fallback}, spec, "speculative and lookup"},
      {{"--ngram-min", o.ngram_min != d.ngram_min}, st == "lookup", "lookup"},
      {{"--ngram-max", o.ngram_max != d.ngram_max}, st == "lookup", "lookup"},
      {{"--amateur", !o.amateur_model.empty() || o.models.amateur != nullptr}, st == "contrastive", "contrastive"},
      {{"--alpha", o.alpha != d.alpha}, st == "contrastive", "contrastive"},
      {{"--expert", !o.tuned_model.empty() || o.models.expert != nullptr}, st == "proxy", "proxy"},
      {{"--anti-expert", !o.untuned_model.empty() || o.models.anti_expert != nullptr}, st == "proxy", "proxy"},
      {{"--proxy-strength", o.proxy_strength != d.proxy_strength}, st == "proxy", "proxy"},
      {{"--n-samples", o.n_samples != d.n_samples}, rerank, "best-of-n, self-consistency and mbr"},
      {{"--scorer", !o.scorer_model.empty() || o.models.scorer != nullptr}, st == "best-of-n", "best-of-n"},
      {{"--scorer-template", !o.scorer_template.empty()}, st == "best-of-n", "best-of-n"},
      {{"--scorer-verdict", !o.scorer_verdict.empty()}, st == "best-of-n", "best-of-n"},
      {{"--mbr-utility", o.mbr_utility != d.mbr_utility}, st == "mbr", "mbr"},
  };
  for (const Owned& x : owned) {
    if (!x.applies && set(x.setting))
      throw Error(std::string(x.setting.flag) + " is used only by --strategy " + x.owners + ", not by --strategy " + st);
  }
}

std::string format_temp(float t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(t));
  return buf;
}

// Sampling options that greedy decoding, or the rest of the options, leave unused.
void check_sampling(const StrategyOptions& o, const Given& set) {
  const StrategyOptions d;
  const sample::SamplingParams& p = o.sampling;
  const sample::SamplingParams& dp = d.sampling;
  const std::string& st = o.strategy;
  const bool rerank = st == "best-of-n" || st == "self-consistency" || st == "mbr";
  if (st == "greedy" && p.temperature > 0.0f && set({"--temp", p.temperature != dp.temperature}))
    throw Error("--temp " + format_temp(p.temperature) +
                " conflicts with --strategy greedy (always the most likely token): use --strategy sample to sample");
  if (rerank && p.temperature <= 0.0f && o.n_samples > 1)
    throw Error("--strategy " + st + " at --temp 0 would sample " + std::to_string(o.n_samples) +
                " identical greedy candidates: use --temp > 0");
  if (st == "greedy" || p.temperature <= 0.0f) {
    const char* why = st == "greedy" ? "--strategy greedy" : "--temp 0";
    const Setting unused[] = {{"--top-k", p.top_k != dp.top_k},
                              {"--top-p", p.top_p != dp.top_p},
                              {"--min-p", p.min_p != dp.min_p},
                              {"--typical", p.typical_p != dp.typical_p},
                              {"--seed", false}};
    for (const Setting& s : unused) {
      if (set(s))
        throw Error(std::string(s.flag) + " has no effect with greedy decoding (" + why +
                    "): drop it, or sample with --strategy sample and --temp > 0");
    }
  }
  const bool penalized = p.repeat_penalty != 1.0f || p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f;
  if (!penalized && set({"--repeat-last-n", p.penalty_last_n != dp.penalty_last_n}))
    throw Error("--repeat-last-n has no effect without --repeat-penalty, --frequency-penalty or --presence-penalty");
  if (penalized && p.penalty_last_n == 0)
    throw Error("--repeat-last-n 0 turns the penalties off: drop it, or drop --repeat-penalty, --frequency-penalty "
                "and --presence-penalty");
}

// Options that other options of the same strategy make unused.
void check_combinations(const StrategyOptions& o, const Given& set) {
  const StrategyOptions d;
  if (!o.adaptive_draft) {
    for (const Setting& s : {Setting{"--draft-min", o.draft_min != d.draft_min}, Setting{"draft_init", o.draft_init != d.draft_init}}) {
      if (set(s))
        throw Error(std::string(s.flag) + " has no effect with --no-adaptive-draft (every draft is --draft-max tokens)");
    }
  }
  if (o.scorer_model.empty() && !o.models.scorer) {
    for (const Setting& s : {Setting{"--scorer-template", !o.scorer_template.empty()},
                             Setting{"--scorer-verdict", !o.scorer_verdict.empty()}}) {
      if (set(s))
        throw Error(std::string(s.flag) + " needs --scorer (without a judge model best-of-n ranks by mean logprob)");
    }
  }
}

}  // namespace

void validate(const StrategyOptions& o, std::span<const std::string> given) {
  if (!find_strategy(o.strategy)) {
    std::string names;
    const auto all = strategies();
    for (size_t i = 0; i < all.size(); ++i)
      names += (i == 0 ? "" : i + 1 == all.size() ? " or " : ", ") + std::string(all[i].name);
    throw Error("unknown strategy '" + o.strategy + "' (use " + names + ")");
  }
  const Given set(given);
  check_strategy_specific(o, set);
  check_sampling(o, set);
  check_combinations(o, set);
}

}  // namespace tandem::decode
