#include "eval/task.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "util/error.h"

namespace tandem::eval {

const char* output_type_name(OutputType t) {
  switch (t) {
    case OutputType::kGenerateUntil: return "generate_until";
    case OutputType::kMultipleChoice: return "multiple_choice";
    case OutputType::kLoglikelihoodRolling: return "loglikelihood_rolling";
  }
  return "?";
}

namespace {

namespace fs = std::filesystem;

// Regexes run on model output with std::regex, whose compiler and matcher
// recurse: a bounded pattern keeps a hostile task file from exhausting the stack.
constexpr size_t kMaxFilterLength = 256;
constexpr int kMaxFilterNesting = 8;
constexpr int kMaxFewshot = 64;
constexpr int kMaxGenTokens = 1 << 20;

std::string at(const std::string& file, const YAML::Mark& m) {
  if (m.is_null() || m.line < 0) return file;
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

[[noreturn]] void fail(const std::string& file, const YAML::Node& node, const std::string& message) {
  std::string line = at(file, node.Mark()) + ": ";
  for (const char c : message) {
    const auto u = static_cast<unsigned char>(c);
    line += (u >= 0x20 && u != 0x7f) ? std::string(1, c) : "?";
  }
  throw Error(line);
}

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  std::string t = n.Scalar();
  return "'" + (t.size() > 40 ? t.substr(0, 37) + "..." : t) + "'";
}

// The entries of a map, every key known and given once.
std::map<std::string, YAML::Node> entries(const std::string& file, const YAML::Node& map, const std::string& what,
                                          const std::vector<std::string>& allowed) {
  if (!map.IsMap()) fail(file, map, what + " must be a map, got " + describe(map));
  std::map<std::string, YAML::Node> out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) fail(file, key, "a key of " + what + " must be a name, got " + describe(key));
    if (std::find(allowed.begin(), allowed.end(), key.Scalar()) == allowed.end()) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(file, key, "unknown key '" + key.Scalar() + "' in " + what + " (allowed: " + list + ")");
    }
    if (!out.emplace(key.Scalar(), it->second).second) fail(file, key, "duplicate key '" + key.Scalar() + "'");
  }
  return out;
}

std::string scalar(const std::string& file, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) fail(file, n, "'" + key + "' must be a string, got " + describe(n));
  return n.Scalar();
}

int64_t integer(const std::string& file, const YAML::Node& n, const std::string& key, int64_t lo, int64_t hi) {
  const std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (!n.IsScalar()) fail(file, n, "'" + key + "' must be " + range + ", got " + describe(n));
  const std::string& s = n.Scalar();
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < lo || v > hi || s.find_first_of(" \t+") != std::string::npos)
    fail(file, n, "'" + key + "' must be " + range + ", got " + describe(n));
  return v;
}

double number(const std::string& file, const YAML::Node& n, const std::string& key, double lo, double hi) {
  char range[96];
  std::snprintf(range, sizeof range, "a number in [%g, %g]", lo, hi);
  if (!n.IsScalar()) fail(file, n, "'" + key + "' must be " + range + ", got " + describe(n));
  const std::string& s = n.Scalar();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno != 0 || !(v >= lo && v <= hi) || s.find_first_of(" \t") != std::string::npos)
    fail(file, n, "'" + key + "' must be " + range + ", got " + describe(n));
  return v;
}

std::vector<std::string> string_list(const std::string& file, const YAML::Node& n, const std::string& key) {
  if (n.IsScalar()) return {n.Scalar()};
  if (!n.IsSequence()) fail(file, n, "'" + key + "' must be a string or a list of strings, got " + describe(n));
  std::vector<std::string> out;
  for (const YAML::Node& item : n) out.push_back(scalar(file, item, key));
  return out;
}

std::shared_ptr<const chat::jinja::Template> jinja(const std::string& file, const YAML::Node& n,
                                                   const std::string& key) {
  const std::string source = scalar(file, n, key);
  try {
    return std::make_shared<const chat::jinja::Template>(source, at(file, n.Mark()) + ": " + key);
  } catch (const Error& e) {
    fail(file, n, std::string("'") + key + "' is not a valid template: " + e.what());
  }
}

// ${NAME} at the start of a path: a variable of `options`, else the environment.
TaskPath resolve_path(const std::string& file, const YAML::Node& n, const std::string& key,
                      const TaskLoadOptions& options) {
  TaskPath p{scalar(file, n, key), "", at(file, n.Mark())};
  std::string path = p.text;
  if (path.starts_with("${")) {
    const size_t close = path.find('}');
    if (close == std::string::npos) fail(file, n, "'" + key + "': unclosed ${ in " + describe(n));
    const std::string var = path.substr(2, close - 2);
    std::string value;
    if (const auto it = options.variables.find(var); it != options.variables.end()) {
      value = it->second;
    } else if (const char* env = std::getenv(var.c_str()); env != nullptr && *env != '\0') {
      value = env;
    } else {
      fail(file, n, "'" + key + "' uses ${" + var + "}, which is not set (set the environment variable)");
    }
    path = value + path.substr(close + 1);
  }
  if (path.empty()) fail(file, n, "'" + key + "' must not be empty");
  const fs::path beside = fs::path(file).parent_path() / path;
  // Beside the task file first, then from the working directory; a file in
  // neither place keeps the first (load_examples names both).
  if (fs::path(path).is_absolute()) p.resolved = path;
  else if (fs::exists(beside) || !fs::exists(path)) p.resolved = beside.string();
  else p.resolved = path;
  return p;
}

void check_filter(const std::string& file, const YAML::Node& n, const std::string& pattern) {
  if (pattern.size() > kMaxFilterLength)
    fail(file, n, "'filter' is longer than " + std::to_string(kMaxFilterLength) + " characters");
  int depth = 0, most = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') { ++i; continue; }
    if (pattern[i] == '(') most = std::max(most, ++depth);
    if (pattern[i] == ')') --depth;
  }
  if (most > kMaxFilterNesting) fail(file, n, "'filter' nests groups deeper than " + std::to_string(kMaxFilterNesting));
  try {
    const std::regex re(pattern, std::regex::ECMAScript);
    if (re.mark_count() < 1) fail(file, n, "'filter' needs a group: its first group is the answer");
  } catch (const std::regex_error& e) {
    fail(file, n, std::string("'filter' is not a valid regex: ") + e.what());
  }
}

void parse_generation(const std::string& file, const YAML::Node& n, TaskSpec& t) {
  auto g = entries(file, n, "generation_kwargs", {"until", "max_gen_toks", "do_sample", "temperature", "top_p", "top_k"});
  if (g.count("until")) t.until = string_list(file, g["until"], "until");
  if (g.count("max_gen_toks"))
    t.max_gen_toks = static_cast<int>(integer(file, g["max_gen_toks"], "max_gen_toks", 1, kMaxGenTokens));
  if (g.count("do_sample")) {
    if (!g["do_sample"].IsScalar() || (g["do_sample"].Scalar() != "true" && g["do_sample"].Scalar() != "false"))
      fail(file, g["do_sample"], "'do_sample' must be true or false");
    t.do_sample = g["do_sample"].Scalar() == "true";
  }
  for (const char* key : {"temperature", "top_p", "top_k"})
    if (g.count(key) && !t.do_sample)
      fail(file, g[key], std::string("'") + key + "' needs do_sample: true (greedy decoding would ignore it)");
  if (g.count("temperature")) t.temperature = static_cast<float>(number(file, g["temperature"], "temperature", 0.01, 10.0));
  if (g.count("top_p")) t.top_p = static_cast<float>(number(file, g["top_p"], "top_p", 0.01, 1.0));
  if (g.count("top_k")) t.top_k = static_cast<int>(integer(file, g["top_k"], "top_k", 0, 100000));
}

void check_metrics(const std::string& file, const YAML::Node& n, TaskSpec& t) {
  std::vector<std::string> allowed;
  switch (t.output_type) {
    case OutputType::kGenerateUntil: allowed = {"exact_match"}; break;
    case OutputType::kMultipleChoice: allowed = {"acc", "acc_norm"}; break;
    case OutputType::kLoglikelihoodRolling: allowed = {"perplexity"}; break;
  }
  for (const std::string& m : t.metrics) {
    if (std::find(allowed.begin(), allowed.end(), m) == allowed.end()) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(file, n, "metric '" + m + "' does not fit output_type " + output_type_name(t.output_type) +
                        " (allowed: " + list + ")");
    }
  }
  if (t.metrics.empty()) t.metrics = allowed;
}

nlohmann::ordered_json to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (auto it = n.begin(); it != n.end(); ++it) j[it->first.Scalar()] = to_json(it->second);
    return j;
  }
  if (n.IsSequence()) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const YAML::Node& item : n) j.push_back(to_json(item));
    return j;
  }
  if (n.IsScalar()) {
    // Plain (unquoted) scalars that read as numbers or booleans stay such.
    const std::string& s = n.Scalar();
    if (n.Tag() == "?") {
      if (s == "true" || s == "false") return s == "true";
      char* end = nullptr;
      const long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == '\0') return i;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && *end == '\0' && std::isfinite(d)) return d;
    }
    return s;
  }
  return nullptr;
}

}  // namespace

TaskSpec parse_task(const std::string& text, const std::string& file, const TaskLoadOptions& options) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(at(file, e.mark) + ": not valid YAML: " + e.msg);
  }
  auto f = entries(file, root, "the task file",
                   {"task", "dataset_path", "output_type", "doc_to_text", "doc_to_target", "doc_to_choice",
                    "num_fewshot", "fewshot_split", "generation_kwargs", "filter", "metric", "target_delimiter",
                    "fewshot_delimiter", "description", "metadata"});
  TaskSpec t;
  t.file = file;
  t.config = to_json(root);
  for (const char* key : {"task", "dataset_path", "output_type", "doc_to_text"})
    if (!f.count(key)) fail(file, root, std::string("the task file needs '") + key + "'");
  t.name = scalar(file, f["task"], "task");
  if (t.name.empty() || t.name.find_first_of("/\\ \t\n") != std::string::npos)
    fail(file, f["task"], "'task' must be a non-empty name without '/', '\\' or spaces");
  const std::string type = scalar(file, f["output_type"], "output_type");
  if (type == "generate_until") t.output_type = OutputType::kGenerateUntil;
  else if (type == "multiple_choice") t.output_type = OutputType::kMultipleChoice;
  else if (type == "loglikelihood_rolling") t.output_type = OutputType::kLoglikelihoodRolling;
  else fail(file, f["output_type"], "'output_type' must be generate_until, multiple_choice or loglikelihood_rolling");
  t.dataset = resolve_path(file, f["dataset_path"], "dataset_path", options);
  t.doc_to_text = jinja(file, f["doc_to_text"], "doc_to_text");
  const bool rolling = t.output_type == OutputType::kLoglikelihoodRolling;
  if (f.count("doc_to_target")) t.doc_to_target = jinja(file, f["doc_to_target"], "doc_to_target");
  else if (!rolling) fail(file, root, "the task file needs 'doc_to_target'");
  const bool mc = t.output_type == OutputType::kMultipleChoice;
  if (f.count("doc_to_choice") != static_cast<size_t>(mc))
    fail(file, mc ? root : f["doc_to_choice"],
         mc ? "a multiple_choice task needs 'doc_to_choice'" : "'doc_to_choice' is for multiple_choice tasks only");
  if (mc) {
    const YAML::Node& c = f["doc_to_choice"];
    if (c.IsSequence()) {
      for (const YAML::Node& item : c) t.doc_to_choice.push_back(jinja(file, item, "doc_to_choice"));
      if (t.doc_to_choice.size() < 2) fail(file, c, "'doc_to_choice' needs at least two choices");
    } else {
      t.doc_to_choice.push_back(jinja(file, c, "doc_to_choice"));
    }
  }
  if (f.count("num_fewshot")) t.num_fewshot = static_cast<int>(integer(file, f["num_fewshot"], "num_fewshot", 0, kMaxFewshot));
  if (f.count("fewshot_split")) t.fewshot = resolve_path(file, f["fewshot_split"], "fewshot_split", options);
  if (t.num_fewshot > 0 && !t.fewshot) fail(file, f["num_fewshot"], "'num_fewshot' > 0 needs 'fewshot_split'");
  if (f.count("generation_kwargs")) {
    if (t.output_type != OutputType::kGenerateUntil)
      fail(file, f["generation_kwargs"], "'generation_kwargs' is for generate_until tasks only");
    parse_generation(file, f["generation_kwargs"], t);
  }
  if (f.count("filter")) {
    if (t.output_type != OutputType::kGenerateUntil) fail(file, f["filter"], "'filter' is for generate_until tasks only");
    t.filter = scalar(file, f["filter"], "filter");
    check_filter(file, f["filter"], t.filter);
  }
  if (f.count("metric")) t.metrics = string_list(file, f["metric"], "metric");
  check_metrics(file, f.count("metric") ? f["metric"] : root, t);
  if (f.count("target_delimiter")) t.target_delimiter = scalar(file, f["target_delimiter"], "target_delimiter");
  if (f.count("fewshot_delimiter")) t.fewshot_delimiter = scalar(file, f["fewshot_delimiter"], "fewshot_delimiter");
  if (f.count("description")) t.description = scalar(file, f["description"], "description");
  if (f.count("metadata")) {
    auto m = entries(file, f["metadata"], "metadata", {"version"});
    if (m.count("version")) {
      const std::string v = scalar(file, m["version"], "version");
      char* end = nullptr;
      t.version = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0') fail(file, m["version"], "'version' must be a number, got " + describe(m["version"]));
    }
  }
  return t;
}

TaskSpec load_task(const std::string& path, const TaskLoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read the task file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_task(ss.str(), path, options);
}

}  // namespace tandem::eval
