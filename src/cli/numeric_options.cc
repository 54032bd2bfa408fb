#include "cli/numeric_options.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>

namespace tandem::cli {
namespace {

template <class T>
std::optional<T> parse_whole(std::string_view s) {
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string real_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string int_range_text(int64_t lo, int64_t hi) {
  if (hi == std::numeric_limits<int64_t>::max()) return ">= " + std::to_string(lo);
  return "in " + std::to_string(lo) + ".." + std::to_string(hi);
}

std::string real_range_text(double lo, double hi, bool lo_open) {
  // A double's own limits need no words: what exceeds them is not finite.
  if (hi == kDoubleMax && lo == -kDoubleMax) return "";
  if (hi == kDoubleMax) return (lo_open ? "> " : ">= ") + real_text(lo);
  return "in " + std::string(lo_open ? "(" : "[") + real_text(lo) + ", " + real_text(hi) + "]";
}

std::string got(const std::string& input) { return ", got '" + input + "'"; }

// CLI11 converts the text itself, reading "010" as octal and "+5" as 5: only
// the one decimal spelling of a number is accepted, so what the range check
// sees is what the option gets.
std::string check_int(const std::string& input, int64_t lo, int64_t hi, const std::string& range) {
  const auto v = parse_whole<int64_t>(input);
  if (v && std::to_string(*v) != input) return "must be written in plain decimal (no leading zeros or '+')" + got(input);
  if (!v || *v < lo || *v > hi) return "must be an integer " + range + got(input);
  return {};
}

}  // namespace

CLI::Validator int_range(int64_t lo, int64_t hi) {
  const std::string range = int_range_text(lo, hi);
  return CLI::Validator([lo, hi, range](std::string& input) { return check_int(input, lo, hi, range); }, range);
}

CLI::Validator int_range_or(int64_t special, int64_t lo, int64_t hi) {
  const std::string range = std::to_string(special) + " or " + int_range_text(lo, hi);
  return CLI::Validator(
      [special, lo, hi, range](std::string& input) {
        return input == std::to_string(special) ? std::string() : check_int(input, lo, hi, range);
      },
      range);
}

CLI::Validator uint64_any() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        const auto v = parse_whole<uint64_t>(input);
        if (v && std::to_string(*v) != input) return "must be written in plain decimal (no leading zeros or '+')" + got(input);
        if (!v) return "must be an integer in 0..18446744073709551615" + got(input);
        return {};
      },
      "in 0..2^64-1");
}

CLI::Validator real_range(double lo, double hi, bool lo_open) {
  const std::string range = real_range_text(lo, hi, lo_open);
  return CLI::Validator(
      [lo, hi, lo_open, range](std::string& input) -> std::string {
        const auto v = parse_whole<double>(input);
        const bool ok = v && std::isfinite(*v) && (lo_open ? *v > lo : *v >= lo) && *v <= hi;
        if (!ok) return "must be a finite number" + (range.empty() ? "" : " " + range) + got(input);
        return {};
      },
      range.empty() || lo == -hi ? "finite" : range);
}

CLI::Validator int_list(int64_t lo, int64_t hi) {
  const std::string range = int_range_text(lo, hi);
  return CLI::Validator(
      [lo, hi, range](std::string& input) -> std::string {
        size_t start = 0;
        for (;;) {
          const size_t comma = input.find(',', start);
          const std::string item = input.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          if (!check_int(item, lo, hi, range).empty()) {
            return "must be a comma-separated list of integers " + range + got(input);
          }
          if (comma == std::string::npos) return {};
          start = comma + 1;
        }
      },
      "list " + range);
}

void require_not_above(int64_t lo, int64_t hi, const std::string& lo_name, const std::string& hi_name) {
  if (lo > hi) {
    throw CLI::ValidationError(lo_name + " (" + std::to_string(lo) + ") must not exceed " + hi_name + " (" +
                               std::to_string(hi) + ")");
  }
}

}  // namespace tandem::cli
