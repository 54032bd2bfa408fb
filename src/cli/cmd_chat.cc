// tandem chat: a conversation with a model through its chat template.
//
// Interactive: every line read from stdin is a user message; the reply streams
// to stdout followed by a newline. The KV cache is kept between turns: the
// whole conversation is re-rendered each turn and only the tokens after the
// longest prefix already in the cache are evaluated.
// Non-interactive: --conversation FILE.json ({"messages": [...]}, OpenAI
// style) or -p TEXT is answered once; --print-prompt prints the rendered
// prompt instead of answering.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "cli/commands.h"
#include "cli/lora_options.h"
#include "cli/numeric_options.h"
#include "cli/sampling_options.h"
#include "decode/context.h"
#include "decode/generate.h"
#include "decode/strategy_options.h"
#include "gguf/gguf.h"
#include "model/transformer.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

using json = nlohmann::ordered_json;

struct ChatOptions {
  std::string model;
  std::string template_spec;
  std::string system;
  std::string prompt;
  std::string conversation;
  bool print_prompt = false;
  int n_predict = -1;
  int n_ctx = 0;
  int threads = 0;
  LoraOptions lora;
  sample::SamplingParams sampling;
  bool seed_set = false;
  std::vector<std::string> stop;
  bool verbose = false;
};

json read_conversation(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open conversation file");
  std::ostringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::exception& e) {
    throw Error(path + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  const json* messages = j.is_array() ? &j : (j.is_object() && j.contains("messages") ? &j["messages"] : nullptr);
  if (!messages || !messages->is_array()) throw Error(path + ": expected {\"messages\": [{\"role\": ..., \"content\": ...}, ...]}");
  for (const json& m : *messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      throw Error(path + ": every message needs a string \"role\"");
    }
  }
  return j;
}

// A conversation with one model: the KV cache (a decode::ModelSession) keeps
// the tokens of earlier turns.
class Session {
 public:
  Session(const Transformer& model, const chat::ChatTemplate& tmpl, const ChatOptions& o)
      : tmpl_(tmpl), o_(o), session_(model, decode::context_size(model.config(), 0, -1, 0, o.n_ctx)) {
    sample::SamplingParams sp = o.sampling;
    if (!o.seed_set) sp.seed = std::random_device{}();
    chain_ = sample::make_chain(sp);
  }

  // Renders `messages` with a generation prompt, evaluates the tokens after
  // the longest prefix already in the cache, streams the reply to stdout and
  // returns it.
  std::string reply(const json& messages, const json& tools) {
    const std::string prompt = tmpl_.apply_json(messages, /*add_generation_prompt=*/true, tools);
    const Tokenizer& tok = *session_.tokenizer();
    // Templates that write bos_token themselves must not get a second BOS.
    const std::string& bos = tmpl_.bos_token();
    const bool add_special = bos.empty() || prompt.compare(0, bos.size(), bos) != 0;
    const std::vector<TokenId> tokens = tok.encode(prompt, add_special, /*parse_special=*/true);
    if (tokens.empty()) throw Error("the rendered conversation is empty");
    decode::check_prompt_fits(session_.model().config(), static_cast<int64_t>(tokens.size()), session_.n_ctx());
    size_t reused = 0;
    while (reused < session_.tokens().size() && reused + 1 < tokens.size() && session_.tokens()[reused] == tokens[reused]) {
      ++reused;
    }
    if (o_.verbose) std::fprintf(stderr, "[prompt: %zu tokens, %zu reused from the cache]\n", tokens.size(), reused);

    chain_.reset();
    decode::TextOptions text{.n_predict = o_.n_predict, .stop = o_.stop};
    decode::OutputStream out(tok, text, [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    // generate() keeps the cached prefix the new prompt shares (decode::sync_session).
    decode::generate(session_, tokens, chain_, out);
    const decode::Generation g = out.finish();
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (g.finish_reason == "length" && session_.n_past() >= session_.n_ctx()) {
      std::fprintf(stderr, "[the context is full: reply cut short]\n");
    }
    return g.text;
  }

 private:
  const chat::ChatTemplate& tmpl_;
  const ChatOptions& o_;
  decode::ModelSession session_;
  sample::SamplerChain chain_;
};

// Rejects options this run would not use: generation options with
// --print-prompt (--threads, a resource limit, stays allowed so that one
// command line prefix serves both modes), and sampling options greedy
// decoding ignores (the same rules as `tandem generate`, see decode::validate).
void check_options(const ChatOptions& o, const CLI::App& cmd) {
  std::vector<std::string> written;
  for (const CLI::Option* opt : cmd.get_options())
    if (opt->count() > 0) written.push_back(opt->get_name());
  if (o.print_prompt) {
    static const char* kUsed[] = {"--model",        "--template",     "--system", "--prompt",
                                  "--conversation", "--print-prompt", "--threads"};
    for (const std::string& name : written)
      if (std::find(std::begin(kUsed), std::end(kUsed), name) == std::end(kUsed))
        throw Error(name + " has no effect with --print-prompt (nothing is generated)");
    return;
  }
  decode::StrategyOptions s;
  s.sampling = o.sampling;
  decode::validate(s, written);
}

void run_chat(const ChatOptions& o) {
  // --print-prompt needs only the tokenizer's special tokens, not the weights.
  std::unique_ptr<Transformer> model;
  std::unique_ptr<gguf::File> file;
  std::unique_ptr<Tokenizer> own_tok;
  const Tokenizer* tok = nullptr;
  const gguf::File* gf = nullptr;
  if (o.print_prompt) {
    file = gguf::File::open(o.model);
    own_tok = Tokenizer::from_gguf(*file);
    tok = own_tok.get();
    gf = file.get();
  } else {
    model = Transformer::load(o.model, {.n_threads = o.threads, .lora = o.lora.adapters()});
    tok = &model->tokenizer();
    gf = &model->file();
  }
  const chat::ChatTemplate tmpl =
      o.template_spec.empty() ? chat::ChatTemplate::from_model(*gf, *tok) : chat::ChatTemplate::from_spec(o.template_spec, *tok);

  json messages = json::array();
  json tools;
  if (!o.conversation.empty()) {
    json conv = read_conversation(o.conversation);
    if (conv.is_array()) {
      messages = conv;
    } else {
      messages = conv["messages"];
      if (conv.contains("tools")) tools = conv["tools"];
    }
  }
  if (!o.system.empty()) messages.insert(messages.begin(), json{{"role", "system"}, {"content", o.system}});
  if (!o.prompt.empty()) messages.push_back({{"role", "user"}, {"content", o.prompt}});

  if (o.print_prompt) {
    if (messages.empty()) throw Error("--print-prompt needs a conversation: give --conversation, -p or --system");
    const std::string prompt = tmpl.apply_json(messages, /*add_generation_prompt=*/true, tools);
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    return;
  }

  Session session(*model, tmpl, o);
  if (!o.conversation.empty() || !o.prompt.empty()) {
    session.reply(messages, tools);
    return;
  }
  const bool tty = isatty(STDIN_FILENO);
  std::string line;
  for (;;) {
    if (tty) {
      std::fputs("> ", stderr);
      std::fflush(stderr);
    }
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    const std::string answer = session.reply(messages, tools);
    messages.push_back({{"role", "assistant"}, {"content", answer}});
  }
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  auto* cmd = app.add_subcommand("chat", "Chat with a model through its chat template (user lines from stdin)");
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("--template", o->template_spec,
                  "Chat template: a built-in name (chatml, llama2, llama3, llama3.1, phi3, gemma, mistral, zephyr, "
                  "qwen2.5, deepseek-v2, deepseek-r1) or a Jinja file (default: the model's)");
  cmd->add_option("--system", o->system, "System message to start the conversation with");
  auto* p = cmd->add_option("-p,--prompt", o->prompt, "Answer this one user message and exit");
  cmd->add_option("--conversation", o->conversation,
                  "Answer the conversation in this JSON file ({\"messages\": [{\"role\", \"content\"}, ...]}) and exit")
      ->excludes(p);
  cmd->add_flag("--print-prompt", o->print_prompt, "Print the rendered prompt instead of answering");
  cmd->add_option("-n,--n-predict", o->n_predict, "Most tokens per reply (-1: until end of turn or full context)")
      ->check(int_range_or(-1, 1, kMaxContext));  // not 0: decoding emits a first token before it checks n_predict
  cmd->add_option("-c,--ctx-size", o->n_ctx, "Context size in tokens (default: the model's, at most 4096)")
      ->check(int_range(0, kMaxContext));
  add_sampling_options(cmd, o->sampling, o->seed_set);
  add_lora_options(cmd, o->lora);
  cmd->add_option("--stop", o->stop, "End a reply when this text is generated (repeatable)");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(int_range(0, kMaxThreads));
  cmd->add_flag("-v,--verbose", o->verbose, "Print cache reuse to stderr");
  cmd->callback([o, cmd] {
    check_options(*o, *cmd);
    run_chat(*o);
  });
}

}  // namespace tandem::cli
