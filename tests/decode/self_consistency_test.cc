// Self-consistency (Wang et al. 2023): the chosen candidate must carry the
// majority of the candidates' final answers. The answers and the vote are
// recomputed here by hand from the candidate texts (tandem-tiny writes
// "#### N" lines after arithmetic prompts), and a synthetic set of
// candidates with a known majority checks the vote and its tie rule.
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "decode/rerank.h"
#include "decode/strategy.h"
#include "test_util.h"

namespace tandem::decode {
namespace {

using testing::source_path;

// The number starting at text[i] ('-' and digits, ',' between digits dropped).
std::string number_at(const std::string& text, size_t& i) {
  std::string num;
  if (text[i] == '-') num += text[i++];
  for (; i < text.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(text[i]));
    const bool group = text[i] == ',' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]));
    if (digit) num += text[i];
    else if (!group) break;
  }
  return num;
}

bool starts_number(const std::string& text, size_t i) {
  if (std::isdigit(static_cast<unsigned char>(text[i]))) return true;
  return text[i] == '-' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]));
}

// The final answer as util/answer.h defines it: the first number after the
// first "####", else the last number of the text; none if there is no number there.
// (Integers only: the candidates here contain no decimal fractions.)
std::optional<std::string> hand_answer(const std::string& text) {
  const size_t hashes = text.find("####");
  std::optional<std::string> last;
  for (size_t i = hashes == std::string::npos ? 0 : hashes + 4; i < text.size();) {
    if (!starts_number(text, i)) {
      ++i;
      continue;
    }
    last = number_at(text, i);
    if (hashes != std::string::npos) break;
  }
  return last;
}

TEST(SelfConsistency, ChoosesTheMajorityOfTheCandidatesAnswers) {
  auto model = Transformer::load(source_path("models/tandem-tiny.gguf"), {.n_threads = 1});
  StrategyOptions o;
  o.strategy = "self-consistency";
  o.sampling.temperature = 1.0f;
  o.sampling.seed = 3;
  o.text.n_predict = 56;
  o.n_samples = 9;
  const std::string prompt =
      "Question: Lily has 6 apples. Then Lily finds 7 more apples. Then Lily gives 4 apples to Tom. "
      "How many apples does Lily have now?\nAnswer:";
  const auto r = run_strategy(*model, prompt, o);
  ASSERT_EQ(r.candidates.size(), 9u);

  // The vote, by hand: count each answer, keep the first-seen one on ties.
  std::map<std::string, int> count;
  std::vector<std::string> order;
  for (const auto& c : r.candidates) {
    const auto a = hand_answer(c.text);
    if (!a) continue;
    if (count[*a]++ == 0) order.push_back(*a);
  }
  ASSERT_FALSE(order.empty());
  std::string majority = order[0];
  for (const auto& a : order)
    if (count[a] > count[majority]) majority = a;
  // The check has teeth: the candidates disagree, and the winner is not
  // simply the first candidate's answer.
  EXPECT_GE(order.size(), 2u);
  EXPECT_NE(hand_answer(r.candidates[0].text), majority);

  EXPECT_EQ(r.answer, majority);
  EXPECT_EQ(r.votes, count[majority]);
  ASSERT_LT(r.chosen, r.candidates.size());
  EXPECT_EQ(hand_answer(r.candidates[r.chosen].text), majority);
  for (size_t i = 0; i < r.chosen; ++i) EXPECT_NE(hand_answer(r.candidates[i].text), majority) << i;
  EXPECT_EQ(r.output.text, r.candidates[r.chosen].text);
  EXPECT_EQ(r.output.tokens, r.candidates[r.chosen].tokens);
}

Generation with_text(std::string text) {
  Generation g;
  g.text = std::move(text);
  return g;
}

TEST(SelfConsistency, SyntheticCandidatesWithAKnownMajority) {
  // Answers 8, 15, 15 (last number, no "####"), none, 8, 15 ("####" wins over
  // the later 8), 1500 (commas dropped): 15 has three votes, first at index 1.
  const std::vector<Generation> c = {
      with_text(" 5 + 3 = 8.\n#### 8"), with_text(" 5 * 3 = 15.\n#### 15"), with_text(" so it is 15"),
      with_text(" no idea"),            with_text(" #### 8"),                with_text(" #### 15, not 8"),
      with_text(" #### 1,500")};
  for (size_t i = 0; i < c.size(); ++i) {
    static const char* const want[] = {"8", "15", "15", nullptr, "8", "15", "1500"};
    EXPECT_EQ(hand_answer(c[i].text), want[i] ? std::optional<std::string>(want[i]) : std::nullopt) << i;
  }
  auto v = majority_answer(c);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->answer, "15");
  EXPECT_EQ(v->votes, 3);
  EXPECT_EQ(v->representative, 1u);

  // A tie goes to the answer seen first; no answer at all gives no vote.
  const std::vector<Generation> tie = {with_text("#### 3"), with_text("#### 2"), with_text("#### 2"),
                                       with_text("#### 3")};
  v = majority_answer(tie);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->answer, "3");
  EXPECT_EQ(v->votes, 2);
  EXPECT_EQ(v->representative, 0u);
  EXPECT_FALSE(majority_answer(std::vector<Generation>{with_text("none"), with_text("#### x")}));
}

}  // namespace
}  // namespace tandem::decode
