// Every kind of config error gives one exact "file:line:column: message"
// (lines and columns counted by hand in the YAML below, 1-based).
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "config_fixture.h"

namespace tandem::config::testing {
namespace {

using ConfigErrors = ConfigDir;

TEST_F(ConfigErrors, MalformedYamlGivesTheParserMessageAndPlace) {
  // Line 3 is indented deeper than the entry before it, which is complete: the
  // parser stops at its key (column 5). An unclosed flow map runs to the end
  // (line 2, column 1, after the last line break).
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "    base: 1\n"),
            "c.yaml:3:5: end of map not found");
  EXPECT_EQ(error_of("models: {tiny: {type: local, path: tiny.gguf}\n"), "c.yaml:2:1: end of map flow not found");
}

TEST_F(ConfigErrors, EmptyFileAndSecondDocument) {
  EXPECT_EQ(error_of(""), "c.yaml: the config is empty: it needs a 'models' map (see configs/README.md)");
  EXPECT_EQ(error_of("# only a comment\n"), "c.yaml: the config is empty: it needs a 'models' map (see configs/README.md)");
  EXPECT_EQ(error_of("models: {tiny: {type: local, path: tiny.gguf}}\n"
                     "prices: {default_local: {per_second: 0}}\n"
                     "---\n"
                     "models: {}\n"),
            "c.yaml:3:1: a second YAML document starts here: a config is one document");
  // yaml-cpp 0.7's LoadAll loops forever on these (its issue #1040); load() returns.
  const std::string stray = "',' cannot start a YAML value: the config is a map with 'models'";
  EXPECT_EQ(error_of(","), "c.yaml:1:1: " + stray);
  EXPECT_EQ(error_of(",x\n"), "c.yaml:1:1: " + stray);
  EXPECT_EQ(error_of("\n\n  , models: {}\n"), "c.yaml:3:3: " + stray);
  EXPECT_EQ(error_of("prices: {}\n"), "c.yaml:1:1: the config needs 'models'");
  EXPECT_EQ(error_of("models: {}\n"), "c.yaml:1:9: 'models' is empty: define at least one model");
  EXPECT_EQ(error_of("- models\n"), "c.yaml:1:1: the config must be a map, got a list");
}

TEST_F(ConfigErrors, UnknownKeyNamesItAndListsTheAllowedOnes) {
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "prices: {default_local: {per_second: 0}}\n"
                     "defualts: {max_tokens: 3}\n"),
            "c.yaml:4:1: unknown key 'defualts' in the config (allowed: models, prices, defaults, budgets)");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny:\n"
                     "    type: local\n"
                     "    pth: tiny.gguf\n"),
            "c.yaml:4:5: unknown key 'pth' in local model 'tiny' (allowed: type, path, strategy, draft, draft_max, "
            "draft_min, draft_init, adaptive_draft, spec_fallback, ngram_min, ngram_max, amateur, alpha, expert, "
            "anti_expert, proxy_strength, n_samples, mbr_utility, scorer, scorer_template, scorer_verdict, threads, "
            "n_ctx, sampling)");
  EXPECT_EQ(error_of("models:\n"
                     "  big:\n"
                     "    type: remote\n"
                     "    base_url: http://127.0.0.1:8080/v1\n"
                     "    timeout: 3\n"),
            "c.yaml:5:5: unknown key 'timeout' in remote model 'big' (allowed: type, base_url, model, api, api_key_env, "
            "context, connect_timeout_s, read_timeout_s, max_retries, max_concurrency, cooldown_after, cooldown_s, "
            "logprobs, params)");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny:\n"
                     "    type: local\n"
                     "    path: tiny.gguf\n"
                     "    sampling: {temperature: 0.5, topk: 3}\n"),
            "c.yaml:5:34: unknown key 'topk' in the sampling of local model 'tiny' (allowed: temperature, top_k, top_p, "
            "min_p, typical_p, repeat_penalty, penalty_last_n, frequency_penalty, presence_penalty, seed)");
}

TEST_F(ConfigErrors, MessagesStayOneLine) {
  // A key holding a line break and a tab (YAML escapes): shown escaped.
  EXPECT_EQ(error_of("models: {tiny: {type: local, path: tiny.gguf}}\n"
                     "\"de\\nfa\\tults\": 1\n"),
            "c.yaml:2:1: unknown key 'de\\x0afa\\x09ults' in the config (allowed: models, prices, defaults, budgets)");
}

TEST_F(ConfigErrors, DuplicateKeyPointsAtTheSecondAndNamesTheFirst) {
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  tiny: {type: local, path: small.gguf}\n"),
            "c.yaml:3:3: duplicate key 'tiny' in models (first at line 2)");
}

TEST_F(ConfigErrors, WrongTypeNamesTheKeyTheExpectedTypeAndTheValue) {
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  base: {type: local, path: base.gguf, strategy: speculative, draft: tiny, draft_max: many}\n"
                     "prices: {default_local: {per_second: 0}}\n"),
            "c.yaml:3:87: 'draft_max' of local model 'base' must be an integer >= 1, got 'many'");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf, sampling: {top_p: 1.5}}\n"),
            "c.yaml:2:58: 'top_p' of the sampling of local model 'tiny' must be a number in [0, 1], got '1.5'");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: [tiny.gguf]}\n"),
            "c.yaml:2:29: 'path' of local model 'tiny' must be a non-empty string, got a list");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: local\n"),
            "c.yaml:2:9: model 'tiny' must be a map, got 'local'");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "defaults: {max_tokens: 1.5}\n"),
            "c.yaml:3:24: 'max_tokens' of defaults must be an integer >= -1, got '1.5'");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf, strategy: lookup, adaptive_draft: maybe}\n"),
            "c.yaml:2:74: 'adaptive_draft' of local model 'tiny' must be true or false, got 'maybe'");
  EXPECT_EQ(error_of("models:\n"
                     "  big: {type: remote, base_url: \"http://h/v1\", params: 0}\n"),
            "c.yaml:2:56: 'params' of remote model 'big' must be a number >= 1, got '0'");
  EXPECT_EQ(error_of("models:\n"
                     "  big: {type: remote, base_url: \"http://h/v1\", params: 7B}\n"),
            "c.yaml:2:56: 'params' of remote model 'big' must be a number >= 1, got '7B'");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {path: tiny.gguf}\n"),
            "c.yaml:2:3: model 'tiny' needs 'type'");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: locale, path: tiny.gguf}\n"),
            "c.yaml:2:16: unknown type 'locale' of model 'tiny' (use local, remote, cascade, router, stack or retrieval)");
}

TEST_F(ConfigErrors, UnknownModelReferenceSuggestsTheClosestName) {
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  base: {type: local, path: base.gguf, strategy: speculative, draft: tyni}\n"
                     "prices: {default_local: {per_second: 0}}\n"),
            "c.yaml:3:70: unknown model 'tyni' (did you mean 'tiny'?)");
  // Nothing close: the defined models are listed.
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  base: {type: local, path: base.gguf}\n"
                     "  both: {type: cascade, stages: [tiny, gpt4o], rule: {signal: min_logprob, threshold: -2}}\n"
                     "prices: {default_local: {per_second: 0}}\n"),
            "c.yaml:4:40: unknown model 'gpt4o' (models: tiny, base, both)");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "prices: {default_local: {per_second: 0}}\n"
                     "defaults: {model: tinny}\n"),
            "c.yaml:4:19: unknown model 'tinny' (did you mean 'tiny'?)");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "prices: {default_local: {per_second: 0}, tiny2: {per_second: 1}}\n"),
            "c.yaml:3:42: a price for unknown model 'tiny2' (did you mean 'tiny'?)");
}

TEST_F(ConfigErrors, CycleNamesItsPath) {
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  first:\n"
                     "    type: cascade\n"
                     "    stages: [tiny, second]\n"
                     "    rule: {signal: mean_logprob, threshold: -0.5}\n"
                     "  second:\n"
                     "    type: cascade\n"
                     "    stages: [tiny, first]\n"
                     "    rule: {signal: mean_logprob, threshold: -0.5}\n"
                     "prices: {default_local: {per_second: 0}}\n"),
            "c.yaml:9:20: cycle: first -> second -> first");
  EXPECT_EQ(error_of("models:\n"
                     "  base: {type: local, path: base.gguf, strategy: speculative, draft: base}\n"
                     "prices: {default_local: {per_second: 0}}\n"),
            "c.yaml:2:70: cycle: base -> base");
}

TEST_F(ConfigErrors, MissingGgufListsThePathsTried) {
  const std::string cwd = fs::current_path().string();
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: models/none.gguf}\n"),
            "c.yaml:2:29: GGUF file 'models/none.gguf' of local model 'tiny' not found (tried " + dir_.string() +
                "/models/none.gguf, " + cwd + "/models/none.gguf)");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: /nonexistent/none.gguf}\n"),
            "c.yaml:2:29: GGUF file '/nonexistent/none.gguf' of local model 'tiny' not found (tried "
            "/nonexistent/none.gguf)");
  write("text.gguf", "not a model");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: text.gguf}\n"),
            "c.yaml:2:29: the file of local model 'tiny' is not a GGUF (it does not start with 'GGUF'): " +
                dir_.string() + "/text.gguf");
}

TEST_F(ConfigErrors, BadThreshold) {
  auto with_rule = [&](const std::string& rule) {
    return error_of("models:\n"
                    "  tiny: {type: local, path: tiny.gguf}\n"
                    "  base: {type: local, path: base.gguf}\n"
                    "  both:\n"
                    "    type: cascade\n"
                    "    stages: [tiny, base]\n"
                    "    rule: " + rule + "\n"
                    "prices: {default_local: {per_second: 0}}\n");
  };
  // Column 45 is the threshold's value in "    rule: {signal: mean_logprob, threshold: X}".
  EXPECT_EQ(with_rule("{signal: mean_logprob, threshold: high}"),
            "c.yaml:7:45: 'threshold' of the rule of cascade 'both' must be a number, got 'high'");
  EXPECT_EQ(with_rule("{signal: mean_logprob, threshold: .nan}"),
            "c.yaml:7:45: 'threshold' of the rule of cascade 'both' must be a number, got '.nan'");
  EXPECT_EQ(with_rule("{signal: mean_logprob, threshold: 0.5}"),
            "c.yaml:7:45: threshold 0.5 of mean_logprob is never reached (a logprob is <= 0): use a value <= 0, or "
            ".inf to always defer");
  EXPECT_EQ(with_rule("{signal: agreement, threshold: 1.5}"),
            "c.yaml:7:42: threshold 1.5 of agreement must be a share in [0, 1] (or -.inf / .inf)");
  EXPECT_EQ(with_rule("{signal: mean_logprob}"), "c.yaml:7:11: the rule of cascade 'both' needs 'threshold'");
  // Infinities are thresholds: always accept, never accept.
  for (const char* ok : {"-.inf", ".inf", "\"-inf\"", "\"inf\"", "-.Inf", "+.inf"})
    EXPECT_EQ(with_rule(std::string("{signal: min_logprob, threshold: ") + ok + "}"), "(loaded)") << ok;
}

TEST_F(ConfigErrors, UnknownStrategyAndSignal) {
  EXPECT_EQ(error_of("models:\n"
                     "  base: {type: local, path: base.gguf, strategy: speculativ}\n"),
            "c.yaml:2:50: unknown strategy 'speculativ' (use sample, greedy, speculative, lookup, contrastive, proxy, "
            "best-of-n, self-consistency or mbr)");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  base: {type: local, path: base.gguf}\n"
                     "  both: {type: cascade, stages: [tiny, base], rule: {signal: confidence, threshold: 0}}\n"),
            "c.yaml:4:62: unknown signal 'confidence' (use mean_logprob, min_logprob, agreement, verdict or self_verify)");
}

TEST_F(ConfigErrors, StrategyHelpersAndOptions) {
  EXPECT_EQ(error_of("models:\n"
                     "  base: {type: local, path: base.gguf, strategy: speculative}\n"),
            "c.yaml:2:50: strategy speculative needs 'draft', the name of a local model (local model 'base')");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  base: {type: local, path: base.gguf, strategy: proxy, expert: tiny}\n"),
            "c.yaml:3:50: strategy proxy needs 'anti_expert', the name of a local model (local model 'base')");
  // An option of another strategy is refused, not ignored.
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  base: {type: local, path: base.gguf, draft: tiny}\n"),
            "c.yaml:3:40: 'draft' is used only by strategy speculative, not by 'sample' (local model 'base')");
  EXPECT_EQ(error_of("models:\n"
                     "  base: {type: local, path: base.gguf, strategy: greedy, n_samples: 3}\n"),
            "c.yaml:2:58: 'n_samples' is used only by strategy best-of-n, self-consistency and mbr, not by 'greedy' "
            "(local model 'base')");
  // Helpers whose logits are combined must be local models.
  EXPECT_EQ(error_of("models:\n"
                     "  big: {type: remote, base_url: \"http://127.0.0.1:8080/v1\"}\n"
                     "  base: {type: local, path: base.gguf, strategy: contrastive, amateur: big}\n"),
            "c.yaml:3:72: amateur 'big' of local model 'base' must be a local model (its logits are combined token by "
            "token), but it is a remote model");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  base: {type: cascade, stages: [tiny, tiny], rule: {signal: min_logprob, threshold: -1, k: 3}}\n"),
            "c.yaml:3:90: 'k' is used only by signal agreement, not by min_logprob");
}

TEST_F(ConfigErrors, ApiKeyNeverInTheFile) {
  EXPECT_EQ(error_of("models:\n"
                     "  big:\n"
                     "    type: remote\n"
                     "    base_url: http://127.0.0.1:8080/v1\n"
                     "    api_key: sk-123\n"),
            "c.yaml:5:5: 'api_key' of remote model 'big': an API key never goes in a config file: set api_key_env to the "
            "name of the environment variable that holds it");
  EXPECT_EQ(error_of("models:\n"
                     "  big:\n"
                     "    type: remote\n"
                     "    base_url: http://127.0.0.1:8080/v1\n"
                     "    api_key_env: sk-123\n"),
            "c.yaml:5:18: api_key_env of remote model 'big' must be the NAME of an environment variable (letters, "
            "digits, '_'), got 'sk-123'");
}

TEST_F(ConfigErrors, EveryLocalAndRemoteModelNeedsAPrice) {
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"),
            "c.yaml:2:3: local model 'tiny' has no price: add prices: {tiny: {per_second: ...}} or a default_local price "
            "(0 prices it free; nothing is free by default)");
  // default_local does not price remote models.
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  big: {type: remote, base_url: \"http://127.0.0.1:8080/v1\"}\n"
                     "prices: {default_local: {per_second: 0.001}}\n"),
            "c.yaml:3:3: remote model 'big' has no price: add prices: {big: {input_per_mtok: ..., output_per_mtok: ...}} "
            "(0 prices it free; nothing is free by default)");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "prices: {tiny: {}}\n"),
            "c.yaml:3:16: the price of 'tiny' is empty: give input_per_mtok, output_per_mtok or per_second (0 to price "
            "it free)");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "prices: {tiny: {per_second: -1}}\n"),
            "c.yaml:3:29: 'per_second' of the price of 'tiny' must be a number >= 0, got '-1'");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  both: {type: cascade, stages: [tiny, tiny], rule: {signal: min_logprob, threshold: -1}}\n"
                     "prices: {tiny: {per_second: 0}, both: {per_second: 1}}\n"),
            "c.yaml:4:33: cascade 'both' has no price of its own: its cost is the sum of its stages' costs");
}

TEST_F(ConfigErrors, CascadeShape) {
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  both: {type: cascade, stages: [tiny], rule: {signal: min_logprob, threshold: -1}}\n"),
            "c.yaml:3:33: cascade 'both' needs at least two stages, got 1");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  both: {type: cascade, stages: [tiny, tiny, tiny], rules: [{signal: min_logprob, threshold: -1}]}\n"),
            "c.yaml:3:60: 'rules' of cascade 'both' must be a list of 2 rules (one per stage but the last), got 1 rules");
  EXPECT_EQ(error_of("models:\n"
                     "  tiny: {type: local, path: tiny.gguf}\n"
                     "  both: {type: cascade, stages: [tiny, tiny]}\n"),
            "c.yaml:3:3: cascade 'both' needs 'rule' (or 'rules', one per stage but the last)");
}

TEST_F(ConfigErrors, ModelNames) {
  EXPECT_EQ(error_of("models:\n"
                     "  default_local: {type: local, path: tiny.gguf}\n"),
            "c.yaml:2:3: 'default_local' is reserved (the price of local models without their own)");
  EXPECT_EQ(error_of("models:\n"
                     "  \"my model\": {type: local, path: tiny.gguf}\n"),
            "c.yaml:2:3: model name 'my model' may hold only letters, digits and _ - . : /");
}

TEST_F(ConfigErrors, MissingFile) {
  EXPECT_THROW(
      {
        try {
          load((dir_ / "none.yaml").string());
        } catch (const Error& e) {
          EXPECT_EQ(std::string(e.what()), (dir_ / "none.yaml").string() + ": cannot read the config file (does it exist?)");
          throw;
        }
      },
      Error);
}

}  // namespace
}  // namespace tandem::config::testing
