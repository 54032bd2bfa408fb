#include "grammar/grammar.h"

#include <cstdio>

namespace tandem::grammar {

bool Grammar::matches(uint32_t pos, uint32_t cp) const {
  const GrammarElement& e = elements[pos];
  bool in = false;
  for (uint32_t i = 0; i < e.n_ranges; ++i) {
    const auto& r = ranges[e.first_range + i];
    if (cp < r.first) break;  // sorted
    if (cp <= r.second) {
      in = true;
      break;
    }
  }
  return in != e.negated;
}

bool Grammar::matches_some(uint32_t pos, uint32_t lo, uint32_t hi) const {
  const GrammarElement& e = elements[pos];
  for (uint32_t i = 0; i < e.n_ranges; ++i) {
    const auto& r = ranges[e.first_range + i];
    if (e.negated) {
      // Ranges are merged: [lo, hi] is fully excluded only if one range covers it.
      if (r.first <= lo && hi <= r.second) return false;
    } else if (r.first <= hi && lo <= r.second) {
      return true;
    }
  }
  return e.negated;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {
void append_class_char(std::string& out, uint32_t cp) {
  if (cp == ']' || cp == '\\' || cp == '-' || cp == '^' || cp == '"' || cp == '[') {
    out += '\\';
    out += static_cast<char>(cp);
  } else if (cp < 0x20 || cp == 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", cp);
    out += buf;
  } else {
    append_utf8(out, cp);
  }
}
}  // namespace

std::string Grammar::to_gbnf() const {
  std::string out;
  for (size_t r = 0; r < rule_names.size(); ++r) {
    out += rule_names[r] + " ::=";
    for (size_t a = 0; a < alternatives[r].size(); ++a) {
      if (a > 0) out += " |";
      for (uint32_t p = alternatives[r][a]; elements[p].kind != GrammarElement::Kind::kEnd; ++p) {
        const auto& e = elements[p];
        out += ' ';
        if (e.kind == GrammarElement::Kind::kRule) {
          out += rule_names[e.rule];
          continue;
        }
        out += e.negated ? "[^" : "[";
        for (uint32_t i = 0; i < e.n_ranges; ++i) {
          const auto& rg = ranges[e.first_range + i];
          append_class_char(out, rg.first);
          if (rg.second != rg.first) {
            out += '-';
            append_class_char(out, rg.second);
          }
        }
        out += ']';
      }
      if (elements[alternatives[r][a]].kind == GrammarElement::Kind::kEnd) out += " \"\"";
    }
    out += '\n';
  }
  return out;
}

}  // namespace tandem::grammar
