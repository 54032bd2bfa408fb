#include "grammar/token_mask.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "util/error.h"

namespace tandem::grammar {

TokenTrie::TokenTrie(const std::vector<std::string>& pieces) {
  std::vector<int32_t> order;
  for (size_t t = 0; t < pieces.size(); ++t)
    if (!pieces[t].empty()) order.push_back(static_cast<int32_t>(t));
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return pieces[static_cast<size_t>(a)] < pieces[static_cast<size_t>(b)] || (pieces[static_cast<size_t>(a)] == pieces[static_cast<size_t>(b)] && a < b);
  });
  n_tokens_ = order.size();
  // Sorted pieces visit the trie in preorder: each piece shares a prefix with
  // the previous one and opens new nodes for the rest.
  std::vector<uint8_t> bytes = {0};
  std::vector<uint16_t> depth = {0};
  std::vector<uint32_t> path = {0};  // node at each depth along the current piece
  std::vector<std::vector<int32_t>> node_tokens(1);
  std::string prev;
  for (int32_t t : order) {
    const std::string& p = pieces[static_cast<size_t>(t)];
    if (p.size() >= 0xFFFF) throw Error("token trie: token " + std::to_string(t) + " has a piece longer than 65534 bytes");
    size_t common = 0;
    while (common < p.size() && common < prev.size() && p[common] == prev[common]) ++common;
    path.resize(common + 1);
    for (size_t i = common; i < p.size(); ++i) {
      path.push_back(static_cast<uint32_t>(bytes.size()));
      bytes.push_back(static_cast<uint8_t>(p[i]));
      depth.push_back(static_cast<uint16_t>(i + 1));
      node_tokens.emplace_back();
    }
    node_tokens[path.back()].push_back(t);
    prev = p;
  }
  const size_t n = bytes.size();
  nodes_.resize(n + 1);
  // Subtree ends: a node's subtree ends where the next node of depth <= its own starts.
  std::vector<uint32_t> open;
  for (uint32_t i = 0; i <= n; ++i) {
    const int d = i < n ? depth[i] : -1;
    while (!open.empty() && depth[open.back()] >= d) {
      nodes_[open.back()].end = i;
      open.pop_back();
    }
    if (i < n) open.push_back(i);
  }
  for (size_t i = 0; i < n; ++i) {
    nodes_[i].token_begin = static_cast<uint32_t>(tokens_.size());
    nodes_[i].depth = depth[i];
    nodes_[i].byte = bytes[i];
    tokens_.insert(tokens_.end(), node_tokens[i].begin(), node_tokens[i].end());
  }
  nodes_[n] = {static_cast<uint32_t>(n), static_cast<uint32_t>(tokens_.size()), 0, 0};
}

TokenMasker::TokenMasker(std::shared_ptr<GrammarMatcher> matcher, std::vector<std::string> pieces,
                         std::vector<int32_t> eog)
    : matcher_(std::move(matcher)), pieces_(std::move(pieces)), eog_(std::move(eog)), trie_(pieces_) {
  for (int32_t t : eog_)
    if (t < 0 || static_cast<size_t>(t) >= pieces_.size()) throw Error("token mask: end-of-generation token id outside the vocabulary");
}

bool TokenMasker::is_eog(int32_t t) const { return std::find(eog_.begin(), eog_.end(), t) != eog_.end(); }

void TokenMasker::walk(GrammarStateId s, const std::vector<uint64_t>* visit, TokenMask& m) {
  GrammarMatcher& g = *matcher_;
  stack_.assign(1, s);  // stack_[d] = state after the first d bytes of the current path
  const auto& nodes = trie_.nodes_;
  const uint32_t n = static_cast<uint32_t>(nodes.size() - 1);
  uint32_t i = 1;
  last_walk_nodes_ = 0;
  while (i < n) {
    const TokenTrie::Node& node = nodes[i];
    if (visit && !((*visit)[i >> 6] >> (i & 63) & 1)) {
      i = node.end;  // nothing undecided below: the position tables settled it
      continue;
    }
    ++last_walk_nodes_;
    const GrammarStateId next = g.advance(stack_[node.depth - 1u], node.byte);
    if (next == kDeadState) {
      i = node.end;  // no token below this prefix can match
      continue;
    }
    if (stack_.size() <= node.depth) stack_.resize(node.depth + 1u);
    stack_[node.depth] = next;
    for (uint32_t k = node.token_begin, e = nodes[i + 1].token_begin; k < e; ++k) {
      const int32_t t = trie_.tokens_[k];
      m[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
    }
    ++i;
  }
}

TokenMask TokenMasker::compute_mask(GrammarStateId s) {
  TokenMask m((pieces_.size() + 63) / 64, 0);
  if (s == kDeadState) return m;
  // A token may end in the middle of a code point (byte tokens): it is allowed
  // when some continuation can still match, which advance() already checked.
  walk(s, nullptr, m);
  if (matcher_->accepting(s))
    for (int32_t t : eog_) m[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
  return m;
}

const TokenMasker::TopTable& TokenMasker::top_table(uint32_t stack) {
  auto it = tops_tables_.find(stack);
  if (it != tops_tables_.end()) return it->second;
  TopTable tab;
  tab.accepted.assign((pieces_.size() + 63) / 64, 0);
  const auto& nodes = trie_.nodes_;
  const uint32_t n = static_cast<uint32_t>(nodes.size() - 1);
  tab.undecided.assign((n + 64) / 64, 0);
  GrammarMatcher& g = *matcher_;
  // Along the current path: state after d bytes, whether some run had
  // reached the unknown rest of the stack before byte d+1 (then the real
  // stack decides), node at depth d.
  std::vector<GrammarStateId> state = {g.state_of_stack(stack)};
  std::vector<uint8_t> left = {0};
  std::vector<uint32_t> path = {0};
  // The walk must reach the whole subtree [node, end) and the path to it.
  auto mark_undecided = [&](uint32_t node, uint32_t end, uint16_t depth) {
    for (uint32_t k = node; k < end;) {
      if ((k & 63) == 0 && k + 64 <= end) {
        tab.undecided[k >> 6] = ~uint64_t{0};
        k += 64;
      } else {
        tab.undecided[k >> 6] |= uint64_t{1} << (k & 63);
        ++k;
      }
    }
    for (uint16_t d = 1; d < depth; ++d) tab.undecided[path[d] >> 6] |= uint64_t{1} << (path[d] & 63);
  };
  uint32_t i = 1;
  while (i < n) {
    const TokenTrie::Node& node = nodes[i];
    const uint16_t d = node.depth;
    const bool has_left = left[d - 1u] || g.reached_sentinel(state[d - 1u]);
    const GrammarStateId next = g.advance(state[d - 1u], node.byte);
    if (next == kDeadState) {
      if (has_left && nodes[node.end].token_begin > node.token_begin) mark_undecided(i, node.end, d);
      i = node.end;
      continue;
    }
    if (state.size() <= d) {
      state.resize(d + 1u);
      left.resize(d + 1u);
      path.resize(d + 1u);
    }
    state[d] = next;
    left[d] = has_left;
    path[d] = i;
    // Alive within the frame (or just returned from it): allowed in any context.
    for (uint32_t k = node.token_begin, e = nodes[i + 1].token_begin; k < e; ++k) {
      const int32_t t = trie_.tokens_[k];
      tab.accepted[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
    }
    ++i;
  }
  return tops_tables_.emplace(stack, std::move(tab)).first->second;
}

TokenMask TokenMasker::compute_mask_by_tops(GrammarStateId s) {
  if (s == kDeadState || matcher_->mid_code_point(s)) return compute_mask(s);
  TokenMask m((pieces_.size() + 63) / 64, 0);
  std::vector<uint64_t> visit;
  matcher_->truncated_stacks(s, kTopDepth, tops_);
  const std::vector<uint32_t> tops = tops_;
  for (uint32_t top : tops) {
    const TopTable& tab = top_table(top);
    for (size_t w = 0; w < m.size(); ++w) m[w] |= tab.accepted[w];
    if (visit.empty()) visit = tab.undecided;
    else
      for (size_t w = 0; w < visit.size(); ++w) visit[w] |= tab.undecided[w];
  }
  if (!visit.empty()) walk(s, &visit, m);
  if (matcher_->accepting(s))
    for (int32_t t : eog_) m[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
  return m;
}

const TokenMask& TokenMasker::mask(GrammarStateId s) {
  auto it = cache_.find(s);
  if (it != cache_.end()) return it->second;
  if (cache_.size() >= 4096) cache_.clear();  // bound memory: 4096 masks of n_vocab bits
  return cache_.emplace(s, compute_mask_by_tops(s)).first->second;
}

GrammarStateId TokenMasker::advance(GrammarStateId s, int32_t t) {
  if (t < 0 || static_cast<size_t>(t) >= pieces_.size()) return kDeadState;
  if (is_eog(t)) return matcher_->accepting(s) ? s : kDeadState;
  const std::string& p = pieces_[static_cast<size_t>(t)];
  if (p.empty()) return kDeadState;
  return matcher_->advance(s, p);
}

GrammarSampler::GrammarSampler(std::shared_ptr<TokenMasker> masker)
    : masker_(std::move(masker)), state_(masker_->matcher().initial()) {}

bool mask_logits(const TokenMask& m, int32_t n_mask, std::span<float> logits) {
  bool any = false;
  const int32_t n = static_cast<int32_t>(logits.size());
  for (int32_t t = 0; t < n; ++t) {
    if (t < n_mask && mask_test(m, t)) any = true;
    else logits[static_cast<size_t>(t)] = -std::numeric_limits<float>::infinity();
  }
  return any;
}

void GrammarSampler::apply(sample::Candidates& c) {
  const TokenMask& m = masker_->mask(state_);
  const int32_t n = masker_->n_vocab();
  for (auto& x : c.items)
    if (x.id < 0 || x.id >= n || !mask_test(m, x.id)) x.logit = -std::numeric_limits<float>::infinity();
}

void GrammarSampler::accept(TokenId token) {
  const GrammarStateId next = masker_->advance(state_, token);
  if (next == kDeadState)
    throw Error("grammar: token " + std::to_string(token) + " is not allowed by the grammar in the current state");
  state_ = next;
}

namespace {
// GPT-2's byte <-> printable code point table (bytes_to_unicode).
std::vector<int> gpt2_unicode_to_byte() {
  std::vector<int> map(512, -1);
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    if (printable) map[static_cast<size_t>(b)] = b;
    else map[static_cast<size_t>(256 + n++)] = b;
  }
  return map;
}
}  // namespace

std::vector<std::string> pieces_from_vocab(const Vocab& vocab) {
  std::vector<std::string> out(vocab.tokens.size());
  const bool bpe = vocab.model == "gpt2";
  static const std::vector<int> u2b = gpt2_unicode_to_byte();
  for (size_t t = 0; t < vocab.tokens.size(); ++t) {
    const std::string& s = vocab.tokens[t];
    const TokenKind kind = t < vocab.kinds.size() ? vocab.kinds[t] : TokenKind::kNormal;
    if (kind == TokenKind::kControl || kind == TokenKind::kUnknown || kind == TokenKind::kUnused) continue;
    if (kind == TokenKind::kByte && s.size() == 6 && s.rfind("<0x", 0) == 0) {
      out[t] = std::string(1, static_cast<char>(std::stoi(s.substr(3, 2), nullptr, 16)));
      continue;
    }
    if (kind == TokenKind::kUserDefined) {
      out[t] = s;
      continue;
    }
    std::string piece;
    for (size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      const size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
      if (!bpe) {
        if (s.compare(i, 3, "\xE2\x96\x81") == 0) piece += ' ';  // U+2581 "▁"
        else piece.append(s, i, len);
      } else {
        uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
        for (size_t k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
        if (cp < u2b.size() && u2b[cp] >= 0) piece += static_cast<char>(u2b[cp]);
        else piece.append(s, i, len);
      }
      i += len;
    }
    out[t] = piece;
  }
  return out;
}

}  // namespace tandem::grammar
