// The parts of load() (internal to config/): load.cc reads the document,
// prices and defaults, models.cc the model entries, check.cc the references
// between models.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/yaml_fields.h"

namespace tandem::config::detail {

Config load_document(std::string_view text, const std::string& file, const std::filesystem::path& dir);

// Reads every entry of `models:` into config.models (file order). Relative
// GGUF paths are looked up in `dir`, then in the working directory.
void parse_models(const Fields& models, const std::filesystem::path& dir, Config& config);

// A `sampling:` map over `base`; owner names it in messages ("defaults",
// "local model 'tiny'").
api::SamplingOptions parse_sampling(const std::string& file, const YAML::Node& node, const std::string& owner,
                                    api::SamplingOptions base);

// Every reference names a defined model of a fitting type, and no model
// depends on itself (directly or through others).
void check_references(const Config& config);

// "unknown model 'tyni' (did you mean 'tiny'?)", or with the list of models
// when none is close.
std::string unknown_model(const std::string& name, const Config& config);

// A `type: router` entry (router_spec.cc), its table read and checked
// against the candidates and the embedder.
RouterSpec parse_router(const Fields& f, const ModelSpec& m, const std::filesystem::path& dir);

// A file a model entry names (a router table, a retrieval index): absolute
// as is; relative from `dir` (the config's folder), then from the working
// directory. Fails at `at` listing the paths tried, then `hint`.
std::string resolve_data_file(const std::string& text, const std::filesystem::path& dir, const Location& at,
                              const std::string& what, const std::string& hint);

// A `type: retrieval` entry (retrieval_spec.cc), its index read and its
// embedder checked against the index's.
RetrievalSpec parse_retrieval(const Fields& f, const ModelSpec& m, const std::filesystem::path& dir);

// A `type: stack` entry (stack_spec.cc), its templates' placeholders checked
// against its step names.
StackSpec parse_stack(const Fields& f, const ModelSpec& m);

// The `budgets:` section (budgets.cc): every key a local or remote model, at
// least one limit each.
void parse_budgets(const Fields& budgets, Config& config);

}  // namespace tandem::config::detail
