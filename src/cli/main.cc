#include <cstdio>
#include <exception>
#include <new>

#include "cli/commands.h"
#include "util/error.h"

int main(int argc, char** argv) {
  CLI::App app{"tandem: small and large language models working together"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tandem 0.1.0");
  tandem::cli::add_inspect_command(app);
  tandem::cli::add_tokenize_command(app);
  tandem::cli::add_generate_command(app);
  tandem::cli::add_bench_command(app);
  tandem::cli::add_perplexity_command(app);
  tandem::cli::add_quantize_command(app);
  tandem::cli::add_train_command(app);
  tandem::cli::add_chat_command(app);
  tandem::cli::add_eval_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const tandem::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
