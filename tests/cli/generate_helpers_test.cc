// tandem generate loads the helper models (decode loads none): a missing or
// corrupt one is one clear error naming it, exit 1, nothing generated.
#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

namespace tandem {
namespace {

using testing::run_command;
using testing::shell_quote;
using testing::source_path;
using testing::tandem_binary;

TEST(GenerateHelpersCli, MissingOrCorruptScorerIsAClearError) {
  const std::string corrupt = ::testing::TempDir() + "/corrupt_scorer.gguf";
  {
    std::ofstream f(corrupt, std::ios::binary);
    f << "GGUF\x03garbage that is not a model";
  }
  for (const std::string& path : {std::string("/nonexistent/scorer.gguf"), corrupt}) {
    const std::string cmd = tandem_binary() + " generate -m " + shell_quote(source_path("models/stories260K.gguf")) +
                            " -p Lily -n 4 -t 1 --strategy best-of-n --n-samples 2 --scorer " + shell_quote(path);
    const auto r = run_command(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_EQ(r.err.rfind("error: scorer model: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << cmd;
  }
}

TEST(GenerateHelpersCli, SpeculativeWithoutDraftIsAClearError) {
  const auto r = run_command(tandem_binary() + " generate -m " + shell_quote(source_path("models/stories260K.gguf")) +
                             " -p Lily -n 4 -t 1 --strategy speculative");
  EXPECT_EQ(r.exit_code, 1);
  // LocalModel names the model (the file stem) in every error.
  EXPECT_EQ(r.err, "error: stories260K: strategy 'speculative' needs a draft model (--draft)\n");
}

}  // namespace
}  // namespace tandem
