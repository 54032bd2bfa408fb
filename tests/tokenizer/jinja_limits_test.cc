// The rendering bounds of src/chat/jinja_limits.h: a chat template from a
// downloaded model file must not be able to run for long or take much memory.
// Each bound has a template that crosses it, which must fail quickly with the
// bound's own message at the position of the construct that crossed it
// (positions and sizes checked by hand against the template text); and every
// real template in tests/tokenizer/chat_templates still renders a long
// conversation well inside the bounds.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "chat/jinja.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem {
namespace {

using chat::jinja::Template;
using json = nlohmann::ordered_json;

const std::string kString = "string would exceed 4194304 bytes (the rendering limit)";
const std::string kOutput = "rendered text would exceed 4194304 bytes (the rendering limit)";
const std::string kList = "list would exceed 100000 items (the rendering limit)";
const std::string kSteps = "rendering would take more than 5000000 steps";
const std::string kMemory = "rendering would build more than 67108864 bytes of text and lists (the rendering limit on memory)";

struct Outcome {
  std::string text;  // the rendered text, or the error message
  bool failed = false;
  double seconds = 0;  // CPU time: other processes on a busy machine do not count
};

Outcome render(const std::string& src, const json& context = json::object()) {
  const std::clock_t t0 = std::clock();
  Outcome o;
  try {
    o.text = Template(src, "t.jinja").render(context);
  } catch (const Error& e) {
    o.text = e.what();
    o.failed = true;
  }
  o.seconds = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
  return o;
}

// `src` fails within a few seconds of CPU time (the bounds stop each of these
// in under half a second; the slack is for sanitizer and debug builds) with
// "t.jinja: <where>: <message>...".
void expect_bound(const std::string& src, const std::string& where, const std::string& message) {
  SCOPED_TRACE(src.substr(0, 200));
  const Outcome o = render(src);
  ASSERT_TRUE(o.failed) << "rendered " << o.text.size() << " bytes";
  EXPECT_EQ(o.text.rfind("t.jinja: " + where + ": " + message, 0), 0u) << o.text;
  EXPECT_LT(o.seconds, 5.0);
}

// Renders within a few seconds of CPU time and returns the text.
std::string expect_renders(const std::string& src) {
  SCOPED_TRACE(src.substr(0, 200));
  const Outcome o = render(src);
  EXPECT_FALSE(o.failed) << o.text;
  EXPECT_LT(o.seconds, 5.0);
  return o.text;
}

TEST(JinjaLimits, StringDoubledInALoopStopsAtTheStringBound) {
  // The template of issue #21: 2^40 bytes if nothing stops it. The 23rd
  // doubling is the first over 4 MiB; the error points at the "~" (columns
  // count bytes from 1).
  const std::string src =
      "{% set ns = namespace(s=\"a\") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}";
  expect_bound(src, "line 1, column 75", kString);
  // With "+" the same.
  expect_bound("{% set ns = namespace(s='a') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
               "line 1, column 75", kString);
  // 22 doublings (4 MiB exactly) are allowed.
  EXPECT_EQ(expect_renders("{% set ns = namespace(s='a') %}{% for i in range(22) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
                           "{{ ns.s|length }}"),
            "4194304");
}

TEST(JinjaLimits, EveryOperationThatGrowsAStringStopsAtTheStringBound) {
  // 'x' * 1000000 is 1 MB; each of these would make 5 MB or more.
  const std::string five = "{% set l = [] %}{% for i in range(5) %}{{ l.append('x' * 1000000) }}{% endfor %}";
  // Errors point at the operator, the "|" of a filter, the "." of a method.
  expect_bound("{{ 'ab' * 2200000 }}", "line 1, column 9", kString);  // 4.4 MB
  expect_bound("{{ 'ab' * 9223372036854775807 }}", "line 1, column 9", kString);  // the size would overflow
  expect_bound(five + "{{ l|join }}", "line 1, column 85", kString);
  expect_bound(five + "{{ ''.join(l) }}", "line 1, column 86", kString);
  expect_bound("{{ ('x' * 1000000)|replace('x', 'yyyyy') }}", "line 1, column 19", kString);
  expect_bound("{{ ('x' * 1000000).replace('x', 'yyyyy') }}", "line 1, column 19", kString);
  expect_bound("{{ ('x' * 1000000).replace('', 'abcd') }}", "line 1, column 19", kString);  // inserted around each character
  expect_bound("{{ ('x\\n' * 500000)|indent(10) }}", "line 1, column 20", kString);      // 1 MB + 10 spaces per line
  expect_bound("{{ 'x'|indent(100000000000) }}", "line 1, column 7", kString);           // the indentation itself
  // U+0390 (2 bytes) upper-cases to 3 code points (6 bytes); the column counts the 2 bytes.
  expect_bound("{{ ('\u0390' * 1000000)|upper }}", "line 1, column 20", kString);
  // A list holding another twice, 30 levels deep, prints as 2^30 numbers.
  const std::string dag = "{% set ns = namespace(a=[1]) %}{% for i in range(30) %}{% set ns.a = [ns.a, ns.a] %}{% endfor %}";
  expect_bound(dag + "{{ ns.a|tojson }}", "line 1, column 104", kString);
  expect_bound(dag + "{{ ns.a }}", "line 1, column 97", kString);  // printing: the position of the {{ }}
  expect_bound(dag + "{{ ns.a ~ '' }}", "line 1, column 105", kString);
  expect_bound("{{ [1]|tojson(indent=100000000) }}", "line 1, column 7", kString);
  // Text captured by {% set %} ... {% endset %} and by a macro.
  expect_bound("{% set x %}{% for i in range(5) %}{{ 'y' * 1000000 }}{% endfor %}{% endset %}", "line 1, column 35",
               kString);
  expect_bound("{% macro m() %}{% for i in range(5) %}{{ 'y' * 1000000 }}{% endfor %}{% endmacro %}{{ m()|length }}",
               "line 1, column 39", kString);
}

TEST(JinjaLimits, RepetitionByDoublingGivesPythonsText) {
  // String * n is built by doubling; the text is Python's.
  EXPECT_EQ(expect_renders("{{ 'abc' * 5 }}"), "abcabcabcabcabc");
  EXPECT_EQ(expect_renders("{{ 'abc' * 1 }}|{{ 'abc' * 0 }}|{{ 'abc' * -3 }}|{{ '' * 7 }}"), "abc|||");
  const std::string seven = expect_renders("{{ 'xyz' * 1000003 }}");
  ASSERT_EQ(seven.size(), 3000009u);
  EXPECT_EQ(seven.find_first_not_of("xyz"), std::string::npos);
  for (size_t k = 0; k < seven.size(); k += 3) ASSERT_EQ(seven.compare(k, 3, "xyz"), 0) << k;
}

TEST(JinjaLimits, RenderedTextStopsAtTheOutputBound) {
  // 5000 x 1000 bytes = 5 MB of output, each piece small.
  expect_bound("{% for i in range(5000) %}{{ 'x' * 1000 }}{% endfor %}", "line 1, column 27", kOutput);
  expect_bound("{% for i in range(5000) %}" + std::string(1000, 'x') + "{% endfor %}", "line 1, column 27", kOutput);
  // 4 MiB exactly is allowed.
  EXPECT_EQ(expect_renders("{% for i in range(4096) %}{{ 'x' * 1024 }}{% endfor %}").size(), size_t{4} << 20);
}

TEST(JinjaLimits, ListsStopAtTheListBound) {
  expect_bound("{% set l = [] %}{% for i in range(1000) %}{% for j in range(101) %}{{ l.append(j) }}{% endfor %}{% endfor %}",
               "line 1, column 72", kList);
  expect_bound("{% set ns = namespace(l=[1]) %}{% for i in range(20) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
               "line 1, column 75", kList);  // 2^17 = 131072 items
  expect_bound("{{ ('a,' * 200000).split(',') }}", "line 1, column 19", kList);
  expect_bound("{{ ('a ' * 200000).split() }}", "line 1, column 19", kList);
  expect_bound("{% for c in 'ab' * 100000 %}{% endfor %}", "line 1, column 18", kList);
  expect_bound("{{ ('ab' * 100000)|list }}", "line 1, column 19", kList);
  expect_bound("{{ range(100001) }}", "line 1, column 4", "range() of more than 100000 numbers (the rendering limit on lists)");
  // 100000 items are allowed.
  EXPECT_EQ(expect_renders("{{ range(100000)|length }}"), "100000");
}

TEST(JinjaLimits, WorkStopsAtTheStepBound) {
  // A billion iterations, each one cheap (over one list: building a new
  // range in each loop would cross the memory bound first).
  expect_bound("{% set r = range(1000) %}{% for i in r %}{% for j in r %}{% for k in r %}{% endfor %}{% endfor %}{% endfor %}",
               "line 1, column 42", kSteps);
  // Comparing two lists that each hold another twice, 40 levels deep: 2^40
  // pairs of items, and as many to search when one is appended to a list.
  const std::string dags =
      "{% set ns = namespace(a=[1], b=[1]) %}{% for i in range(40) %}{% set ns.a = [ns.a, ns.a] %}"
      "{% set ns.b = [ns.b, ns.b] %}{% endfor %}";
  expect_bound(dags + "{{ ns.a == ns.b }}", "line 1, column 141", kSteps);
  expect_bound(dags + "{{ ns.a in [ns.b] }}", "line 1, column 141", kSteps);
  expect_bound(dags + "{{ [ns.a, ns.b]|unique|length }}", "line 1, column 148", kSteps);
  expect_bound(dags + "{% set l = [] %}{{ l.append(ns.a) }}", "line 1, column 153", kSteps);
  // Reading a 4 MB string 100000 times: searching, counting, case-mapping.
  const std::string big = "{% set s = 'x' * 4000000 %}{% for i in range(100000) %}";
  expect_bound(big + "{% if 'y' in s %}{% endif %}{% endfor %}", "line 1, column 66", kSteps);
  expect_bound(big + "{{ s|length }}{% endfor %}", "line 1, column 60", kSteps);
  expect_bound(big + "{% if s is upper %}{% endif %}{% endfor %}", "line 1, column 64", kSteps);
  expect_bound(big + "{% if s.title() %}{% endif %}{% endfor %}", "line 1, column 63", kSteps);
  expect_bound(big + "{% if s[::-1] %}{% endif %}{% endfor %}", "line 1, column 63", kSteps);
  expect_bound(big + "{% if s|reverse %}{% endif %}{% endfor %}", "line 1, column 63", kSteps);
  expect_bound(big + "{% if s|replace('', '') %}{% endif %}{% endfor %}", "line 1, column 63", kSteps);
  // unique() compares every pair: 8 million comparisons.
  expect_bound("{{ range(4000)|unique|length }}", "line 1, column 15", kSteps);
}

TEST(JinjaLimits, MemoryStopsAtTheBuiltBytesBound) {
  // 20 strings of 4 MB, one at a time: each is within the string bound.
  expect_bound("{% for i in range(20) %}{% set x = 'y' * 4000000 %}{% endfor %}", "line 1, column 40", kMemory);
  // Lists of 100000 items, one at a time.
  expect_bound("{% for i in range(1000) %}{% set x = range(100000) %}{% endfor %}", "line 1, column 38", kMemory);
}

TEST(JinjaLimits, SearchingIsLinearInTheText) {
  // A needle of a million 'a's and a 'b' in three million 'a's: compared at
  // every position, 2 * 10^12 byte comparisons; Boyer-Moore does it in one
  // pass. The same for every operation that searches.
  const std::string needle = "{% set n = 'a' * 1000000 ~ 'b' %}{% set h = 'a' * 3000000 %}";
  EXPECT_EQ(expect_renders(needle + "{{ n in h }}"), "false");
  EXPECT_EQ(expect_renders(needle + "{{ n is in(h) }}"), "false");
  EXPECT_EQ(expect_renders(needle + "{{ h.find(n) }}"), "-1");
  EXPECT_EQ(expect_renders(needle + "{{ h.count(n) }}"), "0");
  EXPECT_EQ(expect_renders(needle + "{{ h.split(n)|length }}"), "1");
  EXPECT_EQ(expect_renders(needle + "{{ h.replace(n, '')|length }}"), "3000000");
  EXPECT_EQ(expect_renders(needle + "{{ (h ~ n ~ 'c').find(n) }}"), "3000000");
  // strip() with a long set of characters: one table lookup per character.
  EXPECT_EQ(expect_renders("{{ ('a' * 3000000).strip('b' * 1000000 ~ 'a')|length }}"), "0");
}

TEST(JinjaLimits, RealTemplatesRenderALongConversation) {
  // 401 messages of 2 KB (800 KB, about 200K tokens) through every real
  // template: each must render and contain every message.
  json messages = json::array();
  for (int k = 0; k < 401; ++k) {
    const std::string content = "m" + std::to_string(k) + " " + std::string(2000, k % 2 ? 'a' : 'u');
    messages.push_back({{"role", k % 2 ? "assistant" : "user"}, {"content", content}});
  }
  const json context = {{"messages", messages}, {"add_generation_prompt", true}, {"bos_token", "<s>"}, {"eos_token", "</s>"}};
  const std::string dir = testing::source_path("tests/tokenizer/chat_templates");
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".jinja") continue;
    SCOPED_TRACE(entry.path().filename().string());
    ++n;
    const Outcome o = render(testing::read_file(entry.path().string()), context);
    ASSERT_FALSE(o.failed) << o.text;
    EXPECT_LT(o.seconds, 2.0);
    size_t from = 0;
    for (const json& m : messages) {
      from = o.text.find(m["content"].get<std::string>(), from);
      ASSERT_NE(from, std::string::npos) << "missing " << m["content"].get<std::string>().substr(0, 5);
    }
  }
  EXPECT_EQ(n, 42);
}

TEST(JinjaLimits, CliPrintPromptFailsFastWithOneErrorLine) {
  const std::string path = (std::filesystem::temp_directory_path() / "tandem_jinja_doubling.jinja").string();
  std::ofstream(path, std::ios::binary)
      << "{% set ns = namespace(s=\"a\") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}";
  // CPU time of the child processes (tandem and the shell), not wall time.
  auto children_seconds = [] {
    rusage u{};
    getrusage(RUSAGE_CHILDREN, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  };
  const double t0 = children_seconds();
  const auto r = testing::run_command(testing::tandem_binary() + " chat -m " +
                                      testing::shell_quote(testing::source_path("models/stories260K.gguf")) +
                                      " --template " + testing::shell_quote(path) + " --print-prompt -p hi");
  const double seconds = children_seconds() - t0;
  std::remove(path.c_str());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: " + path + ": line 1, column 75: " + kString + "\n");
  EXPECT_LT(seconds, 5.0);
}

}  // namespace
}  // namespace tandem
