// Exact retrieval search time on synthetic indexes (compose/retrieval_index.h):
// N random unit vectors per dimension, the mean time of one top-k search
// over Q random queries, and the time to load the index's file (written to
// the temporary folder, read back through the page cache). The
// measurement behind "no approximate index" in docs/retrieval.md.
//
//   bench_retrieval_bench [n = 100000] [k = 10] [queries = 20]
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "compose/retrieval_index.h"

using namespace tandem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  const size_t k = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10;
  const int queries = argc > 3 ? std::atoi(argv[3]) : 20;
  std::printf("%zu vectors, top-%zu, mean of %d queries\n", n, k, queries);
  std::printf("| dim | build (add) ms | index file MiB | load ms | search ms/query |\n|---|---|---|---|---|\n");
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (size_t dim : {64u, 128u, 256u, 512u}) {
    std::vector<float> v(dim);
    auto t = Clock::now();
    compose::RetrievalIndex index("bench", dim);
    for (size_t i = 0; i < n; ++i) {
      for (float& x : v) x = normal(rng);
      index.add({std::to_string(i), "passage " + std::to_string(i)}, v);
    }
    const double build_ms = ms_since(t);
    const std::string path = (std::filesystem::temp_directory_path() / "tandem_retrieval_bench.idx").string();
    index.save(path);
    const double mib = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
    t = Clock::now();
    const compose::RetrievalIndex back = compose::RetrievalIndex::load(path);
    const double load_ms = ms_since(t);
    std::filesystem::remove(path);
    double sum = 0.0;
    size_t checksum = 0;
    for (int q = 0; q < queries; ++q) {
      for (float& x : v) x = normal(rng);
      t = Clock::now();
      checksum += back.search(v, k).at(0).index;
      sum += ms_since(t);
    }
    std::printf("| %zu | %.0f | %.1f | %.0f | %.2f |\n", dim, build_ms, mib, load_ms, sum / queries);
    if (checksum == static_cast<size_t>(-1)) std::printf("unreachable\n");
  }
  return 0;
}
