// Grammar constraints together with speculative decoding, on real GGUF models:
// greedy speculative (draft model or prompt lookup) + grammar must equal plain
// greedy + grammar token for token; sampled speculative + grammar output must
// always parse. Drafts that break the grammar are cut, not emitted.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "decode/strategy.h"
#include "grammar/grammar_matcher.h"
#include "grammar/json_schema.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::decode {
namespace {

using testing::shared_path;

const char* kGrammars[] = {
    R"(root ::= "{" [a-z]{1,6} ":" [0-9]{1,3} "}")",
    R"(root ::= ("the" | "a" | "one") (" " [a-z]+){2,5} ".")",
    R"(root ::= [a-z ]+ ("!" | "?"))",
};
const char* kSchemas[] = {
    R"({"type":"object","properties":{"ok":{"type":"boolean"},"name":{"type":"string","maxLength":6}},"required":["ok","name"]})",
    R"({"type":"array","items":{"enum":["red","green","blue"]},"minItems":1,"maxItems":3})",
};
const char* kPrompts[] = {"Once upon a time, there was a little dog.", "The answer is", "One two one two one two"};

StrategyOptions greedy_opts(const std::string& strategy, int n) {
  StrategyOptions o;
  o.strategy = strategy;
  o.text.n_predict = n;
  o.sampling.temperature = 0.0f;
  return o;
}

TEST(SpeculativeGrammar, GreedySpeculativeEqualsGreedyUnderGrammarsAndSchemas) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  auto model = Transformer::load(shared_path("fixtures/arch/llama-f32.gguf"), {.n_threads = 1});
  const std::shared_ptr<const Transformer> draft = Transformer::load(shared_path("fixtures/arch/llama-q4_0.gguf"), {.n_threads = 1});
  int compared = 0;
  int64_t accepted = 0;
  for (int kind = 0; kind < 2; ++kind) {
    const size_t n_constraints = kind == 0 ? std::size(kGrammars) : std::size(kSchemas);
    for (size_t c = 0; c < n_constraints; ++c) {
      for (const char* prompt : kPrompts) {
        auto base = greedy_opts("greedy", 40);
        (kind == 0 ? base.grammar : base.json_schema) = kind == 0 ? kGrammars[c] : kSchemas[c];
        const auto want = run_strategy(*model, prompt, base);
        for (const char* st : {"speculative", "lookup"}) {
          auto o = base;
          o.strategy = st;
          if (o.strategy == "speculative") o.models.draft = draft;  // lookup rejects a draft model
          o.spec_fallback = false;  // every round speculative: the masking is exercised throughout
          const auto got = run_strategy(*model, prompt, o);
          EXPECT_EQ(got.output.tokens, want.output.tokens) << st << " constraint " << kind << "/" << c << " prompt " << prompt;
          EXPECT_EQ(got.output.text, want.output.text);
          EXPECT_EQ(got.output.finish_reason, want.output.finish_reason);
          if (std::string(st) == "speculative") accepted += got.speculative.accepted;
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(compared, 2 * 3 * 5);
  EXPECT_GT(accepted, 0);  // the draft model's constrained drafts were kept
}

TEST(SpeculativeGrammar, SampledSpeculativeOutputParses) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  auto model = Transformer::load(shared_path("fixtures/arch/llama-f32.gguf"), {.n_threads = 1});
  const std::shared_ptr<const Transformer> draft = Transformer::load(shared_path("fixtures/arch/llama-q8_0.gguf"), {.n_threads = 1});
  for (uint64_t seed = 0; seed < 3; ++seed) {
    for (const char* st : {"speculative", "lookup"}) {
      StrategyOptions o;
      o.strategy = st;
      if (o.strategy == "speculative") o.models.draft = draft;
      o.sampling.seed = seed;
      o.sampling.temperature = 1.0f;
      o.text.n_predict = 80;
      o.grammar = kGrammars[0];
      auto r = run_strategy(*model, kPrompts[seed % 3], o);
      ASSERT_EQ(r.output.finish_reason, "eos") << st << ": " << r.output.text;
      grammar::GrammarMatcher m(std::make_shared<grammar::Grammar>(grammar::parse_gbnf(o.grammar)));
      EXPECT_TRUE(m.matches(r.output.text)) << st << ": " << r.output.text;

      o.grammar.clear();
      o.json_schema = kSchemas[0];
      o.text.n_predict = 200;
      r = run_strategy(*model, kPrompts[seed % 3], o);
      ASSERT_EQ(r.output.finish_reason, "eos") << st << ": " << r.output.text;
      auto doc = nlohmann::json::parse(r.output.text);
      EXPECT_TRUE(doc["ok"].is_boolean()) << r.output.text;
      EXPECT_TRUE(doc["name"].is_string()) << r.output.text;
      size_t code_points = 0;  // maxLength counts characters, not bytes
      for (unsigned char ch : doc["name"].get<std::string>()) code_points += (ch & 0xC0) != 0x80;
      EXPECT_LE(code_points, 6u) << r.output.text;
    }
  }
}

TEST(SpeculativeGrammar, CliAcceptsSpeculationWithAGrammar) {
  TANDEM_REQUIRE_SHARED("fixtures/arch/llama-f32.gguf");
  const std::string dir = ::testing::TempDir();
  const std::string g = dir + "/spec_grammar.gbnf";
  {
    std::FILE* f = std::fopen(g.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(kGrammars[0], f);
    std::fclose(f);
  }
  const std::string base = testing::tandem_binary() + " generate -m " + shared_path("fixtures/arch/llama-f32.gguf") +
                           " -p 'The answer is' -n 40 --temp 0 --no-display-prompt --grammar " + g + " -t 1";
  auto plain = testing::run_command(base);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  auto spec = testing::run_command(base + " --strategy speculative -v --draft " + shared_path("fixtures/arch/llama-q4_0.gguf"));
  ASSERT_EQ(spec.exit_code, 0) << spec.err;
  EXPECT_EQ(spec.out, plain.out);
  EXPECT_NE(spec.err.find("fallback"), std::string::npos) << spec.err;
  grammar::GrammarMatcher m(std::make_shared<grammar::Grammar>(grammar::parse_gbnf(kGrammars[0])));
  std::string text = spec.out;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  EXPECT_TRUE(m.matches(text)) << text;
}

}  // namespace
}  // namespace tandem::decode
