// A pushdown matcher for a compiled Grammar that advances byte by byte.
//
// A matcher state is the set of all parse stacks still alive (each stack
// points at the next character set to match, with return positions below it)
// plus a partially read UTF-8 code point. Stacks are hash-consed (a stack is a
// (position, parent-stack) pair interned once), stack sets and states are
// interned too, and byte transitions are memoized per state: a state is a
// small integer, and walking a token trie is mostly table look-ups.
//
// Cost: memory grows with the number of distinct states visited (a 256-entry
// transition row each, 1 KiB); states are never freed during a matcher's life.
// Not thread-safe: one GrammarMatcher per thread (they may share the Grammar).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "grammar/grammar.h"

namespace tandem::grammar {

using GrammarStateId = uint32_t;
inline constexpr GrammarStateId kDeadState = 0xFFFFFFFFu;

class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar);

  const Grammar& grammar() const { return *grammar_; }

  // The state before any input.
  GrammarStateId initial() const { return initial_; }
  // The state after one more byte, or kDeadState if no parse survives it.
  // Rejects invalid UTF-8, and a partial code point no continuation of which
  // the grammar accepts.
  GrammarStateId advance(GrammarStateId s, uint8_t byte) {
    if (s == kDeadState) return kDeadState;
    const uint32_t t = trans_[(static_cast<size_t>(s) << 8) | byte];
    return t != kUnknown ? t : advance_slow(s, byte);
  }
  GrammarStateId advance(GrammarStateId s, std::string_view bytes);
  // Whether the input so far is a complete sentence of the grammar.
  bool accepting(GrammarStateId s) const;
  // Whether more input could be accepted (some stack expects a character).
  bool can_continue(GrammarStateId s) const;
  // Whole-string convenience: initial state, all bytes, accepting at the end.
  bool matches(std::string_view text);

  size_t n_states() const { return states_.size(); }

  // --- Support for mask precomputation by stack tops (TokenMasker) ---
  // The stacks of `s`, each cut to its `depth` top entries with the rest
  // replaced by a sentinel that consumes nothing (stack ids, sorted, unique).
  // Runs that return to the sentinel could continue only with the real rest
  // of the stack. Stacks no deeper than `depth` are returned whole.
  void truncated_stacks(GrammarStateId s, int depth, std::vector<uint32_t>& out);
  // The state made of the single stack `stack` (from truncated_stacks).
  GrammarStateId state_of_stack(uint32_t stack);
  // Whether some run of `s` has returned to the sentinel.
  bool reached_sentinel(GrammarStateId s) const;
  // Whether `s` is between the bytes of a multi-byte code point.
  bool mid_code_point(GrammarStateId s) const { return s != kDeadState && states_[s].remaining != 0; }

 private:
  struct State {
    uint32_t set;            // interned stack set
    uint32_t partial = 0;    // bits of a code point being read
    uint8_t remaining = 0;   // continuation bytes still expected
    uint8_t length = 0;      // total length of the code point being read
  };
  struct StackNode {
    uint32_t pos;     // element index; for leaves a kChar element
    uint32_t parent;  // stack below; kEmptyStack at the bottom
  };
  static constexpr uint32_t kEmptyStack = 0;  // node 0: the empty stack (accept)
  static constexpr uint32_t kSentinel = 1;    // node 1: the unknown rest of a stack (see isolated())
  bool is_leaf_stack(uint32_t id) const { return id > kSentinel; }

  uint32_t node(uint32_t pos, uint32_t parent);
  void expand(uint32_t pos, uint32_t parent, std::vector<uint32_t>& out);
  uint32_t intern_set(std::vector<uint32_t>& leaves);
  GrammarStateId intern_state(const State& st);
  GrammarStateId compute(GrammarStateId s, uint8_t byte);
  GrammarStateId advance_slow(GrammarStateId s, uint8_t byte);
  uint32_t advance_set(uint32_t set, uint32_t cp);
  bool viable(uint32_t set, uint32_t lo, uint32_t hi) const;

  std::shared_ptr<const Grammar> grammar_;
  std::vector<StackNode> nodes_;
  std::unordered_map<uint64_t, uint32_t> node_index_;
  std::vector<std::vector<uint32_t>> sets_;  // sorted leaf stack ids
  std::unordered_map<std::string_view, uint32_t> set_index_;  // keys view into set_keys_
  std::vector<std::unique_ptr<std::string>> set_keys_;
  std::vector<State> states_;
  std::unordered_map<uint64_t, GrammarStateId> state_index_;
  // Memoized transitions: trans_[s * 256 + byte]; kUnknown until computed.
  // One flat table (256 entries per state) keeps the trie walk to a load.
  static constexpr uint32_t kUnknown = 0xFFFFFFFEu;
  std::vector<uint32_t> trans_;
  int depth_ = 0;  // expand() recursion depth
  GrammarStateId initial_ = kDeadState;
};

}  // namespace tandem::grammar
