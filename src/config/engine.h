// The engine's builders for config::build() (config/build.h): `local` models
// become local::LocalModel (their GGUFs loaded through local::load_shared, so a
// file named by several models loads once), `remote` models
// remote::RemoteModel, cascades compose::Cascade. open() is load() + build()
// with them: what front ends (tandem run, later serve and eval) call.
//
//   config::ModelSet set = config::open("configs/cascade.yaml", {{"tiny-then-base"}});
//   api::Response r = set.get("tiny-then-base")->complete(request);
//
// Local models: the spec's strategy and its options become the LocalModel's
// decode::StrategyOptions; helper models (draft, amateur, expert,
// anti_expert, scorer) must be local models and share their loaded weights;
// usage entries of helpers carry the helpers' config names. threads: the
// spec's, else EngineOptions::threads (0: all cores).
#pragma once

#include <memory>
#include <span>
#include <string>

#include "compose/budget.h"
#include "config/build.h"
#include "config/config.h"

namespace tandem::config {

struct EngineOptions {
  int threads = 0;  // for local models whose spec sets none; 0: all cores
};

// The config's `budgets:` as one Budgets object (null when it has none).
std::shared_ptr<compose::Budgets> make_budgets(const Config& config);

// `budgets`: the spending limits every cascade shares (compose/budget.h),
// from make_budgets(config); null: none.
Builders engine_builders(const EngineOptions& options = {}, std::shared_ptr<compose::Budgets> budgets = nullptr);

// load(path), then build() of `roots` (every model when empty) with
// engine_builders() and the config's budgets. Throws tandem::Error as load()
// and build() do.
ModelSet open(const std::string& path, std::span<const std::string> roots = {}, const EngineOptions& options = {});

}  // namespace tandem::config
