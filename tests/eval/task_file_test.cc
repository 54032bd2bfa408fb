// Eval task files (src/eval/task.h) and scoring (src/eval/scoring.h): strict
// parsing with file:line:column errors, answers extracted through the filter
// path on tricky strings, numbers compared as numbers, acc_norm on a
// hand-computed example, and the tiny subset against ids picked by hand (a
// Python SplitMix64-of-FNV-1a-64 computation, pinned below).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "eval/scoring.h"
#include "eval/subset.h"
#include "eval/task.h"
#include "util/error.h"

namespace tandem::eval {
namespace {

const std::string kBase =
    "task: t\n"
    "dataset_path: data.jsonl\n"
    "output_type: generate_until\n"
    "doc_to_text: \"Q: {{question}}\"\n"
    "doc_to_target: \"{{answer}}\"\n";

std::string error_of(const std::string& yaml) {
  try {
    parse_task(yaml, "dir/t.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TaskFile, SamplingKwargsFollowLmEvalAndAreNeverIgnored) {
  const TaskSpec greedy = parse_task(kBase + "generation_kwargs: {until: [\"\\n\"], max_gen_toks: 9}\n", "dir/t.yaml");
  EXPECT_FALSE(greedy.do_sample);
  const TaskSpec t = parse_task(
      kBase + "generation_kwargs: {do_sample: true, temperature: 0.7, top_p: 0.9, top_k: 20}\n", "dir/t.yaml");
  EXPECT_TRUE(t.do_sample);
  EXPECT_FLOAT_EQ(t.temperature, 0.7f);
  EXPECT_FLOAT_EQ(t.top_p, 0.9f);
  EXPECT_EQ(t.top_k, 20);
  // Without do_sample, greedy decoding would ignore them: an error, not a silent drop.
  EXPECT_NE(error_of(kBase + "generation_kwargs: {temperature: 0.7}\n").find("'temperature' needs do_sample: true"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "generation_kwargs: {do_sample: yes please}\n").find("'do_sample' must be true or false"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "generation_kwargs: {do_sample: true, temperature: -1}\n").find("'temperature' must be a number"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "generation_kwargs: {do_sample: true, top_p: 0}\n").find("'top_p' must be"), std::string::npos);
}

TEST(TaskFile, ErrorsNameFileLineAndColumn) {
  EXPECT_EQ(error_of(kBase + "num_fewshots: 2\n").substr(0, 17), "dir/t.yaml:6:1: u");
  EXPECT_NE(error_of(kBase + "num_fewshots: 2\n").find("unknown key 'num_fewshots'"), std::string::npos);
  EXPECT_NE(error_of(kBase + "num_fewshot: two\n").find("dir/t.yaml:6:14: 'num_fewshot' must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "generation_kwargs: {until: [\"x\"], max_gen_toks: [1]}\n").find("dir/t.yaml:6:"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "filter: \"([0-9]\"\n").find("dir/t.yaml:6:9: 'filter' is not a valid regex"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "filter: \"[0-9]+\"\n").find("dir/t.yaml:6:9: 'filter' needs a group"), std::string::npos);
  EXPECT_NE(error_of(kBase + "metric: acc\n").find("dir/t.yaml:6:9: metric 'acc' does not fit output_type generate_until"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "doc_to_choice: \"{{c}}\"\n").find("dir/t.yaml:6:16: 'doc_to_choice' is for multiple_choice"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "num_fewshot: 2\n").find("dir/t.yaml:6:14: 'num_fewshot' > 0 needs 'fewshot_split'"),
            std::string::npos);
  EXPECT_NE(error_of("task: t\noutput_type: generate_until\n").find("dir/t.yaml:1:1: the task file needs 'dataset_path'"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "description: {a: 1}\n").find("dir/t.yaml:6:14: 'description' must be a string"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "task: u\n").find("dir/t.yaml:6:1: duplicate key 'task'"), std::string::npos);
  EXPECT_NE(error_of("task: [\n").find("dir/t.yaml:"), std::string::npos);
  EXPECT_NE(error_of(kBase + "metadata: {version: x}\n").find("dir/t.yaml:6:21: 'version' must be a number"),
            std::string::npos);
  std::string bad_template = kBase;
  bad_template.replace(bad_template.find("{{question}}"), 12, "{{ question");
  EXPECT_NE(error_of(bad_template).find("dir/t.yaml:4:14: 'doc_to_text' is not a valid template"), std::string::npos);
}

TEST(TaskFile, UnsetVariableInAPathIsAnError) {
  std::string yaml = kBase;
  yaml.replace(yaml.find("data.jsonl"), 10, "${TANDEM_TEST_SURELY_UNSET}/x.jsonl");
  EXPECT_NE(error_of(yaml).find("dir/t.yaml:2:15: 'dataset_path' uses ${TANDEM_TEST_SURELY_UNSET}"), std::string::npos);
  const TaskSpec t = parse_task(yaml, "dir/t.yaml", {{{"TANDEM_TEST_SURELY_UNSET", "/data"}}});
  EXPECT_EQ(t.dataset.resolved, "/data/x.jsonl");
}

TEST(TaskFile, MissingDatasetNamesTheFileAndWhereTheTaskNamesIt) {
  const TaskSpec t = parse_task(kBase, "/nonexistent-dir/t.yaml");
  try {
    load_examples(t);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("dataset file /nonexistent-dir/data.jsonl not found"), std::string::npos) << m;
    EXPECT_NE(m.find("/nonexistent-dir/t.yaml:2:15"), std::string::npos) << m;
  }
}

// The filter path: a task's regex, and without one util/answer.h's rule.
TEST(Scoring, AnswersAreExtractedThroughTheTaskFilter) {
  const TaskSpec plain = parse_task(kBase, "t.yaml");
  EXPECT_EQ(extract_answer(plain, "So 3 + 4 = 7.\n#### $1,000.\nQuestion: 12"), "1000");
  EXPECT_EQ(extract_answer(plain, "He had 5, then 3-5 left: 12.50 apples"), "12.5");
  EXPECT_EQ(extract_answer(plain, "So 5 apples.\n#### none"), std::nullopt);  // no guess from the working
  EXPECT_EQ(extract_answer(plain, "no digits here"), std::nullopt);
  const TaskSpec re = parse_task(kBase + "filter: \"The answer is (-?[0-9,.]+)\"\n", "t.yaml");
  EXPECT_EQ(extract_answer(re, "I think 3. The answer is 1,234. Then 9."), "1,234.");
  EXPECT_EQ(extract_answer(re, "#### 5"), std::nullopt);
  ASSERT_TRUE(extract_answer(re, "The answer is -0.50"));
  EXPECT_TRUE(answers_equal(*extract_answer(re, "The answer is 1,234."), "1234"));
  EXPECT_TRUE(answers_equal(*extract_answer(re, "The answer is -0.50"), "-.5"));
  EXPECT_FALSE(answers_equal("12", "1.2"));
  EXPECT_TRUE(answers_equal(" $18 ", "18.0"));
  EXPECT_TRUE(answers_equal("Paris", " Paris"));
  EXPECT_FALSE(answers_equal("paris", "Paris"));
}

TEST(Scoring, GoldOfAWorkedSolutionIsItsFinalAnswer) {
  Example e;
  e.target = "5 + 3 = 8.\n#### 8";
  EXPECT_EQ(gold_answer(e), "8");
  e.target = "  42 ";
  EXPECT_EQ(gold_answer(e), "42");
}

// acc picks the largest log-likelihood; acc_norm divides by the choice's bytes:
// "cat" -3.0 (-1.0/byte), "elephant" -4.0 (-0.5/byte), "ox" -2.5 (-1.25/byte).
TEST(Scoring, AccNormDividesByTheChoiceLengthInBytes) {
  const ChoicePick p = pick_choice({-3.0, -4.0, -2.5}, {"cat", "elephant", "ox"});
  EXPECT_EQ(p.acc, 2);
  EXPECT_EQ(p.acc_norm, 1);
  // Bytes, not characters: "é" is two bytes. -2.0 over 2 bytes beats -1.1 over 1.
  const ChoicePick q = pick_choice({-1.1, -2.0}, {"e", "\xc3\xa9"});
  EXPECT_EQ(q.acc, 0);
  EXPECT_EQ(q.acc_norm, 1);
}

TEST(Scoring, LetterAnswers) {
  EXPECT_EQ(extract_letter(" B", 4), 1);
  EXPECT_EQ(extract_letter(" (C) because", 4), 2);
  EXPECT_EQ(extract_letter(" Because D.", 4), 3);
  EXPECT_EQ(extract_letter(" E", 4), std::nullopt);
  EXPECT_EQ(extract_letter(" Apples", 4), std::nullopt);
}

TEST(Subset, PinnedIdsOfASmallSyntheticSet) {
  std::vector<std::string> ids;
  std::vector<int64_t> strata;
  for (int i = 0; i < 20; ++i) {
    ids.push_back("ex-" + std::to_string(i));
    strata.push_back(i % 3);
  }
  // Expected lists computed independently (Python: SplitMix64 of FNV-1a-64 of
  // the ids; quotas 2, 2, 1 by largest remainder of 5 * 7/20, 5 * 7/20, 5 * 6/20).
  EXPECT_EQ(stratified_subset(ids, strata, 5), (std::vector<size_t>{5, 9, 16, 18, 19}));
  EXPECT_EQ(stratified_subset(ids, {}, 4), (std::vector<size_t>{5, 8, 16, 19}));
  EXPECT_EQ(stratified_subset(ids, strata, 5), stratified_subset(ids, strata, 5));
  EXPECT_EQ(stratified_subset(ids, strata, 50).size(), 20u);
}

// Sequentially numbered ids (arith-d2's synth-math-d2-0 ... -199): the
// subset is spread over the rows, not one block. FNV-1a-64 alone picked
// exactly rows 0-99; the count below was computed in Python.
TEST(Subset, SpreadOverSequentiallyNumberedIds) {
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.push_back("synth-math-d2-" + std::to_string(i));
  const std::vector<size_t> picked = stratified_subset(ids, {}, kTinySubsetSize);
  ASSERT_EQ(picked.size(), kTinySubsetSize);
  EXPECT_EQ(std::count_if(picked.begin(), picked.end(), [](size_t i) { return i < 100; }), 56);
}

TEST(Subset, IndependentOfRowOrder) {
  std::vector<std::string> ids, reversed;
  for (int i = 0; i < 300; ++i) ids.push_back("row-" + std::to_string(i * 7919 % 1000));
  reversed.assign(ids.rbegin(), ids.rend());
  std::vector<std::string> a, b;
  for (size_t i : stratified_subset(ids, {}, kTinySubsetSize)) a.push_back(ids[i]);
  for (size_t i : stratified_subset(reversed, {}, kTinySubsetSize)) b.push_back(reversed[i]);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a.size(), kTinySubsetSize);
  EXPECT_EQ(a, b);
}

TEST(TaskFile, FewShotPromptsAreDeterministicAndExcludeTheExample) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "tandem-task-fewshot";
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "d.jsonl");
    for (int i = 0; i < 6; ++i)
      out << "{\"id\": \"q" << i << "\", \"question\": \"" << i << "+1\", \"answer\": \"" << i + 1 << "\"}\n";
  }
  const TaskSpec t = parse_task(kBase + "num_fewshot: 5\nfewshot_split: d.jsonl\n", (dir / "t.yaml").string());
  const TaskSpec t2 = parse_task(
      "task: t\ndataset_path: d.jsonl\noutput_type: generate_until\ndoc_to_text: \"Q: {{question}}\"\n"
      "doc_to_target: \"{{answer}}\"\nnum_fewshot: 5\nfewshot_split: d.jsonl\n",
      (dir / "t.yaml").string());
  const std::vector<Example> ex = load_examples(t2, *t2.fewshot);
  const std::string p = build_prompt(t2, ex[2], ex, 1234);
  EXPECT_EQ(p, build_prompt(t2, ex[2], ex, 1234));
  EXPECT_EQ(p.find("Q: 2+1 3"), std::string::npos);  // not its own shot
  for (int i : {0, 1, 3, 4, 5}) EXPECT_NE(p.find("Q: " + std::to_string(i) + "+1 " + std::to_string(i + 1) + "\n\n"), std::string::npos) << p;
  EXPECT_TRUE(p.ends_with("\n\nQ: 2+1"));
  EXPECT_THROW(build_prompt(parse_task(kBase + "num_fewshot: 6\nfewshot_split: d.jsonl\n", (dir / "t.yaml").string()),
                            ex[2], ex, 1),
               Error);
  (void)t;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tandem::eval
