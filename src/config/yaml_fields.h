// Checked access to the maps of a YAML document (internal to config/): every
// key known and given once, every value of its type, and errors that say
// "file:line:column: what" (1-based). Only the config/*.cc files include this;
// yaml-cpp stays out of config.h.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"

namespace tandem::config::detail {

// Throws tandem::Error("<at>: <message>").
[[noreturn]] void fail(const Location& at, const std::string& message);

// Where a node is in `file` (yaml-cpp marks are 0-based; a null mark: no line).
Location location(const std::string& file, const YAML::Mark& mark);

// A value for messages: 'text' for a scalar, "a map", "a list" or "nothing".
std::string describe(const YAML::Node& node);

// Scalar conversions; nullopt when the text is not of the type.
std::optional<int64_t> parse_integer(std::string_view text);
// Decimal or exponent notation, .inf/-.inf/inf/-inf (any case), .nan/nan.
std::optional<double> parse_number(std::string_view text);
std::optional<bool> parse_bool(std::string_view text);  // true/false (any case)

// The name from `names` closest to `name` (edit distance), and the distance.
std::pair<std::string, size_t> closest(std::string_view name, const std::vector<std::string>& names);

// "a, b or c"
std::string join_or(const std::vector<std::string>& items);

// The entries of one map node. Construction checks that the node is a map
// (else "<what> must be a map"), that every key is a scalar in `allowed` and
// none is given twice. `hidden` keys pass too without being listed as allowed
// (keys that get their own error through forbid(), e.g. api_key).
class Fields {
 public:
  Fields(const std::string& file, const YAML::Node& map, std::string what, std::vector<std::string> allowed,
         const std::vector<std::string>& hidden = {});

  const std::string& what() const { return what_; }
  const std::string& file() const { return file_; }
  Location at() const { return location(file_, map_.Mark()); }  // the map itself

  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The value of `key`, or null when absent.
  const YAML::Node* find(std::string_view key) const;
  Location key_at(std::string_view key) const;    // key must be present
  Location value_at(std::string_view key) const;  // key must be present
  // Keys in file order.
  const std::vector<std::pair<YAML::Node, YAML::Node>>& entries() const { return entries_; }

  // Typed values; nullopt when the key is absent. A present value of another
  // type or out of [min, max] fails naming the key, `what` and the range.
  std::optional<std::string> string(std::string_view key) const;
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max) const;
  std::optional<double> number(std::string_view key, double min, double max) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<Reference> reference(std::string_view key) const;  // a model name

  // Fails unless `key` is present: "<what> needs '<key>'".
  void require(std::string_view key, const Location& at) const;
  // "'<key>' of <what>", for messages.
  std::string name_of(std::string_view key) const;
  // Fails when `key` is present: "'<key>' of <what>: <why>".
  void forbid(std::string_view key, const std::string& why) const;

 private:
  std::string file_;
  YAML::Node map_;
  std::string what_;
  std::vector<std::pair<YAML::Node, YAML::Node>> entries_;
};

}  // namespace tandem::config::detail
