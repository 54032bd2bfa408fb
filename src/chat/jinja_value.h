// Runtime values of the Jinja interpreter (src/chat/jinja.h): Python-like
// dynamic values. Arrays, objects and namespaces are shared by reference, as
// in Python (a namespace() assigned to two names is one object), and strings
// are immutable and shared too, so copying a Value never copies text.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja_limits.h"

namespace tandem::chat::jinja {

struct Value;
using Array = std::vector<Value>;
using KwArgs = std::vector<std::pair<std::string, Value>>;

// An insertion-ordered string -> Value map (Python dicts keep insertion order,
// and tojson/items() output depends on it).
struct Object {
  std::vector<std::pair<std::string, Value>> entries;
  bool is_namespace = false;  // namespace(): the only object `set ns.x = ...` may modify

  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value v);
};

// A callable: a built-in function or a template macro.
using Function = std::function<Value(Array& args, KwArgs& kwargs)>;

enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kArray, kObject, kFunction };

struct Value {
  Kind kind = Kind::kUndefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::shared_ptr<const std::string> text;  // kString
  std::shared_ptr<Array> array;
  std::shared_ptr<Object> object;
  std::shared_ptr<Function> function;

  static Value none() { Value v; v.kind = Kind::kNone; return v; }
  static Value boolean(bool x) { Value v; v.kind = Kind::kBool; v.b = x; return v; }
  static Value integer(int64_t x) { Value v; v.kind = Kind::kInt; v.i = x; return v; }
  static Value real(double x) { Value v; v.kind = Kind::kFloat; v.f = x; return v; }
  static Value string(std::string x) {
    Value v;
    v.kind = Kind::kString;
    v.text = std::make_shared<const std::string>(std::move(x));
    return v;
  }
  static Value list(Array items = {});
  static Value dict(std::shared_ptr<Object> o = nullptr);
  static Value callable(Function fn);
  static Value from_json(const nlohmann::ordered_json& j);

  // The text of a string ("" for other kinds).
  const std::string& str() const;

  bool is_undefined() const { return kind == Kind::kUndefined; }
  bool is_none() const { return kind == Kind::kNone; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_object() const { return kind == Kind::kObject; }
  double as_double() const { return kind == Kind::kFloat ? f : static_cast<double>(kind == Kind::kBool ? b : i); }

  // Python truthiness: empty strings/containers, 0, none and undefined are false.
  bool truthy() const;
  // Text for {{ ... }} output, as @huggingface/jinja prints it: undefined and
  // none print nothing, booleans "true"/"false", floats with a ".0" when
  // integral, containers as JSON.
  std::string to_output() const;
  // JSON text as Python's json.dumps (ensure_ascii=False): separators ", " and
  // ": ", or with indent > 0 "," and ": " with newlines. Functions are an
  // error, and so is text over kMaxStringBytes (checked as it grows, so a list
  // that holds one list many times over cannot take the memory first).
  std::string to_json(int indent = -1) const;
  // Name of the type for error messages ("string", "list", ...).
  const char* type_name() const;
};

// An evaluation error without a position: the interpreter adds the template
// name and the position of the innermost expression and rethrows it as a
// tandem::Error. Never escapes Template::render.
struct EvalError {
  std::string message;
};

// Python ==: numbers compare by value, containers element-wise. Charges
// `budget` one step per value visited and the bytes of strings compared.
bool equals(const Value& a, const Value& b, Budget& budget);

}  // namespace tandem::chat::jinja
