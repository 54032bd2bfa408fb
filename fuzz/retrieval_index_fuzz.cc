// libFuzzer target for the retrieval index reader (compose/retrieval_index.h),
// a binary file `tandem index build` writes and `tandem index query` and
// retrieval models read, and for the document collection reader
// (compose/documents.h) on the same bytes as JSONL and as text. Properties:
// RetrievalIndex::parse() either throws tandem::Error with one line starting
// with the file's name, or returns an index of at least one passage whose
// vectors are finite and of unit length (or zero), that serializes back to
// the same bytes, and whose search() of its first vector returns min(k, size)
// hits in order of cosine with cosines in [-1, 1] (plus rounding);
// parse_documents() either throws such an error or returns passages with
// non-empty ids and texts. Any other exception, a crash, a hang or a
// sanitizer report is a finding. Seeds: index files written by
// `tandem index build`, e.g.
//   ninja -C build-fuzz retrieval_index_fuzz
//   mkdir -p build-fuzz/index-corpus && cp docs.idx build-fuzz/index-corpus/
//   build-fuzz/fuzz/retrieval_index_fuzz build-fuzz/index-corpus -max_total_time=60
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "compose/documents.h"
#include "compose/retrieval_index.h"
#include "util/error.h"

namespace {

using namespace tandem;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "retrieval_index_fuzz: %s\n", what.c_str());
  std::abort();
}

void check_error(const Error& e, const std::string& name) {
  const std::string m = e.what();
  if (m.rfind(name, 0) != 0) finding("error without the file name: " + m);
  if (m.find('\n') != std::string::npos) finding("error of more than one line: " + m);
}

void check(const compose::RetrievalIndex& index, const std::string& bytes) {
  if (index.size() == 0 || index.dim() == 0 || index.embedder().empty()) finding("an empty index parsed");
  for (size_t i = 0; i < index.size(); ++i) {
    if (index.passage(i).id.empty() || index.passage(i).text.empty()) finding("an empty id or text");
    double n2 = 0.0;
    for (float x : index.vector(i)) {
      if (!std::isfinite(x)) finding("a vector that is not finite");
      n2 += static_cast<double>(x) * x;
    }
    if (n2 != 0.0 && std::abs(n2 - 1.0) > 1.01e-3) finding("a vector not of unit length");
  }
  if (index.serialize() != bytes) finding("no round trip");
  for (size_t k : {size_t{1}, size_t{3}, index.size() + 1}) {
    const std::vector<compose::RetrievalHit> hits = index.search(index.vector(0), k);
    if (hits.size() != std::min(k, index.size())) finding("a search of the wrong size");
    for (size_t j = 0; j < hits.size(); ++j) {
      if (hits[j].index >= index.size()) finding("a hit outside the index");
      if (!(std::abs(hits[j].cosine) <= 1.01f)) finding("a cosine outside [-1, 1]");
      if (j > 0 && hits[j].cosine > hits[j - 1].cosine) finding("hits out of order");
    }
  }
}

void check_documents(const std::string& text, const std::string& name) {
  try {
    for (const compose::Passage& p : compose::parse_documents(text, name))
      if (p.id.empty() || p.text.empty()) finding("a document passage with an empty id or text");
  } catch (const Error& e) {
    check_error(e, name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    check(compose::RetrievalIndex::parse(bytes, "fuzz.idx"), bytes);
  } catch (const Error& e) {
    check_error(e, "fuzz.idx");
  }
  check_documents(bytes, "fuzz.jsonl");
  check_documents(bytes, "fuzz.txt");
  return 0;
}
