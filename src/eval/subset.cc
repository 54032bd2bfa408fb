#include "eval/subset.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "eval/hash.h"

namespace tandem::eval {
namespace {

// FNV-1a-64 alone orders sequential ids ("x-0" ... "x-199") by their length and
// prefix: its last multiply spreads the final byte into the high bits only
// weakly, so the smallest hashes were one contiguous block of rows (the first
// 100 of arith-d2). The SplitMix64 finalizer mixes every bit into every bit.
uint64_t rank_key(const std::string& id) {
  uint64_t state = fnv1a64(id);
  return splitmix64(state);
}

}  // namespace

std::vector<size_t> stratified_subset(const std::vector<std::string>& ids, const std::vector<int64_t>& strata,
                                      size_t size) {
  const size_t n = ids.size();
  std::vector<size_t> out;
  if (size >= n) {
    for (size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  std::map<int64_t, std::vector<size_t>> groups;
  for (size_t i = 0; i < n; ++i) groups[strata.empty() ? 0 : strata[i]].push_back(i);
  // Largest remainder: floor(size * count / n) each, then one more to the
  // strata with the largest remainders until `size` are given out.
  std::vector<std::tuple<size_t, int64_t, size_t>> remainders;  // remainder, key, quota
  std::map<int64_t, size_t> quota;
  size_t given = 0;
  for (const auto& [key, members] : groups) {
    const size_t q = size * members.size() / n;
    quota[key] = q;
    given += q;
    remainders.emplace_back(size * members.size() % n, key, q);
  }
  std::sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) {
    return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) > std::get<0>(b) : std::get<1>(a) < std::get<1>(b);
  });
  for (size_t k = 0; given < size && k < remainders.size(); ++k, ++given) ++quota[std::get<1>(remainders[k])];
  for (auto& [key, members] : groups) {
    std::sort(members.begin(), members.end(), [&](size_t a, size_t b) {
      const uint64_t ha = rank_key(ids[a]), hb = rank_key(ids[b]);
      return ha != hb ? ha < hb : ids[a] < ids[b];
    });
    const size_t take = std::min(quota[key], members.size());
    out.insert(out.end(), members.begin(), members.begin() + static_cast<std::ptrdiff_t>(take));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tandem::eval
