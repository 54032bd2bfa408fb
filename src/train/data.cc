#include "train/data.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "train/fingerprint.h"
#include "util/error.h"

namespace tandem::train {

std::vector<std::string> load_documents(const std::string& path, const std::string& field) {
  if (path.ends_with(".jsonl")) return load_jsonl_field(path, field);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the data file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return {ss.str()};
}

std::vector<std::string> load_jsonl_field(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the data file");
  std::vector<std::string> rows;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json row;
    try {
      row = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      throw Error(path + ":" + std::to_string(line_no) + ": not a JSON object");
    }
    if (!row.is_object() || !row.contains(field) || !row[field].is_string()) {
      throw Error(path + ":" + std::to_string(line_no) + ": the row has no string field \"" + field + "\"");
    }
    rows.push_back(row[field].get<std::string>());
  }
  if (rows.empty()) throw Error(path + ": no rows");
  return rows;
}

TextSource::TextSource(const std::vector<std::string>& docs, const Tokenizer& tok, std::string name)
    : name_(std::move(name)) {
  if (tok.eos() == kNoToken) throw Error(name_ + ": the vocabulary has no </s> token");
  std::vector<std::vector<int32_t>> encoded(docs.size());
  const int64_t n = static_cast<int64_t>(docs.size());
  // Tokenizer::encode is thread-safe (the tokenizer is immutable).
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) encoded[i] = tok.encode(docs[i], /*add_special=*/true, /*parse_special=*/false);
  for (const auto& e : encoded) {
    stream_.insert(stream_.end(), e.begin(), e.end());
    stream_.push_back(tok.eos());
  }
}

void TextSource::sample_row(Rng& rng, int32_t* tokens, int32_t* targets, int64_t T) const {
  const int64_t n = static_cast<int64_t>(stream_.size());
  if (n < T + 1) throw Error(name_ + ": only " + std::to_string(n) + " tokens, fewer than one row of " + std::to_string(T + 1));
  const int64_t start = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - T)));
  for (int64_t i = 0; i < T; ++i) {
    tokens[i] = stream_[start + i];
    targets[i] = stream_[start + i + 1];
  }
}

void TextSource::fixed_row(int64_t i, int32_t* tokens, int32_t* targets, int64_t T) const {
  const int64_t start = (i % std::max<int64_t>(1, n_rows(T))) * T;
  for (int64_t j = 0; j < T; ++j) {
    tokens[j] = stream_[start + j];
    targets[j] = stream_[start + j + 1];
  }
}

uint64_t TextSource::fingerprint() const {
  Fingerprint fp;
  fp.add(uint64_t{1}).add(static_cast<uint64_t>(stream_.size()));
  return fp.add_bytes(stream_.data(), stream_.size() * sizeof(int32_t)).value();
}

std::string TextSource::describe() const { return name_ + " (" + std::to_string(stream_.size()) + " tokens)"; }

PairExample encode_pair(const Tokenizer& tok, const Tokenizer& continuation, const std::string& prompt,
                        const std::string& completion) {
  if (tok.eos() == kNoToken) throw Error("prompt/completion pairs: the vocabulary has no </s> token");
  PairExample ex;
  ex.tokens = tok.encode(prompt, /*add_special=*/true, /*parse_special=*/false);
  ex.n_prompt = static_cast<int64_t>(ex.tokens.size());
  auto c = continuation.encode(completion, /*add_special=*/false, /*parse_special=*/false);
  ex.tokens.insert(ex.tokens.end(), c.begin(), c.end());
  ex.tokens.push_back(tok.eos());
  return ex;
}

PairSource::PairSource(const std::string& path, const Tokenizer& tok, const Tokenizer& continuation)
    : name_(path), pad_(tok.eos()) {
  auto prompts = load_documents(path, "prompt");
  auto completions = load_documents(path, "completion");
  for (size_t i = 0; i < prompts.size(); ++i) {
    examples_.push_back(encode_pair(tok, continuation, prompts[i], completions[i]));
  }
}

PairSource::PairSource(std::vector<PairExample> examples, std::string name, int32_t pad)
    : examples_(std::move(examples)), name_(std::move(name)), pad_(pad) {
  if (examples_.empty()) throw Error(name_ + ": no prompt/completion examples");
}

void PairSource::example_row(size_t i, int32_t* tokens, int32_t* targets, int64_t T) const {
  const PairExample& ex = examples_[i];
  const int64_t n = static_cast<int64_t>(ex.tokens.size());
  for (int64_t j = 0; j < T; ++j) {
    tokens[j] = j < n ? ex.tokens[j] : pad_;
    // Position j predicts token j+1: scored when that token is part of the completion.
    targets[j] = (j + 1 < n && j + 1 >= ex.n_prompt) ? ex.tokens[j + 1] : -1;
  }
}

void PairSource::sample_row(Rng& rng, int32_t* tokens, int32_t* targets, int64_t T) const {
  example_row(static_cast<size_t>(rng.below(examples_.size())), tokens, targets, T);
}

std::string PairSource::describe() const {
  return name_ + " (" + std::to_string(examples_.size()) + " prompt/completion pairs)";
}

int64_t PairSource::n_tokens() const {
  int64_t n = 0;
  for (const auto& e : examples_) n += static_cast<int64_t>(e.tokens.size());
  return n;
}

uint64_t PairSource::fingerprint() const {
  Fingerprint fp;
  fp.add(uint64_t{2}).add(static_cast<uint64_t>(pad_)).add(static_cast<uint64_t>(examples_.size()));
  for (const auto& e : examples_) {
    fp.add(static_cast<uint64_t>(e.n_prompt)).add(static_cast<uint64_t>(e.tokens.size()));
    fp.add_bytes(e.tokens.data(), e.tokens.size() * sizeof(int32_t));
  }
  return fp.value();
}

void DataMix::add(std::shared_ptr<const DataSource> source, double weight) {
  if (!(weight > 0)) throw Error("data mix: the weight of " + source->describe() + " must be positive");
  sources_.push_back(std::move(source));
  weights_.push_back(weight);
}

void DataMix::fill(Rng& rng, int32_t* tokens, int32_t* targets, int64_t B, int64_t T) const {
  if (sources_.empty()) throw Error("data mix: no training data; pass --data or --pairs");
  double total = 0;
  for (double w : weights_) total += w;
  for (int64_t b = 0; b < B; ++b) {
    size_t s = 0;
    if (sources_.size() > 1) {
      double u = rng.uniform() * total;
      while (s + 1 < sources_.size() && u >= weights_[s]) u -= weights_[s++];
    }
    sources_[s]->sample_row(rng, tokens + b * T, targets + b * T, T);
  }
}

std::string DataMix::describe() const {
  std::string out;
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (i) out += " + ";
    out += sources_[i]->describe();
    if (sources_.size() > 1) out += " x" + std::to_string(weights_[i]).substr(0, 4);
  }
  return out;
}

uint64_t DataMix::fingerprint() const {
  Fingerprint fp;
  fp.add(static_cast<uint64_t>(sources_.size()));
  for (size_t i = 0; i < sources_.size(); ++i) fp.add(weights_[i]).add(sources_[i]->fingerprint());
  return fp.value();
}

}  // namespace tandem::train
