#include "grammar/json_schema.h"

#include <cctype>
#include <map>
#include <set>

#include "util/error.h"

namespace tandem::grammar {

namespace {

using json = nlohmann::ordered_json;

constexpr int kMaxCount = 1000;  // bound on minItems/maxItems/lengths we expand

// A GBNF string literal for the exact bytes of `s`.
std::string literal(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      static const char* hex = "0123456789ABCDEF";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

const std::set<std::string>& ignored_keywords() {
  static const std::set<std::string> k = {"$schema", "$id", "title", "description", "default", "examples",
                                          "$comment", "$defs", "definitions", "readOnly", "writeOnly", "deprecated"};
  return k;
}

class Converter {
 public:
  explicit Converter(const json& root) : root_(root) {
    rules_["space"] = "| \" \" | \"\\n\" [ \\t]{0,20}";
    rules_["boolean"] = "(\"true\" | \"false\") space";
    rules_["null"] = "\"null\" space";
    rules_["integer"] = "(\"-\"? ([0] | [1-9] [0-9]{0,15})) space";
    rules_["number"] = "(\"-\"? ([0] | [1-9] [0-9]{0,15})) (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})? space";
    rules_["char"] = "[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})";
    rules_["string"] = "\"\\\"\" char* \"\\\"\" space";
    rules_["value"] = "object | array | string | number | boolean | null";
    rules_["object"] = "\"{\" space ( string \":\" space value (\",\" space string \":\" space value)* )? \"}\" space";
    rules_["array"] = "\"[\" space ( value (\",\" space value)* )? \"]\" space";
  }

  std::string run() {
    rules_["root"] = visit(root_, "root");
    std::string out = "root ::= " + rules_["root"] + "\n";
    for (const auto& [name, body] : rules_)
      if (name != "root") out += name + " ::= " + body + "\n";
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error("json schema: at " + where + ": " + what);
  }

  // A fresh rule name derived from `hint`.
  std::string add_rule(const std::string& hint, const std::string& body) {
    std::string base;
    for (char c : hint) base += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '-';
    if (base.empty()) base = "r";
    std::string name = base;
    for (int i = 1; rules_.count(name); ++i) name = base + "-" + std::to_string(i);
    rules_[name] = body;
    return name;
  }

  static int count(const json& s, const char* key, int def, const std::string& where, const Converter& self) {
    if (!s.contains(key)) return def;
    if (!s[key].is_number_integer() || s[key].get<long long>() < 0 || s[key].get<long long>() > kMaxCount)
      self.fail(where, std::string(key) + " must be an integer between 0 and " + std::to_string(kMaxCount));
    return s[key].get<int>();
  }

  // "x{min,max}" with max < 0 meaning unbounded.
  static std::string repeat(const std::string& x, int min, int max) {
    if (max < 0) return min == 0 ? x + "*" : x + "{" + std::to_string(min) + ",}";
    if (min == max) return x + "{" + std::to_string(min) + "}";
    return x + "{" + std::to_string(min) + "," + std::to_string(max) + "}";
  }

  // The GBNF expression for `s`; `where` is its JSON pointer for errors.
  std::string visit(const json& s, const std::string& where) {
    if (++depth_ > 64) fail(where, "schema nested deeper than 64 levels");
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth_};
    if (s.is_boolean()) {
      if (!s.get<bool>()) fail(where, "schema 'false' matches nothing");
      return "value";
    }
    if (!s.is_object()) fail(where, "a schema must be an object or a boolean");
    for (const auto& [key, _] : s.items()) {
      static const std::set<std::string> known = {"type", "properties", "required", "additionalProperties", "items",
                                                  "prefixItems", "minItems", "maxItems", "minLength", "maxLength",
                                                  "enum", "const", "anyOf", "oneOf", "$ref"};
      if (!known.count(key) && !ignored_keywords().count(key)) fail(where, "unsupported keyword '" + key + "'");
    }
    if (s.contains("$ref")) return ref(s["$ref"], where);
    if (s.contains("const")) return literal(s["const"].dump()) + " space";
    if (s.contains("enum")) {
      if (!s["enum"].is_array() || s["enum"].empty()) fail(where, "enum must be a non-empty array");
      std::string out = "(";
      for (size_t i = 0; i < s["enum"].size(); ++i) out += (i ? " | " : "") + literal(s["enum"][i].dump());
      return out + ") space";
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      if (!s[key].is_array() || s[key].empty()) fail(where, std::string(key) + " must be a non-empty array");
      std::string out = "(";
      for (size_t i = 0; i < s[key].size(); ++i)
        out += (i ? " | " : "") + visit(s[key][i], where + "/" + key + "/" + std::to_string(i));
      return out + ")";
    }
    if (!s.contains("type")) {
      if (s.contains("properties")) return object(s, where);
      if (s.contains("items") || s.contains("prefixItems")) return array(s, where);
      return "value";
    }
    const json& type = s["type"];
    if (type.is_array()) {
      std::string out = "(";
      for (size_t i = 0; i < type.size(); ++i) {
        json sub = s;
        sub["type"] = type[i];
        out += (i ? " | " : "") + visit(sub, where);
      }
      return out + ")";
    }
    if (!type.is_string()) fail(where, "type must be a string or an array of strings");
    const std::string t = type.get<std::string>();
    if (t == "string") {
      const int min = count(s, "minLength", 0, where, *this), max = count(s, "maxLength", -1, where, *this);
      if (min == 0 && max < 0) return "string";
      if (max >= 0 && max < min) fail(where, "maxLength < minLength");
      return "\"\\\"\" " + repeat("char", min, max) + " \"\\\"\" space";
    }
    if (t == "number" || t == "integer" || t == "boolean" || t == "null") return t;
    if (t == "object") return object(s, where);
    if (t == "array") return array(s, where);
    fail(where, "unknown type '" + t + "'");
  }

  std::string ref(const json& r, const std::string& where) {
    if (!r.is_string()) fail(where, "$ref must be a string");
    const std::string path = r.get<std::string>();
    auto it = ref_rules_.find(path);
    if (it != ref_rules_.end()) return it->second;
    std::string name;
    const json* target = nullptr;
    for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
      const std::string p = prefix;
      if (path.rfind(p, 0) == 0) {
        const std::string key = path.substr(p.size());
        const json& defs = root_[p.substr(2, p.size() - 3)];
        if (defs.is_object() && defs.contains(key)) {
          target = &defs[key];
          name = key;
        }
      }
    }
    if (path == "#") {
      target = &root_;
      name = "root-ref";
    }
    if (!target) fail(where, "cannot resolve $ref '" + path + "' (only #/$defs/... and #/definitions/...)");
    // Register the rule before visiting it so recursive definitions refer to it.
    const std::string rule = add_rule(name, "");
    ref_rules_[path] = rule;
    rules_[rule] = visit(*target, path.substr(1));
    return rule;
  }

  std::string object(const json& s, const std::string& where) {
    std::vector<std::pair<std::string, std::string>> props;  // key, value expression
    std::set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) fail(where, "required must be an array");
      for (const auto& r : s["required"]) required.insert(r.get<std::string>());
    }
    if (s.contains("properties")) {
      if (!s["properties"].is_object()) fail(where, "properties must be an object");
      for (const auto& [key, sub] : s["properties"].items())
        props.emplace_back(key, visit(sub, where + "/properties/" + key));
    }
    for (const auto& r : required) {
      bool found = false;
      for (const auto& p : props) found |= p.first == r;
      if (!found) fail(where, "required property '" + r + "' is not in properties");
    }
    std::string extra;
    if (s.contains("additionalProperties")) {
      const json& ap = s["additionalProperties"];
      if (!(ap.is_boolean() && !ap.get<bool>()))
        extra = "string \":\" space " + visit(ap, where + "/additionalProperties");
    }
    // tail(i, first): the properties i.. in order, all required ones present,
    // then extra pairs; `first` says no comma is needed before the next pair.
    const std::string base = add_rule("object", "");
    std::map<std::pair<size_t, bool>, std::string> names;
    for (size_t k = props.size() + 1; k-- > 0;) {
      for (bool first : {true, false}) {
        const std::string sep = first ? "" : "\",\" space ";
        std::string body;
        if (k == props.size()) {
          body = extra.empty() ? "\"\"" : "(" + sep + extra + " (\",\" space " + extra + ")*)?";
        } else {
          const std::string pair = literal(json(props[k].first).dump()) + " space \":\" space " + props[k].second;
          body = sep + pair + " " + names[{k + 1, false}];
          if (!required.count(props[k].first)) body = "(" + body + ") | " + names[{k + 1, first}];
        }
        names[{k, first}] = add_rule(base + "-" + std::to_string(k) + (first ? "-first" : ""), body);
      }
    }
    rules_[base] = "\"{\" space " + names[{0, true}] + " \"}\" space";
    return base;
  }

  std::string array(const json& s, const std::string& where) {
    const int min = count(s, "minItems", 0, where, *this), max = count(s, "maxItems", -1, where, *this);
    if (max >= 0 && max < min) fail(where, "maxItems < minItems");
    std::vector<std::string> prefix;
    if (s.contains("prefixItems")) {
      if (!s["prefixItems"].is_array()) fail(where, "prefixItems must be an array");
      for (size_t i = 0; i < s["prefixItems"].size(); ++i)
        prefix.push_back(visit(s["prefixItems"][i], where + "/prefixItems/" + std::to_string(i)));
    }
    std::string item = "value";
    bool items_allowed = true;
    if (s.contains("items")) {
      if (s["items"].is_boolean() && !s["items"].get<bool>()) items_allowed = false;
      else item = visit(s["items"], where + "/items");
    }
    if (item.find(' ') != std::string::npos) item = add_rule("item", item);
    // Element k of the array is prefix[k] if k < prefix size, else `item`.
    // Built as a chain of rules: rest(k) = the elements from k on.
    const int n_total_max = items_allowed ? max : std::min<int>(max < 0 ? static_cast<int>(prefix.size()) : max, static_cast<int>(prefix.size()));
    if (!items_allowed && min > static_cast<int>(prefix.size())) fail(where, "minItems larger than prefixItems with items: false");
    const std::string base = add_rule("array", "");
    // After the prefix, remaining items are homogeneous: a counted repetition.
    std::string tail;
    {
      const int done = static_cast<int>(prefix.size());
      const int lo = std::max(0, min - done);
      const int hi = n_total_max < 0 ? -1 : std::max(0, n_total_max - done);
      if (hi == 0) tail = "";
      else tail = repeat("(\",\" space " + item + ")", lo, hi);
    }
    // rest(k): elements k.. (k >= 1 needs a leading comma).
    std::string rest = tail;
    for (size_t k = prefix.size(); k-- > 0;) {
      const std::string elem = (k == 0 ? "" : "\",\" space ") + prefix[k];
      const bool optional = static_cast<int>(k) >= min;
      std::string body = elem + (rest.empty() ? "" : " " + rest);
      rest = optional ? "(" + body + ")?" : "(" + body + ")";
    }
    std::string inner;
    if (!prefix.empty()) {
      inner = rest;
    } else if (n_total_max == 0) {
      inner = "";
    } else {
      // First item without comma, then the others.
      const int lo = std::max(0, min - 1), hi = n_total_max < 0 ? -1 : n_total_max - 1;
      std::string body = item + (hi == 0 ? "" : " " + repeat("(\",\" space " + item + ")", lo, hi));
      inner = min == 0 ? "(" + body + ")?" : body;
    }
    rules_[base] = "\"[\" space " + inner + (inner.empty() ? "" : " ") + "\"]\" space";
    return base;
  }

  const json& root_;
  int depth_ = 0;
  std::map<std::string, std::string> rules_;
  std::map<std::string, std::string> ref_rules_;
};

}  // namespace

std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema) { return Converter(schema).run(); }

std::string json_schema_to_gbnf(const nlohmann::json& schema) {
  return json_schema_to_gbnf(nlohmann::ordered_json::parse(schema.dump()));
}

std::string json_schema_to_gbnf(std::string_view schema_text) {
  nlohmann::ordered_json schema;
  try {
    schema = nlohmann::ordered_json::parse(schema_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("json schema: not valid JSON: ") + e.what());
  }
  return json_schema_to_gbnf(schema);
}

}  // namespace tandem::grammar
