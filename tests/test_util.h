// Helpers shared by the tests: where the fixtures live, reading files and JSON.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tensor/kernels.h"

namespace tandem::testing {

// The shared/ folder beside the repository (llama.cpp reference fixtures,
// tiny models, data; see README). Overridable with the TANDEM_SHARED_DIR
// environment variable. Tests that read it start with TANDEM_REQUIRE_SHARED.
std::string shared_dir();
std::string shared_path(const std::string& relative);

// Why a test cannot read shared/<relative>: "" when the file is there.
// `skip` is true when the whole shared folder is absent (a clone without the
// fixtures); false when the folder is there but lacks the file, which is an
// error (a moved or misspelt fixture must not turn into a quiet skip).
struct SharedProblem {
  std::string message;
  bool skip = false;
};
SharedProblem shared_problem(const std::string& relative);

// Ends the calling test (a void function: TEST body, SetUp) as skipped, with
// the reason "needs <shared>/<relative> (set TANDEM_SHARED_DIR; see README)",
// when the shared folder is absent, and as failed when the folder is there
// but lacks `relative`.
#define TANDEM_REQUIRE_SHARED(relative)                                                  \
  do {                                                                                   \
    const ::tandem::testing::SharedProblem tandem_problem_ =                             \
        ::tandem::testing::shared_problem(relative);                                     \
    if (tandem_problem_.skip) GTEST_SKIP() << tandem_problem_.message;                   \
    if (!tandem_problem_.message.empty()) GTEST_FAIL() << tandem_problem_.message;       \
  } while (0)
// The repository root (for models/ shipped with tandem).
std::string source_path(const std::string& relative);
// The tandem executable built with the tests.
std::string tandem_binary();

std::string read_file(const std::string& path);
nlohmann::json read_json(const std::string& path);
// For fixture files whose free-text fields may hold raw non-UTF-8 bytes (the
// *.gen.json dumps): bytes >= 0x80 become '?' before parsing, so only the
// numeric fields should be used.
nlohmann::json read_json_lossy(const std::string& path);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// `s` as one single-quoted POSIX shell word (for building run_command lines).
std::string shell_quote(const std::string& s);

// Runs a shell command, capturing stdout and stderr.
CommandResult run_command(const std::string& command);

// n floats drawn from N(0, scale^2).
inline std::vector<float> normal_floats(std::mt19937& rng, int64_t n, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

// Runs check() once on every instruction set compiled in and supported here
// (AVX-512, AVX2, SSE4, SSSE3, scalar), not only the one dispatch would
// pick, with the target's name in failure messages; then restores the
// default dispatch.
template <class Check>
void on_every_target(Check check) {
  const auto targets = kernels::available_targets();
  EXPECT_GE(targets.size(), 2u);
  for (int64_t target : targets) {
    kernels::restrict_to_target(target);
    SCOPED_TRACE(kernels::target_name());
    check();
  }
  kernels::restrict_to_target(0);
}

}  // namespace tandem::testing
