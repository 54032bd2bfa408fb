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
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_template.h"
#include "chat/conversation.h"
#include "cli/commands.h"
#include "cli/lora_options.h"
#include "cli/numeric_options.h"
#include "cli/sampling_options.h"
#include "decode/chat_session.h"
#include "decode/strategy_options.h"
#include "gguf/gguf.h"
#include "model/transformer.h"
#include "util/error.h"

namespace tandem::cli {
namespace {

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

// Streams a reply's text to stdout as it comes.
bool print_piece(std::string_view piece) {
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
  return true;
}

std::string reply(decode::ChatSession& session, const chat::Conversation& conversation, bool verbose) {
  const decode::ChatReply r = session.reply(conversation, print_piece, [verbose](size_t n, size_t reused) {
    if (verbose) std::fprintf(stderr, "[prompt: %zu tokens, %zu reused from the cache]\n", n, reused);
  });
  std::fputc('\n', stdout);
  std::fflush(stdout);
  if (r.context_full) std::fprintf(stderr, "[the context is full: reply cut short]\n");
  return r.text;
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

  chat::Conversation conversation;
  if (!o.conversation.empty()) conversation = chat::read_conversation(o.conversation);
  if (!o.system.empty()) conversation.prepend_system(o.system);
  if (!o.prompt.empty()) conversation.add_user(o.prompt);

  if (o.print_prompt) {
    if (conversation.empty()) throw Error("--print-prompt needs a conversation: give --conversation, -p or --system");
    const std::string prompt = tmpl.apply_json(conversation.messages, /*add_generation_prompt=*/true, conversation.tools);
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    return;
  }

  decode::ChatSessionOptions so{.n_predict = o.n_predict, .n_ctx = o.n_ctx, .sampling = o.sampling, .stop = o.stop};
  if (!o.seed_set) so.sampling.seed = std::random_device{}();
  decode::ChatSession session(*model, tmpl, std::move(so));
  if (!o.conversation.empty() || !o.prompt.empty()) {
    reply(session, conversation, o.verbose);
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
    conversation.add_user(line);
    conversation.add_assistant(reply(session, conversation, o.verbose));
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
      ->check(int_range_or(-1, 1, kMaxContext));  // not 0: a turn without a reply
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
