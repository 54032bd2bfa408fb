// GBNF grammars (the format of llama.cpp's grammars/*.gbnf), parsed and
// compiled into flat rules a pushdown matcher can walk.
//
// Syntax: `name ::= alternatives`, one rule per line (a rule continues over
// newlines inside parentheses and after `|`); alternatives are separated by
// `|`; a sequence is items separated by spaces; an item is a string literal
// "..." (escapes \n \r \t \\ \" \[ \] \- \xHH \uHHHH \UHHHHHHHH), a character
// class [a-z0-9_] or negated [^"\\], `.` (any code point), a rule name, or a
// parenthesized group, each optionally followed by *, +, ?, {m}, {m,}, {m,n}.
// `#` starts a comment to the end of the line. Rule names are [A-Za-z0-9_-]+.
//
// Compilation rewrites repetitions into generated rules (X* -> R ::= X R | "")
// and groups into generated rules, so every alternative is a flat sequence of
// character sets and rule references. Left recursion (direct, indirect or via
// rules that can match the empty string) is rejected: a pushdown matcher
// expanding it would never terminate.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::grammar {

struct GrammarElement {
  enum class Kind : uint8_t {
    kEnd,   // end of an alternative
    kChar,  // one code point from a set of ranges (negated: outside them)
    kRule,  // a reference to another rule
  };
  Kind kind = Kind::kEnd;
  bool negated = false;
  uint32_t rule = 0;         // kRule: the rule referenced
  uint32_t first_range = 0;  // kChar: ranges[first_range, first_range + n_ranges)
  uint32_t n_ranges = 0;     // sorted, disjoint, merged inclusive ranges
};

struct Grammar {
  std::vector<std::string> rule_names;               // generated rules are named "<parent>_<n>"
  std::vector<std::vector<uint32_t>> alternatives;   // per rule: element index where each alternative starts
  std::vector<GrammarElement> elements;              // every alternative ends with a kEnd element
  std::vector<std::pair<uint32_t, uint32_t>> ranges; // inclusive code point ranges of kChar elements
  uint32_t root = 0;

  // Whether the kChar element at `pos` accepts code point `cp`.
  bool matches(uint32_t pos, uint32_t cp) const;
  // Whether it accepts some code point in [lo, hi].
  bool matches_some(uint32_t pos, uint32_t lo, uint32_t hi) const;
  // The grammar printed back as GBNF (generated rules included).
  std::string to_gbnf() const;
};

// Parses `text`. Throws tandem::Error "grammar: line L, column C: <problem>"
// on a syntax error, an undefined rule, a missing `root` rule, or left
// recursion (the latter two name the rule instead of a position).
Grammar parse_gbnf(std::string_view text, std::string_view root = "root");

// Appends the UTF-8 encoding of `cp`.
void append_utf8(std::string& out, uint32_t cp);

}  // namespace tandem::grammar
