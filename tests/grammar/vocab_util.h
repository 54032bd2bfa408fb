// Test helper: a Vocab read straight from a GGUF file's tokenizer.ggml.*
// metadata (independent of src/tokenizer).
#pragma once

#include <string>

#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace tandem::testing {

inline Vocab read_vocab(const std::string& path) {
  auto f = gguf::File::open(path);
  Vocab v;
  v.model = f->get_string("tokenizer.ggml.model");
  for (const auto& t : f->get_array("tokenizer.ggml.tokens")) v.tokens.push_back(t.as_string());
  if (f->has("tokenizer.ggml.token_type"))
    for (const auto& t : f->get_array("tokenizer.ggml.token_type")) v.kinds.push_back(static_cast<TokenKind>(t.as_int()));
  v.eos = static_cast<TokenId>(f->get_int_or("tokenizer.ggml.eos_token_id", -1));
  v.bos = static_cast<TokenId>(f->get_int_or("tokenizer.ggml.bos_token_id", -1));
  return v;
}

}  // namespace tandem::testing
