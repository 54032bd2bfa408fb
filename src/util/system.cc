#include "util/system.h"

#include <omp.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "util/huge_pages.h"

namespace tandem {

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
}

int64_t peak_rss_bytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

double measure_read_bandwidth(size_t bytes, int n_threads, int reps) {
  const size_t n = bytes / sizeof(uint64_t);
  // In huge pages, as the weights are (util/huge_pages.h): with 4 KiB pages
  // the passes also measured page-walk stalls, which vary from run to run.
  HugePageBuffer memory(n * sizeof(uint64_t));
  auto* buf = reinterpret_cast<uint64_t*>(memory.data());
#pragma omp parallel for num_threads(n_threads) schedule(static)
  for (size_t i = 0; i < n; ++i) buf[i] = i;  // first touch by the reading threads
  double best = 0.0;
  volatile uint64_t sink = 0;
  for (int r = 0; r < reps; ++r) {
    uint64_t total = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(+ : total)
    for (size_t i = 0; i < n; ++i) total += buf[i];
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink + total;
    if (s > 0) best = std::max(best, static_cast<double>(bytes) / s);
  }
  (void)sink;
  return best;
}

}  // namespace tandem
