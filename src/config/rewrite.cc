#include "config/rewrite.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <regex>
#include <variant>

#include "util/error.h"

namespace tandem::config {
namespace {

// The byte offset of a 1-based line and column, npos when outside the text.
size_t offset_of(std::string_view text, int line, int column) {
  size_t pos = 0;
  for (int l = 1; l < line; ++l) {
    pos = text.find('\n', pos);
    if (pos == std::string_view::npos) return pos;
    ++pos;
  }
  return pos + static_cast<size_t>(std::max(0, column - 1));
}

// The rule at `at` in a config loaded from `text`: its threshold, if a rule's
// map starts there.
std::optional<double> threshold_at(const std::string& text, const RuleSpec& rule) {
  const Config c = load_from_string(text, rule.at.file, std::filesystem::path(rule.at.file).parent_path());
  for (const ModelSpec& m : c.models)
    if (const auto* cascade = std::get_if<CascadeSpec>(&m.spec))
      for (const RuleSpec& r : cascade->rules)
        if (r.at.line == rule.at.line && r.at.column == rule.at.column) return r.threshold;
  return std::nullopt;
}

}  // namespace

std::string yaml_number(double x) {
  if (std::isinf(x)) return x > 0 ? ".inf" : "-.inf";
  if (std::isnan(x)) throw Error("config: a threshold cannot be NaN");
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string with_threshold(std::string_view text, const RuleSpec& rule, double threshold) {
  const std::string where = rule.at.str();
  const size_t start = offset_of(text, rule.at.line, rule.at.column);
  if (start == std::string_view::npos || start > text.size())
    throw Error(where + ": the rule's place is outside the file (was it changed since it was loaded?)");
  static const std::regex key(R"((^|[\s{,])threshold[ \t]*:[ \t]*)");
  static const std::regex value(R"(^[^\s,}#]+)");
  const std::string rest(text.substr(start));
  std::smatch k;
  if (!std::regex_search(rest, k, key)) throw Error(where + ": no threshold key after the rule's place");
  const size_t value_start = static_cast<size_t>(k.position(0) + k.length(0));
  const std::string after = rest.substr(value_start);
  std::smatch v;
  if (!std::regex_search(after, v, value)) throw Error(where + ": the threshold key has no value");
  std::string out(text.substr(0, start));
  out += rest.substr(0, value_start) + yaml_number(threshold) + after.substr(static_cast<size_t>(v.length(0)));
  std::optional<double> got;
  try {
    got = threshold_at(out, rule);
  } catch (const Error& e) {
    throw Error(where + ": the edited config does not load: " + e.what());
  }
  if (!got || !(*got == threshold))
    throw Error(where + ": the edited config does not read back threshold " + yaml_number(threshold));
  return out;
}

}  // namespace tandem::config
