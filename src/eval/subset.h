// tinyBenchmarks-style subsets: a fixed, stratified sample of a task's
// examples chosen by hashing example ids, so it is the same on every machine
// and in every run (and survives reordering of the dataset file).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tandem::eval {

// Up to `size` indices into `ids`, in increasing index order. Examples fall in
// strata by `strata[i]` (e.g. the gold choice of a multiple-choice task; all
// equal for one stratum); each stratum gets size * its share of the examples,
// rounded by largest remainder (ties: the stratum with the smaller key). Within
// a stratum the examples with the smallest key are taken (ties: the smaller
// id), the key being SplitMix64's output for the state FNV-1a-64(id) (hash.h):
// a spread sample even of sequentially numbered ids. All examples when size >= ids.size().
// Precondition: strata.size() == ids.size() (or strata empty: one stratum).
std::vector<size_t> stratified_subset(const std::vector<std::string>& ids, const std::vector<int64_t>& strata,
                                      size_t size);

constexpr size_t kTinySubsetSize = 100;

}  // namespace tandem::eval
