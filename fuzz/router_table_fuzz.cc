// libFuzzer target for the router table reader (compose/router_table.h), a
// file `tandem train-router` writes and configs name. Properties:
// parse_router_table() either throws tandem::Error with one line starting
// with the file's name, or returns a table whose rows all have the table's
// dimension and one 0/1 per model, with finite non-negative costs; a table
// that parses writes back (router_table_json) to one that parses equal, and
// predict_accuracy() of its first embedding gives one value in [0, 1] per
// model. Any other exception, a crash, a hang or a sanitizer report is a
// finding. Seeds: write a table with `tandem train-router`, e.g.
//   ninja -C build-fuzz router_table_fuzz
//   build-fuzz/fuzz/router_table_fuzz build-fuzz/router-corpus -max_total_time=60
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "compose/router_table.h"
#include "util/error.h"

namespace {

using namespace tandem;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "router_table_fuzz: %s\n", what.c_str());
  std::abort();
}

void check(const compose::RouterTable& t) {
  if (t.models.empty() || t.embeddings.empty() || t.dim == 0) finding("an empty table parsed");
  if (t.cost.size() != t.models.size() || t.correct.size() != t.embeddings.size()) finding("sizes disagree");
  for (double c : t.cost)
    if (!(c >= 0.0) || !std::isfinite(c)) finding("a negative or non-finite cost");
  for (size_t i = 0; i < t.embeddings.size(); ++i) {
    if (t.embeddings[i].size() != t.dim || t.correct[i].size() != t.models.size()) finding("a row of another size");
    for (int c : t.correct[i])
      if (c != 0 && c != 1) finding("a correct value other than 0 or 1");
  }
  for (double p : compose::predict_accuracy(t, t.embeddings[0], 3))
    if (!(p >= 0.0 && p <= 1.0)) finding("a predicted accuracy outside [0, 1]");
  const compose::RouterTable back = compose::parse_router_table(compose::router_table_json(t), "again.json");
  if (back.models != t.models || back.correct != t.correct || back.dim != t.dim) finding("no round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  compose::RouterTable t;
  try {
    t = compose::parse_router_table(text, "fuzz.json");
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.rfind("fuzz.json", 0) != 0) finding("error without the file name: " + m);
    if (m.find('\n') != std::string::npos) finding("error of more than one line: " + m);
    return 0;
  }
  check(t);
  return 0;
}
