#include "cli/lora_options.h"

namespace tandem::cli {

std::vector<LoraAdapter> LoraOptions::adapters() const {
  std::vector<LoraAdapter> out;
  for (const auto& p : plain) out.push_back({p, 1.0f});
  for (const auto& [p, s] : scaled) out.push_back({p, s});
  return out;
}

void add_lora_options(CLI::App* cmd, LoraOptions& o) {
  cmd->add_option("--lora", o.plain, "LoRA adapter GGUF merged into the model at load (repeatable)");
  cmd->add_option("--lora-scaled", o.scaled, "LoRA adapter with a user scale: FILE SCALE (repeatable)");
}

}  // namespace tandem::cli
