// GBNF parser and compiler (see grammar.h for the syntax).
#include <algorithm>
#include <map>

#include "grammar/grammar.h"
#include "util/error.h"

namespace tandem::grammar {

namespace {

constexpr int kMaxRepetition = 4096;  // {m,n} bound: larger would allocate hugely

struct Item {
  GrammarElement::Kind kind = GrammarElement::Kind::kChar;
  bool negated = false;
  uint32_t rule = 0;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
};
using Seq = std::vector<Item>;

struct RuleDef {
  std::string name;
  std::vector<Seq> alts;
  bool defined = false;
  size_t first_ref = 0;  // text offset of the first reference, for errors
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Grammar run(std::string_view root_name);

 private:
  [[noreturn]] void fail_at(size_t pos, const std::string& message) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
        ++col;
      }
    }
    throw Error("grammar: line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + message);
  }
  bool eof() const { return pos_ >= text_.size(); }
  char peek() const { return eof() ? '\0' : text_[pos_]; }
  std::string describe_here() const {
    if (eof()) return "end of input";
    if (peek() == '\n' || peek() == '\r') return "end of line";
    return std::string("'") + peek() + "'";
  }

  void skip_space(bool newline_ok) {
    while (!eof()) {
      const char c = peek();
      if (c == ' ' || c == '\t') {
        ++pos_;
      } else if (c == '#') {
        while (!eof() && peek() != '\n') ++pos_;
      } else if (newline_ok && (c == '\n' || c == '\r')) {
        ++pos_;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (!eof() && is_name_char(peek())) ++pos_;
    if (pos_ == start) fail_at(pos_, "expected a rule name, found " + describe_here());
    return std::string(text_.substr(start, pos_ - start));
  }

  uint32_t rule_id(const std::string& name, size_t ref_pos) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(rules_.size());
    rules_.push_back({name, {}, false, ref_pos});
    ids_.emplace(name, id);
    return id;
  }

  uint32_t generated_rule(const std::string& parent, std::vector<Seq> alts) {
    std::string name;
    do {
      name = parent + "_" + std::to_string(++generated_);
    } while (ids_.count(name));
    const uint32_t id = rule_id(name, pos_);
    rules_[id].alts = std::move(alts);
    rules_[id].defined = true;
    return id;
  }

  // One code point of UTF-8 input, or an escape sequence.
  uint32_t parse_char() {
    if (eof()) fail_at(pos_, "unexpected end of input");
    const size_t start = pos_;
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == '\\') {
      ++pos_;
      if (eof()) fail_at(start, "unfinished escape sequence");
      const char e = text_[pos_++];
      switch (e) {
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case '\\': case '"': case '[': case ']': case '-': case '^': case '\'': return static_cast<uint32_t>(e);
        case 'x': return parse_hex(2, start);
        case 'u': return parse_hex(4, start);
        case 'U': return parse_hex(8, start);
        default: fail_at(start, std::string("unknown escape sequence '\\") + e + "'");
      }
    }
    // UTF-8 decode.
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || pos_ + static_cast<size_t>(len) > text_.size()) fail_at(start, "invalid UTF-8 in grammar text");
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int i = 1; i < len; ++i) {
      const auto d = static_cast<unsigned char>(text_[pos_ + static_cast<size_t>(i)]);
      if ((d & 0xC0) != 0x80) fail_at(start, "invalid UTF-8 in grammar text");
      cp = (cp << 6) | (d & 0x3F);
    }
    pos_ += static_cast<size_t>(len);
    return cp;
  }

  uint32_t parse_hex(int digits, size_t start) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const char h = peek();
      int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
      if (d < 0) fail_at(start, "expected " + std::to_string(digits) + " hex digits in escape sequence");
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    if (v > 0x10FFFF) fail_at(start, "code point out of range in escape sequence");
    return v;
  }

  int parse_int() {
    const size_t start = pos_;
    long v = 0;
    while (!eof() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > kMaxRepetition) fail_at(start, "repetition count larger than " + std::to_string(kMaxRepetition));
      ++pos_;
    }
    if (pos_ == start) fail_at(pos_, "expected a number in repetition, found " + describe_here());
    return static_cast<int>(v);
  }

  // Applies a repetition {min, max} (max < 0: unbounded) to seq[start...].
  void repeat(Seq& seq, size_t start, int min, int max, const std::string& rule_name) {
    Seq x(seq.begin() + static_cast<std::ptrdiff_t>(start), seq.end());
    seq.resize(start);
    Item unit;
    if (x.size() == 1) {
      unit = x[0];
    } else {
      unit.kind = GrammarElement::Kind::kRule;
      unit.rule = generated_rule(rule_name, {x});
    }
    for (int i = 0; i < min; ++i) seq.push_back(unit);
    auto ref = [](uint32_t r) {
      Item it;
      it.kind = GrammarElement::Kind::kRule;
      it.rule = r;
      return it;
    };
    if (max < 0) {
      // R ::= unit R | ""   (right recursion: the matcher's stacks stay flat)
      const uint32_t r = generated_rule(rule_name, {});
      rules_[r].alts = {Seq{unit, ref(r)}, Seq{}};
      seq.push_back(ref(r));
    } else if (max > min) {
      // R_1 ::= unit | "" ; R_k ::= unit R_{k-1} | ""
      uint32_t prev = 0;
      for (int k = 1; k <= max - min; ++k) {
        Seq body{unit};
        if (k > 1) body.push_back(ref(prev));
        prev = generated_rule(rule_name, {body, Seq{}});
      }
      seq.push_back(ref(prev));
    }
  }

  Seq parse_sequence(const std::string& rule_name, bool nested) {
    Seq seq;
    while (!eof()) {
      const size_t start = seq.size();
      const size_t item_pos = pos_;
      const char c = peek();
      if (c == '"') {
        ++pos_;
        while (true) {
          if (eof()) fail_at(item_pos, "unterminated string literal");
          if (peek() == '"') break;
          const uint32_t cp = parse_char();
          Item it;
          it.ranges = {{cp, cp}};
          seq.push_back(std::move(it));
        }
        ++pos_;
        if (seq.size() == start) {  // "" : matches the empty string
          skip_space(nested);
          if (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{')
            fail_at(pos_, "repetition of an empty string literal");
          continue;
        }
      } else if (c == '[') {
        ++pos_;
        Item it;
        if (peek() == '^') {
          it.negated = true;
          ++pos_;
        }
        while (true) {
          if (eof()) fail_at(item_pos, "unterminated character class");
          if (peek() == ']') break;
          const uint32_t lo = parse_char();
          uint32_t hi = lo;
          if (peek() == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] != ']') {
            ++pos_;
            const size_t range_pos = pos_;
            hi = parse_char();
            if (hi < lo) fail_at(range_pos, "character range end is smaller than its start");
          }
          it.ranges.emplace_back(lo, hi);
        }
        ++pos_;
        if (it.ranges.empty() && !it.negated) fail_at(item_pos, "empty character class matches nothing");
        seq.push_back(std::move(it));
      } else if (c == '.') {
        ++pos_;
        Item it;
        it.negated = true;  // outside no range: any code point
        seq.push_back(std::move(it));
      } else if (is_name_char(c)) {
        const std::string name = parse_name();
        Item it;
        it.kind = GrammarElement::Kind::kRule;
        it.rule = rule_id(name, item_pos);
        seq.push_back(std::move(it));
      } else if (c == '(') {
        ++pos_;
        if (++nesting_ > kMaxNesting) fail_at(item_pos, "groups nested deeper than " + std::to_string(kMaxNesting));
        skip_space(true);
        auto alts = parse_alternates(rule_name, true);
        --nesting_;
        if (peek() != ')') fail_at(pos_, "expected ')' to close the group opened at column " +
                                             std::to_string(item_pos + 1 - line_start(item_pos)) + ", found " + describe_here());
        ++pos_;
        Item it;
        it.kind = GrammarElement::Kind::kRule;
        it.rule = generated_rule(rule_name, std::move(alts));
        seq.push_back(std::move(it));
      } else {
        break;
      }
      // Postfix operators apply to the whole item just parsed.
      while (!eof()) {
        const char p = peek();
        if (p == '*') {
          ++pos_;
          repeat(seq, start, 0, -1, rule_name);
        } else if (p == '+') {
          ++pos_;
          repeat(seq, start, 1, -1, rule_name);
        } else if (p == '?') {
          ++pos_;
          repeat(seq, start, 0, 1, rule_name);
        } else if (p == '{') {
          const size_t brace = pos_;
          ++pos_;
          skip_space(false);
          const int min = parse_int();
          skip_space(false);
          int max = min;
          if (peek() == ',') {
            ++pos_;
            skip_space(false);
            max = (peek() == '}') ? -1 : parse_int();
            skip_space(false);
          }
          if (peek() != '}') fail_at(pos_, "expected '}' to close the repetition, found " + describe_here());
          ++pos_;
          if (max >= 0 && max < min) fail_at(brace, "repetition {m,n} with n < m");
          repeat(seq, start, min, max, rule_name);
        } else {
          break;
        }
      }
      skip_space(nested);
    }
    return seq;
  }

  size_t line_start(size_t pos) const {
    size_t s = text_.rfind('\n', pos == 0 ? 0 : pos - 1);
    return s == std::string_view::npos || pos == 0 ? 0 : s + 1;
  }

  std::vector<Seq> parse_alternates(const std::string& rule_name, bool nested) {
    std::vector<Seq> alts;
    alts.push_back(parse_sequence(rule_name, nested));
    while (peek() == '|') {
      ++pos_;
      skip_space(true);
      alts.push_back(parse_sequence(rule_name, nested));
    }
    return alts;
  }

  Grammar compile(std::string_view root_name) const;

  std::string_view text_;
  size_t pos_ = 0;
  std::vector<RuleDef> rules_;
  std::map<std::string, uint32_t, std::less<>> ids_;
  int generated_ = 0;
  int nesting_ = 0;
  static constexpr int kMaxNesting = 512;  // recursion bound: deeper would risk the stack
};

Grammar Parser::run(std::string_view root_name) {
  skip_space(true);
  while (!eof()) {
    const size_t name_pos = pos_;
    const std::string name = parse_name();
    skip_space(false);
    if (text_.substr(pos_, 3) != "::=") fail_at(pos_, "expected '::=' after rule name '" + name + "', found " + describe_here());
    pos_ += 3;
    skip_space(true);
    auto alts = parse_alternates(name, false);
    const uint32_t id = rule_id(name, name_pos);
    if (rules_[id].defined) fail_at(name_pos, "rule '" + name + "' is defined twice");
    rules_[id].alts = std::move(alts);
    rules_[id].defined = true;
    if (!eof()) {
      if (peek() != '\n' && peek() != '\r') fail_at(pos_, "expected end of line after rule '" + name + "', found " + describe_here());
      skip_space(true);
    }
  }
  for (const auto& r : rules_)
    if (!r.defined) fail_at(r.first_ref, "undefined rule '" + r.name + "'");
  return compile(root_name);
}

Grammar Parser::compile(std::string_view root_name) const {
  auto root = ids_.find(root_name);
  if (root == ids_.end()) throw Error("grammar: no rule named '" + std::string(root_name) + "' (the start rule)");

  // Left recursion: rule A reaches rule B at its start if an alternative of A
  // begins with B, possibly after rules that can match "".
  const size_t n = rules_.size();
  std::vector<bool> nullable(n, false);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < n; ++r) {
      if (nullable[r]) continue;
      for (const auto& alt : rules_[r].alts) {
        bool all = true;
        for (const auto& it : alt)
          if (it.kind != GrammarElement::Kind::kRule || !nullable[it.rule]) {
            all = false;
            break;
          }
        if (all) {
          nullable[r] = changed = true;
          break;
        }
      }
    }
  }
  std::vector<std::vector<uint32_t>> starts(n);
  for (size_t r = 0; r < n; ++r)
    for (const auto& alt : rules_[r].alts)
      for (const auto& it : alt) {
        if (it.kind != GrammarElement::Kind::kRule) break;
        starts[r].push_back(it.rule);
        if (!nullable[it.rule]) break;
      }
  // Cycle search, iterative (a recursive DFS could overflow the stack on a
  // long chain of rules).
  std::vector<int> color(n, 0);  // 0 new, 1 on the DFS path, 2 done
  std::vector<std::pair<uint32_t, size_t>> dfs;  // rule, next edge to follow
  for (uint32_t r0 = 0; r0 < n; ++r0) {
    if (color[r0] != 0) continue;
    color[r0] = 1;
    dfs.emplace_back(r0, 0);
    while (!dfs.empty()) {
      auto& [r, next] = dfs.back();
      if (next == starts[r].size()) {
        color[r] = 2;
        dfs.pop_back();
        continue;
      }
      const uint32_t s2 = starts[r][next++];
      if (color[s2] == 1)
        throw Error("grammar: rule '" + rules_[s2].name + "' is left-recursive (it can reach itself without consuming input)");
      if (color[s2] == 0) {
        color[s2] = 1;
        dfs.emplace_back(s2, 0);
      }
    }
  }

  Grammar g;
  g.root = root->second;
  g.rule_names.resize(n);
  g.alternatives.resize(n);
  for (size_t r = 0; r < n; ++r) {
    g.rule_names[r] = rules_[r].name;
    for (const auto& alt : rules_[r].alts) {
      g.alternatives[r].push_back(static_cast<uint32_t>(g.elements.size()));
      for (const auto& it : alt) {
        GrammarElement e;
        e.kind = it.kind;
        e.negated = it.negated;
        e.rule = it.rule;
        if (it.kind == GrammarElement::Kind::kChar) {
          auto rs = it.ranges;
          std::sort(rs.begin(), rs.end());
          std::vector<std::pair<uint32_t, uint32_t>> merged;
          for (const auto& rg : rs) {
            if (!merged.empty() && rg.first <= merged.back().second + 1)
              merged.back().second = std::max(merged.back().second, rg.second);
            else
              merged.push_back(rg);
          }
          e.first_range = static_cast<uint32_t>(g.ranges.size());
          e.n_ranges = static_cast<uint32_t>(merged.size());
          g.ranges.insert(g.ranges.end(), merged.begin(), merged.end());
        }
        g.elements.push_back(e);
      }
      g.elements.push_back(GrammarElement{});  // kEnd
    }
  }
  return g;
}

}  // namespace

Grammar parse_gbnf(std::string_view text, std::string_view root) {
  return Parser(text).run(root);
}

}  // namespace tandem::grammar
