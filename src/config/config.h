// A configuration file (YAML; JSON is YAML too) names models and prices them:
//
//   models:
//     tiny:   {type: local, path: models/tandem-tiny.gguf}
//     base:   {type: local, path: models/tandem-base.gguf, strategy: speculative, draft: tiny}
//     big:    {type: remote, base_url: "http://127.0.0.1:8080/v1", model: default,
//              api: completions, api_key_env: TANDEM_REMOTE_KEY, context: 4096}
//     tiny-then-base:
//       type: cascade
//       stages: [tiny, base]
//       rule: {signal: mean_logprob, threshold: -0.35}
//   prices: {big: {input_per_mtok: 0.5, output_per_mtok: 1.5}, default_local: {per_second: 0.0001}}
//   defaults: {model: tiny-then-base, max_tokens: 256, sampling: {temperature: 0.7}}
//
// Every key of the schema is listed in configs/README.md. Loading happens in
// two steps, so that a config can be checked without loading any model:
//   load()  reads and checks the file into the plain specs below: every key
//           known, every value of its type and range, every reference to a
//           defined model of a fitting type, no cycle, every GGUF present,
//           every local and remote model priced. Nothing is loaded.
//   build() (config/build.h) turns the specs into Models through injected
//           builders, each named model once, dependencies first.
//
// Errors are tandem::Error with one line "file:line:column: what is wrong"
// (1-based, pointing at the offending key or value; "file: ..." where the
// problem has no place, e.g. an empty file).
//
// API keys never appear in a config: a remote model names the environment
// variable holding its key (api_key_env). Whether it is set is checked by
// build(), not load(), so configs can be validated where the key is absent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/types.h"

namespace tandem::compose {
struct RouterTable;     // compose/router_table.h
class RetrievalIndex;   // compose/retrieval_index.h
}

namespace tandem::config {

// A place in a config file; line and column are 1-based, 0 when unknown.
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
  // "file:line:column", or "file" when the line is unknown.
  std::string str() const;
};

// A model named by another (a draft, a cascade stage), where it is named.
struct Reference {
  std::string name;
  Location at;
};

// type: local — a GGUF and a decoding strategy (decode/strategy.h). The
// strategy options carry StrategyOptions' names in snake_case; an unset one
// (nullopt) takes the strategy's default. load() rejects an option the
// strategy would not use and a strategy without the helper model it needs.
struct LocalSpec {
  std::string path;                 // the GGUF, absolute (see load()); exists
  std::string strategy = "sample";  // sample greedy speculative lookup contrastive proxy best-of-n
                                    // self-consistency mbr
  // Helper models, by config name: draft (speculative), amateur (contrastive),
  // expert and anti_expert (proxy: tuned and untuned), scorer (best-of-n). All
  // but the scorer are local models (their logits are needed).
  std::optional<Reference> draft, amateur, expert, anti_expert, scorer;
  std::optional<int> draft_max, draft_min, draft_init;   // speculative, lookup
  std::optional<bool> adaptive_draft, spec_fallback;     // speculative, lookup
  std::optional<int> ngram_min, ngram_max;               // lookup
  std::optional<float> alpha;                            // contrastive
  std::optional<float> proxy_strength;                   // proxy
  std::optional<int> n_samples;                          // best-of-n, self-consistency, mbr
  std::optional<std::string> mbr_utility;                // mbr: exact, f1 or chrf
  std::optional<std::string> scorer_template, scorer_verdict;  // best-of-n with a scorer
  std::optional<int> threads;                            // 0: all cores
  std::optional<int64_t> n_ctx;                          // 0: as large as a request needs
  // The sampling this model uses when a front end sets none: defaults.sampling
  // overlaid with the model's own `sampling:` keys.
  api::SamplingOptions sampling;
  api::Price price;  // prices.<name>, else prices.default_local
};

// type: remote — an OpenAI-compatible endpoint (remote/remote_model.h). The
// tunables are nullopt when the file does not set them (RemoteOptions'
// defaults then apply).
struct RemoteSpec {
  std::string base_url;             // http:// or https://
  std::string model;                // the endpoint's model name; may be empty
  std::string api = "chat";         // "chat" or "completions"
  std::string api_key_env;          // variable holding the key; empty: no key
  Location api_key_env_at;          // where api_key_env is set (for build()'s error)
  int64_t context = 0;              // tokens; 0: unknown
  std::optional<double> connect_timeout_s, read_timeout_s;  // > 0
  std::optional<int> max_retries;                           // >= 0
  std::optional<int> max_concurrency;                       // >= 1
  std::optional<int> cooldown_after;                        // >= 1
  std::optional<double> cooldown_s;                         // >= 0
  std::optional<bool> logprobs;     // the endpoint returns logprobs
  std::optional<double> params;     // the remote model's parameter count (>= 1; FLOPs estimates), if known
  api::Price price;                 // prices.<name> (required)
};

// One deferral rule (compose/signals.h RuleOptions, compose/verdict_rules.h):
// accept a stage's answer when signal >= threshold. threshold may be -inf
// (always accept) or +inf (never); logprob signals need a threshold <= 0,
// agreement, verdict and self_verify one in [0, 1]. A field is set only by
// the signals that use it (else load() fails at the key).
struct RuleSpec {
  std::string signal;  // mean_logprob, min_logprob, agreement, verdict or self_verify
  double threshold = 0.0;
  std::optional<int> samples;           // agreement (alias k): >= 2; self_verify: >= 1
  std::optional<std::string> agree_on;  // agreement only (alias mode): answer or text
  std::optional<float> temperature;     // agreement, self_verify: > 0
  std::optional<Reference> judge;       // verdict (required): a local model (it scores text)
  std::optional<std::string> templ;     // verdict, self_verify (key `template`): holds {answer}
  std::optional<std::string> verdict;   // verdict: default " Yes"
  std::optional<std::string> against;   // verdict: default " No"
  Location at;                          // the rule's map
};

// type: cascade — stages asked in order (compose/cascade.h).
struct CascadeSpec {
  std::vector<Reference> stages;  // at least two
  std::vector<RuleSpec> rules;    // one (`rule:`), or one per non-final stage (`rules:`)
};

// type: router — a learned router over candidate models (compose/router.h).
// load() reads the table (compose/router_table.h) and checks that its models
// are the candidates, in order, and its embedder the router's.
struct RouterSpec {
  std::vector<Reference> candidates;  // at least one
  Reference embedder;                 // a local model (it embeds prompts)
  std::string table;                  // the router table file, absolute; exists and parses
  std::shared_ptr<const compose::RouterTable> table_data;  // the table as load() read it
  int k = 16;                         // >= 1
  double cost_weight = 0.0;           // >= 0; with large_share: the knob that gives it
  std::optional<double> large_share;  // [0, 1]: the share of calls to the costliest candidate
};

// type: retrieval — a model answering with the passages of a retrieval index
// most similar to the request in its prompt (compose/retrieval.h). load()
// reads the index and checks that it was built by the embedder.
struct RetrievalSpec {
  Reference model;                    // the inner model, which answers (any type)
  Reference embedder;                 // a local model (it embeds the request)
  std::string index;                  // the index file, absolute; exists and parses
  std::shared_ptr<const compose::RetrievalIndex> index_data;  // as load() read it
  int k = 3;                          // >= 1
  std::string templ;                  // key `template`; empty: compose's default
};

// type: stack — models asked in order, each through its own template,
// passing text on (compose/stack.h). load() checks every template's
// placeholders against the step names.
struct StackStepSpec {
  Reference model;
  std::string name;                 // empty: the model's name
  std::string templ;                // key `template`
  std::optional<int> max_tokens;    // non-final steps only
  std::vector<std::string> stop;    // non-final steps only
  Location at;                      // the step's map
};
struct StackSpec {
  std::vector<StackStepSpec> steps;  // at least one
};

struct ModelSpec {
  std::string name;
  Location at;  // the model's name in `models:`
  std::variant<LocalSpec, RemoteSpec, CascadeSpec, RouterSpec, StackSpec, RetrievalSpec> spec;

  std::string_view type() const;  // "local", "remote", "cascade", "router", "stack" or "retrieval"
  // The models this one is built from, in the order they appear (a
  // cascade's stages and its rules' judges, a router's candidates and
  // embedder, a stack's step models, a retrieval's model and embedder).
  std::vector<const Reference*> references() const;
};

struct Defaults {
  std::optional<Reference> model;  // the model front ends use when none is named
  int max_tokens = 128;            // < 0: until end of text
  api::SamplingOptions sampling;   // also the base of every local model's sampling
};

// budgets.NAME — a spending limit on a local or remote model over a sliding
// window (compose/budget.h), enforced by every composition that calls it.
struct BudgetSpec {
  std::optional<double> max_cost;     // >= 0, in the price table's currency
  std::optional<int64_t> max_tokens;  // >= 0, prompt + completion tokens
  double window_s = 3600.0;           // > 0
  Location at;                        // the model's name in `budgets:`
};

struct Config {
  std::string file;              // as given to load() (the name in messages)
  std::vector<ModelSpec> models;  // in file order
  Defaults defaults;
  std::map<std::string, BudgetSpec> budgets;  // by model name

  const ModelSpec* find(std::string_view name) const;  // null when absent
};

// Reads and checks a config file (see the top of this file). A relative GGUF
// path is looked up from the config file's folder first, then from the
// working directory; LocalSpec::path is the first that exists, made absolute.
// Throws tandem::Error "file:line:column: ..." for anything wrong.
Config load(const std::string& path);

// The same for text in memory: `name` is the file name in messages, `dir` the
// folder relative GGUF paths are looked up from first.
Config load_from_string(std::string_view text, const std::string& name, const std::filesystem::path& dir);

}  // namespace tandem::config
