// Every strategy x option pair `tandem generate` and `tandem chat` accept is
// applied or rejected: options a strategy would ignore give one exact error
// line (exit 1) before any model is loaded; penalties with speculative
// strategies are applied (same text as --strategy greedy).
#include <gtest/gtest.h>

#include "test_util.h"

namespace tandem {
namespace {

using testing::run_command;
using testing::shell_quote;
using testing::source_path;
using testing::tandem_binary;

std::string generate(const std::string& extra) {
  return tandem_binary() + " generate -m " + shell_quote(source_path("models/stories260K.gguf")) +
         " -p 'Once upon a time' -n 8 -t 1 " + extra;
}

struct Rejection {
  const char* args;
  const char* message;
};

void expect_rejected(const std::string& command, const std::string& message) {
  const auto r = run_command(command);
  EXPECT_EQ(r.exit_code, 1) << command;
  EXPECT_EQ(r.err, "error: " + message + "\n") << command;
  EXPECT_EQ(r.out, "") << command;  // rejected before anything is generated
}

TEST(StrategyOptionsCli, OptionsTheStrategyWouldIgnoreAreRejected) {
  const Rejection cases[] = {
      {"--draft d.gguf", "--draft is used only by --strategy speculative, not by --strategy sample"},
      {"--strategy lookup --draft d.gguf", "--draft is used only by --strategy speculative, not by --strategy lookup"},
      {"--draft-max 4", "--draft-max is used only by --strategy speculative and lookup, not by --strategy sample"},
      {"--strategy greedy --draft-min 2",
       "--draft-min is used only by --strategy speculative and lookup, not by --strategy greedy"},
      {"--strategy mbr --no-adaptive-draft",
       "--no-adaptive-draft is used only by --strategy speculative and lookup, not by --strategy mbr"},
      {"--strategy contrastive --amateur a.gguf --no-spec-fallback",
       "--no-spec-fallback is used only by --strategy speculative and lookup, not by --strategy contrastive"},
      {"--strategy speculative --draft d.gguf --ngram-min 2",
       "--ngram-min is used only by --strategy lookup, not by --strategy speculative"},
      {"--ngram-max 3", "--ngram-max is used only by --strategy lookup, not by --strategy sample"},  // the default, written
      {"--amateur a.gguf", "--amateur is used only by --strategy contrastive, not by --strategy sample"},
      {"--strategy proxy --alpha 0.1", "--alpha is used only by --strategy contrastive, not by --strategy proxy"},
      {"--strategy contrastive --expert e.gguf", "--expert is used only by --strategy proxy, not by --strategy contrastive"},
      {"--anti-expert u.gguf", "--anti-expert is used only by --strategy proxy, not by --strategy sample"},
      {"--proxy-strength 2", "--proxy-strength is used only by --strategy proxy, not by --strategy sample"},
      {"--strategy lookup --n-samples 4",
       "--n-samples is used only by --strategy best-of-n, self-consistency and mbr, not by --strategy lookup"},
      {"--strategy mbr --scorer s.gguf", "--scorer is used only by --strategy best-of-n, not by --strategy mbr"},
      {"--strategy self-consistency --scorer-verdict ' No'",
       "--scorer-verdict is used only by --strategy best-of-n, not by --strategy self-consistency"},
      {"--strategy best-of-n --mbr-utility f1", "--mbr-utility is used only by --strategy mbr, not by --strategy best-of-n"},
      {"--strategy best-of-n --scorer-template '{prompt}{candidate}'",
       "--scorer-template needs --scorer (without a judge model best-of-n ranks by mean logprob)"},
      {"--strategy lookup --no-adaptive-draft --draft-min 2",
       "--draft-min has no effect with --no-adaptive-draft (every draft is --draft-max tokens)"},
      {"--strategy greedy --temp 0.7",
       "--temp 0.7 conflicts with --strategy greedy (always the most likely token): use --strategy sample to sample"},
      {"--strategy greedy --top-k 5",
       "--top-k has no effect with greedy decoding (--strategy greedy): drop it, or sample with --strategy sample and "
       "--temp > 0"},
      {"--temp 0 --seed 3",
       "--seed has no effect with greedy decoding (--temp 0): drop it, or sample with --strategy sample and --temp > 0"},
      {"--strategy lookup --temp 0 --top-p 0.9",
       "--top-p has no effect with greedy decoding (--temp 0): drop it, or sample with --strategy sample and --temp > 0"},
      {"--strategy contrastive --amateur a.gguf --temp 0 --min-p 0.1",
       "--min-p has no effect with greedy decoding (--temp 0): drop it, or sample with --strategy sample and --temp > 0"},
      {"--strategy greedy --typical 0.5",
       "--typical has no effect with greedy decoding (--strategy greedy): drop it, or sample with --strategy sample and "
       "--temp > 0"},
      {"--strategy mbr --temp 0", "--strategy mbr at --temp 0 would sample 4 identical greedy candidates: use --temp > 0"},
      {"--strategy best-of-n --temp 0 --n-samples 3",
       "--strategy best-of-n at --temp 0 would sample 3 identical greedy candidates: use --temp > 0"},
      {"--repeat-last-n 32",
       "--repeat-last-n has no effect without --repeat-penalty, --frequency-penalty or --presence-penalty"},
      {"--presence-penalty 0.5 --repeat-last-n 0",
       "--repeat-last-n 0 turns the penalties off: drop it, or drop --repeat-penalty, --frequency-penalty and "
       "--presence-penalty"},
  };
  for (const Rejection& c : cases) expect_rejected(generate(c.args), c.message);
}

TEST(StrategyOptionsCli, ChatRejectsOptionsItWouldIgnore) {
  const std::string chat = tandem_binary() + " chat -m " + shell_quote(source_path("models/stories260K.gguf")) +
                           " --template chatml -p hi ";
  expect_rejected(chat + "--print-prompt --temp 0.5", "--temp has no effect with --print-prompt (nothing is generated)");
  expect_rejected(chat + "--print-prompt -n 4", "--n-predict has no effect with --print-prompt (nothing is generated)");
  expect_rejected(chat + "--temp 0 --top-k 10",
                  "--top-k has no effect with greedy decoding (--temp 0): drop it, or sample with --strategy sample and "
                  "--temp > 0");
  const auto ok = run_command(chat + "--print-prompt -t 1");  // --threads is allowed in both modes
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(StrategyOptionsCli, CombinationsThatApplyAreAccepted) {
  for (const char* args : {"--strategy greedy --temp 0 --repeat-penalty 1.3 --repeat-last-n 16",
                           "--strategy greedy --frequency-penalty 0.5",
                           "--temp 0.8 --top-k 5 --seed 1",
                           "--strategy lookup --temp 0 --draft-max 4 --draft-min 2 --ngram-min 2 --no-spec-fallback",
                           "--strategy lookup --temp 0 --no-adaptive-draft --draft-max 3",
                           "--strategy best-of-n --temp 0 --n-samples 1",
                           "--strategy mbr --temp 0.9 --seed 2 --n-samples 2 --mbr-utility f1"}) {
    const auto r = run_command(generate(args));
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
  }
}

// The penalties reach the verifier: speculative (tandem-tiny drafting for
// tandem-base) and lookup print exactly the --strategy greedy text.
TEST(StrategyOptionsCli, SpeculativeWithPenaltiesPrintsTheGreedyText) {
  const std::string base = tandem_binary() + " generate -m " + shell_quote(source_path("models/tandem-base.gguf")) +
                           " -p 'Once upon a time, there was a little dog.' -n 40 -t 1 --no-display-prompt --temp 0"
                           " --repeat-penalty 1.4 --frequency-penalty 0.3 --presence-penalty 0.2 --repeat-last-n 24";
  const auto greedy = run_command(base + " --strategy greedy");
  ASSERT_EQ(greedy.exit_code, 0) << greedy.err;
  const auto unpenalized = run_command(tandem_binary() + " generate -m " +
                                       shell_quote(source_path("models/tandem-base.gguf")) +
                                       " -p 'Once upon a time, there was a little dog.' -n 40 -t 1 --no-display-prompt"
                                       " --strategy greedy");
  ASSERT_EQ(unpenalized.exit_code, 0) << unpenalized.err;
  EXPECT_NE(unpenalized.out, greedy.out);  // the penalties matter for this prompt
  const auto spec = run_command(base + " --strategy speculative --no-spec-fallback -v --draft " +
                                shell_quote(source_path("models/tandem-tiny.gguf")));
  ASSERT_EQ(spec.exit_code, 0) << spec.err;
  EXPECT_EQ(spec.out, greedy.out);
  EXPECT_NE(spec.err.find("accepted"), std::string::npos) << spec.err;
  const auto lookup = run_command(base + " --strategy lookup --no-spec-fallback");
  ASSERT_EQ(lookup.exit_code, 0) << lookup.err;
  EXPECT_EQ(lookup.out, greedy.out);
}

}  // namespace
}  // namespace tandem
