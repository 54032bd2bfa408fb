#include "config/engine.h"

#include <memory>

#include "compose/cascade.h"
#include "compose/retrieval.h"
#include "compose/router.h"
#include "compose/stack.h"
#include "compose/signals.h"
#include "local/local_model.h"
#include "remote/remote_model.h"
#include "util/error.h"

namespace tandem::config {

namespace {

// A helper named in the config, as the loaded transformer it wraps.
std::shared_ptr<const Transformer> weights_of(const ModelPtr& helper, const char* role) {
  if (helper == nullptr) return nullptr;
  const auto* local = dynamic_cast<const local::LocalModel*>(helper.get());
  if (local == nullptr)
    throw Error(std::string("the ") + role + " '" + helper->name() + "' must be a local model (its logits are needed)");
  return local->shared_transformer();
}

decode::StrategyOptions strategy_of(const LocalSpec& s, const LocalHelpers& h) {
  decode::StrategyOptions o;
  o.strategy = s.strategy;
  o.sampling = local::engine_sampling(s.sampling);
  if (s.n_ctx) o.n_ctx = *s.n_ctx;
  o.models = {weights_of(h.draft, "draft"), weights_of(h.amateur, "amateur"), weights_of(h.expert, "expert"),
              weights_of(h.anti_expert, "anti_expert"), weights_of(h.scorer, "scorer")};
  // The names label the helpers' usage entries (local/local_model.h).
  if (h.draft) o.draft_model = h.draft->name();
  if (h.amateur) o.amateur_model = h.amateur->name();
  if (h.expert) o.tuned_model = h.expert->name();
  if (h.anti_expert) o.untuned_model = h.anti_expert->name();
  if (h.scorer) o.scorer_model = h.scorer->name();
  if (s.draft_max) o.draft_max = *s.draft_max;
  if (s.draft_min) o.draft_min = *s.draft_min;
  if (s.draft_init) o.draft_init = *s.draft_init;
  if (s.adaptive_draft) o.adaptive_draft = *s.adaptive_draft;
  if (s.spec_fallback) o.spec_fallback = *s.spec_fallback;
  if (s.ngram_min) o.ngram_min = *s.ngram_min;
  if (s.ngram_max) o.ngram_max = *s.ngram_max;
  if (s.alpha) o.alpha = *s.alpha;
  if (s.proxy_strength) o.proxy_strength = *s.proxy_strength;
  if (s.n_samples) o.n_samples = *s.n_samples;
  if (s.mbr_utility) o.mbr_utility = *s.mbr_utility;
  if (s.scorer_template) o.scorer_template = *s.scorer_template;
  if (s.scorer_verdict) o.scorer_verdict = *s.scorer_verdict;
  return o;
}

ModelPtr build_local(const std::string& name, const LocalSpec& s, const LocalHelpers& h, const EngineOptions& e) {
  const LoadOptions load{.n_threads = s.threads.value_or(e.threads)};
  return std::make_shared<local::LocalModel>(name, local::load_shared(s.path, load), strategy_of(s, h), s.price);
}

ModelPtr build_remote(const std::string& name, const RemoteSpec& s) {
  remote::RemoteOptions o;
  o.name = name;
  o.base_url = s.base_url;
  o.model = s.model;
  o.api = s.api;
  o.api_key_env = s.api_key_env;
  o.context = s.context;
  o.price = s.price;
  if (s.connect_timeout_s) o.connect_timeout_s = *s.connect_timeout_s;
  if (s.read_timeout_s) o.read_timeout_s = *s.read_timeout_s;
  if (s.max_retries) o.max_retries = *s.max_retries;
  if (s.max_concurrency) o.max_concurrency = *s.max_concurrency;
  if (s.cooldown_after) o.cooldown_after = *s.cooldown_after;
  if (s.cooldown_s) o.cooldown_s = *s.cooldown_s;
  if (s.logprobs) o.logprobs = *s.logprobs;
  return std::make_shared<remote::RemoteModel>(std::move(o));
}

ModelPtr build_cascade(const std::string& name, const CascadeSpec& s, const std::vector<ModelPtr>& stages,
                       const std::vector<ModelPtr>& judges, const std::shared_ptr<compose::Budgets>& budgets) {
  compose::CascadeOptions o;
  o.name = name;
  o.stages = stages;
  for (size_t i = 0; i < s.rules.size(); ++i) {
    const RuleSpec& r = s.rules[i];
    o.rules.push_back(compose::make_rule({.signal = r.signal,
                                          .threshold = r.threshold,
                                          .samples = r.samples,
                                          .agree_on = r.agree_on,
                                          .temperature = r.temperature,
                                          .judge = i < judges.size() ? judges[i] : nullptr,
                                          .templ = r.templ,
                                          .verdict = r.verdict,
                                          .against = r.against}));
  }
  return std::make_shared<compose::Cascade>(std::move(o), budgets);
}

ModelPtr build_router(const std::string& name, const RouterSpec& s, const std::vector<ModelPtr>& candidates,
                      const ModelPtr& embedder, const std::shared_ptr<compose::Budgets>& budgets) {
  compose::RouterOptions o;
  o.name = name;
  o.candidates = candidates;
  o.embedder = embedder;
  o.table = s.table_data;  // read and checked by load()
  o.k = static_cast<size_t>(s.k);
  o.cost_weight = s.cost_weight;
  return std::make_shared<compose::Router>(std::move(o), budgets);
}

ModelPtr build_stack(const std::string& name, const StackSpec& s, const std::vector<ModelPtr>& steps,
                     const std::shared_ptr<compose::Budgets>& budgets) {
  compose::StackOptions o;
  o.name = name;
  for (size_t i = 0; i < s.steps.size(); ++i) {
    const StackStepSpec& step = s.steps[i];
    o.steps.push_back({.model = steps[i], .name = step.name, .templ = step.templ, .max_tokens = step.max_tokens,
                       .stop = step.stop});
  }
  return std::make_shared<compose::Stack>(std::move(o), budgets);
}

ModelPtr build_retrieval(const std::string& name, const RetrievalSpec& s, const ModelPtr& model, const ModelPtr& embedder,
                         const std::shared_ptr<compose::Budgets>& budgets) {
  compose::RetrievalOptions o;
  o.name = name;
  o.model = model;
  o.embedder = embedder;
  o.index = s.index_data;  // read and checked by load()
  o.k = static_cast<size_t>(s.k);
  if (!s.templ.empty()) o.prompt_template = s.templ;
  return std::make_shared<compose::Retrieval>(std::move(o), budgets);
}

}  // namespace

Builders engine_builders(const EngineOptions& options, std::shared_ptr<compose::Budgets> budgets) {
  Builders b;
  b.local = [options](const std::string& name, const LocalSpec& s, const LocalHelpers& h) {
    return build_local(name, s, h, options);
  };
  b.remote = build_remote;
  b.cascade = [budgets](const std::string& name, const CascadeSpec& s,
                                          const std::vector<ModelPtr>& stages, const std::vector<ModelPtr>& judges) {
    return build_cascade(name, s, stages, judges, budgets);
  };
  b.router = [budgets](const std::string& name, const RouterSpec& s, const std::vector<ModelPtr>& candidates,
                       const ModelPtr& embedder) { return build_router(name, s, candidates, embedder, budgets); };
  b.stack = [budgets](const std::string& name, const StackSpec& s, const std::vector<ModelPtr>& steps) {
    return build_stack(name, s, steps, budgets);
  };
  b.retrieval = [budgets](const std::string& name, const RetrievalSpec& s, const ModelPtr& model,
                          const ModelPtr& embedder) { return build_retrieval(name, s, model, embedder, budgets); };
  return b;
}

std::shared_ptr<compose::Budgets> make_budgets(const Config& config) {
  if (config.budgets.empty()) return nullptr;
  auto b = std::make_shared<compose::Budgets>();
  for (const auto& [name, spec] : config.budgets) {
    compose::BudgetLimit limit;
    if (spec.max_cost) limit.max_cost = *spec.max_cost;
    if (spec.max_tokens) limit.max_tokens = *spec.max_tokens;
    limit.window_s = spec.window_s;
    b->set(name, limit);
  }
  return b;
}

ModelSet open(const std::string& path, std::span<const std::string> roots, const EngineOptions& options) {
  const Config config = load(path);
  return build(config, engine_builders(options, make_budgets(config)), roots);
}

}  // namespace tandem::config
