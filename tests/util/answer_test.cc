// The one final-answer extractor (util/answer.h) on tricky texts; every
// expected value is written by hand from the rule in the header.
#include "util/answer.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace tandem {
namespace {

using Want = std::optional<std::string>;

TEST(FinalAnswer, TheNumberAfterTheMarker) {
  EXPECT_EQ(extract_final_answer("so 3 + 4 = 7\n#### 7"), Want("7"));
  EXPECT_EQ(extract_final_answer("####7"), Want("7"));
  EXPECT_EQ(extract_final_answer("####-5"), Want("-5"));
  EXPECT_EQ(extract_final_answer("#### -5 degrees"), Want("-5"));
  EXPECT_EQ(extract_final_answer("#### The answer is 15"), Want("15"));  // the first number after it
  // Numbers of the working before the marker do not count.
  EXPECT_EQ(extract_final_answer("I had 10, ate 2.\n#### 8 apples, or 30"), Want("8"));
}

TEST(FinalAnswer, TheFirstMarkerWinsOverLaterOnes) {
  // A model that runs on past its answer starts another problem: its "####" is
  // not this problem's answer.
  EXPECT_EQ(extract_final_answer(" 5 + 3 = 8.\n#### 8\nQuestion: Tom has 2 cats.\nAnswer: 2 * 3 = 6.\n#### 6"),
            Want("8"));
  EXPECT_EQ(extract_final_answer("#### 15, not 8"), Want("15"));
  // A marker with no number after it is no answer, even with numbers before it.
  EXPECT_EQ(extract_final_answer("5 apples #### none"), std::nullopt);
  EXPECT_EQ(extract_final_answer("#### none"), std::nullopt);
  EXPECT_EQ(extract_final_answer("12 + 3 = 15\n####"), std::nullopt);
  // ... but a later marker's number is still "a number after the first marker".
  EXPECT_EQ(extract_final_answer("#### ?\n#### 4"), Want("4"));
}

TEST(FinalAnswer, WithoutAMarkerTheLastNumber) {
  EXPECT_EQ(extract_final_answer("first 12 then -3.0"), Want("-3"));
  EXPECT_EQ(extract_final_answer("the answer is 7"), Want("7"));
  EXPECT_EQ(extract_final_answer("The total is $2,500.00."), Want("2500"));
  EXPECT_EQ(extract_final_answer("no digits"), std::nullopt);
  EXPECT_EQ(extract_final_answer(""), std::nullopt);
  EXPECT_EQ(extract_final_answer("- . , -"), std::nullopt);
}

TEST(FinalAnswer, CommasAreThousandsGroupsOnly) {
  EXPECT_EQ(extract_final_answer("#### $1,000."), Want("1000"));
  EXPECT_EQ(extract_final_answer("#### 1,234,567 people"), Want("1234567"));
  EXPECT_EQ(extract_final_answer("#### 1,234.50 dollars, not 5"), Want("1234.5"));
  // Not a group of three: the comma separates numbers.
  EXPECT_EQ(extract_final_answer("the values 1,2,3"), Want("3"));
  EXPECT_EQ(extract_final_answer("#### 12,34"), Want("12"));
  EXPECT_EQ(extract_final_answer("#### 1,2345"), Want("1"));
  EXPECT_EQ(extract_final_answer("#### 5, 6"), Want("5"));
}

TEST(FinalAnswer, EqualValuesGiveEqualStrings) {
  EXPECT_EQ(extract_final_answer("#### 3.50"), Want("3.5"));
  EXPECT_EQ(extract_final_answer("#### 3.5"), Want("3.5"));
  EXPECT_EQ(extract_final_answer("#### 3.0"), Want("3"));
  EXPECT_EQ(extract_final_answer("#### 3."), Want("3"));  // a full stop
  EXPECT_EQ(extract_final_answer("#### 007"), Want("7"));
  EXPECT_EQ(extract_final_answer("#### 0.0"), Want("0"));
  EXPECT_EQ(extract_final_answer("#### -0.00"), Want("0"));
  EXPECT_EQ(extract_final_answer("#### 0.25"), Want("0.25"));
  EXPECT_EQ(extract_final_answer("#### .5"), Want("0.5"));
  EXPECT_EQ(extract_final_answer("#### -.5"), Want("-0.5"));
  EXPECT_EQ(extract_final_answer("#### 10.05"), Want("10.05"));
}

TEST(FinalAnswer, AMinusIsASignOnlyAfterANonWord) {
  EXPECT_EQ(extract_final_answer("pages 3-5"), Want("5"));
  EXPECT_EQ(extract_final_answer("x = -5"), Want("-5"));
  EXPECT_EQ(extract_final_answer("10-4=6"), Want("6"));
  EXPECT_EQ(extract_final_answer("it fell to -12"), Want("-12"));
  EXPECT_EQ(extract_final_answer("#### a-5"), Want("5"));
}

}  // namespace
}  // namespace tandem
