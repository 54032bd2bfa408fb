// Each `tandem` subcommand lives in its own cmd_*.cc file and registers itself
// here. A command's callback throws tandem::Error on bad input; main() prints
// the message as one line on stderr and exits with status 1.
#pragma once

#include <CLI/CLI.hpp>

namespace tandem::cli {

void add_inspect_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_perplexity_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
// train, train-tokenizer, synth-math
void add_train_command(CLI::App& app);
void add_chat_command(CLI::App& app);
// eval-math, distill-data
void add_eval_command(CLI::App& app);
// run: any model of a config (or a GGUF) through the Model interface
void add_run_command(CLI::App& app);
// eval: tasks over models with records and results.json (the eval harness)
void add_eval_harness_command(CLI::App& app);
// report: markdown table and Pareto plots of eval runs
void add_report_command(CLI::App& app);
// tandem calibrate (cmd_calibrate.cc).
void add_calibrate_command(CLI::App& app);
// tandem train-router (cmd_train_router.cc).
void add_train_router_command(CLI::App& app);
// tandem index build|query (cmd_index.cc): retrieval indexes.
void add_index_command(CLI::App& app);
// serve: an OpenAI-compatible HTTP server over models
void add_serve_command(CLI::App& app);

// Every command above, in `tandem --help` order: the whole command line that
// main() parses (and that tests walk to find every option).
void add_all_commands(CLI::App& app);

}  // namespace tandem::cli
