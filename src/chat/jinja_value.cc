#include "chat/jinja_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace tandem::chat::jinja {

const Value* Object::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Object::set(const std::string& key, Value v) {
  for (auto& [k, old] : entries) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  entries.emplace_back(key, std::move(v));
}

Value Value::list(Array items) {
  Value v;
  v.kind = Kind::kArray;
  v.array = std::make_shared<Array>(std::move(items));
  return v;
}

Value Value::dict(std::shared_ptr<Object> o) {
  Value v;
  v.kind = Kind::kObject;
  v.object = o ? std::move(o) : std::make_shared<Object>();
  return v;
}

Value Value::callable(Function fn) {
  Value v;
  v.kind = Kind::kFunction;
  v.function = std::make_shared<Function>(std::move(fn));
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return none();
    case nlohmann::ordered_json::value_t::boolean: return boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: return integer(static_cast<int64_t>(j.get<uint64_t>()));
    case nlohmann::ordered_json::value_t::number_float: return real(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Array a;
      a.reserve(j.size());
      for (const auto& e : j) a.push_back(from_json(e));
      return list(std::move(a));
    }
    case nlohmann::ordered_json::value_t::object: {
      auto o = std::make_shared<Object>();
      for (auto it = j.begin(); it != j.end(); ++it) o->entries.emplace_back(it.key(), from_json(it.value()));
      return dict(std::move(o));
    }
    default: return Value();
  }
}

bool Value::truthy() const {
  switch (kind) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return b;
    case Kind::kInt: return i != 0;
    case Kind::kFloat: return f != 0;
    case Kind::kString: return !text->empty();
    case Kind::kArray: return !array->empty();
    case Kind::kObject: return !object->entries.empty();
    case Kind::kFunction: return true;
  }
  return false;
}

namespace {

// The shortest decimal text that reads back as the same double (JavaScript's
// Number#toString for the ordinary range), with ".0" for integral values.
std::string format_float(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x == std::floor(x) && std::fabs(x) < 1e16) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", x);
    return buf;
  }
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

void json_quote(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  check_string_size(out.size());
}

// Appends the JSON text of `v` to `out`, checking the size as it grows: a
// list holding another list twice, 40 levels deep, is 40 values to build but
// 2^40 to print.
void write_json(std::string& out, const Value& v, int indent, int depth) {
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNone: out += "null"; break;
    case Kind::kBool: out += v.b ? "true" : "false"; break;
    case Kind::kInt: out += std::to_string(v.i); break;
    case Kind::kFloat:
      // JSON.stringify writes integral floats without ".0".
      if (v.f == std::floor(v.f) && std::fabs(v.f) < 1e16) {
        out += std::to_string(static_cast<int64_t>(v.f));
      } else {
        out += format_float(v.f);
      }
      break;
    case Kind::kString: json_quote(out, v.str()); break;
    case Kind::kArray:
    case Kind::kObject: {
      // Lists can contain themselves (x.append(x)); JSON nesting is bounded instead.
      if (depth > 512) throw EvalError{"tojson: value nested deeper than 512 levels (a list containing itself?)"};
      const bool pretty = indent > 0;
      const size_t base = static_cast<size_t>(indent) * static_cast<size_t>(depth);
      if (pretty) check_string_size(out.size() + base + static_cast<size_t>(indent));
      auto newline = [&](size_t spaces) { out.append(1, '\n').append(spaces, ' '); };
      const bool array = v.kind == Kind::kArray;
      out += array ? '[' : '{';
      size_t n = 0;
      auto item = [&]() {
        if (n++) out += pretty ? "," : ", ";
        if (pretty) newline(base + static_cast<size_t>(indent));
        check_string_size(out.size());
      };
      if (array) {
        for (const Value& e : *v.array) {
          item();
          write_json(out, e, indent, depth + 1);
        }
      } else {
        for (const auto& [k, x] : v.object->entries) {
          item();
          json_quote(out, k);
          out += ": ";
          write_json(out, x, indent, depth + 1);
        }
      }
      if (n && pretty) newline(base);
      out += array ? ']' : '}';
      break;
    }
    case Kind::kFunction: throw EvalError{"tojson: a function cannot be converted to JSON"};
  }
  check_string_size(out.size());
}

}  // namespace

std::string Value::to_output() const {
  switch (kind) {
    case Kind::kUndefined:
    case Kind::kNone: return "";
    case Kind::kBool: return b ? "true" : "false";
    case Kind::kInt: return std::to_string(i);
    case Kind::kFloat: return format_float(f);
    case Kind::kString: return *text;
    case Kind::kArray:
    case Kind::kObject: return to_json();
    case Kind::kFunction: return "[function]";
  }
  return "";
}

std::string Value::to_json(int indent) const {
  std::string out;
  write_json(out, *this, indent, 0);
  return out;
}

const char* Value::type_name() const {
  switch (kind) {
    case Kind::kUndefined: return "undefined";
    case Kind::kNone: return "none";
    case Kind::kBool: return "boolean";
    case Kind::kInt: return "integer";
    case Kind::kFloat: return "float";
    case Kind::kString: return "string";
    case Kind::kArray: return "list";
    case Kind::kObject: return object->is_namespace ? "namespace" : "dict";
    case Kind::kFunction: return "function";
  }
  return "?";
}

const std::string& Value::str() const {
  static const std::string empty;
  return kind == Kind::kString ? *text : empty;
}

bool equals(const Value& a, const Value& b, Budget& budget) {
  budget.step();
  if (a.is_number() || a.kind == Kind::kBool) {
    if (!(b.is_number() || b.kind == Kind::kBool)) return false;
    return a.as_double() == b.as_double();
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString:
      if (a.text == b.text) return true;
      budget.scan(std::min(a.text->size(), b.text->size()));
      return *a.text == *b.text;
    case Kind::kArray: {
      if (a.array == b.array) return true;
      if (a.array->size() != b.array->size()) return false;
      for (size_t k = 0; k < a.array->size(); ++k) {
        if (!equals((*a.array)[k], (*b.array)[k], budget)) return false;
      }
      return true;
    }
    case Kind::kObject: {
      if (a.object == b.object) return true;
      if (a.object->entries.size() != b.object->entries.size()) return false;
      for (const auto& [k, v] : a.object->entries) {
        budget.step(static_cast<int64_t>(b.object->entries.size()));  // find() searches them
        const Value* w = b.object->find(k);
        if (!w || !equals(v, *w, budget)) return false;
      }
      return true;
    }
    case Kind::kFunction: return a.function == b.function;
    default: return false;
  }
}

}  // namespace tandem::chat::jinja
