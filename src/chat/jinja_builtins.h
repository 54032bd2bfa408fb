// Internal to the chat-template interpreter (src/chat/jinja*.cc): built-in
// filters, tests, methods and globals, and the value helpers the evaluator
// shares with them. Errors are thrown as EvalError (the evaluator adds the
// template position). Every function that loops or scans text charges the
// render's Budget for it, and checks the size bounds of jinja_limits.h while
// it builds a string or list; the evaluator charges the memory of the values
// they return.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "chat/jinja_value.h"

namespace tandem::chat::jinja {

[[noreturn]] void fail(const std::string& message);

// Byte offsets of the UTF-8 code points of `s` (an invalid byte counts as
// one), with s.size() appended: code point k is [offsets[k], offsets[k+1]).
std::vector<size_t> code_point_offsets(const std::string& s);
size_t count_code_points(const std::string& s, size_t bytes);
// Elements of an iterable: list items, string characters, dict keys;
// undefined gives none. Charges a step per element.
Array iterate(const Value& v, const char* what, Budget& budget);
// Position of `needle` in `hay` at or after `from` (npos if none), in time
// linear in the sizes (std::string::find is quadratic on hostile input),
// charged to `budget` as a search of the bytes it reads.
size_t find_text(const std::string& hay, const std::string& needle, Budget& budget, size_t from = 0);
int64_t to_int(const Value& v, const char* what);
// Python slice semantics for a sequence of length n.
std::vector<size_t> slice_indices(int64_t n, const Value& start, const Value& stop, const Value& step);
const Value* kwarg(const KwArgs& kw, const char* name);
// obj.name for a dict (undefined otherwise, and for missing keys).
Value attribute(const Value& obj, const std::string& name);

// `v is name(args)`; throws for an unknown test.
bool apply_test(const std::string& name, const Value& v, const Array& args, Budget& budget);
// `v | name(args, kw)`; throws for an unknown filter.
Value apply_filter(const std::string& name, const Value& v, Array& args, KwArgs& kw, Budget& budget);
// `obj.name(args, kw)` for strings, dicts and lists; throws for an unknown method.
Value call_method(const Value& obj, const std::string& name, Array& args, KwArgs& kw, Budget& budget);
// raise_exception, namespace, dict, range, strftime_now; they charge `budget`,
// which must outlive `globals`.
void install_globals(std::unordered_map<std::string, Value>& globals, Budget& budget);

}  // namespace tandem::chat::jinja
