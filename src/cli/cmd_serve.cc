// tandem serve: an OpenAI-compatible HTTP server (server/server.h) over one
// GGUF file or every model of a config.
//
//   tandem serve -m models/tandem-base.gguf --port 8080
//   tandem serve --config configs/cascade.yaml --api-key-file key.txt --parallel 4
//
// Prints "listening on http://HOST:PORT" on stdout once it accepts
// connections (--port 0: a free port, printed there). SIGTERM / SIGINT: stop
// accepting, let running requests finish (up to 10 s, then cancel them), exit 0.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "cli/commands.h"
#include "cli/numeric_options.h"
#include "config/engine.h"
#include "local/local_model.h"
#include "server/server.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

struct ServeOptions {
  std::string model;
  std::string config;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string api_key_file;
  int parallel = 1;
  int64_t ctx_size = 0;
  int max_queue = 64;
  double timeout = 0.0;
  int threads = 0;
  bool allow_unknown_fields = false;
};

std::string read_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("serve: cannot read the API key file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
  if (key.empty()) throw Error("serve: the API key file " + path + " is empty");
  return key;
}

std::vector<server::ServedModel> open_models(const ServeOptions& o) {
  std::vector<server::ServedModel> out;
  if (o.config.empty()) {
    if (o.model.empty()) throw Error("serve: give -m MODEL.gguf or --config FILE");
    decode::StrategyOptions strategy;
    strategy.n_ctx = o.ctx_size;
    const std::string stem = std::filesystem::path(o.model).stem().string();
    auto weights = local::load_shared(o.model, {.n_threads = o.threads});
    for (const std::string& name : {stem, std::string("default")}) {
      if (name == "default" && stem == "default") continue;
      server::ServedModel m{name, std::make_shared<local::LocalModel>(name, weights, strategy), {}};
      out.push_back(std::move(m));
    }
    return out;
  }
  if (!o.model.empty()) throw Error("serve: give -m MODEL.gguf or --config FILE, not both (a config serves all its models)");
  if (o.ctx_size != 0) throw Error("serve: --ctx-size applies to -m; with --config set n_ctx on the models in the file");
  const config::Config cfg = config::load(o.config);
  const config::ModelSet set = config::build(cfg, config::engine_builders({.threads = o.threads}, config::make_budgets(cfg)));
  for (const config::ModelSpec& spec : cfg.models) {
    server::ServedModel m{spec.name, set.get(spec.name), {}};
    const auto* l = std::get_if<config::LocalSpec>(&spec.spec);
    m.defaults.sampling = l ? l->sampling : cfg.defaults.sampling;
    m.defaults.max_tokens_chat = cfg.defaults.max_tokens;
    m.defaults.max_tokens_completions = cfg.defaults.max_tokens;
    out.push_back(std::move(m));
  }
  return out;
}

void run_serve(const ServeOptions& o) {
  if (!o.api_key.empty() && !o.api_key_file.empty()) throw Error("serve: give --api-key or --api-key-file, not both");
  server::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.api_key = o.api_key_file.empty() ? o.api_key : read_key(o.api_key_file);
  so.parallel = o.parallel;
  so.max_queue = o.max_queue;
  so.timeout_s = o.timeout;
  so.allow_unknown_fields = o.allow_unknown_fields;

  // SIGTERM and SIGINT go to one thread (sigwait), blocked everywhere else:
  // the mask is set before any thread starts, so every thread inherits it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  std::signal(SIGPIPE, SIG_IGN);  // a client that went away is a failed write, not a dead server
  std::vector<server::ServedModel> models;
  try {
    models = open_models(o);
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);  // the caller (a test) keeps its signals
    throw;
  }

  server::Server srv(std::move(models), so);
  const int port = srv.bind();
  std::atomic<bool> signalled{false};
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    signalled = true;
    srv.stop();
  });
  std::printf("listening on http://%s:%d\n", o.host.c_str(), port);
  std::fflush(stdout);
  srv.listen();
  if (!signalled) pthread_kill(watcher.native_handle(), SIGTERM);  // listen ended on its own: release the watcher
  watcher.join();
  std::fprintf(stderr, "serve: stopped\n");
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve models over an OpenAI-compatible HTTP API");
  auto* m = cmd->add_option("-m,--model", o->model, "A GGUF file, served under its file stem and as \"default\"");
  cmd->add_option("--config", o->config, "Configuration file: every model in it is served under its name")->excludes(m);
  cmd->add_option("--host", o->host, "Address to listen on (default 127.0.0.1: this machine only)");
  cmd->add_option("--port", o->port, "Port (default 8080; 0: a free one, printed)")->check(int_range(0, 65535));
  auto* key = cmd->add_option("--api-key", o->api_key, "Require \"Authorization: Bearer KEY\" on /v1/ requests");
  cmd->add_option("--api-key-file", o->api_key_file, "As --api-key, the key read from a file (kept out of ps)")->excludes(key);
  cmd->add_option("--parallel", o->parallel,
                  "Requests decoding at once, each on its own thread with its own context (default 1)")
      ->check(int_range(1, 256));
  cmd->add_option("-c,--ctx-size", o->ctx_size, "With -m: the context per request (default 0: as large as a request needs)")
      ->check(int_range(0, kMaxContext));
  cmd->add_option("--max-queue", o->max_queue, "Requests waiting for a slot before new ones get 429 (default 64)")
      ->check(int_range(0, 4096));
  cmd->add_option("--timeout", o->timeout, "Cancel a request after this many seconds (default 0: never)")
      ->check(real_range(0, 1e6));
  cmd->add_option("-t,--threads", o->threads, "Threads per forward pass (default: all cores)")->check(int_range(0, kMaxThreads));
  cmd->add_flag("--allow-unknown-fields", o->allow_unknown_fields,
                "Ignore request fields outside OpenAI's schema and tandem's extensions (default: 400 naming them)");
  cmd->callback([o] { run_serve(*o); });
}

}  // namespace tandem::cli
