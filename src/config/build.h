// build(): a loaded Config (config/config.h) made into Models. The builders
// that construct each type are injected, so this file knows no engine: the
// front end supplies builders over LocalModel, RemoteModel and Cascade, tests
// supply fakes.
//
//   config::Builders b;
//   b.local = [](const std::string& name, const LocalSpec& spec, const LocalHelpers& h) { ... };
//   b.remote = ...;  b.cascade = ...;
//   config::ModelSet set = config::build(config::load("configs/cascade.yaml"), b);
//   set.get("tiny-then-base")->complete(request);
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/model.h"
#include "config/config.h"

namespace tandem::config {

using ModelPtr = std::shared_ptr<const api::Model>;

// The built helper models of a local model (null where the spec names none).
struct LocalHelpers {
  ModelPtr draft, amateur, expert, anti_expert, scorer;
};

// One constructor per type. Each gets the model's config name (the name the
// Model must answer to), its spec, and its dependencies already built; it
// returns the Model or throws tandem::Error. A builder for a type the config
// does not use may be left empty. A cascade's `judges` has one entry per rule
// of its spec: the rule's judge model (verdict), null where it names none.
struct Builders {
  std::function<ModelPtr(const std::string& name, const LocalSpec&, const LocalHelpers&)> local;
  std::function<ModelPtr(const std::string& name, const RemoteSpec&)> remote;
  std::function<ModelPtr(const std::string& name, const CascadeSpec&, const std::vector<ModelPtr>& stages,
                         const std::vector<ModelPtr>& judges)>
      cascade;
  // A router's candidates (in its spec's order) and embedder.
  std::function<ModelPtr(const std::string& name, const RouterSpec&, const std::vector<ModelPtr>& candidates,
                         const ModelPtr& embedder)>
      router;
  // A stack's step models, in its spec's order.
  std::function<ModelPtr(const std::string& name, const StackSpec&, const std::vector<ModelPtr>& steps)> stack;
  // A retrieval's inner model and embedder.
  std::function<ModelPtr(const std::string& name, const RetrievalSpec&, const ModelPtr& model, const ModelPtr& embedder)>
      retrieval;
};

struct ModelSet {
  std::map<std::string, ModelPtr> models;     // every model built, by name
  std::map<std::string, api::Price> prices;   // every local and remote model built
  std::map<std::string, double> parameters;   // remote models built whose spec states `params`
  std::string default_model;                  // defaults.model; empty when unset

  // The model of that name; throws tandem::Error naming it when absent.
  ModelPtr get(std::string_view name) const;
};

// Builds the models named in `roots` and everything they depend on (all
// models when `roots` is empty), dependencies first, each model once: a model
// named by several others is one object shared by all (a draft of two
// strategies loads once). Before building anything, checks that the API key
// variable of every remote model to be built is set and not empty (error at
// its api_key_env: "file:line:column: environment variable X ... is not set").
// A builder's tandem::Error is rethrown as "file:line:column: model 'name':
// message" (the model's place in the file); a builder that is missing for a
// needed type, returns null or returns a model of another name is an error too.
ModelSet build(const Config& config, const Builders& builders, std::span<const std::string> roots = {});

}  // namespace tandem::config
