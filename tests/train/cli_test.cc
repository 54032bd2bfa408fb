// `tandem train` end to end: a tiny run on a text file plus synthetic problems
// writes a GGUF the engine loads, a report and a loss curve; an interrupted
// run resumed from its checkpoint ends with the same model bytes; bad input
// gives a one-line error.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gguf/gguf.h"
#include "test_util.h"

namespace tandem::testing {
namespace {

class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tandem_train_cli_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream f(dir_ / "docs.jsonl");
    for (int i = 0; i < 40; ++i) {
      f << R"({"id": ")" << i << R"(", "text": "Once upon a time, a little dog named Max found )" << i
        << R"( red balls.\nHe was happy."})" << "\n";
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string p(const std::string& name) const { return (dir_ / name).string(); }
  std::string train_cmd(int steps, int eval_math = 3) const {
    return tandem_binary() + " train --data " + p("docs.jsonl") + " --valid-frac 0.1 --synth-math 50 --eval-math " +
           std::to_string(eval_math) + " --vocab 300 --dim 32 --layers 1 --heads 2 --seq 32 --batch 4 --steps " +
           std::to_string(steps) + " --log-every 2 --eval-every 2 --threads 1 --seed 3";
  }
  std::filesystem::path dir_;
};

TEST_F(TrainCli, TrainsExportsAndReports) {
  auto r = run_command(train_cmd(6) + " -o " + p("m.gguf") + " --svg " + p("loss.svg") + " --report " + p("r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tok/s"), std::string::npos);
  EXPECT_NE(r.out.find("ETA"), std::string::npos);
  EXPECT_NE(r.out.find("validation loss"), std::string::npos);
  auto f = gguf::File::open(p("m.gguf"));
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->get_int("llama.embedding_length"), 32);
  EXPECT_NE(f->find_tensor("blk.0.ffn_gate.weight"), nullptr);
  auto rep = read_json(p("r.json"));
  EXPECT_EQ(rep["steps"], 6);
  EXPECT_EQ(rep["math_heldout"], 3);
  EXPECT_GT(rep["tokens_per_second"].get<double>(), 0.0);
  EXPECT_NE(read_file(p("loss.svg")).find("<polyline"), std::string::npos);
}

TEST_F(TrainCli, ResumedRunEndsWithTheSameModel) {
  auto full = run_command(train_cmd(8, 0) + " -o " + p("full.gguf"));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  // The same command stopped after 4 steps (--stop-after simulates a kill right
  // after the step-4 checkpoint), then resumed in a new process.
  const std::string ck = p("run.ckpt");
  const std::string cmd = train_cmd(8, 0) + " --checkpoint " + ck + " --checkpoint-every 4 -o " + p("resumed.gguf");
  auto first = run_command(cmd + " --stop-after 4");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_FALSE(std::filesystem::exists(p("resumed.gguf")));
  auto second = run_command(cmd + " --resume");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("resumed from"), std::string::npos);
  EXPECT_EQ(read_file(p("full.gguf")), read_file(p("resumed.gguf")));
}

// --resume with another option, or changed data, fails naming what changed;
// --override NAME lets that change through deliberately.
TEST_F(TrainCli, ResumeRefusesChangedOptionsUnlessOverridden) {
  const std::string ck = p("run.ckpt");
  const std::string cmd = train_cmd(6, 0) + " --checkpoint " + ck + " -o " + p("m.gguf");
  // `cmd` with one option's value replaced.
  auto with = [&cmd](const std::string& from, const std::string& to) {
    std::string c = cmd;
    c.replace(c.find(from), from.size(), to);
    return c;
  };
  auto first = run_command(cmd + " --stop-after 2");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto batch = run_command(with("--batch 4", "--batch 2") + " --resume");
  EXPECT_EQ(batch.exit_code, 1);
  EXPECT_NE(batch.err.find("error: " + ck + ": --batch differs from the checkpoint (checkpoint 4, now 2); "
                           "use --override batch to change it deliberately"),
            std::string::npos)
      << batch.err;
  // A longer run is a change too: the schedule spans the total step count.
  auto steps = run_command(with("--steps 6", "--steps 8") + " --resume");
  EXPECT_EQ(steps.exit_code, 1);
  EXPECT_NE(steps.err.find("--steps differs from the checkpoint (checkpoint 6, now 8)"), std::string::npos)
      << steps.err;
  auto lr = run_command(cmd + " --resume --lr 0.002 --min-lr 0.0001");
  EXPECT_EQ(lr.exit_code, 1);
  EXPECT_NE(lr.err.find("--lr differs from the checkpoint (checkpoint 0.001, now 0.002)"), std::string::npos)
      << lr.err;
  auto vocab = run_command(with("--vocab 300", "--vocab 400") + " --resume");  // ignored on resume before: the vocabulary is reused
  EXPECT_EQ(vocab.exit_code, 1);
  EXPECT_NE(vocab.err.find("--vocab differs from the checkpoint (checkpoint 300, now 400)"), std::string::npos)
      << vocab.err;
  auto unknown = run_command(cmd + " --resume --override batch,bogus");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("--override bogus: no such setting"), std::string::npos) << unknown.err;
  auto no_resume = run_command(cmd + " --override batch");
  EXPECT_EQ(no_resume.exit_code, 1);
  EXPECT_NE(no_resume.err.find("--override only applies to --resume"), std::string::npos) << no_resume.err;
  EXPECT_FALSE(std::filesystem::exists(p("m.gguf")));

  // One document edited: the training data differs.
  std::string docs = read_file(p("docs.jsonl"));
  docs.replace(docs.find("little dog"), 10, "little cat");
  std::ofstream(p("docs.jsonl"), std::ios::trunc) << docs;
  auto data = run_command(cmd + " --resume");
  EXPECT_EQ(data.exit_code, 1);
  EXPECT_NE(data.err.find("the training data ("), std::string::npos) << data.err;
  EXPECT_NE(data.err.find("use --override data"), std::string::npos) << data.err;

  auto both = run_command(with("--batch 4", "--batch 2") + " --resume --override data --override batch");
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_NE(both.out.find("resume: --batch changed deliberately (checkpoint 4, now 2)"), std::string::npos) << both.out;
  EXPECT_NE(both.out.find("resume: the training data"), std::string::npos) << both.out;
  EXPECT_NE(both.out.find("resumed from"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(p("m.gguf")));
}

TEST_F(TrainCli, MissingDataIsAOneLineError) {
  auto r = run_command(tandem_binary() + " train --data " + p("nope.jsonl") + " -o " + p("x.gguf"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: "), std::string::npos);
  EXPECT_NE(r.err.find("nope.jsonl"), std::string::npos);
  auto r2 = run_command(tandem_binary() + " train -o " + p("x.gguf"));
  EXPECT_EQ(r2.exit_code, 1);
  EXPECT_NE(r2.err.find("no training data"), std::string::npos);
}

TEST(SynthMathCli, WritesJsonlRows) {
  auto r = run_command(tandem_binary() + " synth-math -n 3 --difficulty 2 --seed 5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    EXPECT_TRUE(row["completion"].get<std::string>().ends_with("#### " + row["answer"].get<std::string>()));
    ++n;
  }
  EXPECT_EQ(n, 3);
}

}  // namespace
}  // namespace tandem::testing
