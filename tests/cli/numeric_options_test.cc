// Every numeric option of every `tandem` command, tried with 0, a negative
// value, a huge value and non-numbers: a value out of the option's range is
// rejected at parse time with one "error: ..." line naming the option and
// status 1 (never a signal: `perplexity -c 0` used to die of SIGFPE and a
// negative --ngram-min read out of bounds), and the boundary values are
// accepted. The table below is checked against the options the commands
// define (walked in-process through CLI11), so a new numeric option without
// a row here fails NumericOptions.TableCoversEveryNumericOption.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::run_command;
using testing::shell_quote;
using testing::source_path;
using testing::tandem_binary;

struct Case {
  std::string command;
  std::string option;              // the long name, as CLI11 reports it
  std::vector<std::string> bad;    // rejected at parse time
  std::vector<std::string> good;   // accepted (the range's boundaries)
  std::vector<std::string> extra;  // other options every try needs (e.g. a larger --draft-max)
};

// Tried on every option besides its own bad values: not decimal numbers
// (the first through the binary, all of them in-process).
const std::vector<std::string> kNonNumbers = {"abc", "12abc", "0x10", "", " 1"};

constexpr const char* kMissing = "/nonexistent/tandem-test";
const std::string kHugeInt = "99999999999";                 // overflows int32
const std::string kOverInt64 = "9223372036854775808";       // 2^63
const std::string kUint64Max = "18446744073709551615";      // 2^64 - 1
const std::string kOverUint64 = "18446744073709551616";     // 2^64
const std::string kMaxCtx = "1048576", kOverCtx = "1048577";  // kMaxContext = 2^20

// The options each command needs to get past parsing; they name missing files
// so that a command that does get to run fails at once (after parsing).
std::vector<std::string> base_args(const std::string& command) {
  const std::string m = std::string(kMissing) + ".gguf";
  if (command == "generate" || command == "chat" || command == "run") return {"-m", m, "-p", "hi"};
  if (command == "perplexity") return {"-m", m, "-f", kMissing};
  if (command == "bench" || command == "eval-math" || command == "serve") return {"-m", m};
  if (command == "train-router")
    return {"--models", m, "--embedder", m, "--task", std::string(kMissing) + ".yaml", "--out",
            std::string(kMissing) + ".json"};
  if (command == "calibrate")
    return {"--config", std::string(kMissing) + ".yaml", "--model", "c", "--task", std::string(kMissing) + ".yaml",
            "--out", std::string(kMissing) + ".out.yaml"};
  if (command == "index build") return {"--embedder", m, "--docs", kMissing, "--out", std::string(kMissing) + ".idx"};
  if (command == "index query") return {"--index", std::string(kMissing) + ".idx", "--embedder", m, "hi"};
  if (command == "eval") return {"--models", m, "--task", std::string(kMissing) + ".yaml", "--out", kMissing};
  if (command == "distill-data") return {"-m", m, "-o", std::string(kMissing) + "/out.jsonl"};
  if (command == "train") return {"-o", std::string(kMissing) + "/out.gguf", "--data", kMissing};
  if (command == "train-tokenizer") return {"--data", kMissing, "-o", std::string(kMissing) + "/out.gguf"};
  if (command == "synth-math") return {"-o", std::string(kMissing) + "/out.jsonl"};
  return {};
}

// The option and its value as arguments: --lora-scaled takes FILE SCALE and
// only SCALE is numeric.
std::vector<std::string> option_args(const Case& c, const std::string& value) {
  std::vector<std::string> args = c.extra;
  args.push_back(c.option);
  if (c.option == "--lora-scaled") args.push_back(std::string(kMissing) + ".lora.gguf");
  args.push_back(value);
  return args;
}

Case int_case(std::string cmd, std::string opt, std::vector<std::string> bad, std::vector<std::string> good) {
  return {std::move(cmd), std::move(opt), std::move(bad), std::move(good), {}};
}
Case threads(const std::string& cmd, const std::string& opt = "--threads") {
  return int_case(cmd, opt, {"-1", "1025", kHugeInt}, {"0", "1", "1024"});
}
Case seed(const std::string& cmd, const std::string& opt = "--seed") {
  return int_case(cmd, opt, {"-1", kOverUint64, "1.5"}, {"0", kUint64Max});
}
Case difficulty(const std::string& cmd, const std::string& opt) {
  return int_case(cmd, opt, {"0", "-1", "11", kHugeInt}, {"1", "10"});
}
// An int in [lo, hi].
Case ranged(const std::string& cmd, const std::string& opt, const std::string& lo, const std::string& below,
            const std::string& hi, const std::string& above) {
  std::vector<std::string> bad = {below, above, kHugeInt, "-1"};
  std::vector<std::string> good = {lo, hi};
  if (lo != "0") bad.push_back("0");
  return int_case(cmd, opt, bad, good);
}
Case unit_interval(const std::string& cmd, const std::string& opt) {
  return int_case(cmd, opt, {"-0.1", "-1", "1.01", "1e40", "nan"}, {"0", "1"});
}
Case finite_float(const std::string& cmd, const std::string& opt) {
  return int_case(cmd, opt, {"1e40", "-1e40", "nan", "inf"}, {"0", "-2", "2"});
}
Case lora_scaled(const std::string& cmd) { return int_case(cmd, "--lora-scaled", {"1e40", "nan", "inf"}, {"0", "-1", "1"}); }

void add_sampling(std::vector<Case>& t, const std::string& cmd) {
  t.push_back(int_case(cmd, "--temp", {"-0.5", "1e40", "nan", "inf"}, {"0", "1e30"}));
  t.push_back(int_case(cmd, "--top-k", {"-1", kHugeInt}, {"0", "2147483647"}));
  t.push_back(unit_interval(cmd, "--top-p"));
  t.push_back(unit_interval(cmd, "--min-p"));
  t.push_back(unit_interval(cmd, "--typical"));
  t.push_back(int_case(cmd, "--repeat-penalty", {"0", "-1", "1e40", "nan"}, {"0.001", "1", "1e30"}));
  t.push_back(int_case(cmd, "--repeat-last-n", {"-2", kHugeInt}, {"-1", "0", "2147483647"}));
  t.push_back(finite_float(cmd, "--frequency-penalty"));
  t.push_back(finite_float(cmd, "--presence-penalty"));
  t.push_back(seed(cmd));
}

void add_generate(std::vector<Case>& t) {
  // Not 0: decoding emits one token before it looks at n_predict, so 0 would mean 1.
  t.push_back(int_case("generate", "--n-predict", {"0", "-2", kOverCtx, kHugeInt}, {"-1", "1", kMaxCtx}));
  t.push_back(int_case("generate", "--ctx-size", {"-1", kOverCtx, kHugeInt}, {"0", "1", kMaxCtx}));
  t.push_back(threads("generate"));
  add_sampling(t, "generate");
  t.push_back(lora_scaled("generate"));
  t.push_back({"generate", "--draft-max", {"0", "-1", "257", kHugeInt}, {"1", "256"}, {}});
  t.push_back({"generate", "--draft-min", {"0", "-1", "257", kHugeInt}, {"1", "256"}, {"--draft-max", "256"}});
  t.push_back({"generate", "--ngram-min", {"0", "-1", "65", kHugeInt}, {"1", "64"}, {"--ngram-max", "64"}});
  t.push_back({"generate", "--ngram-max", {"0", "-1", "65", kHugeInt}, {"1", "64"}, {}});
  t.push_back(unit_interval("generate", "--alpha"));
  t.push_back(finite_float("generate", "--proxy-strength"));
  t.push_back(ranged("generate", "--n-samples", "1", "0", "256", "257"));
}

void add_train(std::vector<Case>& t) {
  const std::string steps = "1000000000", over_steps = "1000000001";
  t.push_back(ranged("train", "--synth-math", "0", "-1", "1000000", "1000001"));
  t.push_back(difficulty("train", "--synth-difficulty"));
  t.push_back(int_case("train", "--synth-weight", {"0", "-1", "1000001", "1e400", "nan"}, {"1e-9", "1000000"}));
  t.push_back(ranged("train", "--eval-math", "0", "-1", "1000000", "1000001"));
  t.push_back(ranged("train", "--eval-max-tokens", "0", "-1", kMaxCtx, kOverCtx));
  t.push_back(int_case("train", "--valid-frac", {"-0.1", "-1", "1.5", "1e400", "nan"}, {"0", "1e-300", "1"}));
  t.push_back(int_case("train", "--max-docs", {"-1", kOverInt64}, {"0", kHugeInt}));
  t.push_back(int_case("train", "--vocab", {"0", "-1", "259", "1048577", kHugeInt}, {"260", "1048576"}));
  t.push_back(int_case("train", "--tokenizer-chars", {"0", "-1", kOverInt64}, {"1", kHugeInt}));
  t.push_back(ranged("train", "--lora-rank", "0", "-1", "4096", "4097"));
  t.push_back(int_case("train", "--lora-alpha", {"1e400", "nan", "inf"}, {"0", "-1", "1e40"}));
  t.push_back(int_case("train", "--kd-alpha", {"-0.1", "-1", "1.1", "1e400", "nan"}, {"0", "1"}));
  t.push_back(int_case("train", "--kd-temp", {"0", "-1", "100.5", "1e400", "nan"}, {"0.01", "100"}));
  t.push_back(ranged("train", "--dim", "1", "0", "65536", "65537"));
  t.push_back(ranged("train", "--layers", "1", "0", "1024", "1025"));
  t.push_back(ranged("train", "--heads", "1", "0", "1024", "1025"));
  t.push_back(ranged("train", "--kv-heads", "0", "-1", "1024", "1025"));
  t.push_back(ranged("train", "--ff", "0", "-1", kMaxCtx, kOverCtx));
  t.push_back(ranged("train", "--ctx", "0", "-1", kMaxCtx, kOverCtx));
  t.push_back(ranged("train", "--batch", "1", "0", "4096", "4097"));
  t.push_back(ranged("train", "--seq", "1", "0", kMaxCtx, kOverCtx));
  t.push_back(ranged("train", "--accum", "1", "0", "4096", "4097"));
  t.push_back(ranged("train", "--steps", "1", "0", steps, over_steps));
  for (const char* opt : {"--lr", "--min-lr", "--wd", "--clip"}) {
    t.push_back(int_case("train", opt, {"-0.001", "-1", "1e400", "nan", "inf"}, {"0", "1e40"}));
  }
  for (const char* opt : {"--warmup", "--eval-every", "--checkpoint-every", "--stop-after"}) {
    t.push_back(ranged("train", opt, "0", "-1", steps, over_steps));
  }
  t.push_back(ranged("train", "--log-every", "1", "0", steps, over_steps));
  t.push_back(ranged("train", "--eval-batches", "1", "0", "1000000", "1000001"));
  t.push_back(seed("train"));
  t.push_back(threads("train"));
}

std::vector<Case> cases() {
  std::vector<Case> t;
  add_generate(t);
  t.push_back(int_case("run", "--max-tokens", {"0", "-2", kOverCtx, kHugeInt}, {"-1", "1", kMaxCtx}));
  t.push_back(threads("run"));
  add_sampling(t, "run");
  t.push_back(ranged("serve", "--port", "0", "-1", "65535", "65536"));
  t.push_back(ranged("serve", "--parallel", "1", "0", "256", "257"));
  t.push_back(int_case("serve", "--ctx-size", {"-1", kOverCtx, kHugeInt}, {"0", "1", kMaxCtx}));
  t.push_back(ranged("serve", "--max-queue", "0", "-1", "4096", "4097"));
  t.push_back(int_case("serve", "--timeout", {"-1", "1000001", "1e40", "nan", "inf"}, {"0", "1000000"}));
  t.push_back(threads("serve"));
  t.push_back(int_case("chat", "--n-predict", {"0", "-2", kOverCtx, kHugeInt}, {"-1", "1", kMaxCtx}));
  t.push_back(int_case("chat", "--ctx-size", {"-1", kOverCtx, kHugeInt}, {"0", "1", kMaxCtx}));
  t.push_back(threads("chat"));
  add_sampling(t, "chat");
  t.push_back(lora_scaled("chat"));

  t.push_back(int_case("perplexity", "--ctx-size", {"0", "3", "-1", kOverCtx, kHugeInt}, {"4", kMaxCtx}));
  t.push_back(threads("perplexity"));
  t.push_back(lora_scaled("perplexity"));

  t.push_back(int_case("bench", "--threads", {"0", "-1", "1025", kHugeInt, "1,0", "1,,2", "1,", "2,-1"},
                       {"1", "1,2,4", "1024"}));
  t.push_back(ranged("bench", "--n-prompt", "0", "-1", kMaxCtx, kOverCtx));
  t.push_back(ranged("bench", "--n-gen", "0", "-1", kMaxCtx, kOverCtx));
  t.push_back(ranged("bench", "--repetitions", "1", "0", "1000", "1001"));

  t.push_back(ranged("eval-math", "--count", "1", "0", "1000000", "1000001"));
  t.push_back(difficulty("eval-math", "--difficulty"));
  t.push_back(seed("eval-math"));
  t.push_back(ranged("eval-math", "--max-tokens", "0", "-1", kMaxCtx, kOverCtx));
  t.push_back(threads("eval-math"));
  t.push_back(lora_scaled("eval-math"));

  t.push_back(ranged("eval", "--limit", "0", "-1", "1000000", "1000001"));
  t.push_back(ranged("eval", "--offset", "0", "-1", "1000000", "1000001"));
  t.push_back(seed("eval"));
  t.push_back(ranged("eval", "--concurrency", "1", "0", "256", "257"));
  t.push_back(threads("eval"));

  t.push_back(ranged("calibrate", "--limit", "1", "0", "1000000", "1000001"));
  t.push_back(ranged("calibrate", "--offset", "0", "-1", "1000000", "1000001"));
  for (const char* opt : {"--target-accuracy", "--max-loss", "--delta", "--large-share"})
    t.push_back(unit_interval("calibrate", opt));
  t.push_back(int_case("calibrate", "--budget", {"-1", "1e40", "nan", "inf"}, {"0", "1e30"}));
  t.push_back(seed("calibrate"));
  t.push_back(ranged("calibrate", "--concurrency", "1", "0", "256", "257"));
  t.push_back(threads("calibrate"));

  t.push_back(ranged("train-router", "--limit", "1", "0", "1000000", "1000001"));
  t.push_back(ranged("train-router", "--offset", "0", "-1", "1000000", "1000001"));
  t.push_back(ranged("train-router", "-k", "1", "0", "1048576", "1048577"));
  t.push_back(int_case("train-router", "--l2", {"0", "-1", "1e13", "nan", "inf"}, {"1e-12", "0.5", "1e12"}));
  t.push_back(seed("train-router"));
  t.push_back(ranged("train-router", "--concurrency", "1", "0", "256", "257"));
  t.push_back(threads("train-router"));

  t.push_back(threads("index build"));
  t.push_back(ranged("index build", "--max-chars", "0", "-1", "1073741824", "1073741825"));
  t.push_back(ranged("index query", "-k", "1", "0", "1048576", "1048577"));
  t.push_back(threads("index query"));

  // Only small valid counts: a command that parses generates its problems.
  t.push_back(int_case("distill-data", "--synth-math", {"-1", "1000001", kHugeInt}, {"0", "1"}));
  t.push_back(difficulty("distill-data", "--synth-difficulty"));
  t.push_back(seed("distill-data", "--synth-seed"));
  t.push_back(ranged("distill-data", "--n-predict", "0", "-1", kMaxCtx, kOverCtx));
  t.push_back(int_case("distill-data", "--temp", {"-0.5", "1e40", "nan"}, {"0", "2"}));
  t.push_back(seed("distill-data"));
  t.push_back(threads("distill-data"));

  add_train(t);
  t.push_back(int_case("train-tokenizer", "--vocab", {"0", "-1", "259", "1048577", kHugeInt}, {"260", "1048576"}));
  t.push_back(int_case("train-tokenizer", "--max-chars", {"0", "-1", kOverInt64}, {"1", kHugeInt}));
  t.push_back(int_case("synth-math", "--count", {"-1", "1000001", kHugeInt}, {"0", "1"}));
  t.push_back(difficulty("synth-math", "--difficulty"));
  t.push_back(seed("synth-math"));
  return t;
}

std::string command_line(const Case& c, const std::string& value) {
  std::string line = tandem_binary() + " " + c.command;
  for (const auto& a : base_args(c.command)) line.append(" ").append(shell_quote(a));
  for (const auto& a : option_args(c, value)) line.append(" ").append(shell_quote(a));
  return line;
}

// Parses `tandem COMMAND BASE... OPTION VALUE` in-process. Returns the
// CLI11 parse error, or "" when the line parsed (the command then ran and
// failed on the missing files: any other exception is fine).
std::string parse_error(const Case& c, const std::string& value) {
  CLI::App app{"tandem"};
  app.require_subcommand(1);
  cli::add_all_commands(app);
  std::vector<std::string> args;
  std::istringstream words(c.command);  // "index build": a subcommand's subcommand
  for (std::string w; words >> w;) args.push_back(w);
  for (const auto& a : base_args(c.command)) args.push_back(a);
  for (const auto& a : option_args(c, value)) args.push_back(a);
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector of arguments last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return e.what();
  } catch (const std::exception&) {
  }
  return "";
}

bool is_numeric_type(const std::string& type_name) {
  return type_name.find("INT") != std::string::npos || type_name.find("FLOAT") != std::string::npos;
}

TEST(NumericOptions, TableCoversEveryNumericOption) {
  CLI::App app{"tandem"};
  cli::add_all_commands(app);
  std::set<std::pair<std::string, std::string>> defined, tested;
  // Every command, subcommands of commands included ("index build").
  std::vector<std::pair<std::string, CLI::App*>> commands;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) commands.push_back({sub->get_name(), sub});
  for (size_t i = 0; i < commands.size(); ++i)
    for (CLI::App* sub : commands[i].second->get_subcommands([](CLI::App*) { return true; }))
      commands.push_back({commands[i].first + " " + sub->get_name(), sub});
  for (const auto& [name, sub] : commands) {
    for (const CLI::Option* opt : sub->get_options()) {
      if (opt->get_type_size() != 0 && is_numeric_type(opt->get_type_name())) defined.insert({name, opt->get_name()});
    }
  }
  for (const Case& c : cases()) EXPECT_TRUE(tested.insert({c.command, c.option}).second) << "twice: " << c.command << " " << c.option;
  for (const auto& [cmd, opt] : defined) EXPECT_TRUE(tested.count({cmd, opt})) << "no test for `tandem " << cmd << " " << opt << "`";
  for (const auto& [cmd, opt] : tested) EXPECT_TRUE(defined.count({cmd, opt})) << "not a numeric option: " << cmd << " " << opt;
  EXPECT_GT(defined.size(), 90u);  // the walk itself found the options
}

// Each row tries 0, a negative and a huge value, one way or the other.
TEST(NumericOptions, EveryRowTriesZeroNegativeAndHuge) {
  for (const Case& c : cases()) {
    std::vector<std::string> all = c.bad;
    all.insert(all.end(), c.good.begin(), c.good.end());
    auto has = [&](auto pred) { return std::any_of(all.begin(), all.end(), pred); };
    EXPECT_TRUE(has([](const std::string& v) { return v == "0"; })) << c.command << " " << c.option;
    EXPECT_TRUE(has([](const std::string& v) { return v[0] == '-'; })) << c.command << " " << c.option;
    EXPECT_TRUE(has([](const std::string& v) { return std::abs(std::strtold(v.c_str(), nullptr)) >= 1e10L; }))
        << c.command << " " << c.option;
  }
}

// Runs the command lines four at a time: the table makes hundreds of process
// starts, and each one mostly waits.
std::vector<testing::CommandResult> run_all(const std::vector<std::string>& lines) {
  std::vector<testing::CommandResult> results(lines.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < 4; ++i) {
    pool.emplace_back([&] {
      for (size_t k = next++; k < lines.size(); k = next++) results[k] = run_command(lines[k]);
    });
  }
  for (auto& t : pool) t.join();
  return results;
}

TEST(NumericOptions, OutOfRangeValuesAreOneLineErrors) {
  struct Try {
    const Case* c;
    std::string value;
  };
  const std::vector<Case> table = cases();
  std::vector<Try> tries;
  std::vector<std::string> lines;
  for (const Case& c : table) {
    std::vector<std::string> bad = c.bad;
    bad.push_back(kNonNumbers[0]);
    for (const std::string& v : bad) {
      tries.push_back({&c, v});
      lines.push_back(command_line(c, v));
    }
  }
  const auto results = run_all(lines);
  for (size_t i = 0; i < tries.size(); ++i) {
    const Case& c = *tries[i].c;
    const auto& r = results[i];
    SCOPED_TRACE(lines[i]);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // a signal shows as -1 or 128 + signal
    EXPECT_EQ(r.err.rfind("error: " + c.command + ": " + c.option + ": ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("'" + tries[i].value + "'"), std::string::npos) << r.err;  // the message quotes the value
    EXPECT_EQ(r.out, "");
  }
}

// The same rejections in-process, with every kind of non-number: each is a
// CLI11 parse error naming the option, so no command ever runs with it.
TEST(NumericOptions, OutOfRangeValuesFailToParse) {
  for (const Case& c : cases()) {
    std::vector<std::string> bad = c.bad;
    bad.insert(bad.end(), kNonNumbers.begin(), kNonNumbers.end());
    for (const std::string& v : bad) {
      const std::string e = parse_error(c, v);
      EXPECT_EQ(e.rfind(c.option + ": ", 0), 0u) << "tandem " << c.command << " " << c.option << " '" << v << "': " << e;
    }
  }
}

TEST(NumericOptions, BoundaryValuesParse) {
  for (const Case& c : cases()) {
    for (const std::string& v : c.good) {
      EXPECT_EQ(parse_error(c, v), "") << "tandem " << c.command << " " << c.option << " " << v;
    }
  }
}

void expect_one_line_error(const testing::CommandResult& r, const std::vector<std::string>& needles) {
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << r.err;
}

TEST(NumericOptions, MinAboveMaxIsOneLineError) {
  const std::string gen = tandem_binary() + " generate -m " + source_path("models/tandem-tiny.gguf") + " -p hi --strategy lookup ";
  expect_one_line_error(run_command(gen + "--ngram-min 4 --ngram-max 2"), {"--ngram-min (4) must not exceed --ngram-max (2)"});
  expect_one_line_error(run_command(gen + "--ngram-min 5"), {"--ngram-min (5) must not exceed --ngram-max (3)"});
  expect_one_line_error(run_command(gen + "--draft-min 6 --draft-max 5"), {"--draft-min (6) must not exceed --draft-max (5)"});
  // CLI11 would store "010" as octal 8, which the check did not see: only plain decimal passes.
  expect_one_line_error(run_command(gen + "--ngram-min 010 --ngram-max 9"), {"--ngram-min", "'010'"});
  expect_one_line_error(run_command(gen + "--draft-max +5"), {"--draft-max", "'+5'"});
}

// The boundaries run for real where that is cheap (the tiny model, a few tokens).
class NumericOptionsRun : public ::testing::Test {
 protected:
  void SetUp() override {
    text_ = ::testing::TempDir() + "tandem_numeric_options.txt";
    std::ofstream(text_) << "Once upon a time there was a little dog. The dog liked to run in the park with his friends.\n";
  }
  void TearDown() override { std::remove(text_.c_str()); }
  std::string tiny() const { return shell_quote(source_path("models/tandem-tiny.gguf")); }
  std::string text_;
};

TEST_F(NumericOptionsRun, PerplexityContextBoundaries) {
  const std::string ppl = tandem_binary() + " perplexity -m " + tiny() + " -f " + shell_quote(text_) + " -t 1 ";
  auto r = run_command(ppl + "-c 4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Final estimate: PPL = "), std::string::npos) << r.out;
  // Was a SIGFPE: the chunk count divided by the context before any check.
  expect_one_line_error(run_command(ppl + "-c 0"), {"--ctx-size", "'0'"});
  expect_one_line_error(run_command(ppl + "-c 3"), {"--ctx-size", "'3'"});
}

TEST_F(NumericOptionsRun, GenerateBoundaries) {
  const std::string gen = tandem_binary() + " generate -m " + tiny() + " -t 1 --temp 0 -p " + shell_quote("a b a b a b a");
  auto r = run_command(gen + " -n 1 -c 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("a b a b a b a", 0), 0u) << r.out;
  r = run_command(gen + " -n 4 --strategy lookup --ngram-min 1 --ngram-max 1 --draft-min 1 --draft-max 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, run_command(gen + " -n 4").out);  // greedy lookup decoding leaves the greedy text unchanged
  // Was an out-of-bounds read in the prompt-lookup proposer.
  expect_one_line_error(run_command(gen + " -n 4 --strategy lookup --ngram-min -1"), {"--ngram-min", "'-1'"});
}

TEST_F(NumericOptionsRun, BenchBoundaries) {
  auto r = run_command(tandem_binary() + " bench -m " + tiny() + " -t 1,2 -p 0 -n 1 -r 1 --no-bandwidth --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"tg\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\"pp\""), std::string::npos) << r.out;  // -p 0 skips the pp test
}

}  // namespace
}  // namespace tandem
