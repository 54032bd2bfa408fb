// References between models: each names a defined model of a fitting type,
// and following them never leads back to where one started.
#include <map>
#include <string>
#include <vector>

#include "config/load_internal.h"

namespace tandem::config::detail {

namespace {

void check_exists(const Reference& r, const Config& config) {
  if (config.find(r.name) == nullptr) fail(r.at, unknown_model(r.name, config));
}

// "local model", "remote model", "cascade", "router", "stack", "retrieval".
std::string kind(const ModelSpec& m) {
  const std::string type(m.type());
  return type == "local" || type == "remote" ? type + " model" : type;
}

// The helpers whose logits a local strategy combines must be local models.
void check_local_helpers(const ModelSpec& m, const LocalSpec& l, const Config& config) {
  const std::pair<const char*, const std::optional<Reference>*> helpers[] = {
      {"draft", &l.draft}, {"amateur", &l.amateur}, {"expert", &l.expert}, {"anti_expert", &l.anti_expert}};
  for (const auto& [field, ref] : helpers) {
    if (!ref->has_value()) continue;
    const ModelSpec* target = config.find((*ref)->name);
    if (target->type() != "local")
      fail((*ref)->at, std::string(field) + " '" + target->name + "' of local model '" + m.name +
                           "' must be a local model (its logits are combined token by token), but it is a " +
                           kind(*target));
  }
}

// A verdict rule's judge scores text: of the config's types, only a local
// model can (Model::score).
void check_judges(const ModelSpec& m, const CascadeSpec& c, const Config& config) {
  for (const RuleSpec& rule : c.rules) {
    if (!rule.judge) continue;
    const ModelSpec* target = config.find(rule.judge->name);
    if (target->type() != "local")
      fail(rule.judge->at, "judge '" + target->name + "' of cascade '" + m.name +
                               "' must be a local model (it scores text), but it is a " + kind(*target));
  }
}

// An embedder (of a router or a retrieval) embeds text: of the config's
// types, only a local model can (Model::embed).
void check_embedder(const ModelSpec& m, const Reference& embedder, const Config& config) {
  const ModelSpec* target = config.find(embedder.name);
  if (target->type() != "local")
    fail(embedder.at, "embedder '" + target->name + "' of " + std::string(m.type()) + " '" + m.name +
                          "' must be a local model (it embeds prompts), but it is a " + kind(*target));
}

class CycleFinder {
 public:
  explicit CycleFinder(const Config& config) : config_(config) {}

  void visit(const ModelSpec& m) {
    int& s = state_[m.name];
    if (s == kDone) return;
    s = kActive;
    path_.push_back(m.name);
    for (const Reference* r : m.references()) {
      const ModelSpec& next = *config_.find(r->name);
      if (state_[next.name] == kActive) fail(r->at, "cycle: " + cycle_text(next.name));
      visit(next);
    }
    path_.pop_back();
    state_[m.name] = kDone;
  }

 private:
  static constexpr int kActive = 1, kDone = 2;

  // "a -> b -> a" from the first model of the cycle on the current path.
  std::string cycle_text(const std::string& back_to) const {
    std::string s;
    bool on = false;
    for (const std::string& n : path_) {
      on = on || n == back_to;
      if (on) s += n + " -> ";
    }
    return s + back_to;
  }

  const Config& config_;
  std::map<std::string, int> state_;
  std::vector<std::string> path_;
};

}  // namespace

void check_references(const Config& config) {
  for (const ModelSpec& m : config.models) {
    for (const Reference* r : m.references()) check_exists(*r, config);
    if (const auto* l = std::get_if<LocalSpec>(&m.spec)) check_local_helpers(m, *l, config);
    if (const auto* c = std::get_if<CascadeSpec>(&m.spec)) check_judges(m, *c, config);
    if (const auto* r = std::get_if<RouterSpec>(&m.spec)) check_embedder(m, r->embedder, config);
    if (const auto* r = std::get_if<RetrievalSpec>(&m.spec)) check_embedder(m, r->embedder, config);
  }
  if (config.defaults.model) check_exists(*config.defaults.model, config);
  CycleFinder finder(config);
  for (const ModelSpec& m : config.models) finder.visit(m);
}

}  // namespace tandem::config::detail
