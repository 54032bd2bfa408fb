// JSON Schema -> GBNF: documents valid under the schema are accepted, invalid
// ones rejected (judged by hand-written cases with known validity).
#include <gtest/gtest.h>

#include "grammar/grammar_matcher.h"
#include "grammar/json_schema.h"
#include "util/error.h"

namespace tandem::grammar {
namespace {

bool accepts(const char* schema, const std::string& doc) {
  const std::string gbnf = json_schema_to_gbnf(std::string_view(schema));
  GrammarMatcher m(std::make_shared<Grammar>(parse_gbnf(gbnf)));
  return m.matches(doc);
}

TEST(JsonSchema, ObjectsWithRequiredAndOptionalProperties) {
  const char* s = R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},
                      "required":["b"]})";
  EXPECT_TRUE(accepts(s, R"({"b": "x"})"));
  EXPECT_TRUE(accepts(s, R"({"a": -12, "b": "x\n\u00e9", "c": true})"));
  EXPECT_TRUE(accepts(s, "{\n  \"b\": \"\",\n  \"c\": false\n}"));
  EXPECT_TRUE(accepts(s, R"({"a": 0, "b": "y"})"));
  EXPECT_FALSE(accepts(s, R"({"a": 1})"));               // b missing
  EXPECT_FALSE(accepts(s, R"({"a": 1.5, "b": "x"})"));   // not an integer
  EXPECT_FALSE(accepts(s, R"({"a": 01, "b": "x"})"));    // leading zero
  EXPECT_FALSE(accepts(s, R"({"b": "x", "d": 1})"));     // additional property
  EXPECT_FALSE(accepts(s, R"({"b": "x",})"));            // trailing comma
  EXPECT_FALSE(accepts(s, R"({, "b": "x"})"));
  EXPECT_FALSE(accepts(s, "{\"b\": \"a\tb\"}"));          // raw control character in a string
}

TEST(JsonSchema, AdditionalPropertiesSchema) {
  const char* s = R"({"type":"object","properties":{"a":{"type":"null"}},"additionalProperties":{"type":"number"}})";
  EXPECT_TRUE(accepts(s, R"({"a": null, "x": 1e5, "y": -0.5})"));
  EXPECT_TRUE(accepts(s, R"({"x": 2})"));
  EXPECT_FALSE(accepts(s, R"({"x": "2"})"));
}

TEST(JsonSchema, ArraysEnumsConstAndCounts) {
  const char* s = R"({"type":"array","items":{"enum":["a", 1, null, {"k": [true]}]},"minItems":2,"maxItems":3})";
  EXPECT_TRUE(accepts(s, R"(["a", 1])"));
  EXPECT_TRUE(accepts(s, R"([null, {"k":[true]}, "a"])"));
  EXPECT_FALSE(accepts(s, R"(["a"])"));
  EXPECT_FALSE(accepts(s, R"(["a", 1, 1, 1])"));
  EXPECT_FALSE(accepts(s, R"(["b", 1])"));
  const char* t = R"({"prefixItems":[{"const":"x"},{"type":"integer"}],"items":false,"minItems":1})";
  EXPECT_TRUE(accepts(t, R"(["x"])"));
  EXPECT_TRUE(accepts(t, R"(["x", 5])"));
  EXPECT_FALSE(accepts(t, R"(["x", 5, 6])"));
  EXPECT_FALSE(accepts(t, R"([5])"));
  EXPECT_FALSE(accepts(t, R"([])"));
}

TEST(JsonSchema, StringLengthsAndTypeLists) {
  const char* s = R"({"type":["string","null"],"minLength":2,"maxLength":3})";
  EXPECT_TRUE(accepts(s, R"("ab")"));
  EXPECT_TRUE(accepts(s, R"("a\"b")"));  // an escape is one character
  EXPECT_TRUE(accepts(s, R"("éèê")"));
  EXPECT_TRUE(accepts(s, "null"));
  EXPECT_FALSE(accepts(s, R"("a")"));
  EXPECT_FALSE(accepts(s, R"("abcd")"));
}

TEST(JsonSchema, RecursiveDefinitions) {
  const char* s = R"({"$ref":"#/$defs/node","$defs":{"node":{"type":"object",
      "properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"]}}})";
  EXPECT_TRUE(accepts(s, R"({"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": [{"v": 4, "kids": []}]}]})"));
  EXPECT_FALSE(accepts(s, R"({"v": 1, "kids": [{"w": 2}]})"));
}

TEST(JsonSchema, AnyValueAndUnsupportedKeywords) {
  EXPECT_TRUE(accepts("{}", R"([1, {"a": [null, "x"]}, -2.5E+3, true])"));
  EXPECT_FALSE(accepts("{}", R"([1, {"a": }])"));
  try {
    json_schema_to_gbnf(std::string_view(R"({"type":"object","properties":{"p":{"type":"string","pattern":"a+"}}})"));
    FAIL() << "pattern should be rejected";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "json schema: at root/properties/p: unsupported keyword 'pattern'");
  }
  EXPECT_THROW(json_schema_to_gbnf(std::string_view(R"({"$ref":"#/nowhere"})")), Error);
  EXPECT_THROW(json_schema_to_gbnf(std::string_view("{\"type\": ")), Error);
}

}  // namespace
}  // namespace tandem::grammar
