// Bounds on parsing and rendering one chat template (internal to
// src/chat/jinja*.cc). Templates come from model files that users download,
// and a server renders one per request, so no template, however written, may
// take more than about a second or more than a few tens of MB:
//
//   kMaxNesting      blocks and expressions nested in the source (the parser
//                    and the evaluator recurse)
//   kMaxCallDepth    macro calls nested at run time
//   kMaxStringBytes  any string a render produces (concatenation, repetition,
//                    filters, methods, a list or dict printed as text, the
//                    text a macro or {% set %} block captures)
//   kMaxOutputBytes  the rendered text
//   kMaxListItems    any list a render builds (range, append, +, split,
//                    list(), items(), iterating a string, ...)
//   kMaxSteps        work: expressions evaluated, loop iterations, list items
//                    copied or compared, dict entries searched, one step per
//                    kBytesPerStep bytes of text copied, counted or compared,
//                    and per kSearchBytesPerStep bytes searched (memmem) or
//                    case-mapped (ICU), which cost 20-30 ns a byte at worst
//   kMaxBuiltBytes   memory: bytes of every string built or emitted plus
//                    sizeof(Value) per list item or dict entry created; what
//                    a render allocates (beyond its context) stays below this
//
// Strings are shared by reference (jinja_value.h), so naming, passing or
// storing a value costs nothing; only building new text or lists is charged.
// Sizing: the 42 real templates in tests/tokenizer/chat_templates render a
// conversation of 2001 messages of 2 KB (4 MB, as much as the output bound
// lets through) in at most 650K steps and 25 MB built (qwen3-vl, which
// copies every message a few times; most need a third of that). The costliest
// hostile templates found (tests/tokenizer/jinja_limits_test.cc) stop after
// at most 0.45 s of CPU time on a 2-core VM: 5M of the cheapest steps take
// 0.27 s, building 64 MiB of 4 MB strings 0.42 s.
// Every violation is an EvalError naming the bound and its value, which the
// evaluator reports with the template line and column.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem::chat::jinja {

inline constexpr int kMaxNesting = 200;
inline constexpr int kMaxCallDepth = 200;
inline constexpr size_t kMaxStringBytes = size_t{4} << 20;  // 4 MiB
inline constexpr size_t kMaxOutputBytes = size_t{4} << 20;  // 4 MiB
inline constexpr size_t kMaxListItems = 100'000;
inline constexpr int64_t kMaxSteps = 5'000'000;
inline constexpr size_t kMaxBuiltBytes = size_t{64} << 20;  // 64 MiB
inline constexpr size_t kBytesPerStep = 32;
inline constexpr size_t kSearchBytesPerStep = 4;

// Throw EvalError "string would exceed 4194304 bytes (the rendering limit)"
// (and the like for lists) when a value of `n` bytes or items would be over
// its bound. Call them while building, before the memory is taken.
void check_string_size(size_t n);
void check_list_size(size_t n);

// The work and memory spent by one render. Not thread-safe: one per render.
class Budget {
 public:
  // `n` steps of work; throws EvalError when the total passes kMaxSteps.
  void step(int64_t n = 1) {
    steps_ += n;
    if (steps_ > kMaxSteps) exceeded_steps();
  }
  // Work on `bytes` bytes of text (scanning, comparing, copying).
  void scan(size_t bytes) { step(1 + static_cast<int64_t>(bytes / kBytesPerStep)); }
  // Searching or case-mapping `bytes` bytes of text.
  void search(size_t bytes) { step(1 + static_cast<int64_t>(bytes / kSearchBytesPerStep)); }
  // `bytes` of newly built memory; throws EvalError past kMaxBuiltBytes.
  void build(size_t bytes) {
    built_ += bytes;
    if (built_ > kMaxBuiltBytes) exceeded_bytes();
  }

  int64_t steps() const { return steps_; }
  size_t built() const { return built_; }

 private:
  [[noreturn]] static void exceeded_steps();
  [[noreturn]] static void exceeded_bytes();
  int64_t steps_ = 0;
  size_t built_ = 0;
};

}  // namespace tandem::chat::jinja
