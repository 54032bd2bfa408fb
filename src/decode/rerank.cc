#include "decode/rerank.h"

#include <algorithm>
#include <map>
#include <memory>

#include "decode/text_metrics.h"
#include "util/answer.h"
#include "util/error.h"

namespace tandem::decode {

std::vector<Generation> sample_candidates(Session& base, std::span<const TokenId> prompt, int n,
                                          const ChainFactory& make_chain, const Tokenizer& tok,
                                          const TextOptions& options) {
  if (prompt.empty()) throw Error("sampling candidates: the prompt is empty");
  std::vector<float> logits;
  sync_session(base, prompt, 1, logits);  // the shared prefix, computed once
  const size_t N = static_cast<size_t>(std::max(n, 0));
  std::vector<std::unique_ptr<Session>> seqs;
  std::vector<sample::SamplerChain> chains;
  std::vector<std::unique_ptr<OutputStream>> streams;
  std::vector<TokenId> last(N, prompt.back());
  for (size_t i = 0; i < N; ++i) {
    seqs.push_back(base.fork());
    chains.push_back(make_chain(static_cast<int>(i)));
    chains.back().accept_prompt(prompt);  // as generate() does
    streams.push_back(std::make_unique<OutputStream>(tok, options));
    streams.back()->enable_scoring();
  }
  // Lockstep: every active candidate advances one token per batched pass,
  // stopping as generate() would (its stream says stop, or its context is full).
  std::vector<size_t> active(N);
  for (size_t i = 0; i < N; ++i) active[i] = i;
  std::vector<Session*> batch;
  std::vector<TokenId> input;
  std::vector<std::vector<float>> outs;
  while (true) {
    std::erase_if(active, [&](size_t i) { return seqs[i]->n_past() >= seqs[i]->n_ctx(); });
    if (active.empty()) break;
    batch.clear();
    input.clear();
    for (size_t i : active) {
      batch.push_back(seqs[i].get());
      input.push_back(last[i]);
    }
    eval_lockstep(batch, input, outs);
    std::vector<size_t> still;
    for (size_t j = 0; j < active.size(); ++j) {
      const size_t i = active[j];
      const TokenId t = chains[i].sample(outs[j]);
      chains[i].accept(t);
      if (!streams[i]->push(t, outs[j])) continue;
      last[i] = t;
      still.push_back(i);
    }
    active.swap(still);
  }
  std::vector<Generation> out;
  for (auto& s : streams) out.push_back(s->finish());
  return out;
}

size_t best_by_mean_logprob(std::span<const Generation> c) {
  if (c.empty()) throw Error("best-of-N: no candidates");
  size_t best = 0;
  for (size_t i = 1; i < c.size(); ++i)
    if (c[i].mean_logprob() > c[best].mean_logprob()) best = i;
  return best;
}

std::optional<Vote> majority_answer(std::span<const Generation> c) {
  std::map<std::string, Vote> votes;
  std::vector<std::string> order;
  for (size_t i = 0; i < c.size(); ++i) {
    auto a = extract_final_answer(c[i].text);
    if (!a) continue;
    auto [it, fresh] = votes.try_emplace(*a, Vote{*a, 0, i});
    if (fresh) order.push_back(*a);
    ++it->second.votes;
  }
  if (order.empty()) return std::nullopt;
  const Vote* best = &votes[order[0]];
  for (const auto& a : order)
    if (votes[a].votes > best->votes) best = &votes[a];
  return *best;
}

Utility utility_by_name(const std::string& name) {
  if (name == "exact") return [](std::string_view a, std::string_view b) { return exact_match(a, b); };
  if (name == "f1") return [](std::string_view a, std::string_view b) { return token_f1(a, b); };
  if (name == "chrf") return [](std::string_view a, std::string_view b) { return chrf(a, b); };
  throw Error("unknown MBR utility '" + name + "' (use exact, f1 or chrf)");
}

size_t mbr_select(std::span<const std::string> c, const Utility& u) {
  if (c.empty()) throw Error("MBR: no candidates");
  size_t best = 0;
  double best_score = -1e300;
  for (size_t i = 0; i < c.size(); ++i) {
    double score = 0;
    for (size_t j = 0; j < c.size(); ++j)
      if (j != i) score += u(c[i], c[j]);
    if (score > best_score) {
      best_score = score;
      best = i;
    }
  }
  return best;
}

}  // namespace tandem::decode
