// Edits of a config file's text that keep everything else of it (comments,
// order, formatting): what `tandem calibrate` writes.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"

namespace tandem::config {

// `text` (the file `rule` was loaded from) with the value of the rule's
// `threshold:` key replaced by `threshold` (the shortest decimal that reads
// back exactly; +inf and -inf as YAML's .inf and -.inf). The key is the first
// `threshold:` at or after the rule's location. The result is loaded again and
// must give that threshold at that place; throws tandem::Error (naming the
// file and the rule's location) when the key cannot be found or the edit does
// not read back.
std::string with_threshold(std::string_view text, const RuleSpec& rule, double threshold);

// The threshold as with_threshold writes it.
std::string yaml_number(double x);

}  // namespace tandem::config
