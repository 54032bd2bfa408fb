// The one answer extractor: the final answer of a worked solution, as
// self-consistency votes on it (decode/), eval scores it (eval/) and a
// cascade's agreement signal counts it (compose/). One rule, so that one text
// gets one answer everywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tandem {

// The rule (GSM8K's answer convention, and lm-eval's two gsm8k filters in turn):
// 1. If the text holds "####", the answer is the first number after the FIRST
//    "####". A solution ends with its "#### N" line and the model should stop
//    there; a model that runs on past it usually starts another question and
//    another "####", whose number is not the answer to this one (lm-eval's
//    strict-match takes the first match too). A "####" followed by no number
//    is no answer (nullopt): the working's numbers are not guessed from.
// 2. Otherwise the answer is the LAST number in the text (lm-eval's
//    flexible-extract): worked solutions state the result last.
//
// A number is an optional '-' (a sign only when not preceded by a letter or
// digit: "3-5" is 3 and 5), digits with optional thousands groups (',' followed
// by exactly three digits), and an optional fraction ('.' followed by digits).
// A leading '.' is read as "0." (".5" is 0.5). Currency signs, units and a
// full stop after the number are not part of it ("#### $1,000." is 1000).
//
// The result is normalized so equal values compare equal as strings: no
// group commas, no leading zeros, no trailing zeros in the fraction, no
// fraction of zeros, no "-0" ("1,000.50" -> "1000.5", "3.0" -> "3",
// "-0.0" -> "0", "007" -> "7"). nullopt when there is no number.
std::optional<std::string> extract_final_answer(std::string_view text);

}  // namespace tandem
