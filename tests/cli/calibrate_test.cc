// `tandem calibrate` as a user runs it: the config it writes, evaluated by a
// separate `tandem eval` run of the calibrated cascade (no probe) on the same
// examples, realizes what calibrate printed (deferred share, accuracy, losses
// counted against base's own records), and bad invocations are one error each.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "eval/records.h"
#include "test_util.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using testing::run_command;
using testing::shell_quote;
using testing::source_path;
using testing::tandem_binary;

struct Printed {
  double threshold = 0, deferred = 0, accuracy = 0;
  int losses = 0, n = 0;
};

Printed parse(const std::string& out) {
  const std::regex line(R"(threshold (\S+) .* on (\d+) calibration examples .*: ([0-9.]+)% deferred, accuracy ([0-9.]+)%, loss (\d+)/)");
  std::smatch m;
  EXPECT_TRUE(std::regex_search(out, m, line)) << out;
  Printed p;
  if (m.empty()) return p;
  p.threshold = m[1].str() == ".inf" ? 1e300 : std::stod(m[1].str());
  p.n = std::stoi(m[2].str());
  p.deferred = std::stod(m[3].str());
  p.accuracy = std::stod(m[4].str());
  p.losses = std::stoi(m[5].str());
  return p;
}

class Calibrate : public ::testing::Test {
 protected:
  // A copy of configs/cascade.yaml in dir/configs, with dir/models the
  // repository's models (the config's relative paths resolve from its folder).
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem-calibrate-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "configs");
    fs::copy_file(source_path("configs/cascade.yaml"), dir_ / "configs/cascade.yaml");
    fs::create_directory_symlink(source_path("models"), dir_ / "models");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string calibrate(const std::string& method) const {
    return tandem_binary() + " calibrate --config " + shell_quote(path("configs/cascade.yaml")) +
           " --model tiny-then-base --task arith-d2 --limit 30 -t 1 --records " + shell_quote(path("probe")) +
           " --out " + shell_quote(path("configs/new.yaml")) + " " + method;
  }
  fs::path dir_;
};

TEST_F(Calibrate, TheWrittenConfigRealizesWhatCalibratePrinted) {
  // base's own answers, for counting the losses independently.
  const auto own = run_command(tandem_binary() + " eval --config " + shell_quote(source_path("configs/cascade.yaml")) +
                               " --models base --task arith-d2 --limit 30 -t 1 --out " + shell_quote(path("own")));
  ASSERT_EQ(own.exit_code, 0) << own.err;
  std::map<std::string, int> base_correct;
  for (const eval::Record& r : eval::RecordStore(path("own") + "/records.sqlite").all()) base_correct[r.example_id] = *r.correct;
  for (const std::string method : {"--large-share 0.5", "--target-accuracy 0.5", "--max-loss 0.2 --delta 0.2"}) {
    SCOPED_TRACE(method);
    const auto c = run_command(calibrate(method));
    ASSERT_EQ(c.exit_code, 0) << c.err;
    const Printed p = parse(c.out);
    EXPECT_EQ(p.n, 30);
    if (method == "--large-share 0.5") {
      EXPECT_GE(p.deferred, 50.0);
    } else if (method == "--target-accuracy 0.5") {
      EXPECT_GE(p.accuracy, 50.0);
    }
    // The calibrated cascade, run normally from the new file.
    const std::string run = path("run-" + std::to_string(method.size()));
    const auto e = run_command(tandem_binary() + " eval --config " + shell_quote(path("configs/new.yaml")) +
                               " --models tiny-then-base --task arith-d2 --limit 30 -t 1 --out " + shell_quote(run));
    ASSERT_EQ(e.exit_code, 0) << e.err;
    int deferred = 0, correct = 0, losses = 0;
    const std::vector<eval::Record> rows = eval::RecordStore(run + "/records.sqlite").all();
    ASSERT_EQ(rows.size(), 30u);
    for (const eval::Record& r : rows) {
      const bool by_base = r.answered_by == "base";
      deferred += by_base ? 1 : 0;
      correct += *r.correct;
      losses += !by_base && !*r.correct && base_correct.at(r.example_id) ? 1 : 0;
    }
    EXPECT_NEAR(p.deferred, 100.0 * deferred / 30, 0.05);
    EXPECT_NEAR(p.accuracy, 100.0 * correct / 30, 0.05);
    EXPECT_EQ(p.losses, losses);
  }
  // Only the threshold changed.
  std::ifstream a(source_path("configs/cascade.yaml")), b(path("configs/new.yaml"));
  std::string la, lb;
  int differing = 0;
  while (std::getline(a, la) && std::getline(b, lb)) differing += la != lb ? 1 : 0;
  EXPECT_EQ(differing, 1);
}

TEST_F(Calibrate, BadInvocationsAreOneErrorEach) {
  const std::string base = tandem_binary() + " calibrate --config " + shell_quote(source_path("configs/cascade.yaml")) +
                           " --task arith-d2 --limit 20 -t 1 --records " + shell_quote(path("probe")) + " --out " +
                           shell_quote(path("new.yaml"));
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"--model tiny-then-base", "give exactly one of"},
      {"--model tiny-then-base --large-share 0.5 --budget 1", "give exactly one of"},
      {"--model tiny-then-base --max-loss 0.1", "--max-loss and --delta go together"},
      {"--model tiny --large-share 0.5", "not a cascade"},
      {"--model tiny-small-base --large-share 0.5", "two-stage cascades"},
      {"--model nope --large-share 0.5", "no model 'nope'"},
      {"--model tiny-then-base --max-loss 0.01 --delta 0.1", "cannot certify"},
      {"--model tiny-then-base --target-accuracy 0.99", "no threshold reaches accuracy"},
      {"--model tiny-then-base --large-share 0.5", "write --out beside"},  // new.yaml is not beside the config
  };
  for (const Case& c : cases) {
    const auto r = run_command(base + " " + c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
    EXPECT_FALSE(fs::exists(path("new.yaml"))) << c.args;
  }
}

}  // namespace
}  // namespace tandem
