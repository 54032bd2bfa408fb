// libFuzzer target for eval task files (src/eval/task.h). Properties:
// parse_task() either throws tandem::Error with one line starting with the
// file's name, or returns a TaskSpec with a name, at least one metric fitting
// its output type and max_gen_toks >= 1, whose filter (if any) runs on a
// fixed output without throwing. Any other exception, a crash, a hang or a
// sanitizer report is a finding. Seeds: the shipped tasks/*.yaml.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "eval/scoring.h"
#include "eval/task.h"
#include "util/error.h"

namespace {

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "task_fuzz: %s\n", what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tandem;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string file = "fuzz/task.yaml";
  eval::TaskLoadOptions options;
  options.variables["TANDEM_SHARED_DIR"] = "/nonexistent-shared";
  try {
    const eval::TaskSpec t = eval::parse_task(text, file, options);
    if (t.name.empty()) finding("a task without a name");
    if (t.metrics.empty()) finding("a task without metrics");
    if (t.max_gen_toks < 1) finding("max_gen_toks < 1");
    if (t.output_type == eval::OutputType::kMultipleChoice && t.doc_to_choice.empty()) finding("no doc_to_choice");
    (void)eval::extract_answer(t, "The answer is 12.\n#### 1,000 apples (B)");
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.rfind(file, 0) != 0) finding("an error that does not start with the file name: " + m);
    if (m.find('\n') != std::string::npos) finding("a multi-line error: " + m);
  }
  return 0;
}
