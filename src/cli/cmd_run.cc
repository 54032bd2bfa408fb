// tandem run: answer prompts with any model of a config (a local GGUF with a
// strategy, a remote endpoint, a cascade) or with one GGUF file, through the
// Model interface (api/model.h).
//
//   tandem run --config configs/cascade.yaml -m tiny-then-base -p "..." [--json]
//   tandem run --config FILE -m NAME --prompts prompts.jsonl --json
//   tandem run -m models/tandem-base.gguf -p "..." --temp 0
//
// Without --json each raw prompt is printed (unless --no-display-prompt) and
// its answer streams after it, followed by a newline. With --json each prompt gives one JSON line
// (api/response_json.h): text, answered_by, usage per model, cost,
// latency_ms, trace. --prompts rows are JSON objects with a "prompt" string
// (or a "messages" list of {role, content} for chat); answers come in input
// order.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/response_json.h"
#include "cli/commands.h"
#include "cli/numeric_options.h"
#include "cli/sampling_options.h"
#include "config/engine.h"
#include "local/local_model.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

struct RunOptions {
  std::string config;
  std::string model;  // a config name with --config, else a GGUF path
  std::string prompt;
  std::string prompts_file;
  bool chat = false;
  std::string system;
  bool json = false;
  bool verbose = false;
  bool no_display_prompt = false;
  int max_tokens = 0;
  std::vector<std::string> stop;
  int threads = 0;
  sample::SamplingParams sampling;
  bool seed_set = false;
};

// The sampling options written on the command line, over `base`.
api::SamplingOptions overlay_sampling(api::SamplingOptions base, const RunOptions& o, const CLI::App& cmd) {
  const api::SamplingOptions cli = local::request_sampling(o.sampling, o.seed_set);
  auto given = [&](const char* name) { return cmd.get_option(name)->count() > 0; };
  if (given("--temp")) base.temperature = cli.temperature;
  if (given("--top-k")) base.top_k = cli.top_k;
  if (given("--top-p")) base.top_p = cli.top_p;
  if (given("--min-p")) base.min_p = cli.min_p;
  if (given("--typical")) base.typical_p = cli.typical_p;
  if (given("--repeat-penalty")) base.repeat_penalty = cli.repeat_penalty;
  if (given("--repeat-last-n")) base.penalty_last_n = cli.penalty_last_n;
  if (given("--frequency-penalty")) base.frequency_penalty = cli.frequency_penalty;
  if (given("--presence-penalty")) base.presence_penalty = cli.presence_penalty;
  if (o.seed_set) base.seed = cli.seed;
  return base;
}

// One request per prompt: "prompt" (a chat turn with --chat) or "messages".
api::Request request_from_row(const nlohmann::json& row, const RunOptions& o, const std::string& where) {
  api::Request q;
  if (!row.is_object()) throw Error(where + ": expected a JSON object with a \"prompt\" field");
  const auto p = row.find("prompt");
  const auto m = row.find("messages");
  if ((p == row.end()) == (m == row.end()))
    throw Error(where + ": give exactly one of \"prompt\" (a string) and \"messages\" (a list)");
  if (p != row.end()) {
    if (!p->is_string()) throw Error(where + ": \"prompt\" must be a string");
    if (o.chat) {
      if (!o.system.empty()) q.messages.push_back({"system", o.system});
      q.messages.push_back({"user", p->get<std::string>()});
    } else {
      q.prompt = p->get<std::string>();
    }
    return q;
  }
  if (!m->is_array() || m->empty()) throw Error(where + ": \"messages\" must be a non-empty list");
  for (const nlohmann::json& msg : *m) {
    if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string() || !msg.contains("content") ||
        !msg["content"].is_string())
      throw Error(where + ": every message needs string \"role\" and \"content\" fields");
    q.messages.push_back({msg["role"].get<std::string>(), msg["content"].get<std::string>()});
  }
  return q;
}

std::vector<api::Request> read_requests(const RunOptions& o) {
  if (o.prompts_file.empty()) return {request_from_row({{"prompt", o.prompt}}, o, "-p")};
  std::ifstream in(o.prompts_file, std::ios::binary);
  if (!in) throw Error(o.prompts_file + ": cannot open the prompts file");
  std::vector<api::Request> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = o.prompts_file + ":" + std::to_string(n);
    nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded()) throw Error(where + ": not valid JSON");
    out.push_back(request_from_row(row, o, where));
  }
  if (out.empty()) throw Error(o.prompts_file + ": no prompts in the file");
  return out;
}

// The model and the request defaults (sampling, max_tokens) of its config.
struct Target {
  config::ModelSet set;
  std::shared_ptr<const api::Model> model;
  api::SamplingOptions sampling;
  int max_tokens = 128;
};

Target open_target(const RunOptions& o) {
  Target t;
  if (o.config.empty()) {
    if (o.model.empty()) throw Error("run: give -m MODEL.gguf, or --config FILE (and -m NAME)");
    std::string name = std::filesystem::path(o.model).stem().string();
    auto weights = local::load_shared(o.model, {.n_threads = o.threads});
    t.model = std::make_shared<local::LocalModel>(name, std::move(weights));
    return t;
  }
  const config::Config cfg = config::load(o.config);
  std::string name = o.model;
  if (name.empty()) {
    if (!cfg.defaults.model) throw Error("run: " + o.config + " sets no defaults.model: name one with -m NAME");
    name = cfg.defaults.model->name;
  }
  if (cfg.find(name) == nullptr) throw Error("run: no model named '" + name + "' in " + o.config);
  const std::vector<std::string> roots{name};
  t.set = config::build(cfg, config::engine_builders({.threads = o.threads}, config::make_budgets(cfg)), roots);
  t.model = t.set.get(name);
  const config::ModelSpec* spec = cfg.find(name);
  const auto* l = std::get_if<config::LocalSpec>(&spec->spec);
  t.sampling = l ? l->sampling : cfg.defaults.sampling;
  t.max_tokens = cfg.defaults.max_tokens;
  return t;
}

void print_summary(const api::Response& r) {
  const api::Usage u = r.total();
  std::fprintf(stderr, "answered by %s: %lld prompt + %lld completion tokens, cost %.6g, %.0f ms\n",
               r.answered_by.c_str(), static_cast<long long>(u.prompt_tokens),
               static_cast<long long>(u.completion_tokens), u.cost, r.latency_ms);
}

void run_run(const RunOptions& o, const CLI::App& cmd) {
  if (cmd.get_option("--prompt")->count() == 0 && o.prompts_file.empty())
    throw Error("run: give -p PROMPT or --prompts FILE.jsonl");
  std::vector<api::Request> requests = read_requests(o);
  const Target t = open_target(o);
  const api::SamplingOptions sampling = overlay_sampling(t.sampling, o, cmd);
  const int max_tokens = cmd.get_option("--max-tokens")->count() ? o.max_tokens : t.max_tokens;
  for (api::Request& q : requests) {
    q.sampling = sampling;
    q.max_tokens = max_tokens;
    q.stop = o.stop;
    api::StreamCallback stream;
    if (!o.json && !o.no_display_prompt && !q.is_chat()) std::fwrite(q.prompt.data(), 1, q.prompt.size(), stdout);
    if (!o.json) {
      stream = [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return true;
      };
    }
    const api::Response r = t.model->complete(q, stream);
    if (o.json) {
      const std::string line = api::to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      std::printf("%s\n", line.c_str());
    } else {
      std::fputc('\n', stdout);
    }
    std::fflush(stdout);
    if (o.verbose) print_summary(r);
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Answer prompts with a model of a config (local, remote, or a composition of them) or a GGUF file");
  cmd->add_option("--config", o->config, "Configuration file (YAML; see configs/README.md)");
  cmd->add_option("-m,--model", o->model,
                  "With --config: the model's name in it (default: its defaults.model); without: a GGUF file");
  auto* p = cmd->add_option("-p,--prompt", o->prompt, "The prompt");
  cmd->add_option("--prompts", o->prompts_file, "JSONL file, one {\"prompt\": ...} or {\"messages\": [...]} per line")
      ->excludes(p);
  cmd->add_flag("--chat", o->chat, "Send each prompt as a user message through the model's chat template / chat API");
  cmd->add_option("--system", o->system, "With --chat: a system message before each prompt");
  cmd->add_flag("--json", o->json, "Print one JSON object per prompt (text, answered_by, usage, cost, latency_ms, trace)");
  cmd->add_option("-n,--max-tokens", o->max_tokens, "Most tokens per answer (default: the config's, else 128; -1: no limit)")
      ->check(int_range_or(-1, 1, kMaxContext));
  cmd->add_option("--stop", o->stop, "Stop when this text is generated (repeatable)");
  cmd->add_option("-t,--threads", o->threads, "Threads of local models whose config sets none (default: all cores)")
      ->check(int_range(0, kMaxThreads));
  add_sampling_options(cmd, o->sampling, o->seed_set);
  cmd->add_flag("--no-display-prompt", o->no_display_prompt, "Without --json: print only the answers, not the prompts");
  cmd->add_flag("-v,--verbose", o->verbose, "Print who answered, tokens, cost and latency per prompt to stderr");
  cmd->callback([o, cmd] {
    if (!o->system.empty() && !o->chat) throw Error("run: --system needs --chat");
    run_run(*o, *cmd);
  });
}

}  // namespace tandem::cli
