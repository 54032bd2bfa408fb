// train::run_pipeline(): its option errors come before any work (no file
// written), FILE@WEIGHT specs, and a tiny run end to end: a vocabulary
// trained on the synthetic pairs, the model exported, the report's counts,
// and an early stop that exports nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "gguf/gguf.h"
#include "train/pipeline.h"
#include "util/error.h"

namespace tandem::train {
namespace {

namespace fs = std::filesystem;

class Pipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_pipeline_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string p(const std::string& name) const { return (dir_ / name).string(); }

  // Two steps of a one-layer width-16 model on 40 prompt/completion pairs.
  TrainPlan tiny_plan() const {
    TrainPlan plan;
    for (int i = 0; i < 40; ++i) {
      std::string prompt = "Question: ";  // appended, not chained +: GCC 12 warns (-Wrestrict) on the latter
      prompt.append(std::to_string(i)).append(" + 1?\nAnswer:");
      std::string completion = " ";
      completion.append(std::to_string(i + 1));
      plan.synthetic.pairs.emplace_back(prompt, completion);
    }
    plan.synthetic.label = "pairs";
    plan.vocab = 260;
    plan.dim = 16;
    plan.layers = 1;
    plan.heads = 2;
    plan.batch = 2;
    plan.seq = 16;
    plan.steps = 2;
    plan.eval_every = 0;
    plan.log_every = 1;
    plan.threads = 1;
    plan.out = p("m.gguf");
    return plan;
  }

  fs::path dir_;
};

std::string error_of(const TrainPlan& plan) {
  try {
    validate(plan);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_F(Pipeline, OptionErrorsNameTheCommandOptions) {
  TrainPlan plan = tiny_plan();
  EXPECT_EQ(error_of(plan), "(no error)");
  TrainPlan no_out = plan;
  no_out.out.clear();
  EXPECT_EQ(error_of(no_out), "train: --out FILE.gguf is required");
  TrainPlan no_data = plan;
  no_data.synthetic.pairs.clear();
  EXPECT_EQ(error_of(no_data), "train: no training data; pass --data FILE (text or JSONL), --pairs FILE or --synth-math N");
  TrainPlan lora = plan;
  lora.lora_rank = 4;
  EXPECT_EQ(error_of(lora), "train: --lora-rank fine-tunes a base model; pass it with --init FILE.gguf");
  TrainPlan overrides = plan;
  overrides.overrides = {"batch"};
  EXPECT_EQ(error_of(overrides), "train: --override only applies to --resume");
  TrainPlan resume = plan;
  resume.resume = true;
  EXPECT_EQ(error_of(resume), "train: --resume needs --checkpoint PATH");
}

TEST_F(Pipeline, InvalidPlanWritesNothing) {
  TrainPlan plan = tiny_plan();
  plan.checkpoint = p("ck.bin");
  plan.overrides = {"batch"};  // without resume
  EXPECT_THROW(run_pipeline(plan), Error);
  // Neither the checkpoint's vocabulary copy nor the model was written.
  EXPECT_FALSE(fs::exists(p("ck.bin.vocab.gguf")));
  EXPECT_FALSE(fs::exists(p("m.gguf")));
}

TEST(SplitWeight, FileAndOptionalWeight) {
  EXPECT_EQ(split_weight("a.jsonl"), std::make_pair(std::string("a.jsonl"), 1.0));
  EXPECT_EQ(split_weight("a.jsonl@2.5"), std::make_pair(std::string("a.jsonl"), 2.5));
  EXPECT_EQ(split_weight("x@y.txt@3"), std::make_pair(std::string("x@y.txt"), 3.0));  // the last @ splits
  EXPECT_THROW(split_weight("a.jsonl@heavy"), Error);
}

TEST_F(Pipeline, TinyRunExportsAndReports) {
  std::vector<std::string> lines;
  const TrainOutcome r = run_pipeline(tiny_plan(), [&](const std::string& line) { lines.push_back(line); });
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.model_path, p("m.gguf"));
  auto f = gguf::File::open(p("m.gguf"));
  EXPECT_EQ(f->get_int("llama.embedding_length"), 16);
  EXPECT_EQ(f->get_int("llama.block_count"), 1);
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens").size(), 260u);
  EXPECT_EQ(r.report["steps"], 2);
  EXPECT_EQ(r.report["tokens_seen"], 2 * 2 * 16);  // steps * batch * seq
  EXPECT_TRUE(r.report.contains("final_train_loss"));
  EXPECT_FALSE(r.report.contains("final_val_loss"));  // no validation data
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "training a 260-token SPM vocabulary on 40 documents...");
  EXPECT_EQ(lines.back(), "wrote " + p("m.gguf"));
}

TEST_F(Pipeline, StopAfterExportsNothing) {
  TrainPlan plan = tiny_plan();
  plan.stop_after = 1;
  std::vector<std::string> lines;
  const TrainOutcome r = run_pipeline(plan, [&](const std::string& line) { lines.push_back(line); });
  EXPECT_FALSE(r.finished);
  EXPECT_TRUE(r.model_path.empty());
  EXPECT_FALSE(fs::exists(p("m.gguf")));
  EXPECT_EQ(lines.back(), "stopped after step 1 as asked; continue with --resume");
}

}  // namespace
}  // namespace tandem::train
