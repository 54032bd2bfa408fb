// Prompts longer than the model's context (eval/truncate.h and the harness):
// left-truncation by the model's tokenizer to context - max_gen_toks tokens
// (checked by re-tokenizing and by the model's own prompt-token count), the
// C / 2 rule where max_gen_toks leaves no room, and an example the model
// cannot take recorded as failed, counted wrong and reported.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "eval/harness.h"
#include "eval/report.h"
#include "eval/results.h"
#include "eval/truncate.h"
#include "local/local_model.h"
#include "test_util.h"

namespace tandem::eval {
namespace {

namespace fs = std::filesystem;
using testing::source_path;

std::shared_ptr<const Transformer> tiny_weights() {
  return local::load_shared(source_path("models/tandem-tiny.gguf"), {.n_threads = 1});
}

std::string long_question(int words) {
  std::string q;
  for (int i = 0; i < words; ++i) q += "Tom has " + std::to_string(i) + " red apples and ";
  return q + "how many apples are left?";
}

TEST(Truncate, KeepsTheLastTokensThatFit) {
  const auto tiny = tiny_weights();
  const PromptTruncator cut = tokenizer_truncator(tiny);
  const std::string prompt = "Question: " + long_question(40) + "\nAnswer:";
  const Truncation t = cut(prompt, 50);
  const int64_t whole = static_cast<int64_t>(tiny->tokenizer().encode(prompt, true, true).size());
  EXPECT_EQ(t.tokens_before, whole);
  ASSERT_GT(whole, 50);
  EXPECT_LE(t.tokens_after, 50);
  EXPECT_GE(t.tokens_after, 45);  // whole tokens dropped one at a time, not far more
  EXPECT_EQ(t.tokens_after, static_cast<int64_t>(tiny->tokenizer().encode(t.text, true, true).size()));
  EXPECT_TRUE(prompt.ends_with(t.text)) << t.text;  // the end of the prompt, "\nAnswer:" included
  EXPECT_TRUE(t.text.ends_with("\nAnswer:"));

  const Truncation fits = cut("Question: 2 + 3?\nAnswer:", 50);
  EXPECT_EQ(fits.text, "Question: 2 + 3?\nAnswer:");
  EXPECT_EQ(fits.tokens_after, fits.tokens_before);
}

TEST(Truncate, FitGenerationFollowsLmEvalAndHalvesADegenerateBudget) {
  int64_t asked = -1;
  const PromptTruncator spy = [&](const std::string& p, int64_t n) {
    asked = n;
    return Truncation{p.substr(p.size() / 2), 300, 200};
  };
  const GenerationFit a = fit_generation("abcdef", 56, 256, spy);
  EXPECT_EQ(asked, 200);  // 256 - 56
  EXPECT_EQ(a.max_tokens, 56);
  EXPECT_TRUE(a.truncated);
  EXPECT_EQ(a.prompt, "def");
  const GenerationFit b = fit_generation("abcdef", 256, 256, spy);
  EXPECT_EQ(asked, 128);  // max_gen_toks >= context: half each
  EXPECT_EQ(b.max_tokens, 128);
  const GenerationFit c = fit_generation("abcdef", 256, 256, {});
  EXPECT_EQ(c.max_tokens, 128);  // no tokenizer: sent whole, the budget still halved
  EXPECT_EQ(c.prompt, "abcdef");
  EXPECT_FALSE(c.truncated);
  asked = -1;
  const GenerationFit d = fit_generation("abcdef", 56, 0, spy);  // context unknown: as is
  EXPECT_EQ(asked, -1);
  EXPECT_EQ(d.max_tokens, 56);
  EXPECT_EQ(d.prompt, "abcdef");
}

class LongPrompt : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem-eval-trunc-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "d.jsonl") << R"({"id": "long", "question": ")" << long_question(60)
                                    << R"(", "answer": "7"})" << "\n"
                                    << R"({"id": "short", "question": "What is 3 + 4?", "answer": "7"})" << "\n";
    std::ofstream(dir_ / "t.yaml") << "task: long\ndataset_path: d.jsonl\noutput_type: generate_until\n"
                                      "doc_to_text: \"Question: {{question}}\\nAnswer:\"\n"
                                      "doc_to_target: \"{{answer}}\"\n"
                                      "generation_kwargs: {until: [\"\\n\\n\"], max_gen_toks: 56}\n";
    task_ = prepare_task(load_task((dir_ / "t.yaml").string()), {});
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  PreparedTask task_;
};

TEST_F(LongPrompt, TruncatedToContextMinusMaxGenToksByTheModelsOwnCount) {
  const local::LocalModel tiny("tiny", tiny_weights());
  RunOptions o;
  o.truncate = tokenizer_truncator(tiny.shared_transformer());
  const Record r = evaluate_example(task_, task_.examples[0], tiny, o);
  EXPECT_TRUE(r.note.starts_with("prompt left-truncated from ")) << r.note;
  const int64_t sent = r.tokens["tiny"]["prompt_tokens"].get<int64_t>();
  EXPECT_LE(sent, 256 - 56);
  EXPECT_GE(sent, 256 - 56 - 4);
  const Record s = evaluate_example(task_, task_.examples[1], tiny, o);
  EXPECT_EQ(s.note, "");  // a prompt that fits is sent whole
  EXPECT_EQ(summarize({r, s}).truncated, 1u);
}

TEST_F(LongPrompt, WithoutTokenizationTheExampleIsRecordedAsFailedAndCountedWrong) {
  const local::LocalModel tiny("tiny", tiny_weights());
  RecordStore store((dir_ / "records.sqlite").string());
  const RunSummary rs = run_task(task_, tiny, store, {});
  EXPECT_EQ(rs.failed, 0u);  // a recorded outcome, not an unstored failure
  EXPECT_EQ(rs.evaluated, 2u);
  const std::vector<Record> rows = store.all("long", "tiny");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].note.starts_with("failed: ")) << rows[0].note;
  EXPECT_NE(rows[0].note.find("context"), std::string::npos) << rows[0].note;
  EXPECT_EQ(rows[0].correct, 0);
  EXPECT_EQ(rows[0].metrics["exact_match"], 0);
  EXPECT_EQ(rows[0].gold, "7");
  EXPECT_EQ(rows[1].note, "");
  const Summary s = summarize(rows);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.n, 2u);
  EXPECT_EQ(s.correct, rows[1].correct.value_or(0));  // the failed one counts as wrong
  const std::string md = report_markdown({s}, {});
  EXPECT_NE(md.find("1 of 2 examples failed (the prompt does not fit the model's context) and are counted wrong"),
            std::string::npos)
      << md;
  EXPECT_EQ(run_task(task_, tiny, store, {}).skipped, 2u);  // resumed, not retried
}

}  // namespace
}  // namespace tandem::eval
