#include "config/yaml_fields.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "util/error.h"

namespace tandem::config {

std::string Location::str() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace tandem::config

namespace tandem::config::detail {

void fail(const Location& at, const std::string& message) {
  // One line, whatever the file held: control characters of names and values
  // quoted in the message are escaped.
  std::string line = at.str() + ": ";
  for (const char c : message) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      line += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      line += buf;
    }
  }
  throw Error(line);
}

Location location(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  std::string text = node.Scalar();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return "'" + text + "'";
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::string format_number(double x) {
  if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

// "an integer >= 1", "a number in [0, 1]", "a finite number", ...: a bound
// at the type's extreme (an infinity, DBL_MAX, INT32_MIN/MAX) is no bound.
std::string range_text(const char* kind, double min, double max, double lowest, double highest) {
  const bool has_min = min > lowest && min != -std::numeric_limits<double>::max();
  const bool has_max = max < highest && max != std::numeric_limits<double>::max();
  std::string s = kind;
  if (has_min && has_max) return s + " in [" + format_number(min) + ", " + format_number(max) + "]";
  if (has_min) return s + " >= " + format_number(min);
  if (has_max) return s + " <= " + format_number(max);
  if (std::isfinite(min) && std::isfinite(max) && std::string_view(kind) == "a number") return "a finite number";
  return s;
}

}  // namespace

std::optional<int64_t> parse_integer(std::string_view text) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty() || text[0] == '+') return std::nullopt;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  const std::string t = lower(text);
  std::string_view s = t;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == ".inf" || s == "inf" || s == "infinity")
    return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == "nan") return std::numeric_limits<double>::quiet_NaN();
  // Digits, one point, an exponent: nothing else (no hex, no "inf" spelled
  // inside, no spaces).
  if (s.empty() || s[0] == '+' || s[0] == '-' || s.find_first_not_of("0123456789.e+-") != std::string_view::npos)
    return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -value : value;
}

std::optional<bool> parse_bool(std::string_view text) {
  const std::string t = lower(text);
  if (t == "true") return true;
  if (t == "false") return false;
  return std::nullopt;
}

std::pair<std::string, size_t> closest(std::string_view name, const std::vector<std::string>& names) {
  std::pair<std::string, size_t> best{"", std::numeric_limits<size_t>::max()};
  for (const std::string& candidate : names) {
    // Levenshtein distance, one row at a time.
    std::vector<size_t> row(candidate.size() + 1);
    for (size_t j = 0; j < row.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= name.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= candidate.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (name[i - 1] == candidate[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    if (row.back() < best.second) best = {candidate, row.back()};
  }
  return best;
}

std::string join_or(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += i + 1 == items.size() ? " or " : ", ";
    s += items[i];
  }
  return s;
}

Fields::Fields(const std::string& file, const YAML::Node& map, std::string what, std::vector<std::string> allowed,
               const std::vector<std::string>& hidden)
    : file_(file), map_(map), what_(std::move(what)) {
  if (!map.IsMap()) fail(location(file, map.Mark()), what_ + " must be a map, got " + describe(map));
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    const Location at = location(file, key.Mark());
    if (!key.IsScalar()) fail(at, "a key of " + what_ + " must be a name, got " + describe(key));
    const std::string& k = key.Scalar();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), k) == allowed.end() &&
        std::find(hidden.begin(), hidden.end(), k) == hidden.end()) {
      std::string allowed_list;
      for (const std::string& a : allowed) allowed_list += (allowed_list.empty() ? "" : ", ") + a;
      fail(at, "unknown key '" + k + "' in " + what_ + " (allowed: " + allowed_list + ")");
    }
    for (const auto& [seen, value] : entries_) {
      if (seen.Scalar() == k)
        fail(at, "duplicate key '" + k + "' in " + what_ + " (first at line " +
                     std::to_string(location(file, seen.Mark()).line) + ")");
    }
    entries_.emplace_back(key, it->second);
  }
}

std::string Fields::name_of(std::string_view key) const {
  // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on
  // "'" + std::string(key) + ...
  std::string s = "'";
  s += key;
  s += "' of ";
  s += what_;
  return s;
}

const YAML::Node* Fields::find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k.Scalar() == key) return &v;
  }
  return nullptr;
}

Location Fields::key_at(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k.Scalar() == key) return location(file_, k.Mark());
  }
  return at();
}

Location Fields::value_at(std::string_view key) const {
  const YAML::Node* v = find(key);
  if (v == nullptr) return at();
  const Location l = location(file_, v->Mark());
  return l.line > 0 ? l : key_at(key);  // an empty value has no mark of its own
}

std::optional<std::string> Fields::string(std::string_view key) const {
  const YAML::Node* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->IsScalar() || v->Scalar().empty())
    fail(value_at(key), name_of(key) + " must be a non-empty string, got " + describe(*v));
  return v->Scalar();
}

std::optional<int64_t> Fields::integer(std::string_view key, int64_t min, int64_t max) const {
  const YAML::Node* v = find(key);
  if (v == nullptr) return std::nullopt;
  const std::optional<int64_t> x = v->IsScalar() ? parse_integer(v->Scalar()) : std::nullopt;
  if (!x || *x < min || *x > max) {
    const double lo = static_cast<double>(std::numeric_limits<int32_t>::min());
    const double hi = static_cast<double>(std::numeric_limits<int32_t>::max());
    fail(value_at(key), name_of(key) + " must be " +
                            range_text("an integer", static_cast<double>(min), static_cast<double>(max), lo, hi) +
                            ", got " + describe(*v));
  }
  return x;
}

std::optional<double> Fields::number(std::string_view key, double min, double max) const {
  const YAML::Node* v = find(key);
  if (v == nullptr) return std::nullopt;
  const std::optional<double> x = v->IsScalar() ? parse_number(v->Scalar()) : std::nullopt;
  if (!x || std::isnan(*x) || *x < min || *x > max) {
    const double inf = std::numeric_limits<double>::infinity();
    fail(value_at(key), name_of(key) + " must be " +
                            range_text("a number", min, max, -inf, inf) + ", got " + describe(*v));
  }
  return x;
}

std::optional<bool> Fields::boolean(std::string_view key) const {
  const YAML::Node* v = find(key);
  if (v == nullptr) return std::nullopt;
  const std::optional<bool> x = v->IsScalar() ? parse_bool(v->Scalar()) : std::nullopt;
  if (!x) fail(value_at(key), name_of(key) + " must be true or false, got " + describe(*v));
  return x;
}

std::optional<Reference> Fields::reference(std::string_view key) const {
  const YAML::Node* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->IsScalar() || v->Scalar().empty())
    fail(value_at(key), name_of(key) + " must be a model name, got " + describe(*v));
  return Reference{v->Scalar(), value_at(key)};
}

void Fields::require(std::string_view key, const Location& at) const {
  if (!has(key)) fail(at, what_ + " needs '" + std::string(key) + "'");
}

void Fields::forbid(std::string_view key, const std::string& why) const {
  if (has(key)) fail(key_at(key), name_of(key) + ": " + why);
}

}  // namespace tandem::config::detail
