// tandem bench: prompt-processing and generation speed of a model, in the
// manner of llama-bench (pp: one batch of n_prompt tokens; tg: n_gen tokens
// decoded one at a time), with peak RSS and achieved weight bandwidth next to
// the machine's measured read bandwidth.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/numeric_options.h"
#include "gguf/gguf.h"
#include "model/transformer.h"
#include "tensor/kernels.h"
#include "tensor/repack.h"
#include "util/error.h"
#include "util/system.h"

namespace tandem::cli {
namespace {

struct BenchOptions {
  std::string model;
  std::string threads = "";
  int n_prompt = 128;
  int n_gen = 64;
  int reps = 5;
  bool json = false;
  bool no_bandwidth = false;
};

std::vector<int> parse_int_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      int v = std::stoi(item, &used);
      if (used != item.size() || v <= 0) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      throw Error("-t expects a comma-separated list of positive thread counts, got \"" + s + "\"");
    }
  }
  return out;
}

// Bytes of weights read to produce one token: every matrix except the
// embedding table, of which one row is read (unless it doubles as the output).
double weight_bytes_per_token(const gguf::File& f) {
  double total = 0;
  for (const auto& t : f.tensors()) total += static_cast<double>(t.nbytes);
  const auto* embd = f.find_tensor("token_embd.weight");
  if (embd && f.find_tensor("output.weight")) total -= static_cast<double>(embd->nbytes);
  return total;
}

struct Stats {
  double mean = 0, sd = 0;
};

Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    double var = 0;
    for (double x : v) var += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(var / static_cast<double>(v.size() - 1));
  }
  return s;
}

void run_bench(const BenchOptions& o) {
  auto model = Transformer::load(o.model);
  const int64_t n_vocab = model->config().n_vocab;
  std::vector<int> thread_counts = o.threads.empty() ? std::vector<int>{model->n_threads()} : parse_int_list(o.threads);
  if (o.n_prompt < 0 || o.n_gen < 0 || o.reps < 1) throw Error("bench: -p and -n must be >= 0 and -r >= 1");
  const int64_t n_ctx = std::max(o.n_prompt, o.n_gen) + 1;
  KvCache cache = model->new_cache(n_ctx);
  std::mt19937 rng(1234);
  std::uniform_int_distribution<TokenId> pick(0, static_cast<TokenId>(n_vocab - 1));
  std::vector<float> logits;
  const double wbytes = weight_bytes_per_token(model->file());
  const std::string name = model->file().path();

  nlohmann::json results = nlohmann::json::array();
  if (!o.json) {
    std::printf("model: %s (%s, %.2f MiB of weights read per token)\n", name.c_str(), model->config().arch.c_str(),
                wbytes / (1024.0 * 1024.0));
    std::printf("kernels: %s%s\n", kernels::target_name(),
                repack_available() ? ", Q8_0/Q4_0/Q4_K weights repacked for AVX512-VNNI (TANDEM_REPACK=0: off)" : "");
    std::printf("| threads | test  |      t/s | +/- sd   | weight GB/s |\n|---------|-------|----------|----------|-------------|\n");
  }
  for (int threads : thread_counts) {
    ForwardContext ctx(threads);
    // Warm-up: touches the weights and grows the context's buffers once.
    cache.clear();
    std::vector<TokenId> warm(static_cast<size_t>(std::max(o.n_prompt, 1)));
    for (auto& t : warm) t = pick(rng);
    model->forward(ctx, cache, warm, Logits::kLast, logits);
    for (const char* test : {"pp", "tg"}) {
      const int n = std::string(test) == "pp" ? o.n_prompt : o.n_gen;
      if (n == 0) continue;
      std::vector<double> tps;
      for (int r = 0; r < o.reps; ++r) {
        std::vector<TokenId> toks(static_cast<size_t>(n));
        for (auto& t : toks) t = pick(rng);
        cache.clear();
        const auto t0 = std::chrono::steady_clock::now();
        if (std::string(test) == "pp") {
          model->forward(ctx, cache, toks, Logits::kLast, logits);
        } else {
          for (int i = 0; i < n; ++i) model->forward(ctx, cache, std::span<const TokenId>(&toks[i], 1), Logits::kLast, logits);
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        tps.push_back(n / s);
      }
      Stats st = stats(tps);
      const double gbs = std::string(test) == "tg" ? st.mean * wbytes / 1e9 : 0.0;
      results.push_back({{"model", name},
                         {"threads", threads},
                         {"test", test},
                         {"n_tokens", n},
                         {"tokens_per_s", st.mean},
                         {"tokens_per_s_sd", st.sd},
                         {"peak_rss_bytes", peak_rss_bytes()},
                         {"weight_bytes_per_token", wbytes}});
      if (!o.json) {
        std::printf("| %7d | %s%-3d | %8.2f | %8.2f | %11s |\n", threads, test, n, st.mean, st.sd,
                    gbs > 0 ? std::to_string(gbs).substr(0, 6).c_str() : "-");
      }
    }
  }
  if (o.json) {
    std::printf("%s\n", results.dump(1).c_str());
    return;
  }
  std::printf("peak RSS: %.1f MiB\n", peak_rss_bytes() / (1024.0 * 1024.0));
  if (!o.no_bandwidth) {
    for (int threads : thread_counts) {
      const double bw = measure_read_bandwidth(size_t{512} << 20, threads);
      double best_tg = 0;
      for (const auto& r : results) {
        if (r["threads"] == threads && r["test"] == "tg") best_tg = r["tokens_per_s"].get<double>();
      }
      std::printf("threads %d: measured memory read bandwidth %.2f GB/s; generation reads weights at %.2f GB/s (%.0f%%)\n",
                  threads, bw / 1e9, best_tg * wbytes / 1e9, 100.0 * best_tg * wbytes / bw);
    }
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Measure prompt-processing and generation speed");
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("-t,--threads", o->threads, "Comma-separated thread counts, e.g. 1,2 (default: all cores)")
      ->type_name("INT[,INT...]")
      ->check(int_list(1, kMaxThreads));
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens for the pp test (0: skip)")
      ->capture_default_str()
      ->check(int_range(0, kMaxContext));
  cmd->add_option("-n,--n-gen", o->n_gen, "Generated tokens for the tg test (0: skip)")
      ->capture_default_str()
      ->check(int_range(0, kMaxContext));
  cmd->add_option("-r,--repetitions", o->reps, "Repetitions of each test")->capture_default_str()->check(int_range(1, 1000));
  cmd->add_flag("--json", o->json, "Print results as a JSON array");
  cmd->add_flag("--no-bandwidth", o->no_bandwidth, "Skip the memory bandwidth measurement");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace tandem::cli
