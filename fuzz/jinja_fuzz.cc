// libFuzzer target for the chat-template interpreter (src/chat/jinja*.cc),
// which runs templates from downloaded model files. The input is a template;
// it is parsed and rendered with a small conversation. Property: parsing and
// rendering either succeed or throw tandem::Error, within the rendering
// bounds (jinja_limits.h): the rendered text is at most 4 MiB. Any other
// exception, a crash, a sanitizer report, an oversized output, or a render
// that runs past libFuzzer's -timeout is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/jinja.h"
#include "util/error.h"

namespace {

const nlohmann::ordered_json& context() {
  static const nlohmann::ordered_json c = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi <b>there</b>\n"},
      {"role": "assistant", "content": "<think>hm</think>Hello!",
       "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"x": 1.5, "y": [true, null]}}}]},
      {"role": "tool", "content": "{\"ok\": 1}"},
      {"role": "user", "content": "Bye \u00e9\u4e2d"}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "description": "d",
               "parameters": {"type": "object", "properties": {"x": {"type": "number"}}}}}],
    "add_generation_prompt": true,
    "bos_token": "<s>",
    "eos_token": "</s>"
  })");
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string src(reinterpret_cast<const char*>(data), size);
  try {
    const tandem::chat::jinja::Template t(src, "fuzz");
    const std::string out = t.render(context());
    if (out.size() > (size_t{4} << 20)) {
      std::fprintf(stderr, "jinja_fuzz: rendered %zu bytes, over the 4 MiB bound\n", out.size());
      std::abort();
    }
  } catch (const tandem::Error&) {
    return 0;  // rejected with a proper error: fine
  } catch (const std::exception& e) {
    std::fprintf(stderr, "jinja_fuzz: exception other than tandem::Error: %s\n", e.what());
    std::abort();
  }
  return 0;
}
