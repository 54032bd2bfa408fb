#include "grammar/grammar_matcher.h"

#include <algorithm>
#include <string>

#include "util/error.h"

namespace tandem::grammar {

using Kind = GrammarElement::Kind;

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar) : grammar_(std::move(grammar)) {
  nodes_.push_back({0, 0});  // the empty stack
  nodes_.push_back({0, 0});  // the sentinel
  std::vector<uint32_t> leaves;
  for (uint32_t alt : grammar_->alternatives[grammar_->root]) expand(alt, kEmptyStack, leaves);
  initial_ = intern_state({intern_set(leaves)});
}

uint32_t GrammarMatcher::node(uint32_t pos, uint32_t parent) {
  const uint64_t key = (static_cast<uint64_t>(pos) << 32) | parent;
  auto it = node_index_.find(key);
  if (it != node_index_.end()) return it->second;
  const auto id = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back({pos, parent});
  node_index_.emplace(key, id);
  return id;
}

// Adds to `out` every leaf stack (top = a kChar element) reachable from the
// stack "continue at `pos`, then return to `parent`" without consuming input.
// Terminates because the parser rejects left recursion.
void GrammarMatcher::expand(uint32_t pos, uint32_t parent, std::vector<uint32_t>& out) {
  // Bounds against hostile grammars or inputs: deep chains of rules (the
  // recursion would overflow the stack) and explosive ambiguity.
  // 4000 frames fit an 8 MiB stack even with AddressSanitizer's larger frames.
  constexpr int kMaxDepth = 4000;
  constexpr size_t kMaxLeaves = size_t{1} << 20;
  struct DepthGuard {
    int& d;
    explicit DepthGuard(int& depth) : d(depth) {
      if (++d > kMaxDepth) {
        d = 0;
        throw Error("grammar: expansion deeper than " + std::to_string(kMaxDepth) +
                    " levels (the grammar or the input nests too deeply)");
      }
    }
    ~DepthGuard() { d = d > 0 ? d - 1 : 0; }
  } guard(depth_);
  if (out.size() > kMaxLeaves) throw Error("grammar: too many parses alive at once (the grammar is too ambiguous)");
  const GrammarElement& e = grammar_->elements[pos];
  switch (e.kind) {
    case Kind::kChar:
      out.push_back(node(pos, parent));
      return;
    case Kind::kEnd:
      if (parent == kEmptyStack || parent == kSentinel) {
        out.push_back(parent);
      } else {
        const StackNode p = nodes_[parent];
        expand(p.pos, p.parent, out);
      }
      return;
    case Kind::kRule: {
      // Tail call: if the reference ends its alternative, return straight to
      // `parent` so right recursion (X* loops) keeps stacks flat.
      const uint32_t cont =
          grammar_->elements[pos + 1].kind == Kind::kEnd ? parent : node(pos + 1, parent);
      for (uint32_t alt : grammar_->alternatives[e.rule]) expand(alt, cont, out);
      return;
    }
  }
}

uint32_t GrammarMatcher::intern_set(std::vector<uint32_t>& leaves) {
  std::sort(leaves.begin(), leaves.end());
  leaves.erase(std::unique(leaves.begin(), leaves.end()), leaves.end());
  std::string_view key(reinterpret_cast<const char*>(leaves.data()), leaves.size() * sizeof(uint32_t));
  auto it = set_index_.find(key);
  if (it != set_index_.end()) return it->second;
  const auto id = static_cast<uint32_t>(sets_.size());
  sets_.push_back(leaves);
  set_keys_.push_back(std::make_unique<std::string>(key));
  set_index_.emplace(*set_keys_.back(), id);
  return id;
}

GrammarStateId GrammarMatcher::intern_state(const State& st) {
  const uint64_t key = static_cast<uint64_t>(st.set) | (static_cast<uint64_t>(st.partial) << 32) |
                       (static_cast<uint64_t>(st.remaining) << 56) | (static_cast<uint64_t>(st.length) << 60);
  auto it = state_index_.find(key);
  if (it != state_index_.end()) return it->second;
  const auto id = static_cast<GrammarStateId>(states_.size());
  states_.push_back(st);
  trans_.resize(trans_.size() + 256, kUnknown);
  state_index_.emplace(key, id);
  return id;
}

uint32_t GrammarMatcher::advance_set(uint32_t set, uint32_t cp) {
  std::vector<uint32_t> out;
  for (uint32_t leaf : sets_[set]) {
    if (!is_leaf_stack(leaf)) continue;
    const StackNode n = nodes_[leaf];
    if (grammar_->matches(n.pos, cp)) expand(n.pos + 1, n.parent, out);
  }
  if (out.empty()) return kDeadState;
  return intern_set(out);
}

bool GrammarMatcher::viable(uint32_t set, uint32_t lo, uint32_t hi) const {
  // Surrogates (U+D800..U+DFFF) are not code points: a prefix leading only to
  // them must die now, or the state would be alive with no way forward.
  if (lo <= 0xDFFF && hi >= 0xD800) {
    return (lo < 0xD800 && viable(set, lo, 0xD7FF)) || (hi > 0xDFFF && viable(set, 0xE000, hi));
  }
  for (uint32_t leaf : sets_[set])
    if (is_leaf_stack(leaf) && grammar_->matches_some(nodes_[leaf].pos, lo, hi)) return true;
  return false;
}

GrammarStateId GrammarMatcher::compute(GrammarStateId s, uint8_t b) {
  const State st = states_[s];
  if (st.remaining == 0) {
    if (b < 0x80) {
      const uint32_t set = advance_set(st.set, b);
      return set == kDeadState ? kDeadState : intern_state({set});
    }
    uint8_t len = 0;
    uint32_t bits = 0;
    if (b >= 0xC2 && b <= 0xDF) len = 2, bits = b & 0x1Fu;
    else if (b >= 0xE0 && b <= 0xEF) len = 3, bits = b & 0x0Fu;
    else if (b >= 0xF0 && b <= 0xF4) len = 4, bits = b & 0x07u;
    else return kDeadState;  // continuation byte or invalid lead
    State next{st.set, bits, static_cast<uint8_t>(len - 1), len};
    const uint32_t shift = 6u * next.remaining;
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    const uint32_t lo = std::max(bits << shift, kMin[len]);
    const uint32_t hi = std::min((bits << shift) | ((1u << shift) - 1), 0x10FFFFu);
    if (lo > hi || !viable(st.set, lo, hi)) return kDeadState;
    return intern_state(next);
  }
  if ((b & 0xC0) != 0x80) return kDeadState;
  const uint32_t bits = (st.partial << 6) | (b & 0x3Fu);
  const auto remaining = static_cast<uint8_t>(st.remaining - 1);
  if (remaining == 0) {
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (bits < kMin[st.length] || bits > 0x10FFFF || (bits >= 0xD800 && bits <= 0xDFFF)) return kDeadState;
    const uint32_t set = advance_set(st.set, bits);
    return set == kDeadState ? kDeadState : intern_state({set});
  }
  const uint32_t shift = 6u * remaining;
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  const uint32_t lo = std::max(bits << shift, kMin[st.length]);
  const uint32_t hi = std::min((bits << shift) | ((1u << shift) - 1), 0x10FFFFu);
  if (lo > hi || !viable(st.set, lo, hi)) return kDeadState;
  return intern_state({st.set, bits, remaining, st.length});
}

GrammarStateId GrammarMatcher::advance_slow(GrammarStateId s, uint8_t byte) {
  const GrammarStateId t = compute(s, byte);
  trans_[(static_cast<size_t>(s) << 8) | byte] = t;  // compute() may have grown trans_: index again
  return t;
}

GrammarStateId GrammarMatcher::advance(GrammarStateId s, std::string_view bytes) {
  for (char c : bytes) {
    s = advance(s, static_cast<uint8_t>(c));
    if (s == kDeadState) break;
  }
  return s;
}

bool GrammarMatcher::accepting(GrammarStateId s) const {
  if (s == kDeadState) return false;
  const State& st = states_[s];
  if (st.remaining != 0) return false;
  const auto& set = sets_[st.set];
  return !set.empty() && set.front() == kEmptyStack;  // sorted: the empty stack (0) comes first
}

bool GrammarMatcher::can_continue(GrammarStateId s) const {
  if (s == kDeadState) return false;
  const auto& set = sets_[states_[s].set];
  return !set.empty() && is_leaf_stack(set.back());
}

void GrammarMatcher::truncated_stacks(GrammarStateId s, int depth, std::vector<uint32_t>& out) {
  out.clear();
  if (s == kDeadState) return;
  std::vector<uint32_t> chain;
  for (uint32_t leaf : sets_[states_[s].set]) {
    if (!is_leaf_stack(leaf)) continue;
    chain.clear();
    uint32_t n = leaf;
    for (int d = 0; d < depth && is_leaf_stack(n); ++d) {
      chain.push_back(nodes_[n].pos);
      n = nodes_[n].parent;
    }
    uint32_t cut = is_leaf_stack(n) ? kSentinel : n;  // n is the empty stack when the stack was short
    for (size_t i = chain.size(); i-- > 0;) cut = node(chain[i], cut);
    out.push_back(cut);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

GrammarStateId GrammarMatcher::state_of_stack(uint32_t stack) {
  std::vector<uint32_t> one = {stack};
  return intern_state({intern_set(one)});
}

bool GrammarMatcher::reached_sentinel(GrammarStateId s) const {
  if (s == kDeadState) return false;
  const auto& set = sets_[states_[s].set];
  return std::binary_search(set.begin(), set.end(), kSentinel);
}

bool GrammarMatcher::matches(std::string_view text) { return accepting(advance(initial_, text)); }

}  // namespace tandem::grammar
