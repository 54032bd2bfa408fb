// Trie-based token masks against per-token matching (the brute-force
// definition), and grammar-constrained random sampling on real vocabularies.
#include <gtest/gtest.h>

#include <random>

#include "grammar/json_schema.h"
#include "grammar/token_mask.h"
#include "sample/chain.h"
#include "sample/selectors.h"
#include "vocab_util.h"

namespace tandem::grammar {
namespace {

using testing::read_vocab;
using testing::shared_path;
using testing::source_path;

std::vector<std::string> vocab_paths() {
  return {source_path("models/stories260K.gguf"), shared_path("fixtures/tokenizer/ggml-vocab-llama-spm.gguf")};
}

TEST(TokenMask, PiecesFromSpmVocab) {
  Vocab v = read_vocab(source_path("models/stories260K.gguf"));
  auto pieces = pieces_from_vocab(v);
  EXPECT_EQ(pieces[1], "");      // <s> is a control token
  EXPECT_EQ(pieces[13], "\n");   // <0x0A>
  EXPECT_EQ(pieces[410], " ");   // ▁
}

// pieces_from_vocab (used where no Tokenizer is at hand) against the
// tokenizer's own token_to_piece, for SPM and BPE vocabularies.
TEST(TokenMask, PiecesFromVocabEqualTokenizerPieces) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer/ggml-vocab-llama-spm.gguf");
  for (const std::string& path : {shared_path("fixtures/tokenizer/ggml-vocab-llama-spm.gguf"),
                                  shared_path("fixtures/tokenizer/ggml-vocab-gpt-2.gguf"), source_path("models/stories260K.gguf")}) {
    auto file = gguf::File::open(path);
    auto tok = Tokenizer::from_gguf(*file);
    auto pieces = pieces_from_vocab(tok->vocab());
    int compared = 0;
    for (TokenId t = 0; t < tok->n_vocab(); ++t) {
      const TokenKind kind = tok->vocab().kinds.empty() ? TokenKind::kNormal : tok->vocab().kinds[t];
      if (kind == TokenKind::kControl || kind == TokenKind::kUnknown || kind == TokenKind::kUnused) continue;
      ASSERT_EQ(pieces[t], tok->token_to_piece(t, false)) << path << " token " << t;
      ++compared;
    }
    EXPECT_GT(compared, tok->n_vocab() / 2) << path;
  }
}

TEST(TokenMask, TrieMaskEqualsPerTokenMatching) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer/ggml-vocab-llama-spm.gguf");
  const std::vector<std::string> grammars = {
      json_schema_to_gbnf(nlohmann::json::object()),  // any JSON value
      "root ::= (\" \"? [a-zA-Z]+ [,.]?)+ \"\\n\"",
      "root ::= [^a-m\\x00-\\x1F]{1,5} (\"é\" | [Ā-ſ] | [一-龥]) \"x\"*",
  };
  const std::vector<std::vector<std::string>> prefixes = {
      {"", "{", "{\"a", "{\"ab\": [1, ", "{\"ab\": [1, 2.5e", "\"\\u00"},
      {"", "Hello", "Hello, wor", "Hi."},
      {"", "xyz", "zz\xC3", "n\xE4\xB8"},
  };
  for (const std::string& vocab_path : vocab_paths()) {
    Vocab v = read_vocab(vocab_path);
    auto pieces = pieces_from_vocab(v);
    for (size_t g = 0; g < grammars.size(); ++g) {
      auto grammar = std::make_shared<Grammar>(parse_gbnf(grammars[g]));
      TokenMasker masker(std::make_shared<GrammarMatcher>(grammar), pieces, {v.eos});
      GrammarMatcher reference(grammar);  // separate instance: no shared memo tables
      for (const auto& prefix : prefixes[g]) {
        const GrammarStateId s = masker.matcher().advance(masker.matcher().initial(), prefix);
        ASSERT_NE(s, kDeadState) << prefix;
        const TokenMask m = masker.compute_mask(s);
        const TokenMask by_tops = masker.compute_mask_by_tops(s);
        const GrammarStateId rs = reference.advance(reference.initial(), prefix);
        int n_allowed = 0;
        for (int32_t t = 0; t < static_cast<int32_t>(pieces.size()); ++t) {
          bool want;
          if (t == v.eos) want = reference.accepting(rs);
          else want = !pieces[t].empty() && reference.advance(rs, pieces[t]) != kDeadState;
          n_allowed += want;
          ASSERT_EQ(mask_test(m, t), want) << vocab_path << " grammar " << g << " prefix \"" << prefix
                                           << "\" token " << t << " \"" << pieces[t] << "\"";
          ASSERT_EQ(mask_test(by_tops, t), want) << "by tops: " << vocab_path << " grammar " << g
                                                      << " prefix \"" << prefix << "\" token " << t << " \""
                                                      << pieces[t] << "\"";
        }
        EXPECT_GT(n_allowed, 0);
      }
    }
  }
}

// A small JSON Schema validator for the subset json_schema_to_gbnf supports.
bool valid(const nlohmann::json& v, const nlohmann::json& s, const nlohmann::json& root) {
  if (s.is_boolean()) return s.get<bool>();
  if (s.contains("$ref")) {
    std::string ref = s["$ref"];
    return valid(v, root["$defs"][ref.substr(8)], root);
  }
  if (s.contains("const")) return v == s["const"];
  if (s.contains("enum")) {
    for (const auto& e : s["enum"])
      if (v == e) return true;
    return false;
  }
  if (s.contains("anyOf")) {
    for (const auto& sub : s["anyOf"])
      if (valid(v, sub, root)) return true;
    return false;
  }
  if (!s.contains("type")) return true;
  if (s["type"].is_array()) {
    for (const auto& t : s["type"]) {
      auto sub = s;
      sub["type"] = t;
      if (valid(v, sub, root)) return true;
    }
    return false;
  }
  const std::string t = s["type"];
  if (t == "string") {
    if (!v.is_string()) return false;
    // Length in code points.
    size_t n = 0;
    for (unsigned char c : v.get<std::string>()) n += (c & 0xC0) != 0x80;
    return n >= s.value("minLength", 0u) && n <= s.value("maxLength", 1u << 30);
  }
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "array") {
    if (!v.is_array() || v.size() < s.value("minItems", 0u) || v.size() > s.value("maxItems", 1u << 30)) return false;
    for (const auto& x : v)
      if (s.contains("items") && !valid(x, s["items"], root)) return false;
    return true;
  }
  if (t == "object") {
    if (!v.is_object()) return false;
    for (const auto& r : s.value("required", nlohmann::json::array()))
      if (!v.contains(r.get<std::string>())) return false;
    for (const auto& [k, x] : v.items()) {
      if (!s["properties"].contains(k)) return false;  // no additionalProperties in these tests
      if (!valid(x, s["properties"][k], root)) return false;
    }
    return true;
  }
  return false;
}

const char* kSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 6},
    "age": {"type": "integer"},
    "score": {"type": ["number", "null"]},
    "tags": {"type": "array", "items": {"enum": ["red", "green", 3]}, "minItems": 1, "maxItems": 3},
    "kind": {"const": "pet"},
    "owner": {"$ref": "#/$defs/person"},
    "ok": {"type": "boolean"}
  },
  "required": ["name", "tags", "kind"],
  "$defs": {
    "person": {"type": "object", "properties": {"first": {"type": "string", "maxLength": 3},
               "friend": {"anyOf": [{"$ref": "#/$defs/person"}, {"type": "null"}]}}, "required": ["friend"]}
  }
})";

// Samples until EOS from random logits masked by the grammar. Tokens whose
// piece closes a structure get a bonus so that documents finish quickly.
std::string generate(TokenMasker& masker, const std::vector<std::string>& pieces, int32_t eos, uint64_t seed,
                     int max_tokens, bool* finished) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 2.0f);
  auto grammar_step = std::make_unique<GrammarSampler>(std::shared_ptr<TokenMasker>(&masker, [](TokenMasker*) {}));
  GrammarSampler* gs = grammar_step.get();
  sample::SamplerChain chain;
  chain.add(std::move(grammar_step)).add(std::make_unique<sample::Distribution>(seed));
  std::string text;
  *finished = false;
  std::vector<float> logits(pieces.size());
  for (int i = 0; i < max_tokens; ++i) {
    for (size_t t = 0; t < logits.size(); ++t) {
      logits[t] = d(rng);
      if (pieces[t].find_first_of("}]\"") != std::string::npos) logits[t] += 3.0f;
    }
    logits[static_cast<size_t>(eos)] += 6.0f;
    const TokenId t = chain.sample(logits);
    chain.accept(t);
    if (t == eos) {
      EXPECT_TRUE(gs->accepting());
      *finished = true;
      break;
    }
    text += pieces[static_cast<size_t>(t)];
  }
  return text;
}

TEST(TokenMask, SampledJsonAlwaysParsesAndValidates) {
  TANDEM_REQUIRE_SHARED("fixtures/tokenizer/ggml-vocab-llama-spm.gguf");
  const auto schema = nlohmann::json::parse(kSchema);
  const std::string gbnf = json_schema_to_gbnf(std::string_view(kSchema));
  auto grammar = std::make_shared<Grammar>(parse_gbnf(gbnf));
  for (const std::string& vocab_path : vocab_paths()) {
    Vocab v = read_vocab(vocab_path);
    auto pieces = pieces_from_vocab(v);
    TokenMasker masker(std::make_shared<GrammarMatcher>(grammar), pieces, {v.eos});
    const int n_seeds = pieces.size() > 1000 ? 8 : 60;
    int n_finished = 0;
    for (int seed = 0; seed < n_seeds; ++seed) {
      bool finished = false;
      const std::string text = generate(masker, pieces, v.eos, static_cast<uint64_t>(seed), 400, &finished);
      if (!finished) continue;
      ++n_finished;
      nlohmann::json doc;
      ASSERT_NO_THROW(doc = nlohmann::json::parse(text)) << text;
      EXPECT_TRUE(valid(doc, schema, schema)) << vocab_path << " seed " << seed << ": " << text;
      GrammarMatcher fresh(grammar);
      EXPECT_TRUE(fresh.matches(text)) << text;
    }
    EXPECT_GE(n_finished, n_seeds * 3 / 4) << vocab_path;
  }
}

// The cached, top-table based mask() against per-token matching at every
// state of random constrained generations, with a recursive schema whose
// stacks grow deeper than the tables' top depth.
TEST(TokenMask, MaskEqualsPerTokenMatchingAlongSampledPaths) {
  const char* schema = R"({"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{
      "v":{"type":"string","maxLength":4},"k":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},
      "required":["v"]}}})";
  auto grammar = std::make_shared<Grammar>(parse_gbnf(json_schema_to_gbnf(std::string_view(schema))));
  Vocab v = read_vocab(source_path("models/stories260K.gguf"));
  auto pieces = pieces_from_vocab(v);
  TokenMasker masker(std::make_shared<GrammarMatcher>(grammar), pieces, {v.eos});
  GrammarMatcher reference(grammar);
  int n_checked = 0, max_depth_seen = 0;
  for (uint64_t seed = 0; seed < 12; ++seed) {
    std::mt19937_64 rng(seed);
    std::string text;
    GrammarStateId s = masker.matcher().initial();
    for (int step = 0; step < 80; ++step) {
      const TokenMask& m = masker.mask(s);
      const GrammarStateId rs = reference.advance(reference.initial(), text);
      std::vector<int32_t> allowed;
      for (int32_t t = 0; t < static_cast<int32_t>(pieces.size()); ++t) {
        const bool want = t == v.eos ? reference.accepting(rs)
                                     : !pieces[t].empty() && reference.advance(rs, pieces[t]) != kDeadState;
        ASSERT_EQ(mask_test(m, t), want) << "seed " << seed << " after \"" << text << "\" token \"" << pieces[t] << "\"";
        if (want) allowed.push_back(t);
      }
      ++n_checked;
      ASSERT_FALSE(allowed.empty()) << "seed " << seed << " after \"" << text << "\"";
      // Prefer tokens that open structures, so that stacks get deep.
      std::vector<float> w;
      for (int32_t t : allowed) w.push_back(pieces[t].find_first_of("[{") != std::string::npos ? 20.0f : 1.0f);
      const int32_t t = allowed[std::discrete_distribution<size_t>(w.begin(), w.end())(rng)];
      if (t == v.eos) break;
      text += pieces[t];
      s = masker.advance(s, t);
      int depth = 0;
      for (char c : text) depth += c == '{' ? 1 : c == '}' ? -1 : 0;
      max_depth_seen = std::max(max_depth_seen, depth);
    }
  }
  EXPECT_GT(n_checked, 200);
  EXPECT_GE(max_depth_seen, 3);  // nested deeper than one table's reach
}

TEST(TokenMask, SampledTextFromGbnfMatchesGrammar) {
  const std::string gbnf = "root ::= item (\", \" item){0,4} \".\"\nitem ::= [a-z]{1,6} | [0-9]+ (\"-\" [0-9]+)?";
  auto grammar = std::make_shared<Grammar>(parse_gbnf(gbnf));
  Vocab v = read_vocab(source_path("models/stories260K.gguf"));
  auto pieces = pieces_from_vocab(v);
  TokenMasker masker(std::make_shared<GrammarMatcher>(grammar), pieces, {v.eos});
  for (int seed = 0; seed < 100; ++seed) {
    bool finished = false;
    const std::string text = generate(masker, pieces, v.eos, static_cast<uint64_t>(seed) + 1000, 200, &finished);
    ASSERT_TRUE(finished) << text;
    GrammarMatcher fresh(grammar);
    EXPECT_TRUE(fresh.matches(text)) << text;
  }
}

}  // namespace
}  // namespace tandem::grammar
