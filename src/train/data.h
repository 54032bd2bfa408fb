// Training data: sources that fill rows of (token, target) pairs.
//
//  - TextSource: documents (TinyStories JSONL rows {"text": ...} or a plain
//    text file) tokenized as <s> text </s> and concatenated into one stream;
//    a row is a random window of the stream, targets are the next tokens.
//  - PairSource: JSONL rows {"prompt": ..., "completion": ...}; a row is
//    <s> prompt completion </s> padded with </s>, and only completion tokens
//    (and the final </s>) are scored: the other targets are -1.
//
// Rows are drawn with the caller's Rng, so a run is reproducible from its seed
// and resumable from the Rng state. Sources are immutable after loading.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "train/rng.h"
#include "tokenizer/tokenizer.h"
#include "train/spm.h"

namespace tandem::train {

class DataSource {
 public:
  virtual ~DataSource() = default;
  // Fills tokens[0..T) and targets[0..T) of one row.
  virtual void sample_row(Rng& rng, int32_t* tokens, int32_t* targets, int64_t T) const = 0;
  virtual std::string describe() const = 0;
  virtual int64_t n_tokens() const = 0;
  // A fingerprint (train/fingerprint.h) of everything sample_row can return:
  // the tokens and which of them are scored, not the name. O(tokens).
  virtual uint64_t fingerprint() const = 0;
};

// Documents of a file: JSONL rows' `field` (".jsonl" files) or the whole file.
// Throws tandem::Error naming the file and line on unreadable input.
std::vector<std::string> load_documents(const std::string& path, const std::string& field = "text");

// The string `field` of every row of a JSONL file, whatever its name ends
// with; blank (empty or whitespace-only) lines are skipped. Throws
// tandem::Error "<path>:<line>: ..." for a row that is not a JSON object or
// lacks the string field, and "<path>: no rows" for an empty file.
std::vector<std::string> load_jsonl_field(const std::string& path, const std::string& field);

class TextSource : public DataSource {
 public:
  // Documents encoded with `tok` (make_tokenizer: <s> text), each followed by </s>.
  TextSource(const std::vector<std::string>& docs, const Tokenizer& tok, std::string name);
  void sample_row(Rng& rng, int32_t* tokens, int32_t* targets, int64_t T) const override;
  // Row `i` of a fixed, non-overlapping tiling of the stream (for evaluation).
  void fixed_row(int64_t i, int32_t* tokens, int32_t* targets, int64_t T) const;
  int64_t n_rows(int64_t T) const { return static_cast<int64_t>(stream_.size() - 1) / T; }
  std::string describe() const override;
  int64_t n_tokens() const override { return static_cast<int64_t>(stream_.size()); }
  uint64_t fingerprint() const override;

 private:
  std::vector<int32_t> stream_;
  std::string name_;
};

struct PairExample {
  std::vector<int32_t> tokens;  // <s> prompt completion </s>
  int64_t n_prompt = 0;         // tokens before the completion, <s> included
};

class PairSource : public DataSource {
 public:
  // Rows of a JSONL file with "prompt" and "completion" strings, encoded as
  // encode_pair does.
  PairSource(const std::string& path, const Tokenizer& tok, const Tokenizer& continuation);
  PairSource(std::vector<PairExample> examples, std::string name, int32_t pad);
  void sample_row(Rng& rng, int32_t* tokens, int32_t* targets, int64_t T) const override;
  std::string describe() const override;
  int64_t n_tokens() const override;
  uint64_t fingerprint() const override;
  const std::vector<PairExample>& examples() const { return examples_; }
  // Writes example i (truncated to T tokens) into a row.
  void example_row(size_t i, int32_t* tokens, int32_t* targets, int64_t T) const;

 private:
  std::vector<PairExample> examples_;
  std::string name_;
  int32_t pad_ = 2;
};

// Encodes one prompt/completion pair: the prompt with `tok` (<s> and llama.cpp's
// leading space), the completion with `continuation` (the same vocabulary
// without the space prefix: make_tokenizer(vocab, false)), then </s>.
PairExample encode_pair(const Tokenizer& tok, const Tokenizer& continuation, const std::string& prompt,
                        const std::string& completion);

// Several sources mixed by weight: each row picks its source at random.
class DataMix {
 public:
  void add(std::shared_ptr<const DataSource> source, double weight);
  bool empty() const { return sources_.empty(); }
  // tokens and targets: B*T entries.
  void fill(Rng& rng, int32_t* tokens, int32_t* targets, int64_t B, int64_t T) const;
  std::string describe() const;
  // Of the sources' fingerprints and weights, in order: equal fingerprints
  // mean fill() draws the same rows from the same Rng state.
  uint64_t fingerprint() const;

 private:
  std::vector<std::shared_ptr<const DataSource>> sources_;
  std::vector<double> weights_;
};

}  // namespace tandem::train
