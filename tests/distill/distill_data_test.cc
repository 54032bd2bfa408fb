// distill-data's library side: where a synthetic completion is cut, and the
// option errors it raises before loading the teacher.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "distill/distill_data.h"
#include "util/error.h"

namespace tandem::distill {
namespace {

TEST(CutAfterFinalAnswer, KeepsTextUpToTheEndOfTheFirstAnswerLine) {
  EXPECT_EQ(cut_after_final_answer("3 + 4 = 7.\n#### 7\nQuestion: next"), "3 + 4 = 7.\n#### 7");
  // Only the first "#### " line counts.
  EXPECT_EQ(cut_after_final_answer("#### 1\n#### 2\n"), "#### 1");
  // The answer line is the last one: nothing to cut.
  EXPECT_EQ(cut_after_final_answer("so 12.\n#### 12"), "so 12.\n#### 12");
  // No "#### " (the space is part of the marker): unchanged.
  EXPECT_EQ(cut_after_final_answer("no answer here\nmore"), "no answer here\nmore");
  EXPECT_EQ(cut_after_final_answer("####5\nrest"), "####5\nrest");
  EXPECT_EQ(cut_after_final_answer(""), "");
  // A marker mid-line keeps the rest of its line.
  EXPECT_EQ(cut_after_final_answer("answer #### 9 done\nextra"), "answer #### 9 done");
}

TEST(WriteDistillData, NeedsExactlyOnePromptSourceBeforeLoadingTheTeacher) {
  const auto out = std::filesystem::temp_directory_path() / ("tandem_distill_" + std::to_string(::getpid()) + ".jsonl");
  DistillDataOptions o;
  o.teacher = "/nonexistent/teacher.gguf";  // never opened: the options are checked first
  o.out = out.string();
  const std::string message = "distill-data: give either --prompts FILE or --synth-math N";
  try {
    write_distill_data(o);
    FAIL() << "no error without prompts";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
  o.prompts = "prompts.jsonl";
  o.synth = 3;
  try {
    write_distill_data(o);
    FAIL() << "no error with both prompt sources";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
  EXPECT_FALSE(std::filesystem::exists(out));
  // One source: now the teacher is what fails.
  o.prompts.clear();
  try {
    write_distill_data(o);
    FAIL() << "no error for a missing teacher";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/teacher.gguf"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace tandem::distill
