// Text comparison utilities for reranking (MBR) and eval. The final-answer
// extractor self-consistency votes with is util/answer.h.
#pragma once

#include <string>
#include <string_view>

namespace tandem::decode {

// 1 if the strings are equal after trimming surrounding whitespace, else 0.
double exact_match(std::string_view a, std::string_view b);

// SQuAD-style token F1: whitespace tokens, lower-cased, punctuation stripped,
// multiset overlap. Both empty: 1.
double token_f1(std::string_view a, std::string_view b);

// chrF (Popović 2015): character n-gram F-beta (n = 1..max_n, beta = 2),
// precision and recall averaged over n, spaces removed; `hyp` against `ref`.
double chrf(std::string_view hyp, std::string_view ref, int max_n = 6, double beta = 2.0);

}  // namespace tandem::decode
