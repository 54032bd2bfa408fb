// The eval harness (src/eval/harness.h) over real models: a choice's
// log-likelihood equals a brute-force sum of token log-softmax values from the
// model's logits; arc_easy rows scored end to end (and by letters for a model
// that cannot score); and a SIGKILLed `tandem eval` resumed to the same
// records and results as an uninterrupted run.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "eval/harness.h"
#include "eval/results.h"
#include "local/local_model.h"
#include "brute_force.h"
#include "test_util.h"

extern char** environ;

namespace tandem::eval {
namespace {

namespace fs = std::filesystem;
using testing::source_path;

std::shared_ptr<local::LocalModel> open_model(const std::string& name) {
  return std::make_shared<local::LocalModel>(name, local::load_shared(source_path("models/" + name + ".gguf")));
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("tandem-eval-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(Harness, ChoiceLogLikelihoodEqualsABruteForceSumOfLogSoftmax) {
  const fs::path dir = fresh_dir("ll");
  std::ofstream(dir / "d.jsonl")
      << R"({"id": "x1", "question": "Where did Lily and Tom go?", "choices": ["to the park", "home", "a big red ball"], "answer_index": 0})"
      << "\n";
  std::ofstream(dir / "t.yaml") << "task: mc\ndataset_path: d.jsonl\noutput_type: multiple_choice\n"
                                   "doc_to_text: \"Question: {{question}}\\nAnswer:\"\n"
                                   "doc_to_target: \"{{answer_index}}\"\ndoc_to_choice: \"{{choices}}\"\n";
  const PreparedTask t = prepare_task(load_task((dir / "t.yaml").string()), {});
  ASSERT_EQ(t.examples.size(), 1u);
  ASSERT_EQ(t.examples[0].choices.size(), 3u);
  const auto base = open_model("tandem-base");
  const Record r = evaluate_example(t, t.examples[0], *base, {});
  ASSERT_EQ(r.metrics["loglikelihoods"].size(), 3u);
  std::vector<double> want;
  for (size_t i = 0; i < 3; ++i) {
    want.push_back(tandem::testing::brute_force_score(base->transformer(), "Question: Where did Lily and Tom go?\nAnswer:",
                                      " " + t.examples[0].choices[i]).sum_logprob);
    EXPECT_NEAR(r.metrics["loglikelihoods"][i].get<double>(), want[i], 1e-3) << i;
  }
  const int best = static_cast<int>(std::max_element(want.begin(), want.end()) - want.begin());
  EXPECT_EQ(r.metrics["acc"].get<int>(), best == 0 ? 1 : 0);
  fs::remove_all(dir);
}

// A model that cannot score: generates, but capabilities() says no scoring.
class NoScoring : public api::Model {
 public:
  explicit NoScoring(std::shared_ptr<const api::Model> m) : m_(std::move(m)) {}
  const std::string& name() const override { return m_->name(); }
  api::Capabilities capabilities() const override {
    api::Capabilities c = m_->capabilities();
    c.scoring = false;
    return c;
  }
  api::Response complete(const api::Request& q, const api::StreamCallback& s) const override { return m_->complete(q, s); }

 private:
  std::shared_ptr<const api::Model> m_;
};

TEST(Harness, ArcEasyRowsByLogLikelihoodAndByLetter) {
  TANDEM_REQUIRE_SHARED("data/arc_easy/test.public.jsonl");
  TaskLoadOptions load;
  load.variables["TANDEM_SHARED_DIR"] = testing::shared_dir();
  const PreparedTask t = prepare_task(load_task(source_path("tasks/arc_easy.yaml"), load), {.offset = 0, .limit = 4, .tiny = false});
  ASSERT_EQ(t.examples.size(), 4u);
  const fs::path dir = fresh_dir("arc");
  RecordStore store((dir / "records.sqlite").string());
  const auto tiny = open_model("tandem-tiny");
  RunOptions two_threads;
  two_threads.concurrency = 2;
  const RunSummary s = run_task(t, *tiny, store, two_threads);
  EXPECT_EQ(s.evaluated, 4u);
  EXPECT_FALSE(s.letter_fallback);
  const std::vector<Record> rows = store.all("arc_easy", "tandem-tiny");
  ASSERT_EQ(rows.size(), 4u);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Example& e = t.examples[i];
    EXPECT_EQ(rows[i].example_id, e.id);
    std::vector<double> lls = rows[i].metrics["loglikelihoods"].get<std::vector<double>>();
    ASSERT_EQ(lls.size(), e.choices.size());
    const int acc = static_cast<int>(std::max_element(lls.begin(), lls.end()) - lls.begin());
    EXPECT_EQ(rows[i].correct, acc == e.gold ? 1 : 0);
    EXPECT_EQ(rows[i].gold, std::string(1, static_cast<char>('A' + e.gold)));
    EXPECT_GT(rows[i].tokens["tandem-tiny"]["scored_tokens"].get<int64_t>(), 0);
  }
  // A rerun skips every example.
  EXPECT_EQ(run_task(t, *tiny, store, {}).skipped, 4u);

  RecordStore letters((dir / "letters.sqlite").string());
  const NoScoring chat_only(tiny);
  const RunSummary ls = run_task(t, chat_only, letters, {});
  EXPECT_TRUE(ls.letter_fallback);
  const std::vector<Record> lrows = letters.all("arc_easy", "tandem-tiny");
  ASSERT_EQ(lrows.size(), 4u);
  for (const Record& r : lrows) {
    EXPECT_EQ(r.note, "letter fallback: the model cannot score");
    EXPECT_EQ(r.metrics["acc"], r.metrics["acc_norm"]);
    EXPECT_EQ(r.correct, r.extracted && *r.extracted == r.gold ? 1 : 0);
  }
  EXPECT_EQ(summarize(lrows).letter_fallback, 4u);
  fs::remove_all(dir);
}

pid_t spawn_eval(const fs::path& out) {
  std::vector<std::string> args = {testing::tandem_binary(), "eval", "--models",
                                   source_path("models/tandem-tiny.gguf"), "--task", "arith-d1", "--limit", "120",
                                   "-t", "1", "--out", out.string()};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(Harness, ResumesAfterSigkillWithTheNumbersOfAnUninterruptedRun) {
  const fs::path dir = fresh_dir("resume");
  const fs::path killed = dir / "killed", whole = dir / "whole";
  const pid_t pid = spawn_eval(killed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  size_t rows_at_kill = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(killed / "records.sqlite")) {
      rows_at_kill = RecordStore((killed / "records.sqlite").string()).all().size();
      if (rows_at_kill >= 3) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  const int status = wait_exit(pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the eval finished before it was killed";
  const size_t kept = RecordStore((killed / "records.sqlite").string()).all().size();
  EXPECT_GE(kept, rows_at_kill);  // nothing committed was lost
  EXPECT_LT(kept, 120u);
  EXPECT_FALSE(fs::exists(killed / "results.json"));

  EXPECT_EQ(wait_exit(spawn_eval(killed)), 0);  // resume
  EXPECT_EQ(wait_exit(spawn_eval(whole)), 0);   // uninterrupted
  const std::vector<Record> a = RecordStore((killed / "records.sqlite").string()).all();
  const std::vector<Record> b = RecordStore((whole / "records.sqlite").string()).all();
  ASSERT_EQ(a.size(), 120u);
  ASSERT_EQ(b.size(), 120u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].example_id, b[i].example_id);
    EXPECT_EQ(a[i].output, b[i].output) << a[i].example_id;
    EXPECT_EQ(a[i].correct, b[i].correct) << a[i].example_id;
    EXPECT_EQ(a[i].prompt_hash, b[i].prompt_hash);
  }
  const nlohmann::json ra = testing::read_json((killed / "results.json").string());
  const nlohmann::json rb = testing::read_json((whole / "results.json").string());
  EXPECT_EQ(ra["results"], rb["results"]);
  EXPECT_EQ(ra["n-samples"], rb["n-samples"]);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::eval
