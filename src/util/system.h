// Facts about the running process and machine that benchmarks report.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem {

// True if environment variable `name` is set, non-empty and not "0" (the
// TANDEM_* switches that turn something on).
bool env_flag(const char* name);

// Peak resident set size of this process so far, in bytes (getrusage).
int64_t peak_rss_bytes();

// Measures sustained memory read bandwidth in bytes/s: `n_threads` threads sum
// a buffer of `bytes` (much larger than the caches), best of `reps` passes.
// Costs about reps * bytes / bandwidth seconds plus the buffer's first touch.
double measure_read_bandwidth(size_t bytes, int n_threads, int reps = 5);

}  // namespace tandem
