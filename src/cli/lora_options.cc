// GCC 12 warns that CLI11's conversion of a FILE SCALE pair (TypeTools.hpp)
// may read the scale uninitialized; CLI11 assigns it before use.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "cli/lora_options.h"

#include "cli/numeric_options.h"

namespace tandem::cli {

std::vector<LoraAdapter> LoraOptions::adapters() const {
  std::vector<LoraAdapter> out;
  for (const auto& p : plain) out.push_back({p, 1.0f});
  for (const auto& [p, s] : scaled) out.push_back({p, s});
  return out;
}

void add_lora_options(CLI::App* cmd, LoraOptions& o) {
  cmd->add_option("--lora", o.plain, "LoRA adapter GGUF merged into the model at load (repeatable)");
  // The check applies to SCALE (element 1 of each FILE SCALE pair) only; a
  // negative scale subtracts the adapter, as in llama.cpp.
  cmd->add_option("--lora-scaled", o.scaled, "LoRA adapter with a user scale: FILE SCALE (repeatable)")
      ->check(real_range(-kFloatMax, kFloatMax).application_index(1));
}

}  // namespace tandem::cli
