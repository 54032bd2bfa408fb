// Evaluation of parsed templates: scopes, statements, operators, calls. The
// built-in filters, tests, methods and globals are in jinja_builtins.cc.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "chat/jinja.h"
#include "chat/jinja_ast.h"
#include "chat/jinja_builtins.h"
#include "util/error.h"

namespace tandem::chat::jinja {

struct Template::Parsed {
  Body body;
};

Template::Template(std::string source, std::string name) : source_(std::move(source)), name_(std::move(name)) {
  auto p = std::make_shared<Parsed>();
  p->body = parse_template(source_, name_);
  parsed_ = std::move(p);
}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

namespace {

// ---- the interpreter ----

class Interpreter {
 public:
  Interpreter(std::string_view src, const std::string& name) : src_(src), name_(name) {}
  Interpreter(const Interpreter&) = delete;  // the globals hold a reference to budget_
  Interpreter& operator=(const Interpreter&) = delete;

  Budget& budget() { return budget_; }
  // The rendered text: bounded by kMaxOutputBytes, the texts that {% set %}
  // blocks and macros capture by kMaxStringBytes.
  void set_output(const std::string* out) { output_ = out; }

  void set_global(const std::string& k, Value v) { scopes_[0][k] = std::move(v); }
  std::unordered_map<std::string, Value>& globals() { return scopes_[0]; }

  enum class Flow { kNormal, kBreak, kContinue };

  Flow exec(const Body& body, std::string& out) {
    for (const NodePtr& n : body) {
      Flow f;
      try {
        f = exec(*n, out);
      } catch (const EvalError& e) {
        fail_at(n->pos, e.message);  // a bound passed by the statement itself (its own errors are Errors)
      }
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

 private:
  [[noreturn]] void fail_at(size_t pos, const std::string& msg) const {
    throw Error(name_ + ": " + describe_position(src_, pos) + ": " + msg);
  }

  void emit(std::string& out, const std::string& s) {
    if (&out == output_) {
      if (out.size() + s.size() > kMaxOutputBytes) {
        fail("rendered text would exceed " + std::to_string(kMaxOutputBytes) + " bytes (the rendering limit)");
      }
    } else {
      check_string_size(out.size() + s.size());
    }
    budget_.build(s.size());
    out += s;
  }

  Value lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end()) return f->second;
    }
    return Value();
  }

  Flow exec(const Node& n, std::string& out) {
    switch (n.type) {
      case Node::Type::kText: emit(out, n.text); return Flow::kNormal;
      case Node::Type::kOutput: {
        const Value v = eval(*n.expr);
        if (v.is_string()) {
          emit(out, v.str());
        } else {
          emit(out, v.to_output());
        }
        return Flow::kNormal;
      }
      case Node::Type::kIf:
        for (const auto& [cond, body] : n.branches) {
          if (eval(*cond).truthy()) return exec(body, out);
        }
        return exec(n.else_body, out);
      case Node::Type::kFor: return exec_for(n, out);
      case Node::Type::kSet: exec_set(n); return Flow::kNormal;
      case Node::Type::kSetBlock: {
        std::string text;
        exec(n.body, text);
        scopes_.back()[n.targets[0]] = Value::string(std::move(text));
        return Flow::kNormal;
      }
      case Node::Type::kMacro: define_macro(n); return Flow::kNormal;
      case Node::Type::kBreak: return Flow::kBreak;
      case Node::Type::kContinue: return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  void bind(std::unordered_map<std::string, Value>& scope, const std::vector<std::string>& targets, const Value& v,
            size_t pos) {
    if (targets.size() == 1) {
      scope[targets[0]] = v;
      return;
    }
    if (!v.is_array() || v.array->size() != targets.size()) {
      fail_at(pos, "cannot unpack " + std::string(v.type_name()) + " into " + std::to_string(targets.size()) + " names");
    }
    for (size_t k = 0; k < targets.size(); ++k) scope[targets[k]] = (*v.array)[k];
  }

  void exec_set(const Node& n) {
    Value v = eval(*n.expr);
    if (!n.attr.empty()) {
      Value target = lookup(n.targets[0]);
      if (!target.is_object() || !target.object->is_namespace) {
        fail_at(n.pos, "cannot set attribute '" + n.attr + "' of " + target.type_name() + " '" + n.targets[0] +
                           "' (only a namespace() can be modified)");
      }
      target.object->set(n.attr, std::move(v));
      return;
    }
    bind(scopes_.back(), n.targets, v, n.pos);
  }

  Flow exec_for(const Node& n, std::string& out) {
    const Value seq = eval(*n.expr);
    Array items;
    try {
      items = iterate(seq, "for", budget_);
    } catch (const EvalError& e) {
      fail_at(n.expr->pos, e.message);
    }
    if (seq.is_object() && n.targets.size() == 2) {
      fail_at(n.pos, "iterating a dict gives its keys; use .items() to unpack key and value");
    }
    scopes_.emplace_back();
    if (n.filter) {
      Array kept;
      for (const Value& it : items) {
        budget_.step();
        bind(scopes_.back(), n.targets, it, n.pos);
        if (eval(*n.filter).truthy()) kept.push_back(it);
      }
      items = std::move(kept);
    }
    const int64_t len = static_cast<int64_t>(items.size());
    // One loop object per for statement, updated in place each iteration.
    auto loop = std::make_shared<Object>();
    loop->entries = {{"index", Value()},    {"index0", Value()}, {"revindex", Value()},
                     {"revindex0", Value()}, {"first", Value()},  {"last", Value()},
                     {"length", Value::integer(len)}, {"previtem", Value()}, {"nextitem", Value()}};
    for (int64_t k = 0; k < len; ++k) {
      budget_.step();
      auto& e = loop->entries;
      e[0].second = Value::integer(k + 1);
      e[1].second = Value::integer(k);
      e[2].second = Value::integer(len - k);
      e[3].second = Value::integer(len - k - 1);
      e[4].second = Value::boolean(k == 0);
      e[5].second = Value::boolean(k == len - 1);
      e[7].second = k > 0 ? items[static_cast<size_t>(k - 1)] : Value();
      e[8].second = k + 1 < len ? items[static_cast<size_t>(k + 1)] : Value();
      scopes_.back()["loop"] = Value::dict(loop);
      bind(scopes_.back(), n.targets, items[k], n.pos);
      const Flow f = exec(n.body, out);
      if (f == Flow::kBreak) break;
    }
    scopes_.pop_back();
    if (len == 0) return exec(n.else_body, out);
    return Flow::kNormal;
  }

  void define_macro(const Node& n) {
    const Node* node = &n;
    scopes_.back()[n.name] = Value::callable([this, node](Array& args, KwArgs& kwargs) -> Value {
      if (depth_ >= kMaxCallDepth) {
        fail("macro calls nested too deeply (more than " + std::to_string(kMaxCallDepth) + " levels, the rendering limit)");
      }
      if (args.size() > node->params.size()) fail("macro '" + node->name + "' takes " + std::to_string(node->params.size()) + " arguments");
      std::unordered_map<std::string, Value> scope;
      for (size_t k = 0; k < node->params.size(); ++k) {
        const auto& [pname, def] = node->params[k];
        if (k < args.size()) {
          scope[pname] = args[k];
        } else if (const Value* v = kwarg(kwargs, pname.c_str())) {
          scope[pname] = *v;
        } else if (def) {
          scope[pname] = eval(*def);
        } else {
          scope[pname] = Value();
        }
      }
      for (const auto& [k, _] : kwargs) {
        bool known = false;
        for (const auto& p : node->params) known = known || p.first == k;
        if (!known) fail("macro '" + node->name + "' has no parameter '" + k + "'");
      }
      // A macro sees the template's top-level names and its parameters, not the caller's locals.
      std::vector<std::unordered_map<std::string, Value>> saved;
      saved.swap(scopes_);
      scopes_.push_back(saved[0]);
      scopes_.push_back(std::move(scope));
      ++depth_;
      std::string text;
      try {
        exec(node->body, text);
      } catch (...) {
        --depth_;
        scopes_.swap(saved);
        throw;
      }
      --depth_;
      saved[0] = std::move(scopes_[0]);  // top-level names the macro changed (namespaces are shared anyway)
      scopes_.swap(saved);
      return Value::string(std::move(text));
    });
  }

 public:
  Value eval(const Expr& e) {
    try {
      budget_.step();
      Value v = eval_inner(e);
      if (builds(e.type)) account(v);
      return v;
    } catch (const EvalError& err) {
      fail_at(e.pos, err.message);
    }
  }

 private:
  // Expressions that may return a new string, list or dict (the others return
  // a value that already exists, shared, or a number).
  static bool builds(Expr::Type t) {
    switch (t) {
      case Expr::Type::kList:
      case Expr::Type::kTuple:
      case Expr::Type::kDict:
      case Expr::Type::kSlice:
      case Expr::Type::kCall:
      case Expr::Type::kFilter:
      case Expr::Type::kBinary: return true;
      default: return false;
    }
  }

  // Checks the size of a value an expression built (or may have built: a
  // filter returning its input is counted too) and charges its memory.
  void account(const Value& v) {
    if (v.is_string()) {
      check_string_size(v.str().size());
      budget_.build(v.str().size());
    } else if (v.is_array()) {
      check_list_size(v.array->size());
      budget_.build(v.array->size() * sizeof(Value));
    } else if (v.is_object()) {
      budget_.build(v.object->entries.size() * sizeof(std::pair<std::string, Value>));
    }
  }

  void eval_args(const Expr& e, size_t first, Array& args, KwArgs& kwargs) {
    for (size_t k = first; k < e.args.size(); ++k) args.push_back(eval(*e.args[k]));
    for (const auto& [key, x] : e.kwargs) kwargs.emplace_back(key, eval(*x));
  }

  Value eval_inner(const Expr& e) {
    switch (e.type) {
      case Expr::Type::kLiteral: return e.literal;
      case Expr::Type::kName: return lookup(e.name);
      case Expr::Type::kList:
      case Expr::Type::kTuple: {
        Array a;
        for (const ExprPtr& x : e.args) a.push_back(eval(*x));
        return Value::list(std::move(a));
      }
      case Expr::Type::kDict: {
        auto o = std::make_shared<Object>();
        for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
          const Value key = eval(*e.args[k]);
          o->set(key.is_string() ? key.str() : key.to_output(), eval(*e.args[k + 1]));
        }
        return Value::dict(std::move(o));
      }
      case Expr::Type::kAttr: {
        const Value obj = eval(*e.args[0]);
        if (obj.is_object()) budget_.step(static_cast<int64_t>(obj.object->entries.size()));
        return attribute(obj, e.name);
      }
      case Expr::Type::kIndex: return subscript(eval(*e.args[0]), eval(*e.args[1]));
      case Expr::Type::kSlice: {
        const Value obj = eval(*e.args[0]);
        Value parts[3];
        for (int k = 0; k < 3; ++k) {
          if (e.args[k + 1]) parts[k] = eval(*e.args[k + 1]);
        }
        if (obj.is_array()) {
          budget_.step(static_cast<int64_t>(obj.array->size()));
          Array out;
          for (size_t k : slice_indices(static_cast<int64_t>(obj.array->size()), parts[0], parts[1], parts[2])) {
            out.push_back((*obj.array)[k]);
          }
          return Value::list(std::move(out));
        }
        if (obj.is_string()) {
          budget_.scan(obj.str().size() * 32);  // offsets, indices and the copy: ~0.3 s for 4 MB a million times
          const std::vector<size_t> at = code_point_offsets(obj.str());
          std::string out;
          for (size_t k : slice_indices(static_cast<int64_t>(at.size() - 1), parts[0], parts[1], parts[2])) {
            out.append(obj.str(), at[k], at[k + 1] - at[k]);
          }
          return Value::string(std::move(out));
        }
        if (obj.is_undefined()) return Value();
        fail(std::string("cannot slice ") + obj.type_name());
      }
      case Expr::Type::kCall: return call(e);
      case Expr::Type::kFilter: {
        const Value input = eval(*e.args[0]);
        Array args;
        KwArgs kwargs;
        eval_args(e, 1, args, kwargs);
        return apply_filter(e.name, input, args, kwargs, budget_);
      }
      case Expr::Type::kTest: {
        const Value v = eval(*e.args[0]);
        Array args;
        KwArgs kwargs;
        eval_args(e, 1, args, kwargs);
        return Value::boolean(apply_test(e.name, v, args, budget_) != e.negated);
      }
      case Expr::Type::kUnary: {
        const Value v = eval(*e.args[0]);
        if (e.name == "not") return Value::boolean(!v.truthy());
        if (v.kind == Kind::kInt) return Value::integer(e.name == "-" ? -v.i : v.i);
        if (v.kind == Kind::kFloat) return Value::real(e.name == "-" ? -v.f : v.f);
        fail("unary " + e.name + " on " + v.type_name());
      }
      case Expr::Type::kBinary: return binary(e);
      case Expr::Type::kTernary:
        if (eval(*e.args[1]).truthy()) return eval(*e.args[0]);
        return e.args[2] ? eval(*e.args[2]) : Value();
    }
    return Value();
  }

  Value subscript(const Value& obj, const Value& key) {
    if (obj.is_object()) {
      budget_.step(static_cast<int64_t>(obj.object->entries.size()));
      if (key.is_string()) {
        if (const Value* v = obj.object->find(key.str())) return *v;
      }
      return Value();
    }
    if (obj.is_array() || obj.is_string()) {
      if (key.kind != Kind::kInt) {
        if (key.is_string()) return Value();  // e.g. a list has no attribute 'role'
        fail(std::string("list indices must be integers, not ") + key.type_name());
      }
      if (obj.is_array()) {
        int64_t k = key.i < 0 ? key.i + static_cast<int64_t>(obj.array->size()) : key.i;
        if (k < 0 || k >= static_cast<int64_t>(obj.array->size())) return Value();
        return (*obj.array)[static_cast<size_t>(k)];
      }
      budget_.scan(obj.str().size() * 8);  // the offsets: 8 bytes per byte
      const std::vector<size_t> at = code_point_offsets(obj.str());
      const int64_t n = static_cast<int64_t>(at.size() - 1);
      const int64_t k = key.i < 0 ? key.i + n : key.i;
      if (k < 0 || k >= n) return Value();
      const auto u = static_cast<size_t>(k);
      return Value::string(obj.str().substr(at[u], at[u + 1] - at[u]));
    }
    return Value();
  }

  Value binary(const Expr& e) {
    const std::string& op = e.name;
    const Value a = eval(*e.args[0]);
    if (op == "and") return a.truthy() ? eval(*e.args[1]) : a;
    if (op == "or") return a.truthy() ? a : eval(*e.args[1]);
    const Value b = eval(*e.args[1]);
    if (op == "==") return Value::boolean(equals(a, b, budget_));
    if (op == "!=") return Value::boolean(!equals(a, b, budget_));
    if (op == "in" || op == "not in") {
      bool found = false;
      if (b.is_undefined() || b.is_none()) {
        found = false;
      } else if (b.is_string()) {
        if (!a.is_string()) fail(std::string("'in <string>' requires a string, not ") + a.type_name());
        found = find_text(b.str(), a.str(), budget_) != std::string::npos;
      } else if (b.is_object()) {
        budget_.step(static_cast<int64_t>(b.object->entries.size()));
        found = a.is_string() && b.object->find(a.str()) != nullptr;
      } else if (b.is_array()) {
        for (const Value& x : *b.array) found = found || equals(x, a, budget_);
      } else {
        fail(std::string("'in' needs a container, not ") + b.type_name());
      }
      return Value::boolean(found != (op == "not in"));
    }
    if (a.is_undefined() || b.is_undefined()) fail("operator " + op + " on an undefined value");
    if (op == "~") return concatenate(a, b);
    if (a.is_none() || b.is_none()) fail("operator " + op + " on none");
    const bool num_a = a.is_number() || a.kind == Kind::kBool, num_b = b.is_number() || b.kind == Kind::kBool;
    if (num_a && num_b) {
      const bool fl = a.kind == Kind::kFloat || b.kind == Kind::kFloat;
      const double x = a.as_double(), y = b.as_double();
      const int64_t ix = fl ? 0 : to_int(a, op.c_str()), iy = fl ? 0 : to_int(b, op.c_str());
      if (op == "+") return fl ? Value::real(x + y) : Value::integer(ix + iy);
      if (op == "-") return fl ? Value::real(x - y) : Value::integer(ix - iy);
      if (op == "*") return fl ? Value::real(x * y) : Value::integer(ix * iy);
      if (op == "/") {
        if (y == 0) fail("division by zero");
        return Value::real(x / y);
      }
      if (op == "//" || op == "%") {
        if (y == 0) fail("division by zero");
        if (fl) {
          const double q = std::floor(x / y);
          return op == "//" ? Value::real(q) : Value::real(x - q * y);
        }
        int64_t q = ix / iy, r = ix % iy;
        if (r != 0 && ((r < 0) != (iy < 0))) --q, r += iy;  // Python floors
        return op == "//" ? Value::integer(q) : Value::integer(r);
      }
      if (op == "**") return (fl || iy < 0) ? Value::real(std::pow(x, y)) : Value::integer(static_cast<int64_t>(std::pow(x, y)));
      if (op == "<") return Value::boolean(x < y);
      if (op == ">") return Value::boolean(x > y);
      if (op == "<=") return Value::boolean(x <= y);
      if (op == ">=") return Value::boolean(x >= y);
    }
    if (op == "+" && a.is_array() && b.is_array()) {
      check_list_size(a.array->size() + b.array->size());
      budget_.step(static_cast<int64_t>(a.array->size() + b.array->size()));
      Array out = *a.array;
      out.insert(out.end(), b.array->begin(), b.array->end());
      return Value::list(std::move(out));
    }
    if (op == "+" && (a.is_string() || b.is_string())) return concatenate(a, b);
    if (op == "*" && a.is_string() && b.kind == Kind::kInt) {
      const size_t unit = a.str().size();
      if (b.i > 0 && unit > 0 && static_cast<uint64_t>(b.i) > kMaxStringBytes / unit) check_string_size(kMaxStringBytes + 1);
      if (b.i <= 0 || unit == 0) return Value::string("");
      // Doubling: log2(n) appends, not n (4 million for 'x' * 4000000).
      const size_t total = unit * static_cast<size_t>(b.i);
      std::string out;
      out.reserve(total);
      out = a.str();
      while (out.size() * 2 <= total) out.append(out.data(), out.size());
      out.append(out.data(), total - out.size());
      return Value::string(std::move(out));
    }
    if (a.is_string() && b.is_string()) {
      budget_.scan(std::min(a.str().size(), b.str().size()));
      if (op == "<") return Value::boolean(a.str() < b.str());
      if (op == ">") return Value::boolean(a.str() > b.str());
      if (op == "<=") return Value::boolean(a.str() <= b.str());
      if (op == ">=") return Value::boolean(a.str() >= b.str());
    }
    fail("unsupported operator " + op + " between " + a.type_name() + " and " + b.type_name());
  }

  // a ~ b, and + with a string: the sizes are checked before the text is built.
  static Value concatenate(const Value& a, const Value& b) {
    const std::string x = a.to_output(), y = b.to_output();
    check_string_size(x.size() + y.size());
    return Value::string(x + y);
  }

  Value call(const Expr& e) {
    Array args;
    KwArgs kwargs;
    const Expr& callee = *e.args[0];
    if (callee.type == Expr::Type::kAttr) {
      const Value obj = eval(*callee.args[0]);
      if (obj.is_object()) {
        const Value* member = obj.object->find(callee.name);
        if (member && member->kind == Kind::kFunction) {
          eval_args(e, 1, args, kwargs);
          return (*member->function)(args, kwargs);
        }
      }
      eval_args(e, 1, args, kwargs);
      return call_method(obj, callee.name, args, kwargs, budget_);
    }
    const Value fn = eval(callee);
    if (fn.kind != Kind::kFunction) {
      if (callee.type == Expr::Type::kName) fail("unknown function '" + callee.name + "'");
      fail(std::string(fn.type_name()) + " is not callable");
    }
    eval_args(e, 1, args, kwargs);
    return (*fn.function)(args, kwargs);
  }

  std::string_view src_;
  const std::string& name_;
  std::vector<std::unordered_map<std::string, Value>> scopes_{1};
  Budget budget_;
  const std::string* output_ = nullptr;
  int depth_ = 0;
};

}  // namespace

std::string Template::render(const nlohmann::ordered_json& context) const {
  Interpreter in(source_, name_);
  install_globals(in.globals(), in.budget());
  if (!context.is_null()) {
    if (!context.is_object()) throw Error(name_ + ": the template context must be a JSON object");
    for (auto it = context.begin(); it != context.end(); ++it) in.set_global(it.key(), Value::from_json(it.value()));
  }
  std::string out;
  in.set_output(&out);
  try {
    in.exec(parsed_->body, out);
  } catch (const EvalError& e) {
    throw Error(name_ + ": " + e.message);
  }
  return out;
}

}  // namespace tandem::chat::jinja
