#include "cli/commands.h"

namespace tandem::cli {

void add_all_commands(CLI::App& app) {
  add_inspect_command(app);
  add_tokenize_command(app);
  add_generate_command(app);
  add_run_command(app);
  add_serve_command(app);
  add_bench_command(app);
  add_perplexity_command(app);
  add_quantize_command(app);
  add_train_command(app);
  add_chat_command(app);
  add_eval_command(app);
  add_eval_harness_command(app);
  add_report_command(app);
  add_calibrate_command(app);
  add_train_router_command(app);
  add_index_command(app);
}

}  // namespace tandem::cli
