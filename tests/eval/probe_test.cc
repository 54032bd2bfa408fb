// The harness's cascade probe (RunOptions::probe) over real models: each
// stage's stored answer equals that model's own record in a separate run, the
// probed record equals the record of the cascade run normally (complete()),
// and the per-stage grading follows the task's extraction.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "compose/cascade.h"
#include "compose/scripted_model.h"
#include "compose/signals.h"
#include "eval/harness.h"
#include "local/local_model.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::eval {
namespace {

namespace fs = std::filesystem;
using testing::source_path;

std::shared_ptr<const api::Model> open_model(const std::string& name) {
  return std::make_shared<local::LocalModel>(name, local::load_shared(source_path("models/" + name + ".gguf")));
}

struct RunDir {
  fs::path dir;
  std::unique_ptr<RecordStore> store;
  explicit RunDir(const std::string& name)
      : dir(fs::temp_directory_path() / ("tandem-probe-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    store = std::make_unique<RecordStore>((dir / "records.sqlite").string());
  }
  ~RunDir() { fs::remove_all(dir); }
};

TEST(Probe, StagesMatchTheirOwnRunsAndTheCascadeRecordMatchesANormalRun) {
  const auto tiny = open_model("tandem-tiny"), base = open_model("tandem-base");
  // -0.06: the bundled cascade's threshold (configs/cascade.yaml), so both
  // decisions occur on these examples.
  const compose::Cascade cascade(
      {"tiny-then-base", {tiny, base}, {std::make_shared<compose::MeanLogprobRule>(-0.06)}});
  const PreparedTask task = prepare_task(load_task(source_path("tasks/arith-d2.yaml")), {.limit = 8});
  RunOptions o;
  o.parameters = {{"tandem-tiny", 504672.0}, {"tandem-base", 9426240.0}};
  RunDir plain("plain"), probed("probed");
  for (const auto* m : {tiny.get(), base.get()}) run_task(task, *m, *plain.store, o);
  run_task(task, cascade, *plain.store, o);
  RunOptions po = o;
  po.probe = true;
  const RunSummary s = run_task(task, cascade, *probed.store, po);
  EXPECT_EQ(s.evaluated, 8u);
  EXPECT_EQ(s.failed, 0u);
  const std::vector<Record> got = probed.store->all(task.spec.name, "tiny-then-base");
  const std::vector<Record> want = plain.store->all(task.spec.name, "tiny-then-base");
  const std::vector<Record> tiny_own = plain.store->all(task.spec.name, "tandem-tiny");
  const std::vector<Record> base_own = plain.store->all(task.spec.name, "tandem-base");
  ASSERT_EQ(got.size(), 8u);
  ASSERT_EQ(want.size(), 8u);
  int deferred = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(got[i].example_id);
    EXPECT_EQ(got[i].output, want[i].output);
    EXPECT_EQ(got[i].answered_by, want[i].answered_by);
    EXPECT_EQ(got[i].correct, want[i].correct);
    ASSERT_EQ(got[i].tokens.size(), want[i].tokens.size());  // the same models paid, the same tokens and FLOPs
    for (auto it = want[i].tokens.begin(); it != want[i].tokens.end(); ++it)
      for (const char* key : {"prompt_tokens", "completion_tokens", "flops"})
        EXPECT_EQ(got[i].tokens[it.key()][key], it.value()[key]) << it.key() << " " << key;
    EXPECT_EQ(got[i].trace.size(), want[i].trace.size());
    EXPECT_TRUE(want[i].stages.empty());
    ASSERT_EQ(got[i].stages.size(), 2u);
    const nlohmann::json& s0 = got[i].stages[0];
    const nlohmann::json& s1 = got[i].stages[1];
    EXPECT_EQ(s0["stage"], "tandem-tiny");
    EXPECT_EQ(s0["output"], tiny_own[i].output);
    EXPECT_EQ(s0["correct"], *tiny_own[i].correct);
    EXPECT_EQ(s0["signal"], "mean_logprob");
    EXPECT_EQ(s0["threshold"], -0.06);
    EXPECT_EQ(s1["stage"], "tandem-base");
    EXPECT_EQ(s1["output"], base_own[i].output);
    EXPECT_EQ(s1["correct"], *base_own[i].correct);
    EXPECT_FALSE(s1.contains("signal"));
    EXPECT_EQ(s0["tokens"]["tandem-tiny"]["completion_tokens"],
              tiny_own[i].tokens["tandem-tiny"]["completion_tokens"]);
    EXPECT_DOUBLE_EQ(s1["tokens"]["tandem-base"]["flops"].get<double>(),
                     base_own[i].tokens["tandem-base"]["flops"].get<double>());
    // The stored signal decides as the cascade did.
    const bool accept = s0["value"].get<double>() >= -0.06;
    EXPECT_EQ(got[i].answered_by, accept ? "tandem-tiny" : "tandem-base");
    deferred += accept ? 0 : 1;
  }
  EXPECT_GT(deferred, 0);
  EXPECT_LT(deferred, 8);
}

// Not the probe, but the same harness path: a task's generation_kwargs reach
// the model's request as lm-eval means them (greedy unless do_sample).
TEST(TaskSampling, RequestsCarryTheTasksDecoding) {
  for (const bool sample : {false, true}) {
    const TaskSpec spec = parse_task(
        std::string("task: t\ndataset_path: d.jsonl\noutput_type: generate_until\ndoc_to_text: \"{{q}}\"\n"
                    "doc_to_target: \"{{a}}\"\ngeneration_kwargs: {max_gen_toks: 7") +
            (sample ? ", do_sample: true, temperature: 0.7, top_p: 0.9, top_k: 20}\n" : "}\n"),
        "t.yaml");
    PreparedTask task{spec, {}, {}, 1};
    Example e;
    e.id = "e0";
    e.text = "A";
    e.target = "4";
    e.row = {{"q", "A"}, {"a", "4"}};
    task.examples.push_back(e);
    const auto m = std::make_shared<testing::ScriptedModel>(
        "m", std::map<std::string, std::vector<testing::ScriptedAnswer>>{{"A", {{{" #### 4", -0.1}}}}}, 0.0);
    RunOptions o;
    o.seed = 99;
    const Record r = evaluate_example(task, task.examples[0], *m, o);
    EXPECT_EQ(r.correct, 1);
    const auto calls = m->calls();  // a copy: calls() returns by value
    ASSERT_EQ(calls.size(), 1u);
    const api::Request& q = calls[0].request;
    EXPECT_EQ(q.max_tokens, 7);
    EXPECT_EQ(q.sampling.seed, 99u);
    if (sample) {
      EXPECT_FLOAT_EQ(q.sampling.temperature, 0.7f);
      EXPECT_FLOAT_EQ(q.sampling.top_p, 0.9f);
      EXPECT_EQ(q.sampling.top_k, 20);
      EXPECT_EQ(q.sampling.min_p, 0.0f);
    } else {
      EXPECT_EQ(q.sampling.temperature, 0.0f);
    }
  }
}

TEST(Probe, RefusesAModelThatIsNotACascadeAndANonGenerativeTask) {
  const auto tiny = open_model("tandem-tiny");
  const PreparedTask task = prepare_task(load_task(source_path("tasks/arith-d1.yaml")), {.limit = 1});
  RunDir run("refuse");
  RunOptions o;
  o.probe = true;
  EXPECT_THROW(run_task(task, *tiny, *run.store, o), Error);
  EXPECT_TRUE(run.store->all().empty());
}

}  // namespace
}  // namespace tandem::eval
