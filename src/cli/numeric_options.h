// Range checks for numeric command-line options. Every numeric option of
// every command gets one (tests/cli/numeric_options_test.cc fails for an
// option without a test), so a bad value ends parsing with one
// "error: --option: ..." line and status 1, before any model is loaded, and
// never reaches code that would divide by it, index with it or allocate by it.
//
// The validators run on the text before CLI11 converts it. They accept plain
// decimal numbers only, so what they check is what CLI11 stores: "010" (octal
// 8 to CLI11) and "+5" are rejected, "-1" never becomes 2^64-1 in an unsigned
// option, and "nan", "inf" or a value that overflows the option's type is
// rejected rather than stored.
//
// Usage:
//   cmd->add_option("-c,--ctx-size", n_ctx, "...")->check(int_range(4, kMaxContext));
//   cmd->add_option("--temp", temp, "...")->check(real_range(0, kFloatMax));
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include <CLI/CLI.hpp>

namespace tandem::cli {

// Shared limits. kMaxContext is above every released model's training context
// (Qwen2.5-1M: 1,010,000 tokens), yet small enough that tokens counts derived
// from it (prompt + n_predict + drafts) stay far from int overflow.
inline constexpr int64_t kMaxContext = int64_t{1} << 20;
inline constexpr int64_t kMaxThreads = 1024;
// generate: tokens drafted per speculative step, n-gram length of prompt
// lookup (each step tries every length from max down to min), and reranking
// candidates (each holds a KV cache of the whole context).
inline constexpr int64_t kMaxDraft = 256;
inline constexpr int64_t kMaxNgram = 64;
inline constexpr int64_t kMaxSamples = 256;
// Synthetic arithmetic problems, all generated in memory up front.
inline constexpr int64_t kMaxProblems = 1000000;
inline constexpr double kFloatMax = std::numeric_limits<float>::max();
inline constexpr double kDoubleMax = std::numeric_limits<double>::max();

// A decimal integer in [lo, hi] (an optional '-', then digits without
// leading zeros; nothing else).
CLI::Validator int_range(int64_t lo, int64_t hi);
// `special` (e.g. -1: "until the end") or a decimal integer in [lo, hi].
CLI::Validator int_range_or(int64_t special, int64_t lo, int64_t hi);
// A decimal integer in [0, 2^64 - 1], without a sign: seeds.
CLI::Validator uint64_any();
// A finite decimal real in [lo, hi] (in (lo, hi] when lo_open). Use hi <=
// kFloatMax for float options: a value that overflows float is rejected.
CLI::Validator real_range(double lo, double hi, bool lo_open = false);
// A comma-separated list of integers, each in [lo, hi] (bench -t 1,2,4).
CLI::Validator int_list(int64_t lo, int64_t hi);

// Cross-option order: throws CLI::ValidationError ("--ngram-min (5) must not
// exceed --ngram-max (3)") unless lo <= hi. For a command's callback, before
// any work.
void require_not_above(int64_t lo, int64_t hi, const std::string& lo_name, const std::string& hi_name);

}  // namespace tandem::cli
