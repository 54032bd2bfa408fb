// GBNF parsing and matching. Acceptance is checked against std::regex on
// regular grammars (every string over a small alphabet up to a length) and
// against hand-written recognizers for non-regular ones.
#include <gtest/gtest.h>

#include <functional>
#include <regex>

#include "grammar/grammar.h"
#include "grammar/grammar_matcher.h"
#include "util/error.h"

namespace tandem::grammar {
namespace {

std::string parse_error(const std::string& gbnf) {
  try {
    parse_gbnf(gbnf);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(GrammarParse, ErrorsNameLineAndColumn) {
  EXPECT_EQ(parse_error("root ::= \"abc"), "grammar: line 1, column 10: unterminated string literal");
  EXPECT_EQ(parse_error("root ::= a\n\na ::= foo"), "grammar: line 3, column 7: undefined rule 'foo'");
  EXPECT_EQ(parse_error("root ::= (\"a\" | \"b\""),
            "grammar: line 1, column 20: expected ')' to close the group opened at column 10, found end of input");
  EXPECT_EQ(parse_error("root ::= \"a\" $"),
            "grammar: line 1, column 14: expected end of line after rule 'root', found '$'");
  EXPECT_EQ(parse_error("# comment\nroot := \"a\""),
            "grammar: line 2, column 6: expected '::=' after rule name 'root', found ':'");
  EXPECT_EQ(parse_error("root ::= [b-a]"), "grammar: line 1, column 13: character range end is smaller than its start");
  EXPECT_EQ(parse_error("root ::= \"a\"{3,1}"), "grammar: line 1, column 13: repetition {m,n} with n < m");
  EXPECT_EQ(parse_error("root ::= \"\\q\""), "grammar: line 1, column 11: unknown escape sequence '\\q'");
  EXPECT_EQ(parse_error("root ::= [abc"), "grammar: line 1, column 10: unterminated character class");
  EXPECT_EQ(parse_error("root ::= \"a\"\nroot ::= \"b\""), "grammar: line 2, column 1: rule 'root' is defined twice");
  EXPECT_EQ(parse_error("start ::= \"a\""), "grammar: no rule named 'root' (the start rule)");
  EXPECT_EQ(parse_error("root ::= \"a\"{99999}"), "grammar: line 1, column 14: repetition count larger than 4096");
}

TEST(GrammarParse, HostileInputsFailCleanly) {
  EXPECT_EQ(parse_error("root ::= " + std::string(600, '(') + "\"a\"" + std::string(600, ')')),
            "grammar: line 1, column 522: groups nested deeper than 512");
  // A chain of 30000 rules, each starting with the next: too deep to expand.
  std::string chain = "root ::= r0\n";
  for (int i = 0; i < 30000; ++i) {
    chain.append("r").append(std::to_string(i)).append(" ::= r").append(std::to_string(i + 1)).append(" \"x\"\n");
  }
  chain.append("r30000 ::= \"y\"\n");
  EXPECT_THROW(GrammarMatcher(std::make_shared<Grammar>(parse_gbnf(chain))), Error);
  // Deeply nested input (5000 levels) is fine: stacks are linked lists, popped one level per byte.
  GrammarMatcher m(std::make_shared<Grammar>(parse_gbnf("root ::= \"(\" root? \")\"")));
  GrammarStateId s = m.initial();
  for (int i = 0; i < 5000; ++i) s = m.advance(s, '(');
  for (int i = 0; i < 5000; ++i) s = m.advance(s, ')');
  EXPECT_TRUE(m.accepting(s));
}

TEST(GrammarParse, LeftRecursionIsRejected) {
  EXPECT_NE(parse_error("root ::= root \"a\" | \"b\"").find("left-recursive"), std::string::npos);
  EXPECT_NE(parse_error("root ::= x\nx ::= y \"a\"\ny ::= \"\" | x").find("left-recursive"), std::string::npos);
  // Through a nullable prefix.
  EXPECT_NE(parse_error("root ::= e root \"a\" | \"b\"\ne ::= \"c\"?").find("left-recursive"), std::string::npos);
  // Right recursion is fine.
  EXPECT_EQ(parse_error("root ::= \"a\" root | \"b\""), "(no error)");
}

// All strings over `alphabet` of length <= max_len.
std::vector<std::string> all_strings(const std::string& alphabet, size_t max_len) {
  std::vector<std::string> out = {""};
  for (size_t b = 0; b < out.size(); ++b)
    if (out[b].size() < max_len)
      for (char c : alphabet) out.push_back(out[b] + c);
  return out;
}

struct RegexCase {
  std::string gbnf, regex, alphabet;
  size_t max_len;
};

TEST(GrammarMatch, RegularGrammarsAgreeWithStdRegexOnAllShortStrings) {
  const std::vector<RegexCase> cases = {
      {"root ::= (\"ab\" | [c-e]+)* \"x\"{2,3}", "(ab|[c-e]+)*x{2,3}", "abcdex", 6},
      {"root ::= [^a-c]? \"a\"+ (\"b\" | \"\") # trailing comment", "[^a-c]?a+(b|)", "abcd", 6},
      {"root ::= x{2,} y{0,2}\nx ::= \"a\" | \"b\"\ny ::= (\"c\")", "[ab]{2,}c{0,2}", "abc", 7},
      {"root ::= ( \"a\"\n  | \"b\" \"c\" )? \"d\"{1}", "(a|bc)?d", "abcd", 5},
      {"root ::= .+ \"z\"", "[\\s\\S]+z", "az\n", 5},  // GBNF "." also matches newlines
      {"root ::= [a\\-c]* [\\x41\\u0042]", "[a\\-c]*[AB]", "a-cbAB", 5},
      {"root ::= \"\\\"\" [^\"\\\\]* \"\\\"\"", "\"[^\"\\\\]*\"", "a\"\\", 6},
  };
  for (const auto& c : cases) {
    GrammarMatcher m(std::make_shared<Grammar>(parse_gbnf(c.gbnf)));
    const std::regex re(c.regex);
    int n_match = 0;
    for (const auto& s : all_strings(c.alphabet, c.max_len)) {
      const bool want = std::regex_match(s, re);
      n_match += want;
      ASSERT_EQ(m.matches(s), want) << "grammar " << c.gbnf << " on \"" << s << "\"";
    }
    EXPECT_GT(n_match, 0) << c.gbnf;  // the comparison covered accepted strings too
  }
}

// Balanced brackets: not regular, checked with a counter.
TEST(GrammarMatch, NestedGrammarAgreesWithCounter) {
  GrammarMatcher m(std::make_shared<Grammar>(parse_gbnf("root ::= item*\nitem ::= \"(\" root \")\" | \"x\"")));
  auto balanced = [](const std::string& s) {
    int depth = 0;
    for (char c : s) {
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      if (depth < 0) return false;
    }
    return depth == 0;
  };
  for (const auto& s : all_strings("()x", 8)) ASSERT_EQ(m.matches(s), balanced(s)) << s;
}

// After "α€" the grammar below accepts any code point but "a".
GrammarStateId any_state(GrammarMatcher& m) { return m.advance(m.initial(), std::string("α€")); }

TEST(GrammarMatch, Utf8CodePointsAndPrefixes) {
  GrammarMatcher m(std::make_shared<Grammar>(parse_gbnf("root ::= [α-ω]+ \"€\" [^a]")));
  EXPECT_TRUE(m.matches("αβ€b"));
  EXPECT_TRUE(m.matches("ω€é"));
  EXPECT_FALSE(m.matches("αβ€a"));
  EXPECT_FALSE(m.matches("A€b"));
  EXPECT_FALSE(m.matches("α\xE2\x82"));  // truncated code point
  // A partial code point is kept alive only if some completion can match:
  // "\xCE" starts α..ω (U+03B1..U+03C9 = CE B1 .. CF 89), "\xD0" cannot.
  EXPECT_NE(m.advance(m.initial(), std::string("\xCE")), kDeadState);
  EXPECT_EQ(m.advance(m.initial(), std::string("\xD0")), kDeadState);
  EXPECT_EQ(m.advance(m.initial(), std::string("\xCE\x41")), kDeadState);  // not a continuation byte
  // A prefix that can only lead to a surrogate (ED A0..ED BF) dies at once.
  EXPECT_NE(m.advance(any_state(m), std::string("\xED\x9F")), kDeadState);
  EXPECT_EQ(m.advance(any_state(m), std::string("\xED\xB3")), kDeadState);
  // Overlong encodings are rejected.
  GrammarMatcher any(std::make_shared<Grammar>(parse_gbnf("root ::= .")));
  EXPECT_TRUE(any.matches("\xC3\xA9"));
  EXPECT_FALSE(any.matches("\xC0\xAF"));
  EXPECT_FALSE(any.matches("\xE0\x80\xAF"));
}

TEST(GrammarMatch, PrintedGrammarReparsesToTheSameLanguage) {
  const std::string src = "root ::= (\"ab\" | [c-e]+)* \"x\"{2,3} [^\\]\\n]?";
  Grammar g = parse_gbnf(src);
  GrammarMatcher a(std::make_shared<Grammar>(g));
  GrammarMatcher b(std::make_shared<Grammar>(parse_gbnf(g.to_gbnf())));
  for (const auto& s : all_strings("abcx]\n", 5)) ASSERT_EQ(a.matches(s), b.matches(s)) << s;
}

TEST(GrammarMatch, AcceptingAndContinuing) {
  GrammarMatcher m(std::make_shared<Grammar>(parse_gbnf("root ::= \"a\" \"b\"?")));
  auto s = m.advance(m.initial(), 'a');
  EXPECT_TRUE(m.accepting(s));
  EXPECT_TRUE(m.can_continue(s));
  s = m.advance(s, 'b');
  EXPECT_TRUE(m.accepting(s));
  EXPECT_FALSE(m.can_continue(s));
  EXPECT_EQ(m.advance(s, 'b'), kDeadState);
}

}  // namespace
}  // namespace tandem::grammar
