// Lexer and recursive-descent parser for the Jinja subset of chat templates.
//
// Whitespace handling follows Jinja with trim_blocks and lstrip_blocks, as
// transformers' apply_chat_template (and @huggingface/jinja) configure it:
// a newline right after a block or comment tag is dropped, spaces and tabs
// between the start of a line and a block or comment tag are dropped, "-" on a
// tag strips all whitespace on that side, and one trailing newline of the
// template is dropped.
#include <cctype>
#include <cstdlib>

#include "chat/jinja_ast.h"
#include "util/error.h"

namespace tandem::chat::jinja {

std::string describe_position(std::string_view source, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t k = 0; k < pos && k < source.size(); ++k) {
    if (source[k] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

namespace {

enum class Tok { kText, kOpenStmt, kCloseStmt, kOpenExpr, kCloseExpr, kName, kString, kInt, kFloat, kOp, kEnd };

struct Token {
  Tok type;
  std::string text;
  size_t pos;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
 public:
  Lexer(std::string_view src, const std::string& name) : src_(src), name_(name) {
    if (!src_.empty() && src_.back() == '\n') src_.remove_suffix(1);
  }

  std::vector<Token> run() {
    while (p_ < src_.size()) {
      lex_text();
      if (p_ >= src_.size()) break;
      lex_tag();
    }
    flush_text();
    tokens_.push_back({Tok::kEnd, "", src_.size()});
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(size_t pos, const std::string& what) const {
    throw Error(name_ + ": " + describe_position(src_, pos) + ": " + what);
  }

  bool at(std::string_view s) const { return src_.substr(p_, s.size()) == s; }

  void skip_whitespace() {
    while (p_ < src_.size() && is_space(src_[p_])) ++p_;
  }

  void flush_text() {
    if (!text_.empty()) tokens_.push_back({Tok::kText, std::move(text_), text_pos_});
    text_.clear();
  }

  // Text up to the next "{{", "{%" or "{#".
  void lex_text() {
    if (text_.empty()) text_pos_ = p_;
    while (p_ < src_.size()) {
      if (src_[p_] == '{' && p_ + 1 < src_.size() &&
          (src_[p_ + 1] == '{' || src_[p_ + 1] == '%' || src_[p_ + 1] == '#')) {
        break;
      }
      text_ += src_[p_++];
    }
  }

  void strip_text_right() {
    while (!text_.empty() && is_space(text_.back())) text_.pop_back();
  }

  // lstrip_blocks: spaces/tabs between a line start and a block tag go.
  void lstrip_block() {
    size_t k = p_, n = 0;
    while (k > 0 && (src_[k - 1] == ' ' || src_[k - 1] == '\t')) --k, ++n;
    if ((k == 0 || src_[k - 1] == '\n') && n <= text_.size()) text_.resize(text_.size() - n);
  }

  void lex_tag() {
    const size_t start = p_;
    const char kind = src_[p_ + 1];
    if (kind != '{') lstrip_block();
    p_ += 2;
    const bool strip_before = p_ < src_.size() && src_[p_] == '-';
    if (strip_before || (p_ < src_.size() && src_[p_] == '+')) ++p_;
    if (strip_before) strip_text_right();
    flush_text();

    if (kind == '#') {
      const size_t end = src_.find("#}", p_);
      if (end == std::string_view::npos) fail(start, "comment is not closed with #}");
      const bool strip_after = end > p_ && src_[end - 1] == '-';
      p_ = end + 2;
      after_close(strip_after, /*block=*/true);
      return;
    }
    const std::string_view close = kind == '%' ? "%}" : "}}";
    tokens_.push_back({kind == '%' ? Tok::kOpenStmt : Tok::kOpenExpr, "", start});
    int depth = 0;  // open brackets: "}}" inside a dict literal does not close the tag
    for (;;) {
      skip_whitespace();
      if (p_ >= src_.size()) fail(start, std::string("tag is not closed with ") + std::string(close));
      if (depth == 0 && src_[p_] == '-' && src_.substr(p_ + 1, 2) == close) {
        tokens_.push_back({kind == '%' ? Tok::kCloseStmt : Tok::kCloseExpr, "", p_});
        p_ += 3;
        after_close(true, kind == '%');
        return;
      }
      if (depth == 0 && at(close)) {
        tokens_.push_back({kind == '%' ? Tok::kCloseStmt : Tok::kCloseExpr, "", p_});
        p_ += 2;
        after_close(false, kind == '%');
        return;
      }
      lex_expression_token(depth);
    }
  }

  void after_close(bool strip_after, bool block) {
    if (strip_after) {
      skip_whitespace();
    } else if (block && p_ < src_.size() && src_[p_] == '\n') {
      ++p_;  // trim_blocks
    }
  }

  void lex_expression_token(int& depth) {
    const size_t start = p_;
    const char c = src_[p_];
    if (c == '\'' || c == '"') {
      ++p_;
      std::string s;
      while (true) {
        if (p_ >= src_.size()) fail(start, "string literal is not closed");
        const char d = src_[p_++];
        if (d == c) break;
        if (d != '\\') {
          s += d;
          continue;
        }
        if (p_ >= src_.size()) fail(start, "string literal is not closed");
        const char e = src_[p_++];
        switch (e) {
          case 'n': s += '\n'; break;
          case 't': s += '\t'; break;
          case 'r': s += '\r'; break;
          case 'b': s += '\b'; break;
          case 'f': s += '\f'; break;
          case 'v': s += '\v'; break;
          case '\\': s += '\\'; break;
          case '\'': s += '\''; break;
          case '"': s += '"'; break;
          case 'x':
          case 'u': {
            const size_t len = e == 'x' ? 2 : 4;
            if (p_ + len > src_.size()) fail(p_ - 2, "bad escape sequence in string literal");
            const std::string hex(src_.substr(p_, len));
            char* end = nullptr;
            const unsigned long cp = std::strtoul(hex.c_str(), &end, 16);
            if (end != hex.c_str() + len) fail(p_ - 2, "bad escape sequence in string literal");
            p_ += len;
            append_utf8(s, static_cast<uint32_t>(cp));
            break;
          }
          default: fail(p_ - 2, std::string("unsupported escape sequence \\") + e + " in string literal");
        }
      }
      tokens_.push_back({Tok::kString, std::move(s), start});
      return;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      while (p_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[p_])) || src_[p_] == '_')) ++p_;
      bool is_float = false;
      const bool after_dot = !tokens_.empty() && tokens_.back().type == Tok::kOp && tokens_.back().text == ".";
      if (!after_dot && p_ + 1 < src_.size() && src_[p_] == '.' && std::isdigit(static_cast<unsigned char>(src_[p_ + 1]))) {
        is_float = true;
        ++p_;
        while (p_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p_]))) ++p_;
      }
      if (p_ < src_.size() && (src_[p_] == 'e' || src_[p_] == 'E')) {
        size_t q = p_ + 1;
        if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
        if (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) {
          is_float = true;
          p_ = q;
          while (p_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p_]))) ++p_;
        }
      }
      std::string num;
      for (char d : src_.substr(start, p_ - start)) {
        if (d != '_') num += d;
      }
      tokens_.push_back({is_float ? Tok::kFloat : Tok::kInt, num, start});
      return;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (p_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[p_])) || src_[p_] == '_')) ++p_;
      tokens_.push_back({Tok::kName, std::string(src_.substr(start, p_ - start)), start});
      return;
    }
    static const char* kOps[] = {"==", "!=", "<=", ">=", "//", "**", "<", ">", "+", "-", "*", "/", "%",
                                 "~",  "|",  ".",  ",",  ":",  "(", ")", "[", "]", "{", "}", "="};
    for (const char* op : kOps) {
      if (at(op)) {
        const std::string s(op);
        if (s == "(" || s == "[" || s == "{") ++depth;
        if (s == ")" || s == "]" || s == "}") --depth;
        tokens_.push_back({Tok::kOp, s, start});
        p_ += s.size();
        return;
      }
    }
    fail(start, std::string("unexpected character '") + c + "'");
  }

  static void append_utf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string_view src_;
  const std::string& name_;
  size_t p_ = 0;
  std::vector<Token> tokens_;
  std::string text_;
  size_t text_pos_ = 0;
};

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string_view src, const std::string& name)
      : toks_(std::move(tokens)), src_(src), name_(name) {}

  Body parse_all() {
    std::string end;
    Body body = parse_body({}, end);
    return body;
  }

 private:
  [[noreturn]] void fail(size_t pos, const std::string& what) const {
    throw Error(name_ + ": " + describe_position(src_, pos) + ": " + what);
  }
  const Token& peek(size_t k = 0) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  bool is_op(const char* op, size_t k = 0) const { return peek(k).type == Tok::kOp && peek(k).text == op; }
  bool is_name(const char* n, size_t k = 0) const { return peek(k).type == Tok::kName && peek(k).text == n; }
  bool accept_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool accept_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) fail(peek().pos, std::string("expected '") + op + "', found " + describe(peek()));
  }
  std::string expect_name() {
    if (peek().type != Tok::kName) fail(peek().pos, "expected a name, found " + describe(peek()));
    return next().text;
  }
  void expect_close_stmt() {
    if (peek().type != Tok::kCloseStmt) fail(peek().pos, "expected '%}', found " + describe(peek()));
    next();
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::kText: return "text";
      case Tok::kOpenStmt: return "'{%'";
      case Tok::kCloseStmt: return "'%}'";
      case Tok::kOpenExpr: return "'{{'";
      case Tok::kCloseExpr: return "'}}'";
      case Tok::kEnd: return "the end of the template";
      case Tok::kString: return "a string";
      default: return "'" + t.text + "'";
    }
  }

  // Parses nodes until a statement whose keyword is in `stops` (consumed up to
  // the keyword; its name is returned in `end`). Empty `stops`: to the end.
  Body parse_body(const std::vector<std::string>& stops, std::string& end) {
    const DepthGuard guard(*this);
    Body body;
    for (;;) {
      const Token& t = peek();
      if (t.type == Tok::kEnd) {
        if (!stops.empty()) fail(t.pos, "missing {% " + stops.back() + " %}");
        return body;
      }
      if (t.type == Tok::kText) {
        auto n = std::make_unique<Node>(Node::Type::kText, t.pos);
        n->text = next().text;
        body.push_back(std::move(n));
        continue;
      }
      if (t.type == Tok::kOpenExpr) {
        auto n = std::make_unique<Node>(Node::Type::kOutput, t.pos);
        next();
        n->expr = parse_expression();
        if (peek().type != Tok::kCloseExpr) fail(peek().pos, "expected '}}', found " + describe(peek()));
        next();
        body.push_back(std::move(n));
        continue;
      }
      if (t.type != Tok::kOpenStmt) fail(t.pos, "unexpected " + describe(t));
      const size_t pos = next().pos;
      if (peek().type != Tok::kName) fail(peek().pos, "expected a statement keyword, found " + describe(peek()));
      const std::string kw = peek().text;
      for (const std::string& s : stops) {
        if (kw == s) {
          next();
          end = kw;
          return body;
        }
      }
      next();
      body.push_back(parse_statement(kw, pos));
    }
  }

  NodePtr parse_statement(const std::string& kw, size_t pos) {
    if (kw == "if") return parse_if(pos);
    if (kw == "for") return parse_for(pos);
    if (kw == "set") return parse_set(pos);
    if (kw == "macro") return parse_macro(pos);
    if (kw == "break" || kw == "continue") {
      expect_close_stmt();
      return std::make_unique<Node>(kw == "break" ? Node::Type::kBreak : Node::Type::kContinue, pos);
    }
    if (kw == "generation") {
      // transformers' {% generation %} marks assistant text for training masks;
      // it renders its body unchanged.
      expect_close_stmt();
      auto n = std::make_unique<Node>(Node::Type::kIf, pos);
      auto yes = std::make_unique<Expr>(Expr::Type::kLiteral, pos);
      yes->literal = Value::boolean(true);
      std::string end;
      Body body = parse_body({"endgeneration"}, end);
      expect_close_stmt();
      n->branches.emplace_back(std::move(yes), std::move(body));
      return n;
    }
    if (kw == "elif" || kw == "else" || kw.rfind("end", 0) == 0) fail(pos, "unexpected {% " + kw + " %}");
    fail(pos, "unsupported statement {% " + kw + " %}");
  }

  NodePtr parse_if(size_t pos) {
    auto n = std::make_unique<Node>(Node::Type::kIf, pos);
    ExprPtr cond = parse_expression();
    expect_close_stmt();
    for (;;) {
      std::string end;
      Body body = parse_body({"elif", "else", "endif"}, end);
      n->branches.emplace_back(std::move(cond), std::move(body));
      if (end == "elif") {
        cond = parse_expression();
        expect_close_stmt();
        continue;
      }
      expect_close_stmt();
      if (end == "else") {
        n->else_body = parse_body({"endif"}, end);
        expect_close_stmt();
      }
      return n;
    }
  }

  NodePtr parse_for(size_t pos) {
    auto n = std::make_unique<Node>(Node::Type::kFor, pos);
    n->targets.push_back(expect_name());
    while (accept_op(",")) n->targets.push_back(expect_name());
    if (!accept_name("in")) fail(peek().pos, "expected 'in' in for loop, found " + describe(peek()));
    n->expr = parse_or();
    if (accept_name("if")) n->filter = parse_or();
    if (is_name("recursive")) fail(peek().pos, "unsupported: recursive for loops");
    expect_close_stmt();
    std::string end;
    n->body = parse_body({"else", "endfor"}, end);
    expect_close_stmt();
    if (end == "else") {
      n->else_body = parse_body({"endfor"}, end);
      expect_close_stmt();
    }
    return n;
  }

  NodePtr parse_set(size_t pos) {
    auto n = std::make_unique<Node>(Node::Type::kSet, pos);
    n->targets.push_back(expect_name());
    if (accept_op(".")) {
      n->attr = expect_name();
    } else {
      while (accept_op(",")) n->targets.push_back(expect_name());
    }
    if (peek().type == Tok::kCloseStmt && n->attr.empty() && n->targets.size() == 1) {
      next();
      n->type = Node::Type::kSetBlock;
      std::string end;
      n->body = parse_body({"endset"}, end);
      expect_close_stmt();
      return n;
    }
    expect_op("=");
    n->expr = parse_expression();
    if (is_op(",")) {  // set a, b = 1, 2
      auto tup = std::make_unique<Expr>(Expr::Type::kTuple, n->expr->pos);
      tup->args.push_back(std::move(n->expr));
      while (accept_op(",")) tup->args.push_back(parse_expression());
      n->expr = std::move(tup);
    }
    expect_close_stmt();
    return n;
  }

  NodePtr parse_macro(size_t pos) {
    auto n = std::make_unique<Node>(Node::Type::kMacro, pos);
    n->name = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      std::string p = expect_name();
      ExprPtr def;
      if (accept_op("=")) def = parse_expression();
      n->params.emplace_back(std::move(p), std::move(def));
      if (!accept_op(",")) break;
    }
    expect_op(")");
    expect_close_stmt();
    std::string end;
    n->body = parse_body({"endmacro"}, end);
    expect_close_stmt();
    return n;
  }

  // ---- expressions, lowest precedence first (Jinja's grammar) ----

  ExprPtr parse_expression() {
    ExprPtr e = parse_or();
    while (is_name("if")) {
      const size_t pos = next().pos;
      auto t = std::make_unique<Expr>(Expr::Type::kTernary, pos);
      ExprPtr cond = parse_or();
      ExprPtr other;
      if (accept_name("else")) other = parse_expression();
      t->args.push_back(std::move(e));
      t->args.push_back(std::move(cond));
      t->args.push_back(std::move(other));
      e = std::move(t);
    }
    return e;
  }

  ExprPtr binary(std::string op, ExprPtr a, ExprPtr b, size_t pos) {
    auto e = std::make_unique<Expr>(Expr::Type::kBinary, pos);
    e->name = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      const size_t pos = next().pos;
      e = binary("or", std::move(e), parse_and(), pos);
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      const size_t pos = next().pos;
      e = binary("and", std::move(e), parse_not(), pos);
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      const size_t pos = next().pos;
      auto e = std::make_unique<Expr>(Expr::Type::kUnary, pos);
      e->name = "not";
      e->args.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr e = parse_math1();
    for (;;) {
      const size_t pos = peek().pos;
      std::string op;
      if (peek().type == Tok::kOp &&
          (peek().text == "==" || peek().text == "!=" || peek().text == "<" || peek().text == ">" ||
           peek().text == "<=" || peek().text == ">=")) {
        op = next().text;
      } else if (is_name("in")) {
        next();
        op = "in";
      } else if (is_name("not") && is_name("in", 1)) {
        next();
        next();
        op = "not in";
      } else {
        return e;
      }
      e = binary(op, std::move(e), parse_math1(), pos);
    }
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& t = next();
      e = binary(t.text, std::move(e), parse_concat(), t.pos);
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      const size_t pos = next().pos;
      e = binary("~", std::move(e), parse_math2(), pos);
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& t = next();
      e = binary(t.text, std::move(e), parse_pow(), t.pos);
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary();
    while (is_op("**")) {
      const size_t pos = next().pos;
      e = binary("**", std::move(e), parse_unary(), pos);
    }
    return e;
  }

  ExprPtr parse_unary() {
    const DepthGuard guard(*this);
    if (is_op("-") || is_op("+")) {
      const Token& t = next();
      auto e = std::make_unique<Expr>(Expr::Type::kUnary, t.pos);
      e->name = t.text;
      e->args.push_back(parse_unary());
      return e;
    }
    return parse_filters(parse_postfix(parse_primary()));
  }

  void parse_call_args(Expr& call) {
    // "(" already consumed.
    while (!is_op(")")) {
      if (peek().type == Tok::kName && is_op("=", 1)) {
        std::string key = next().text;
        next();
        call.kwargs.emplace_back(std::move(key), parse_expression());
      } else {
        if (is_op("*")) fail(peek().pos, "unsupported: *args in calls");
        call.args.push_back(parse_expression());
      }
      if (!accept_op(",")) break;
    }
    expect_op(")");
  }

  ExprPtr parse_postfix(ExprPtr e) {
    for (;;) {
      const size_t pos = peek().pos;
      if (accept_op(".")) {
        auto a = std::make_unique<Expr>(Expr::Type::kAttr, pos);
        if (peek().type == Tok::kInt) {
          // x.0 is x[0] in Jinja.
          a->type = Expr::Type::kIndex;
          a->args.push_back(std::move(e));
          auto idx = std::make_unique<Expr>(Expr::Type::kLiteral, pos);
          idx->literal = Value::integer(std::strtoll(next().text.c_str(), nullptr, 10));
          a->args.push_back(std::move(idx));
        } else {
          a->name = expect_name();
          a->args.push_back(std::move(e));
        }
        e = std::move(a);
      } else if (accept_op("[")) {
        ExprPtr parts[3];
        int n_colons = 0;
        for (;;) {
          if (is_op(":")) {
            next();
            if (++n_colons > 2) fail(peek().pos, "too many ':' in slice");
            continue;
          }
          if (is_op("]")) break;
          if (parts[n_colons]) fail(peek().pos, "expected ']' or ':' in subscript, found " + describe(peek()));
          parts[n_colons] = parse_expression();
        }
        expect_op("]");
        if (n_colons == 0) {
          if (!parts[0]) fail(pos, "empty subscript []");
          auto a = std::make_unique<Expr>(Expr::Type::kIndex, pos);
          a->args.push_back(std::move(e));
          a->args.push_back(std::move(parts[0]));
          e = std::move(a);
        } else {
          auto a = std::make_unique<Expr>(Expr::Type::kSlice, pos);
          a->args.push_back(std::move(e));
          for (auto& p : parts) a->args.push_back(std::move(p));
          e = std::move(a);
        }
      } else if (accept_op("(")) {
        // Errors in a call point at what is called ("x.method", "name").
        auto c = std::make_unique<Expr>(Expr::Type::kCall, e->pos);
        c->args.push_back(std::move(e));
        parse_call_args(*c);
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_filters(ExprPtr e) {
    for (;;) {
      if (is_op("|")) {
        const size_t pos = next().pos;
        auto f = std::make_unique<Expr>(Expr::Type::kFilter, pos);
        f->name = expect_name();
        f->args.push_back(std::move(e));
        if (accept_op("(")) parse_call_args(*f);
        e = parse_postfix(std::move(f));
      } else if (is_name("is")) {
        const size_t pos = next().pos;
        auto t = std::make_unique<Expr>(Expr::Type::kTest, pos);
        if (accept_name("not")) t->negated = true;
        // "none", "true", "false" are test names here, not literals.
        t->name = expect_name();
        t->args.push_back(std::move(e));
        if (accept_op("(")) {
          parse_call_args(*t);
        } else if (peek().type == Tok::kString || peek().type == Tok::kInt || peek().type == Tok::kFloat) {
          t->args.push_back(parse_primary());
        }
        e = std::move(t);
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_primary() {
    const Token& t = peek();
    const size_t pos = t.pos;
    switch (t.type) {
      case Tok::kString: {
        auto e = std::make_unique<Expr>(Expr::Type::kLiteral, pos);
        std::string s = next().text;
        while (peek().type == Tok::kString) s += next().text;  // adjacent literals concatenate
        e->literal = Value::string(std::move(s));
        return e;
      }
      case Tok::kInt: {
        auto e = std::make_unique<Expr>(Expr::Type::kLiteral, pos);
        e->literal = Value::integer(std::strtoll(next().text.c_str(), nullptr, 10));
        return e;
      }
      case Tok::kFloat: {
        auto e = std::make_unique<Expr>(Expr::Type::kLiteral, pos);
        e->literal = Value::real(std::strtod(next().text.c_str(), nullptr));
        return e;
      }
      case Tok::kName: {
        const std::string n = next().text;
        auto e = std::make_unique<Expr>(Expr::Type::kLiteral, pos);
        if (n == "true" || n == "True") {
          e->literal = Value::boolean(true);
        } else if (n == "false" || n == "False") {
          e->literal = Value::boolean(false);
        } else if (n == "none" || n == "None") {
          e->literal = Value::none();
        } else {
          e->type = Expr::Type::kName;
          e->name = n;
        }
        return e;
      }
      case Tok::kOp: {
        if (accept_op("(")) {
          if (accept_op(")")) return std::make_unique<Expr>(Expr::Type::kTuple, pos);
          ExprPtr first = parse_expression();
          if (!is_op(",")) {
            expect_op(")");
            return first;
          }
          auto tup = std::make_unique<Expr>(Expr::Type::kTuple, pos);
          tup->args.push_back(std::move(first));
          while (accept_op(",")) {
            if (is_op(")")) break;
            tup->args.push_back(parse_expression());
          }
          expect_op(")");
          return tup;
        }
        if (accept_op("[")) {
          auto list = std::make_unique<Expr>(Expr::Type::kList, pos);
          while (!is_op("]")) {
            list->args.push_back(parse_expression());
            if (!accept_op(",")) break;
          }
          expect_op("]");
          return list;
        }
        if (accept_op("{")) {
          auto dict = std::make_unique<Expr>(Expr::Type::kDict, pos);
          while (!is_op("}")) {
            dict->args.push_back(parse_expression());
            expect_op(":");
            dict->args.push_back(parse_expression());
            if (!accept_op(",")) break;
          }
          expect_op("}");
          return dict;
        }
        break;
      }
      default: break;
    }
    fail(pos, "expected an expression, found " + describe(t));
  }

  std::vector<Token> toks_;
  // Nesting limit for blocks and expressions (jinja_limits.h): the parser and
  // the evaluator recurse, so a hostile template must not exhaust the stack.
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNesting) {
        p_.fail(p_.peek().pos, "nesting deeper than " + std::to_string(kMaxNesting) + " levels (the parsing limit)");
      }
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };
  int depth_ = 0;
  size_t i_ = 0;
  std::string_view src_;
  const std::string& name_;
};

}  // namespace

Body parse_template(std::string_view source, const std::string& name) {
  Lexer lexer(source, name);
  Parser parser(lexer.run(), source, name);
  return parser.parse_all();
}

}  // namespace tandem::chat::jinja
