// Which tokens a grammar allows next, computed by walking a trie of the
// vocabulary's pieces against the matcher state: a subtree is skipped as soon
// as its prefix is rejected, so shared prefixes are matched once.
//
// A full walk still visits most of the trie where most tokens are allowed
// (inside a JSON string: ~1 ms on a 32k vocabulary), so mask() splits the
// work by stack tops, in the spirit of XGrammar's context-independent
// tokens: a state is a set of stacks, and a token is allowed iff some stack
// allows it. For each stack top (the top kTopDepth entries of a stack), a
// one-time walk with an unknown rest of the stack below (see
// GrammarMatcher::truncated_stacks) sorts every token into accepted
// (whatever lies below), rejected, or undecided (it would need the rest of
// the stack mid-token). A state's mask is then the union of its tops'
// accepted sets plus a walk restricted to the trie nodes leading to
// undecided tokens. Masks are also cached per state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <span>
#include <vector>

#include "grammar/grammar_matcher.h"
#include "sample/sampler.h"

namespace tandem::grammar {

// The vocabulary's pieces (token -> bytes) as a trie in preorder: node i's
// subtree is nodes [i, end[i]).
class TokenTrie {
 public:
  // pieces[id] = the bytes token id stands for; empty pieces (control tokens)
  // are never part of the trie.
  explicit TokenTrie(const std::vector<std::string>& pieces);

  size_t n_nodes() const { return nodes_.size() - 1; }
  size_t n_tokens() const { return n_tokens_; }

 private:
  friend class TokenMasker;
  struct Node {              // one struct per node: the walk reads them in order
    uint32_t end;            // one past the last node of this node's subtree
    uint32_t token_begin;    // tokens ending here: tokens_[token_begin, next node's token_begin)
    uint16_t depth;          // root: 0
    uint8_t byte;            // the byte leading into this node
  };
  std::vector<Node> nodes_;  // preorder, plus a sentinel holding the final token_begin
  std::vector<int32_t> tokens_;
  size_t n_tokens_ = 0;
};

// A bitset over the vocabulary: bit t set = token t allowed.
using TokenMask = std::vector<uint64_t>;
inline bool mask_test(const TokenMask& m, int32_t t) { return (m[static_cast<size_t>(t) >> 6] >> (t & 63)) & 1; }

// Sets logits[t] to -inf for every token the mask rejects; tokens at or past
// n_mask (the masker's vocabulary) are rejected too. Returns whether any
// token stays allowed.
bool mask_logits(const TokenMask& m, int32_t n_mask, std::span<float> logits);

class TokenMasker {
 public:
  // eog: tokens that end generation; allowed exactly when the grammar accepts.
  TokenMasker(std::shared_ptr<GrammarMatcher> matcher, std::vector<std::string> pieces, std::vector<int32_t> eog);

  GrammarMatcher& matcher() { return *matcher_; }
  const std::string& piece(int32_t t) const { return pieces_[static_cast<size_t>(t)]; }
  bool is_eog(int32_t t) const;
  int32_t n_vocab() const { return static_cast<int32_t>(pieces_.size()); }

  // The allowed tokens in state `s` (cached; the reference stays valid until
  // the next call). Cost on a cache miss: one trie walk, O(visited nodes).
  const TokenMask& mask(GrammarStateId s);
  // The same computed with a full trie walk (no caches; reference, benchmarks).
  TokenMask compute_mask(GrammarStateId s);
  // The same computed from stack tops, without the per-state cache (the
  // per-top tables are cached and built on first use: one full walk each).
  TokenMask compute_mask_by_tops(GrammarStateId s);
  size_t n_top_tables() const { return tops_tables_.size(); }
  // Trie nodes the last walk advanced the matcher on (cost diagnostics).
  size_t last_walk_nodes() const { return last_walk_nodes_; }

  static constexpr int kTopDepth = 4;
  // The state after token t (kDeadState if the grammar rejects it; EOG
  // tokens leave the state unchanged when accepting).
  GrammarStateId advance(GrammarStateId s, int32_t t);

  size_t cache_size() const { return cache_.size(); }
  const TokenTrie& trie() const { return trie_; }
  void clear_cache() { cache_.clear(); }

 private:
  std::shared_ptr<GrammarMatcher> matcher_;
  std::vector<std::string> pieces_;
  std::vector<int32_t> eog_;
  TokenTrie trie_;
  struct TopTable {
    TokenMask accepted;               // allowed whatever lies below the top
    std::vector<uint64_t> undecided;  // bit per trie node: the walk must visit it
  };
  const TopTable& top_table(uint32_t stack);
  // Walks nodes whose bit is set in `visit` (all if null) from state s,
  // setting the bits of allowed tokens in m.
  void walk(GrammarStateId s, const std::vector<uint64_t>* visit, TokenMask& m);

  std::unordered_map<GrammarStateId, TokenMask> cache_;
  std::unordered_map<uint32_t, TopTable> tops_tables_;
  std::vector<GrammarStateId> stack_;
  std::vector<uint32_t> tops_;
  size_t last_walk_nodes_ = 0;
};

// A sampler-chain step that sets the logits of tokens the grammar rejects to
// -inf; accept() advances its grammar state. Put it first in the chain.
// Throws tandem::Error from accept() if the accepted token is not allowed.
class GrammarSampler : public sample::Sampler {
 public:
  explicit GrammarSampler(std::shared_ptr<TokenMasker> masker);
  const char* name() const override { return "grammar"; }
  void apply(sample::Candidates& c) override;
  void accept(TokenId token) override;
  void accept_prompt(TokenId) override {}  // the grammar constrains the output only
  void reset() override { state_ = masker_->matcher().initial(); }

  GrammarStateId state() const { return state_; }
  bool accepting() const { return masker_->matcher().accepting(state_); }

 private:
  std::shared_ptr<TokenMasker> masker_;
  GrammarStateId state_;
};

// Token pieces from a vocabulary as raw bytes, for vocabularies whose tokens
// are stored SPM-style ("▁" for space, "<0xNN>" byte tokens) or GPT-2 style
// (bytes mapped to printable code points). Control tokens get "".
// Prefer Tokenizer::token_to_piece when a Tokenizer is at hand.
std::vector<std::string> pieces_from_vocab(const Vocab& vocab);

}  // namespace tandem::grammar
