// Small text helpers shared across layers.
#pragma once

#include <string_view>

namespace tandem {

// `s` without leading and trailing whitespace (std::isspace: space, \t, \n,
// \v, \f, \r).
std::string_view trim(std::string_view s);

}  // namespace tandem
