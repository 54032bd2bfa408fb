#include "util/answer.h"

#include <cctype>

namespace tandem {

namespace {

bool is_digit(std::string_view s, size_t i) { return i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); }

bool is_alnum(std::string_view s, size_t i) { return i < s.size() && std::isalnum(static_cast<unsigned char>(s[i])); }

// A thousands group at `i`: ',' then exactly three digits.
bool group_at(std::string_view s, size_t i) {
  return i < s.size() && s[i] == ',' && is_digit(s, i + 1) && is_digit(s, i + 2) && is_digit(s, i + 3) &&
         !is_digit(s, i + 4);
}

// Where a number starts at or after `from` (see answer.h), or npos.
size_t find_number(std::string_view s, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    const bool after_word = i > 0 && is_alnum(s, i - 1);
    if (is_digit(s, i)) return i;
    if (s[i] == '.' && is_digit(s, i + 1) && !(i > 0 && is_digit(s, i - 1))) return i;
    if (s[i] == '-' && !after_word && (is_digit(s, i + 1) || (i + 2 < s.size() && s[i + 1] == '.' && is_digit(s, i + 2))))
      return i;
  }
  return std::string_view::npos;
}

// Reads the number starting at `i` (a find_number() position); sets `end` past it.
std::string read_number(std::string_view s, size_t i, size_t& end) {
  const bool negative = s[i] == '-';
  if (negative) ++i;
  std::string whole, fraction;
  while (is_digit(s, i) || group_at(s, i)) {
    if (s[i] != ',') whole += s[i];
    ++i;
  }
  if (i < s.size() && s[i] == '.' && is_digit(s, i + 1)) {
    for (++i; is_digit(s, i); ++i) fraction += s[i];
  }
  end = i;
  const size_t nonzero = whole.find_first_not_of('0');
  whole = nonzero == std::string::npos ? "0" : whole.substr(nonzero);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  std::string out = whole;
  if (!fraction.empty()) out += "." + fraction;
  if (negative && out != "0") out = "-" + out;
  return out;
}

}  // namespace

std::optional<std::string> extract_final_answer(std::string_view text) {
  size_t end = 0;
  const size_t marker = text.find("####");
  if (marker != std::string_view::npos) {
    const size_t at = find_number(text, marker + 4);
    if (at == std::string_view::npos) return std::nullopt;
    return read_number(text, at, end);
  }
  std::optional<std::string> last;
  for (size_t at = find_number(text, 0); at != std::string_view::npos; at = find_number(text, end))
    last = read_number(text, at, end);
  return last;
}

}  // namespace tandem
