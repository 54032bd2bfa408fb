// Sample-then-select strategies: draw N candidates, keep one.
//   best-of-N         highest mean token logprob under the model;
//   self-consistency  majority vote over extracted final answers (Wang et al. 2023);
//   MBR               minimum Bayes risk: the candidate with the highest total
//                     utility against all others (exact match, token F1, chrF).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decode/generate.h"

namespace tandem::decode {

// Builds the sampler chain of candidate i (different seeds per candidate).
using ChainFactory = std::function<sample::SamplerChain(int index)>;

// N generations continuing `prompt`. The prompt (minus its last token) is
// evaluated once in `base` (empty or holding a prefix of the prompt), each
// candidate gets a fork of it (a copy of the cache, O(prompt)), and the N
// candidates decode in lockstep: one eval_lockstep per step (one batched
// forward pass for model sessions). Candidate i equals what generate() gives
// alone with make_chain(i): the chains are independent.
std::vector<Generation> sample_candidates(Session& base, std::span<const TokenId> prompt, int n,
                                          const ChainFactory& make_chain, const Tokenizer& tok,
                                          const TextOptions& options);

// Index of the candidate with the highest mean logprob (first on ties); the
// candidates must be non-empty.
size_t best_by_mean_logprob(std::span<const Generation> candidates);

struct Vote {
  std::string answer;
  int votes = 0;
  size_t representative = 0;  // first candidate giving that answer
};
// Majority over extract_final_answer() (util/answer.h) of each candidate's
// text (ties: the answer seen first). nullopt if no candidate has an answer.
std::optional<Vote> majority_answer(std::span<const Generation> candidates);

using Utility = std::function<double(std::string_view hyp, std::string_view ref)>;
// "exact", "f1" or "chrf"; throws tandem::Error for another name.
Utility utility_by_name(const std::string& name);
// argmax_i sum_{j != i} u(c_i, c_j) (first on ties). O(N^2) utility calls.
size_t mbr_select(std::span<const std::string> candidates, const Utility& u);

}  // namespace tandem::decode
