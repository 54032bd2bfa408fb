#include "cli/sampling_options.h"

#include <limits>

#include "cli/numeric_options.h"

namespace tandem::cli {

void add_sampling_options(CLI::App* cmd, sample::SamplingParams& sp, bool& seed_set) {
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  cmd->add_option("--temp", sp.temperature, "Temperature (0: greedy)")->capture_default_str()->check(real_range(0, kFloatMax));
  cmd->add_option("--top-k", sp.top_k, "Top-k sampling (0: off)")->capture_default_str()->check(int_range(0, kIntMax));
  cmd->add_option("--top-p", sp.top_p, "Top-p (nucleus) sampling (1: off)")->capture_default_str()->check(real_range(0, 1));
  cmd->add_option("--min-p", sp.min_p, "Min-p sampling (0: off)")->capture_default_str()->check(real_range(0, 1));
  cmd->add_option("--typical", sp.typical_p, "Locally typical sampling (1: off)")->capture_default_str()->check(real_range(0, 1));
  // The penalty divides positive logits: 0 would make them infinite.
  cmd->add_option("--repeat-penalty", sp.repeat_penalty, "Repetition penalty (1: off)")
      ->capture_default_str()
      ->check(real_range(0, kFloatMax, /*lo_open=*/true));
  cmd->add_option("--repeat-last-n", sp.penalty_last_n, "Tokens the penalties look back at (-1: all)")
      ->capture_default_str()
      ->check(int_range(-1, kIntMax));
  cmd->add_option("--frequency-penalty", sp.frequency_penalty, "Frequency penalty (0: off)")
      ->capture_default_str()
      ->check(real_range(-kFloatMax, kFloatMax));
  cmd->add_option("--presence-penalty", sp.presence_penalty, "Presence penalty (0: off)")
      ->capture_default_str()
      ->check(real_range(-kFloatMax, kFloatMax));
  bool* set = &seed_set;
  cmd->add_option("-s,--seed", sp.seed, "Random seed (default: random)")
      ->check(uint64_any())
      ->each([set](const std::string&) { *set = true; });
}

}  // namespace tandem::cli
