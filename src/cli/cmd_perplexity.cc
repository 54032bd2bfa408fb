// tandem perplexity: llama-perplexity-compatible perplexity of a text file.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/lora_options.h"
#include "cli/numeric_options.h"
#include "eval/perplexity.h"
#include "model/transformer.h"
#include "util/error.h"

namespace tandem::cli {

void add_perplexity_command(CLI::App& app) {
  struct Options {
    std::string model, file;
    int n_ctx = 512;
    int threads = 0;
    LoraOptions lora;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("perplexity", "Perplexity of a model on a text file (llama-perplexity method)");
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("-f,--file", o->file, "Text file")->required();
  // perplexity() scores positions n_ctx/2 .. n_ctx-2 of each chunk: fewer than 4 leave nothing.
  cmd->add_option("-c,--ctx-size", o->n_ctx, "Chunk size in tokens")->capture_default_str()->check(int_range(4, kMaxContext));
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(int_range(0, kMaxThreads));
  add_lora_options(cmd, o->lora);
  cmd->callback([o] {
    auto model = Transformer::load(o->model, {.n_threads = o->threads, .lora = o->lora.adapters()});
    std::ifstream in(o->file, std::ios::binary);
    if (!in) throw Error(o->file + ": cannot open text file");
    std::stringstream ss;
    ss << in.rdbuf();
    const auto tokens = model->tokenizer().encode(ss.str(), /*add_special=*/true, /*parse_special=*/false);
    std::fprintf(stderr, "%zu tokens, %zu chunks of %d\n", tokens.size(), tokens.size() / static_cast<size_t>(o->n_ctx),
                 o->n_ctx);
    auto r = perplexity(*model, tokens, o->n_ctx, [](int64_t c, int64_t, double ppl) {
      std::printf("[%lld]%.4f,", static_cast<long long>(c), ppl);
      std::fflush(stdout);
    });
    std::printf("\nFinal estimate: PPL = %.4f +/- %.5f (%lld scored tokens)\n", r.ppl, r.ppl_stderr,
                static_cast<long long>(r.n_scored));
  });
}

}  // namespace tandem::cli
