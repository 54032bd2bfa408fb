// The harness over a remote model gives the records of the local one: the same
// GGUF (tandem-base) evaluated greedily as a LocalModel in this process and as
// a RemoteModel over a real `tandem serve -m models/tandem-base.gguf` child
// on 127.0.0.1 (tests/api/serve_process.h), through run_task (the library
// entry point of `tandem eval`), must give the same output, extracted answer,
// correct flag and token counts for every example.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "api/serve_process.h"
#include "eval/harness.h"
#include "eval/results.h"
#include "local/local_model.h"
#include "remote/remote_model.h"
#include "test_util.h"

namespace tandem::eval {
namespace {

namespace fs = std::filesystem;
using testing::source_path;

TEST(RemoteAndLocal, GreedyRecordsAreIdenticalOverTandemServe) {
  const fs::path dir = fs::temp_directory_path() / ("tandem-eval-remote-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  testing::ServeProcess serve(testing::tandem_binary(),
                              {"-m", source_path("models/tandem-base.gguf"), "-t", "1", "--parallel", "2"});
  remote::RemoteOptions o;
  o.name = "served-base";
  o.base_url = serve.url() + "/v1";
  o.model = "default";
  o.api = "completions";
  o.context = 256;
  o.max_retries = 0;
  const remote::RemoteModel remote(o);
  const local::LocalModel local("base", local::load_shared(source_path("models/tandem-base.gguf"), {.n_threads = 1}));

  const PreparedTask t = prepare_task(load_task(source_path("tasks/arith-d2.yaml")), {.offset = 0, .limit = 6});
  ASSERT_EQ(t.examples.size(), 6u);
  RecordStore store((dir / "records.sqlite").string());
  RunOptions run;
  run.concurrency = 2;
  const RunSummary rs = run_task(t, remote, store, run);
  const RunSummary ls = run_task(t, local, store, run);
  ASSERT_EQ(rs.failed, 0u) << rs.first_error;
  ASSERT_EQ(ls.failed, 0u) << ls.first_error;
  const std::vector<Record> r = store.all("arith-d2", "served-base");
  const std::vector<Record> l = store.all("arith-d2", "base");
  ASSERT_EQ(r.size(), 6u);
  ASSERT_EQ(l.size(), 6u);
  int correct = 0, answered = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(l[i].example_id);
    EXPECT_EQ(r[i].example_id, l[i].example_id);
    EXPECT_EQ(r[i].prompt_hash, l[i].prompt_hash);
    EXPECT_EQ(r[i].output, l[i].output);
    EXPECT_EQ(r[i].extracted, l[i].extracted);
    EXPECT_EQ(r[i].gold, l[i].gold);
    EXPECT_EQ(r[i].correct, l[i].correct);
    // The server's usage, not the RemoteModel's bytes/4 estimate: no trace
    // step says "usage estimated", and the counts equal the local model's.
    for (const auto& step : r[i].trace) EXPECT_NE(step.value("decision", ""), "usage estimated");
    ASSERT_TRUE(r[i].tokens.contains("served-base")) << r[i].tokens.dump();
    ASSERT_TRUE(l[i].tokens.contains("base")) << l[i].tokens.dump();
    EXPECT_EQ(r[i].tokens["served-base"]["prompt_tokens"], l[i].tokens["base"]["prompt_tokens"]);
    EXPECT_EQ(r[i].tokens["served-base"]["completion_tokens"], l[i].tokens["base"]["completion_tokens"]);
    EXPECT_GT(l[i].tokens["base"]["completion_tokens"].get<int64_t>(), 0);
    correct += l[i].correct.value_or(0);
    answered += l[i].extracted.has_value();
  }
  // Not a vacuous comparison: base answers these problems, some of them right.
  EXPECT_GT(answered, 0);
  EXPECT_GT(correct, 0);
  EXPECT_EQ(summarize(r).metrics.at("exact_match").value, summarize(l).metrics.at("exact_match").value);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::eval
