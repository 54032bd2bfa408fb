// tandem generate: stream a continuation of a prompt to stdout, with any of the
// decoding strategies of src/decode (plain sampling, speculative, contrastive,
// proxy-tuning, best-of-N, self-consistency, MBR) and optional grammar or
// JSON-schema constraints.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/lora_options.h"
#include "cli/numeric_options.h"
#include "cli/sampling_options.h"
#include "api/model.h"
#include "decode/strategy.h"
#include "local/local_model.h"
#include "model/transformer.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

struct GenerateOptions {
  std::string model;
  std::string prompt;
  std::string prompt_file;
  std::string grammar_file;
  std::string json_schema_file;
  decode::StrategyOptions strategy;
  bool seed_set = false;
  int threads = 0;
  LoraOptions lora;
  bool no_display_prompt = false;
  bool verbose = false;
};

std::string read_text_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open " + what);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The long names of the options written on the command line ("--draft", ...).
std::vector<std::string> written_options(const CLI::App& cmd) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : cmd.get_options())
    if (opt->count() > 0) names.push_back(opt->get_name());
  return names;
}

// Loads the helper models the options name (decode loads none).
void load_helpers(decode::StrategyOptions& s, int threads) {
  auto load = [&](const std::string& path) -> std::shared_ptr<const Transformer> {
    if (path.empty()) return nullptr;
    return Transformer::load(path, {.n_threads = threads});
  };
  s.models.draft = load(s.draft_model);
  s.models.amateur = load(s.amateur_model);
  s.models.expert = load(s.tuned_model);
  s.models.anti_expert = load(s.untuned_model);
  try {
    s.models.scorer = load(s.scorer_model);
  } catch (const Error& e) {
    throw Error(std::string("scorer model: ") + e.what());
  }
}

// The request part of the options (sampling, text, constraints); the rest
// (strategy, its own options, helpers, context) makes the LocalModel.
api::Request request_of(const GenerateOptions& o) {
  const decode::StrategyOptions& s = o.strategy;
  api::Request q;
  q.prompt = o.prompt;
  q.sampling = local::request_sampling(s.sampling, /*seed_set=*/true);
  q.max_tokens = s.text.n_predict;
  q.stop = s.text.stop;
  q.ignore_eos = s.text.ignore_eos;
  q.logprobs = s.text.logprobs;
  q.grammar = s.grammar;
  q.json_schema = s.json_schema;
  return q;
}

void run_generate(GenerateOptions& o, const std::vector<std::string>& written) {
  // Before anything is loaded: an option the strategy would ignore is an error.
  decode::validate(o.strategy, written);
  if (!o.prompt_file.empty()) o.prompt = read_text_file(o.prompt_file, "prompt file");
  if (!o.grammar_file.empty()) o.strategy.grammar = read_text_file(o.grammar_file, "grammar file");
  if (!o.json_schema_file.empty()) o.strategy.json_schema = read_text_file(o.json_schema_file, "JSON schema file");
  if (!o.seed_set) o.strategy.sampling.seed = std::random_device{}();

  const LoadOptions load{.n_threads = o.threads, .lora = o.lora.adapters()};
  auto weights = Transformer::load(o.model, load);
  load_helpers(o.strategy, o.threads);
  const api::Request request = request_of(o);
  // One code path: the same LocalModel that configs, tandem run and the server use.
  const local::LocalModel model(std::filesystem::path(o.model).stem().string(), std::move(weights), o.strategy);

  if (!o.no_display_prompt) std::fwrite(o.prompt.data(), 1, o.prompt.size(), stdout);
  std::fflush(stdout);
  const local::LocalResult r = model.run(request, [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::fputc('\n', stdout);
  if (o.verbose) std::fprintf(stderr, "%s\n", r.stats.summary().c_str());
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  decode::StrategyOptions& s = o->strategy;
  sample::SamplingParams& sp = s.sampling;
  auto* cmd = app.add_subcommand("generate", "Continue a prompt with a model, streaming the text to stdout");
  cmd->add_option("-m,--model", o->model, "GGUF model file (the target / expert / base model)")->required();
  auto* p = cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
  cmd->add_option("-f,--file", o->prompt_file, "Read the prompt from a file")->excludes(p);
  cmd->add_option("-n,--n-predict", s.text.n_predict, "Tokens to generate (-1: until end of text or full context)")
      ->capture_default_str()
      ->check(int_range_or(-1, 1, kMaxContext));  // not 0: it would print the prompt alone
  cmd->add_option("-c,--ctx-size", s.n_ctx, "Context size in tokens (default: what the request needs)")
      ->check(int_range(0, kMaxContext));
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(int_range(0, kMaxThreads));

  add_sampling_options(cmd, sp, o->seed_set);
  add_lora_options(cmd, o->lora);
  cmd->add_option("--stop", s.text.stop, "Stop when this text is generated (repeatable)");
  cmd->add_flag("--ignore-eos", s.text.ignore_eos, "Keep generating after an end-of-text token");

  cmd->add_option("--strategy", s.strategy,
                  "greedy|sample|speculative|lookup|contrastive|proxy|best-of-n|self-consistency|mbr")
      ->capture_default_str();
  cmd->add_option("--grammar", o->grammar_file, "Constrain the output with a GBNF grammar file");
  cmd->add_option("--json-schema", o->json_schema_file, "Constrain the output to JSON valid under a schema file");
  cmd->add_option("--draft", s.draft_model, "speculative: draft model of the same vocabulary");
  cmd->add_option("--draft-max", s.draft_max, "speculative/lookup: most tokens drafted per step")->capture_default_str()
      ->check(int_range(1, kMaxDraft));
  cmd->add_option("--draft-min", s.draft_min, "speculative/lookup: fewest tokens drafted per step")->capture_default_str()
      ->check(int_range(1, kMaxDraft));
  cmd->add_flag("!--no-adaptive-draft", s.adaptive_draft, "speculative/lookup: always draft --draft-max tokens");
  cmd->add_option("--ngram-min", s.ngram_min, "lookup: shortest n-gram matched in the context")->capture_default_str()
      ->check(int_range(1, kMaxNgram));
  cmd->add_option("--ngram-max", s.ngram_max, "lookup: longest n-gram matched in the context")->capture_default_str()
      ->check(int_range(1, kMaxNgram));
  cmd->add_flag("!--no-spec-fallback", s.spec_fallback,
                "speculative/lookup: never switch to plain decoding when speculation is slower");
  cmd->add_option("--amateur", s.amateur_model, "contrastive: the amateur (small) model");
  cmd->add_option("--alpha", s.alpha, "contrastive: plausibility cut (keep tokens with p >= alpha * max p)")
      ->capture_default_str()
      ->check(real_range(0, 1));
  cmd->add_option("--expert", s.tuned_model, "proxy: the tuned small model");
  cmd->add_option("--anti-expert", s.untuned_model, "proxy: the untuned small model");
  cmd->add_option("--proxy-strength", s.proxy_strength, "proxy: weight of (expert - anti-expert)")->capture_default_str()
      ->check(real_range(-kFloatMax, kFloatMax));
  cmd->add_option("--n-samples", s.n_samples, "best-of-n / self-consistency / mbr: candidates")->capture_default_str()
      ->check(int_range(1, kMaxSamples));
  cmd->add_option("--scorer", s.scorer_model,
                  "best-of-n: judge model (any GGUF, own tokenizer) scoring each candidate by its logprob of the verdict");
  cmd->add_option("--scorer-template", s.scorer_template,
                  "best-of-n: judge prompt with {prompt} and {candidate} (default: Question/Answer/Is the answer correct?)");
  cmd->add_option("--scorer-verdict", s.scorer_verdict, "best-of-n: the verdict text scored (default \" Yes\")");
  cmd->add_option("--mbr-utility", s.mbr_utility, "mbr: exact|f1|chrf")->capture_default_str();

  cmd->add_flag("--no-display-prompt", o->no_display_prompt, "Print only the generated text");
  cmd->add_flag("-v,--verbose", o->verbose, "Print statistics (tokens/s, acceptance rate, model calls) to stderr");
  cmd->callback([o, cmd] {
    require_not_above(o->strategy.draft_min, o->strategy.draft_max, "--draft-min", "--draft-max");
    require_not_above(o->strategy.ngram_min, o->strategy.ngram_max, "--ngram-min", "--ngram-max");
    run_generate(*o, written_options(*cmd));
  });
}

}  // namespace tandem::cli
