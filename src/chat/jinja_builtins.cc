// The built-in filters, tests, methods and globals of the chat-template
// interpreter (see jinja_eval.cc for the statement and expression side).
//
// Filters: abs, capitalize, count, d, default, dictsort, first, float, indent,
//   int, items, join, last, length, list, lower, map, max, min, reject,
//   rejectattr, replace, reverse, round, safe, select, selectattr, sort,
//   string, sum, title, tojson, trim, unique, upper.
// Tests: boolean, callable, defined, divisibleby, eq, equalto, even, false,
//   float, ge, gt, in, integer, iterable, le, lower, lt, mapping, ne, none,
//   number, odd, sameas, sequence, string, true, undefined, upper.
// Methods: str.capitalize/count/endswith/find/join/lower/lstrip/replace/
//   rsplit/rstrip/split/startswith/strip/title/upper; dict.get/items/keys/
//   values; list.append/count/index.
// Globals: dict, namespace, raise_exception, range, strftime_now.
#include "chat/jinja_builtins.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <ctime>
#include <unicode/locid.h>
#include <unicode/unistr.h>

namespace tandem::chat::jinja {

void fail(const std::string& message) { throw EvalError{message}; }

// ---- UTF-8 and string helpers ----

namespace {

// Bytes of the code point that starts at s[k].
size_t code_point_size(const std::string& s, size_t k) {
  const unsigned char c = static_cast<unsigned char>(s[k]);
  const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  return k + n > s.size() ? 1 : n;
}

}  // namespace

std::vector<size_t> code_point_offsets(const std::string& s) {
  std::vector<size_t> out;
  for (size_t k = 0; k < s.size(); k += code_point_size(s, k)) out.push_back(k);
  out.push_back(s.size());
  return out;
}

size_t count_code_points(const std::string& s, size_t bytes) {
  size_t n = 0;
  for (size_t k = 0; k < bytes; k += code_point_size(s, k)) ++n;
  return n;
}

size_t find_text(const std::string& hay, const std::string& needle, Budget& budget, size_t from) {
  if (from > hay.size()) return std::string::npos;
  // Not std::string::find, which compares the needle at every position where
  // its first byte occurs (10^12 comparisons for a needle of a million 'a's
  // and a 'b' in three million 'a's), nor std::boyer_moore_searcher, whose
  // libstdc++ setup is quadratic in such a needle: glibc's memmem (Two-Way)
  // is linear, about 25 ms per MB at worst here.
  const void* p = memmem(hay.data() + from, hay.size() - from, needle.data(), needle.size());
  const size_t at = p ? static_cast<size_t>(static_cast<const char*>(p) - hay.data()) : hay.size();
  budget.search(at - from + needle.size());  // what it read, and its setup on the needle
  return p ? at : std::string::npos;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

namespace {

[[noreturn]] std::string fail_type(const std::string& name) { fail("filter '" + name + "' needs a test name"); }

std::string strip(const std::string& s, bool left, bool right, const Value* chars = nullptr) {
  std::array<bool, 256> set{};  // bytes to drop: one lookup each, whatever the size of `chars`
  for (unsigned char c : chars && chars->is_string() ? chars->str() : std::string(" \t\n\r\f\v")) set[c] = true;
  auto drop = [&](char c) { return set[static_cast<unsigned char>(c)]; };
  size_t b = 0, e = s.size();
  if (left) {
    while (b < e && drop(s[b])) ++b;
  }
  if (right) {
    while (e > b && drop(s[e - 1])) --e;
  }
  return s.substr(b, e - b);
}

// Full Unicode case mapping (Python's str.upper/lower), locale-independent.
std::string unicode_upper(const std::string& s, Budget& budget) {
  budget.search(s.size());
  std::string out;
  icu::UnicodeString::fromUTF8(s).toUpper(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}
std::string unicode_lower(const std::string& s, Budget& budget) {
  budget.search(s.size());
  std::string out;
  icu::UnicodeString::fromUTF8(s).toLower(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}
std::string ascii_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string title_case(const std::string& s) {
  std::string out = s;
  bool start = true;
  for (char& c : out) {
    const bool alpha = std::isalpha(static_cast<unsigned char>(c));
    c = static_cast<char>(start ? std::toupper(static_cast<unsigned char>(c)) : std::tolower(static_cast<unsigned char>(c)));
    start = !alpha;
  }
  return out;
}
std::string capitalize(const std::string& s) {
  std::string out = ascii_lower(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count, Budget& budget) {
  std::string out;
  if (from.empty()) {
    // Python inserts `to` around every character.
    budget.scan(s.size() * 16);  // one append per character
    int64_t n = 0;
    for (size_t k = 0; k < s.size();) {
      const size_t len = code_point_size(s, k);
      if (count < 0 || n++ < count) out += to;
      out.append(s, k, len);
      k += len;
      check_string_size(out.size());
    }
    if (count < 0 || n < count) out += to;
    check_string_size(out.size());
    return out;
  }
  size_t p = 0;
  int64_t n = 0;
  for (;;) {
    const size_t q = find_text(s, from, budget, p);
    if (q == std::string::npos || (count >= 0 && n >= count)) break;
    out.append(s, p, q - p);
    out += to;
    check_string_size(out.size());
    p = q + from.size();
    ++n;
  }
  out.append(s, p, std::string::npos);
  check_string_size(out.size());
  return out;
}

Value split(const std::string& s, const Value& sep, int64_t maxsplit, Budget& budget) {
  Array parts;
  if (sep.is_undefined() || sep.is_none()) {
    size_t k = 0;
    int64_t n = 0;
    while (k < s.size()) {
      while (k < s.size() && is_ws(s[k])) ++k;
      if (k >= s.size()) break;
      if (maxsplit >= 0 && n >= maxsplit) {
        parts.push_back(Value::string(strip(s.substr(k), false, true)));
        break;
      }
      size_t e = k;
      while (e < s.size() && !is_ws(s[e])) ++e;
      parts.push_back(Value::string(s.substr(k, e - k)));
      check_list_size(parts.size());
      ++n;
      k = e;
    }
    return Value::list(std::move(parts));
  }
  if (!sep.is_string()) fail("split(): the separator must be a string");
  if (sep.str().empty()) fail("split(): empty separator");
  size_t p = 0;
  int64_t n = 0;
  for (;;) {
    const size_t q = find_text(s, sep.str(), budget, p);
    if (q == std::string::npos || (maxsplit >= 0 && n >= maxsplit)) break;
    parts.push_back(Value::string(s.substr(p, q - p)));
    check_list_size(parts.size() + 1);
    p = q + sep.str().size();
    ++n;
  }
  parts.push_back(Value::string(s.substr(p)));
  return Value::list(std::move(parts));
}

}  // namespace

// Elements of an iterable (list, string characters, dict keys).
Array iterate(const Value& v, const char* what, Budget& budget) {
  switch (v.kind) {
    case Kind::kArray: budget.step(static_cast<int64_t>(v.array->size())); return *v.array;
    case Kind::kString: {
      const std::string& s = v.str();
      budget.scan(s.size());
      const size_t n = count_code_points(s, s.size());
      check_list_size(n);
      budget.step(static_cast<int64_t>(n));
      budget.build(n * (sizeof(Value) + sizeof(std::string)));
      Array out;
      out.reserve(n);
      for (size_t k = 0; k < s.size(); k += code_point_size(s, k)) out.push_back(Value::string(s.substr(k, code_point_size(s, k))));
      return out;
    }
    case Kind::kObject: {
      budget.step(static_cast<int64_t>(v.object->entries.size()));
      Array out;
      for (const auto& [k, _] : v.object->entries) out.push_back(Value::string(k));
      return out;
    }
    case Kind::kUndefined: return {};
    default: fail(std::string(what) + ": " + v.type_name() + " is not iterable");
  }
}

int64_t to_int(const Value& v, const char* what) {
  if (v.kind == Kind::kInt) return v.i;
  if (v.kind == Kind::kBool) return v.b;
  if (v.kind == Kind::kFloat) return static_cast<int64_t>(v.f);
  fail(std::string(what) + ": expected an integer, got " + v.type_name());
}

namespace {

int compare_values(const Value& a, const Value& b, Budget& budget) {
  budget.step();
  if ((a.is_number() || a.kind == Kind::kBool) && (b.is_number() || b.kind == Kind::kBool)) {
    const double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    budget.scan(std::min(a.str().size(), b.str().size()));
    return a.str().compare(b.str()) < 0 ? -1 : a.str() == b.str() ? 0 : 1;
  }
  fail(std::string("cannot compare ") + a.type_name() + " with " + b.type_name());
}

}  // namespace

// Python-style slice bounds for a sequence of length n.
std::vector<size_t> slice_indices(int64_t n, const Value& start, const Value& stop, const Value& step_v) {
  const int64_t step = step_v.is_undefined() || step_v.is_none() ? 1 : to_int(step_v, "slice step");
  if (step == 0) fail("slice step cannot be zero");
  auto norm = [&](const Value& v, int64_t def) {
    if (v.is_undefined() || v.is_none()) return def;
    int64_t x = to_int(v, "slice index");
    if (x < 0) x += n;
    if (step > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  const int64_t b = norm(start, step > 0 ? 0 : n - 1);
  const int64_t e = norm(stop, step > 0 ? n : -1);
  std::vector<size_t> idx;
  if (step > 0) {
    for (int64_t k = b; k < e; k += step) idx.push_back(static_cast<size_t>(k));
  } else {
    for (int64_t k = b; k > e; k += step) idx.push_back(static_cast<size_t>(k));
  }
  return idx;
}

const Value* kwarg(const KwArgs& kw, const char* name) {
  for (const auto& [k, v] : kw) {
    if (k == name) return &v;
  }
  return nullptr;
}

namespace {

// Positional argument `i`, else keyword `name`, else undefined.
Value arg(const Array& args, const KwArgs& kw, size_t i, const char* name) {
  if (i < args.size()) return args[i];
  if (const Value* v = kwarg(kw, name)) return *v;
  return Value();
}

}  // namespace

Value attribute(const Value& obj, const std::string& name) {
  if (obj.is_object()) {
    if (const Value* v = obj.object->find(name)) return *v;
  }
  return Value();
}

namespace {

// Looks up a dotted attribute path ("a.b") as selectattr/map/sort do.
Value attribute_path(const Value& obj, const std::string& path) {
  Value v = obj;
  size_t p = 0;
  for (;;) {
    const size_t q = path.find('.', p);
    v = attribute(v, path.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) return v;
    p = q + 1;
  }
}

}  // namespace

// ---- tests ----

bool apply_test(const std::string& name, const Value& v, const Array& args, Budget& budget) {
  auto need = [&](size_t n) {
    if (args.size() < n) fail("test '" + name + "' needs " + std::to_string(n) + " argument(s)");
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == Kind::kInt;
  if (name == "float") return v.kind == Kind::kFloat;
  if (name == "boolean") return v.kind == Kind::kBool;
  if (name == "true") return v.kind == Kind::kBool && v.b;
  if (name == "false") return v.kind == Kind::kBool && !v.b;
  if (name == "mapping") return v.is_object();
  if (name == "iterable") return v.is_array() || v.is_string() || v.is_object();
  if (name == "sequence") return v.is_array() || v.is_string() || v.is_object();
  if (name == "callable") return v.kind == Kind::kFunction;
  if (v.is_string()) budget.scan(v.str().size());
  if (name == "lower") return v.is_string() && unicode_lower(v.str(), budget) == v.str();
  if (name == "upper") return v.is_string() && unicode_upper(v.str(), budget) == v.str();
  if (name == "odd") return to_int(v, "odd") % 2 != 0;
  if (name == "even") return to_int(v, "even") % 2 == 0;
  if (name == "divisibleby") {
    need(1);
    const int64_t d = to_int(args[0], "divisibleby");
    if (d == 0) fail("divisibleby 0");
    return to_int(v, "divisibleby") % d == 0;
  }
  if (name == "equalto" || name == "eq" || name == "==" || name == "sameas") {
    need(1);
    return equals(v, args[0], budget);
  }
  if (name == "ne" || name == "!=") {
    need(1);
    return !equals(v, args[0], budget);
  }
  if (name == "gt" || name == "greaterthan" || name == ">") { need(1); return compare_values(v, args[0], budget) > 0; }
  if (name == "ge" || name == ">=") { need(1); return compare_values(v, args[0], budget) >= 0; }
  if (name == "lt" || name == "lessthan" || name == "<") { need(1); return compare_values(v, args[0], budget) < 0; }
  if (name == "le" || name == "<=") { need(1); return compare_values(v, args[0], budget) <= 0; }
  if (name == "in") {
    need(1);
    const Value& c = args[0];
    if (c.is_string() && v.is_string()) {
      budget.scan(c.str().size() + v.str().size());
      return find_text(c.str(), v.str(), budget) != std::string::npos;
    }
    if (c.is_object() && v.is_string()) {
      budget.step(static_cast<int64_t>(c.object->entries.size()));
      return c.object->find(v.str()) != nullptr;
    }
    if (c.is_array()) {
      for (const Value& e : *c.array) {
        if (equals(e, v, budget)) return true;
      }
      return false;
    }
    for (const Value& e : iterate(c, "in", budget)) {
      if (equals(e, v, budget)) return true;
    }
    return false;
  }
  fail("unsupported test '" + name + "'");
}

// True if `v` is, or holds at any depth, the array `a` or the object `o`.
// One step per value visited: a list that holds another twice, 40 levels
// deep, has 2^40 paths.
static bool contains_container(const Value& v, const Array* a, const Object* o, int depth, Budget& budget) {
  budget.step();
  if (depth > 512) return true;  // deeper than any printable value: treat as a cycle
  if (v.is_array()) {
    if (v.array.get() == a) return true;
    for (const Value& e : *v.array) {
      if (contains_container(e, a, o, depth + 1, budget)) return true;
    }
  } else if (v.kind == Kind::kObject && v.object) {
    if (v.object.get() == o) return true;
    for (const auto& kv : v.object->entries) {
      if (contains_container(kv.second, a, o, depth + 1, budget)) return true;
    }
  }
  return false;
}

Value call_method(const Value& obj, const std::string& name, Array& args, KwArgs& kw, Budget& budget) {
  if (obj.is_string()) {
    const std::string& s = obj.str();
    budget.scan(s.size());  // every string method reads the string once, or less
    if (name == "strip") return Value::string(strip(s, true, true, args.empty() ? nullptr : &args[0]));
    if (name == "lstrip") return Value::string(strip(s, true, false, args.empty() ? nullptr : &args[0]));
    if (name == "rstrip") return Value::string(strip(s, false, true, args.empty() ? nullptr : &args[0]));
    if (name == "upper") return Value::string(unicode_upper(s, budget));
    if (name == "lower") return Value::string(unicode_lower(s, budget));
    if (name == "title" || name == "capitalize") budget.search(s.size());  // ctype calls per byte: ~20 ns each
    if (name == "title") return Value::string(title_case(s));
    if (name == "capitalize") return Value::string(capitalize(s));
    if (name == "startswith" || name == "endswith") {
      const Value p = arg(args, kw, 0, "prefix");
      Array options = p.is_array() ? *p.array : Array{p};
      for (const Value& o : options) {
        if (!o.is_string()) fail(name + "() needs a string");
        budget.scan(o.str().size());
        const bool hit = name == "startswith" ? s.compare(0, o.str().size(), o.str()) == 0
                                              : s.size() >= o.str().size() && s.compare(s.size() - o.str().size(), o.str().size(), o.str()) == 0;
        if (hit) return Value::boolean(true);
      }
      return Value::boolean(false);
    }
    if (name == "split") {
      const Value n = arg(args, kw, 1, "maxsplit");
      return split(s, arg(args, kw, 0, "sep"), n.is_undefined() ? -1 : to_int(n, "maxsplit"), budget);
    }
    if (name == "rsplit") {
      const Value n = arg(args, kw, 1, "maxsplit");
      if (!n.is_undefined() && to_int(n, "maxsplit") >= 0) fail("rsplit() with maxsplit is not supported");
      return split(s, arg(args, kw, 0, "sep"), -1, budget);
    }
    if (name == "replace") {
      const Value c = arg(args, kw, 2, "count");
      const Value from = arg(args, kw, 0, "old"), to = arg(args, kw, 1, "new");
      if (!from.is_string() || !to.is_string()) fail("replace() needs two strings");
      budget.scan(from.str().size() + to.str().size());
      return Value::string(replace_all(s, from.str(), to.str(), c.is_undefined() ? -1 : to_int(c, "count"), budget));
    }
    if (name == "find" || name == "count") {
      const Value sub = arg(args, kw, 0, "sub");
      if (!sub.is_string()) fail(name + "() needs a string");
      budget.scan(sub.str().size());
      if (name == "find") {
        const size_t p = find_text(s, sub.str(), budget);
        return Value::integer(p == std::string::npos ? -1 : static_cast<int64_t>(count_code_points(s, p)));
      }
      if (sub.str().empty()) return Value::integer(static_cast<int64_t>(count_code_points(s, s.size())) + 1);
      int64_t n = 0;
      for (size_t p = find_text(s, sub.str(), budget); p != std::string::npos;
           p = find_text(s, sub.str(), budget, p + sub.str().size())) {
        ++n;
      }
      return Value::integer(n);
    }
    if (name == "join") {
      std::string out;
      bool first = true;
      for (const Value& x : iterate(arg(args, kw, 0, "iterable"), "join", budget)) {
        if (!first) out += s;
        first = false;
        out += x.to_output();
        check_string_size(out.size());
      }
      return Value::string(std::move(out));
    }
  } else if (obj.is_object() && !obj.object->is_namespace) {
    if (name == "items") return apply_filter("items", obj, args, kw, budget);
    budget.step(static_cast<int64_t>(obj.object->entries.size()));
    if (name == "keys" || name == "values") {
      Array out;
      for (const auto& [k, v] : obj.object->entries) out.push_back(name == "keys" ? Value::string(k) : v);
      return Value::list(std::move(out));
    }
    if (name == "get") {
      const Value key = arg(args, kw, 0, "key");
      if (key.is_string()) {
        if (const Value* v = obj.object->find(key.str())) return *v;
      }
      const Value def = arg(args, kw, 1, "default");
      return def.is_undefined() ? Value::none() : def;
    }
  } else if (obj.is_array()) {
    if (name == "append") {
      if (args.size() != 1) fail("append() takes one argument");
      // Lists are shared by reference: appending a list to itself (directly
      // or through nested values) would make a reference cycle that is never
      // freed, and values no renderer can print.
      if (contains_container(args[0], obj.array.get(), nullptr, 0, budget)) fail("append(): a list cannot contain itself");
      check_list_size(obj.array->size() + 1);
      budget.build(sizeof(Value));
      obj.array->push_back(args[0]);
      return Value::none();
    }
    if (name == "index" || name == "count") {
      if (args.size() != 1) fail(name + "() takes one argument");
      int64_t n = 0;
      for (size_t k = 0; k < obj.array->size(); ++k) {
        if (equals((*obj.array)[k], args[0], budget)) {
          if (name == "index") return Value::integer(static_cast<int64_t>(k));
          ++n;
        }
      }
      if (name == "index") fail("index(): value not in list");
      return Value::integer(n);
    }
  } else if (obj.is_undefined()) {
    fail("cannot call ." + name + "() on an undefined value");
  }
  fail(std::string("unsupported method ") + obj.type_name() + "." + name + "()");
}

Value apply_filter(const std::string& name, const Value& v, Array& args, KwArgs& kw, Budget& budget) {
  if (v.is_string()) budget.scan(v.str().size());  // every filter reads a string once, or less
  auto need_string = [&]() -> const std::string& {
    if (!v.is_string()) fail("filter '" + name + "' needs a string, got " + v.type_name());
    return v.str();
  };
  if (name == "trim") return Value::string(strip(need_string(), true, true, args.empty() ? nullptr : &args[0]));
  if (name == "upper") return Value::string(unicode_upper(need_string(), budget));
  if (name == "lower") return Value::string(unicode_lower(need_string(), budget));
  if (name == "title" || name == "capitalize") budget.search(need_string().size());  // ctype calls per byte
  if (name == "title") return Value::string(title_case(need_string()));
  if (name == "capitalize") return Value::string(capitalize(need_string()));
  if (name == "safe") return v;
  if (name == "string") return v.is_string() ? v : Value::string(v.to_output());
  if (name == "length" || name == "count") {
    switch (v.kind) {
      case Kind::kString: return Value::integer(static_cast<int64_t>(count_code_points(v.str(), v.str().size())));
      case Kind::kArray: return Value::integer(static_cast<int64_t>(v.array->size()));
      case Kind::kObject: return Value::integer(static_cast<int64_t>(v.object->entries.size()));
      case Kind::kUndefined: return Value::integer(0);
      default: fail(std::string("filter 'length' on ") + v.type_name());
    }
  }
  if (name == "default" || name == "d") {
    const Value def = arg(args, kw, 0, "default_value");
    const bool boolean = arg(args, kw, 1, "boolean").truthy();
    if (v.is_undefined() || (boolean && !v.truthy())) return def.is_undefined() ? Value::string("") : def;
    return v;
  }
  if (name == "tojson") {
    const Value indent = arg(args, kw, 0, "indent");
    for (const auto& [k, _] : kw) {
      if (k != "indent" && k != "ensure_ascii") fail("tojson: unsupported argument '" + k + "'");
    }
    return Value::string(v.to_json(indent.is_undefined() || indent.is_none() ? -1 : static_cast<int>(to_int(indent, "indent"))));
  }
  if (name == "first" || name == "last") {
    if (v.is_undefined()) return Value();
    Array items = iterate(v, name.c_str(), budget);
    if (items.empty()) return Value();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "join") {
    const Value sep = arg(args, kw, 0, "d");
    const Value attr = arg(args, kw, 1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& x : iterate(v, "join", budget)) {
      if (!first && sep.is_string()) out += sep.str();
      first = false;
      out += (attr.is_string() ? attribute_path(x, attr.str()) : x).to_output();
      check_string_size(out.size());
    }
    return Value::string(std::move(out));
  }
  if (name == "replace") {
    const Value from = arg(args, kw, 0, "old"), to = arg(args, kw, 1, "new"), c = arg(args, kw, 2, "count");
    if (!from.is_string() || !to.is_string()) fail("filter 'replace' needs two strings");
    budget.scan(from.str().size() + to.str().size());
    return Value::string(replace_all(need_string(), from.str(), to.str(), c.is_undefined() ? -1 : to_int(c, "count"), budget));
  }
  if (name == "list") return Value::list(iterate(v, "list", budget));
  if (name == "items") {
    if (v.is_undefined()) return Value::list();
    if (!v.is_object()) fail(std::string("filter 'items' on ") + v.type_name());
    budget.step(static_cast<int64_t>(v.object->entries.size()));
    Array out;
    for (const auto& [k, x] : v.object->entries) out.push_back(Value::list({Value::string(k), x}));
    return Value::list(std::move(out));
  }
  if (name == "dictsort") {
    if (!v.is_object()) fail(std::string("filter 'dictsort' on ") + v.type_name());
    Value items = apply_filter("items", v, args, kw, budget);
    std::stable_sort(items.array->begin(), items.array->end(), [&](const Value& a, const Value& b) {
      return compare_values((*a.array)[0], (*b.array)[0], budget) < 0;
    });
    return items;
  }
  if (name == "int") {
    if (v.is_string()) {
      char* end = nullptr;
      const long long x = std::strtoll(v.str().c_str(), &end, 10);
      return Value::integer(end != v.str().c_str() ? x : to_int(arg(args, kw, 0, "default").is_undefined() ? Value::integer(0) : args[0], "int"));
    }
    if (v.is_number() || v.kind == Kind::kBool) return Value::integer(to_int(v, "int"));
    return Value::integer(0);
  }
  if (name == "float") {
    if (v.is_string()) return Value::real(std::strtod(v.str().c_str(), nullptr));
    if (v.is_number() || v.kind == Kind::kBool) return Value::real(v.as_double());
    return Value::real(0);
  }
  if (name == "abs") {
    if (v.kind == Kind::kInt) return Value::integer(v.i < 0 ? -v.i : v.i);
    if (v.kind == Kind::kFloat) return Value::real(std::fabs(v.f));
    fail(std::string("filter 'abs' on ") + v.type_name());
  }
  if (name == "round") {
    const Value p = arg(args, kw, 0, "precision");
    const double scale = std::pow(10.0, p.is_undefined() ? 0 : static_cast<double>(to_int(p, "precision")));
    if (!v.is_number()) fail(std::string("filter 'round' on ") + v.type_name());
    return Value::real(std::round(v.as_double() * scale) / scale);
  }
  if (name == "reverse") {
    if (v.is_string()) {
      budget.scan(v.str().size() * 16);  // offsets and copies: about 16 bytes of work per byte, as a slice
      const std::vector<size_t> at = code_point_offsets(v.str());
      std::string out;
      for (size_t k = at.size() - 1; k > 0; --k) out.append(v.str(), at[k - 1], at[k] - at[k - 1]);
      return Value::string(std::move(out));
    }
    Array items = iterate(v, "reverse", budget);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "sort" || name == "unique" || name == "min" || name == "max" || name == "sum") {
    const Value attr = arg(args, kw, name == "sum" ? 0 : 2, "attribute");
    auto key = [&](const Value& x) { return attr.is_string() ? attribute_path(x, attr.str()) : x; };
    Array items = iterate(v, name.c_str(), budget);
    if (name == "sum") {
      Value total = Value::integer(0);
      for (const Value& x : items) {
        const Value k = key(x);
        if (!k.is_number()) fail("filter 'sum' on a non-number");
        total = (total.kind == Kind::kFloat || k.kind == Kind::kFloat) ? Value::real(total.as_double() + k.as_double())
                                                                      : Value::integer(total.i + k.i);
      }
      return total;
    }
    if (name == "unique") {
      Array out;
      for (const Value& x : items) {
        bool seen = false;
        for (const Value& y : out) seen = seen || equals(key(x), key(y), budget);
        if (!seen) out.push_back(x);
      }
      return Value::list(std::move(out));
    }
    const bool reverse = name == "sort" && arg(args, kw, 0, "reverse").truthy();
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
      return reverse ? compare_values(key(b), key(a), budget) < 0 : compare_values(key(a), key(b), budget) < 0;
    });
    if (name == "sort") return Value::list(std::move(items));
    if (items.empty()) return Value();
    return name == "min" ? items.front() : items.back();
  }
  if (name == "indent") {
    const Value w = arg(args, kw, 0, "width");
    const int64_t width = w.is_string() || w.is_undefined() ? 4 : to_int(w, "width");
    check_string_size(static_cast<size_t>(std::max<int64_t>(width, 0)));
    const std::string pad = w.is_string() ? w.str() : std::string(static_cast<size_t>(std::max<int64_t>(width, 0)), ' ');
    const bool first = arg(args, kw, 1, "first").truthy();
    const bool blank = arg(args, kw, 2, "blank").truthy();
    const std::string& s = need_string();
    std::string out;
    size_t p = 0;
    bool line0 = true;
    for (;;) {
      const size_t q = s.find('\n', p);
      const std::string line = s.substr(p, q == std::string::npos ? std::string::npos : q - p);
      if ((line0 ? first : true) && (blank || !line.empty())) out += pad;
      out += line;
      check_string_size(out.size());
      if (q == std::string::npos) break;
      out += '\n';
      p = q + 1;
      line0 = false;
    }
    return Value::string(std::move(out));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    const bool by_attr = name == "selectattr" || name == "rejectattr";
    const bool keep = name == "select" || name == "selectattr";
    size_t a0 = 0;
    std::string attr;
    if (by_attr) {
      if (args.empty() || !args[0].is_string()) fail("filter '" + name + "' needs an attribute name");
      attr = args[0].str();
      a0 = 1;
    }
    const std::string test = a0 < args.size() ? (args[a0].is_string() ? args[a0].str() : fail_type(name)) : "";
    Array test_args(args.begin() + static_cast<std::ptrdiff_t>(std::min(args.size(), a0 + 1)), args.end());
    Array out;
    for (const Value& x : iterate(v, name.c_str(), budget)) {
      const Value subject = by_attr ? attribute_path(x, attr) : x;
      const bool pass = test.empty() ? subject.truthy() : apply_test(test, subject, test_args, budget);
      if (pass == keep) out.push_back(x);
    }
    return Value::list(std::move(out));
  }
  if (name == "map") {
    Array out;
    if (const Value* attr = kwarg(kw, "attribute")) {
      if (!attr->is_string()) fail("map(attribute=...) needs a string");
      const Value* def = kwarg(kw, "default");
      for (const Value& x : iterate(v, "map", budget)) {
        Value y = attribute_path(x, attr->str());
        out.push_back(y.is_undefined() && def ? *def : y);
      }
      return Value::list(std::move(out));
    }
    if (args.empty() || !args[0].is_string()) fail("map() needs a filter name or attribute=");
    const std::string filter = args[0].str();
    Array rest(args.begin() + 1, args.end());
    for (const Value& x : iterate(v, "map", budget)) {
      Array a = rest;
      KwArgs k;
      out.push_back(apply_filter(filter, x, a, k, budget));
      if (out.back().is_string()) budget.build(out.back().str().size());
    }
    return Value::list(std::move(out));
  }
  fail("unsupported filter '" + name + "'");
}


void install_globals(std::unordered_map<std::string, Value>& globals, Budget& budget) {
  globals["raise_exception"] = Value::callable([](Array& args, KwArgs&) -> Value {
    fail("raise_exception: " + (args.empty() ? std::string("(no message)") : args[0].to_output()));
  });
  globals["namespace"] = Value::callable([&budget](Array& args, KwArgs& kw) -> Value {
    auto o = std::make_shared<Object>();
    o->is_namespace = true;
    if (!args.empty()) {
      if (!args[0].is_object()) fail("namespace() takes keyword arguments or a dict");
      const auto n = static_cast<int64_t>(args[0].object->entries.size());
      budget.step(n * n);  // set() searches the entries so far
      for (const auto& [k, v] : args[0].object->entries) o->set(k, v);
    }
    for (auto& [k, v] : kw) o->set(k, v);
    return Value::dict(std::move(o));
  });
  globals["dict"] = Value::callable([&budget](Array& args, KwArgs& kw) -> Value {
    auto o = std::make_shared<Object>();
    if (!args.empty() && args[0].is_object()) {
      budget.step(static_cast<int64_t>(args[0].object->entries.size()));
      o->entries = args[0].object->entries;
    }
    for (auto& [k, v] : kw) o->set(k, v);
    return Value::dict(std::move(o));
  });
  globals["range"] = Value::callable([&budget](Array& args, KwArgs&) -> Value {
    if (args.empty() || args.size() > 3) fail("range() takes 1 to 3 arguments");
    int64_t start = 0, stop = 0, stepv = 1;
    if (args.size() == 1) {
      stop = to_int(args[0], "range");
    } else {
      start = to_int(args[0], "range");
      stop = to_int(args[1], "range");
      if (args.size() == 3) stepv = to_int(args[2], "range");
    }
    if (stepv == 0) fail("range() step must not be zero");
    const int64_t n = stepv > 0 ? (stop > start ? (stop - start + stepv - 1) / stepv : 0)
                                : (start > stop ? (start - stop - stepv - 1) / -stepv : 0);
    if (n > static_cast<int64_t>(kMaxListItems)) {
      fail("range() of more than " + std::to_string(kMaxListItems) + " numbers (the rendering limit on lists)");
    }
    budget.step(n);
    Array out;
    for (int64_t k = 0; k < n; ++k) out.push_back(Value::integer(start + k * stepv));
    return Value::list(std::move(out));
  });
  globals["strftime_now"] = Value::callable([](Array& args, KwArgs&) -> Value {
    if (args.empty() || !args[0].is_string()) fail("strftime_now() needs a format string");
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[256];
    const size_t n = std::strftime(buf, sizeof buf, args[0].str().c_str(), &tm);
    return Value::string(std::string(buf, n));
  });
}


}  // namespace tandem::chat::jinja
