// --lora FILE (repeatable) and --lora-scaled FILE SCALE, as llama.cpp spells
// them, for the commands that load a model to run it (generate, chat,
// perplexity, eval-math). The adapters are merged at load (model/lora.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "model/lora.h"

namespace tandem::cli {

struct LoraOptions {
  std::vector<std::string> plain;
  std::vector<std::pair<std::string, float>> scaled;
  // In command-line order within each kind: plain ones first, then scaled.
  std::vector<LoraAdapter> adapters() const;
};

void add_lora_options(CLI::App* cmd, LoraOptions& o);

}  // namespace tandem::cli
