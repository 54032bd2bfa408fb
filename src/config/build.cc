#include "config/build.h"

#include <cstdlib>
#include <set>

#include "config/load_internal.h"
#include "util/error.h"

namespace tandem::config {

ModelPtr ModelSet::get(std::string_view name) const {
  const auto it = models.find(std::string(name));
  if (it == models.end()) throw Error("no model named '" + std::string(name) + "' in this configuration");
  return it->second;
}

namespace {

using detail::fail;

// The models to build, dependencies before the models that name them.
class Order {
 public:
  explicit Order(const Config& config) : config_(config) {}

  void add(const ModelSpec& m) {
    if (!seen_.insert(m.name).second) return;
    for (const Reference* r : m.references()) {
      const ModelSpec* dep = config_.find(r->name);
      if (dep == nullptr) fail(r->at, detail::unknown_model(r->name, config_));
      add(*dep);
    }
    order_.push_back(&m);
  }
  const std::vector<const ModelSpec*>& models() const { return order_; }

 private:
  const Config& config_;
  std::set<std::string> seen_;
  std::vector<const ModelSpec*> order_;
};

void check_api_keys(const std::vector<const ModelSpec*>& models) {
  for (const ModelSpec* m : models) {
    const auto* r = std::get_if<RemoteSpec>(&m->spec);
    if (r == nullptr || r->api_key_env.empty()) continue;
    const char* value = std::getenv(r->api_key_env.c_str());
    if (value == nullptr || *value == '\0')
      fail(r->api_key_env_at, "environment variable " + r->api_key_env + " (api_key_env of remote model '" + m->name +
                                  "') is " + (value == nullptr ? "not set" : "empty") +
                                  ": export it with the API key before using this model");
  }
}

class Constructor {
 public:
  Constructor(const Builders& builders, ModelSet& set) : builders_(builders), set_(set) {}

  // Builds m from the models already in the set.
  ModelPtr construct(const ModelSpec& m) {
    if (const auto* l = std::get_if<LocalSpec>(&m.spec)) {
      if (!builders_.local) fail(m.at, "no builder for local models here (model '" + m.name + "')");
      LocalHelpers h{dep(l->draft), dep(l->amateur), dep(l->expert), dep(l->anti_expert), dep(l->scorer)};
      return builders_.local(m.name, *l, h);
    }
    if (const auto* r = std::get_if<RemoteSpec>(&m.spec)) {
      if (!builders_.remote) fail(m.at, "no builder for remote models here (model '" + m.name + "')");
      return builders_.remote(m.name, *r);
    }
    if (const auto* r = std::get_if<RouterSpec>(&m.spec)) {
      if (!builders_.router) fail(m.at, "no builder for routers here (model '" + m.name + "')");
      std::vector<ModelPtr> candidates;
      for (const Reference& c : r->candidates) candidates.push_back(set_.models.at(c.name));
      return builders_.router(m.name, *r, candidates, set_.models.at(r->embedder.name));
    }
    if (const auto* st = std::get_if<StackSpec>(&m.spec)) {
      if (!builders_.stack) fail(m.at, "no builder for stacks here (model '" + m.name + "')");
      std::vector<ModelPtr> steps;
      for (const StackStepSpec& s : st->steps) steps.push_back(set_.models.at(s.model.name));
      return builders_.stack(m.name, *st, steps);
    }
    if (const auto* rt = std::get_if<RetrievalSpec>(&m.spec)) {
      if (!builders_.retrieval) fail(m.at, "no builder for retrievals here (model '" + m.name + "')");
      return builders_.retrieval(m.name, *rt, set_.models.at(rt->model.name), set_.models.at(rt->embedder.name));
    }
    const auto& c = std::get<CascadeSpec>(m.spec);
    if (!builders_.cascade) fail(m.at, "no builder for cascades here (model '" + m.name + "')");
    std::vector<ModelPtr> stages;
    for (const Reference& s : c.stages) stages.push_back(set_.models.at(s.name));
    std::vector<ModelPtr> judges;
    for (const RuleSpec& r : c.rules) judges.push_back(dep(r.judge));
    return builders_.cascade(m.name, c, stages, judges);
  }

 private:
  ModelPtr dep(const std::optional<Reference>& r) const { return r ? set_.models.at(r->name) : nullptr; }

  const Builders& builders_;
  ModelSet& set_;
};

}  // namespace

ModelSet build(const Config& config, const Builders& builders, std::span<const std::string> roots) {
  Order order(config);
  if (roots.empty()) {
    for (const ModelSpec& m : config.models) order.add(m);
  } else {
    for (const std::string& name : roots) {
      const ModelSpec* m = config.find(name);
      if (m == nullptr) fail({config.file, 0, 0}, detail::unknown_model(name, config));
      order.add(*m);
    }
  }
  check_api_keys(order.models());

  ModelSet set;
  if (config.defaults.model) set.default_model = config.defaults.model->name;
  Constructor constructor(builders, set);
  for (const ModelSpec* m : order.models()) {
    ModelPtr model;
    try {
      model = constructor.construct(*m);
    } catch (const Error& e) {
      if (std::string_view(e.what()).starts_with(m->at.str() + ": ")) throw;  // ours, already placed
      fail(m->at, "model '" + m->name + "': " + e.what());
    }
    if (model == nullptr) fail(m->at, "the builder of model '" + m->name + "' returned no model");
    if (model->name() != m->name)
      fail(m->at, "the builder of model '" + m->name + "' returned a model named '" + model->name() + "'");
    set.models.emplace(m->name, std::move(model));
    if (const auto* l = std::get_if<LocalSpec>(&m->spec)) set.prices.emplace(m->name, l->price);
    if (const auto* r = std::get_if<RemoteSpec>(&m->spec)) {
      set.prices.emplace(m->name, r->price);
      if (r->params) set.parameters.emplace(m->name, *r->params);
    }
  }
  return set;
}

}  // namespace tandem::config
