// Grammar mask time per token on a real vocabulary.
//
//   bench_grammar [vocab.gguf] [n_tokens]
//
// Simulates constrained generation: random logits, the grammar mask, a random
// draw, for several grammars. Reports per generated token
//   full:  compute_mask(): one full trie walk, no caches (the matcher's
//          transition memo warm from earlier steps),
//   tops:  compute_mask_by_tops(): per-stack-top tables (built on first
//          use, warm here) + a walk restricted to undecided tokens; no
//          per-state cache: the cost of a state never seen before,
//   first: the first run of a fresh masker through mask() (cache misses
//          included: what a new request pays),
//   warm:  a second run with the same masker (states seen before).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "gguf/gguf.h"
#include "grammar/json_schema.h"
#include "grammar/token_mask.h"
#include "sample/selectors.h"

using namespace tandem;
using namespace tandem::grammar;
using Clock = std::chrono::steady_clock;

namespace {

Vocab read_vocab(const std::string& path) {
  auto f = gguf::File::open(path);
  Vocab v;
  v.model = f->get_string("tokenizer.ggml.model");
  for (const auto& t : f->get_array("tokenizer.ggml.tokens")) v.tokens.push_back(t.as_string());
  if (f->has("tokenizer.ggml.token_type"))
    for (const auto& t : f->get_array("tokenizer.ggml.token_type")) v.kinds.push_back(static_cast<TokenKind>(t.as_int()));
  v.eos = static_cast<TokenId>(f->get_int_or("tokenizer.ggml.eos_token_id", -1));
  return v;
}

struct Stats {
  double cold_us = 0, pos_us = 0, mask_us = 0;
  int n = 0;
};

// One generation of up to n tokens; restarts at EOS. Measures mask() and,
// if `cold`, compute_mask() at every step.
Stats run(TokenMasker& masker, const std::vector<std::string>& pieces, int32_t eos, int n, uint64_t seed, bool cold) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 2.0f);
  sample::Rng draw_rng(seed);
  Stats st;
  GrammarStateId s = masker.matcher().initial();
  std::vector<float> w(pieces.size());
  for (int i = 0; i < n; ++i) {
    if (cold) {
      // Minimum of 3 runs: the machine may be shared, and the minimum is the
      // cost of the computation itself.
      double full = 1e300, tops = 1e300;
      TokenMask m, m2;
      for (int rep = 0; rep < 3; ++rep) {
        auto t0 = Clock::now();
        m = masker.compute_mask(s);
        full = std::min(full, std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        t0 = Clock::now();
        m2 = masker.compute_mask_by_tops(s);
        tops = std::min(tops, std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      st.cold_us += full;
      st.pos_us += tops;
      if (std::getenv("GRAMMAR_BENCH_VERBOSE"))
        std::printf("    state %u: by tops %.1f us, %zu nodes walked\n", s, tops, masker.last_walk_nodes());
      if (m2 != m) {
        std::fprintf(stderr, "mask mismatch\n");
        std::exit(1);
      }
    }
    auto t0 = Clock::now();
    const TokenMask& m = masker.mask(s);
    st.mask_us += std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    for (size_t t = 0; t < w.size(); ++t) {
      const float bonus = pieces[t].find_first_of("}]\"") != std::string::npos ? 2.0f : 0.0f;
      w[t] = mask_test(m, static_cast<int32_t>(t)) ? std::exp(d(rng) + bonus) : 0.0f;
    }
    const int t = sample::draw(w.data(), w.size(), draw_rng);
    s = (t == eos || t < 0) ? masker.matcher().initial() : masker.advance(s, t);
    ++st.n;
  }
  return st;
}

}  // namespace

int main(int argc, char** argv) try {
  const char* shared = std::getenv("TANDEM_SHARED_DIR");
  const std::string path = argc > 1 ? argv[1]
                                    : std::string(shared ? shared : TANDEM_SOURCE_DIR "/../shared") +
                                          "/fixtures/tokenizer/ggml-vocab-llama-spm.gguf";
  const int n = argc > 2 ? std::atoi(argv[2]) : 300;
  Vocab v = read_vocab(path);
  auto pieces = pieces_from_vocab(v);
  std::printf("vocab %s: %zu tokens\n", path.c_str(), pieces.size());
  const std::vector<std::pair<std::string, std::string>> grammars = {
      {"json-any", json_schema_to_gbnf(std::string_view("{}"))},
      {"json-schema", json_schema_to_gbnf(std::string_view(
                          R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
                              "tags":{"type":"array","items":{"type":"string"}}},"required":["name","age"]})"))},
      {"words", "root ::= ([A-Z] [a-z]* (\" \" [a-z]+)* [.!?] \" \"?)+"},
  };
  for (const auto& [name, gbnf] : grammars) {
    auto grammar = std::make_shared<Grammar>(parse_gbnf(gbnf));
    auto t0 = Clock::now();
    TokenMasker masker(std::make_shared<GrammarMatcher>(grammar), pieces, {v.eos});
    const double build_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    Stats first = run(masker, pieces, v.eos, n, 1, false);
    Stats warm = run(masker, pieces, v.eos, n, 1, true);
    std::printf("%-12s trie build %.1f ms | per token: full walk %.1f us, by tops %.1f us, first run %.1f us, "
                "warm %.2f us "
                "(%zu states, %zu cached masks, %zu top tables, %zu trie nodes)\n",
                name.c_str(), build_ms, warm.cold_us / warm.n, warm.pos_us / warm.n, first.mask_us / first.n, warm.mask_us / warm.n,
                masker.matcher().n_states(), masker.cache_size(), masker.n_top_tables(), masker.trie().n_nodes());
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
