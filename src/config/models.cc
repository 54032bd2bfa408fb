// The entries of `models:`: one reader per type.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <system_error>

#include "config/load_internal.h"

namespace tandem::config {

std::string_view ModelSpec::type() const {
  if (std::holds_alternative<LocalSpec>(spec)) return "local";
  if (std::holds_alternative<RemoteSpec>(spec)) return "remote";
  if (std::holds_alternative<RouterSpec>(spec)) return "router";
  if (std::holds_alternative<StackSpec>(spec)) return "stack";
  if (std::holds_alternative<RetrievalSpec>(spec)) return "retrieval";
  return "cascade";
}

std::vector<const Reference*> ModelSpec::references() const {
  std::vector<const Reference*> refs;
  if (const auto* l = std::get_if<LocalSpec>(&spec)) {
    for (const auto* r : {&l->draft, &l->amateur, &l->expert, &l->anti_expert, &l->scorer}) {
      if (r->has_value()) refs.push_back(&**r);
    }
  } else if (const auto* c = std::get_if<CascadeSpec>(&spec)) {
    for (const Reference& r : c->stages) refs.push_back(&r);
    for (const RuleSpec& rule : c->rules)
      if (rule.judge) refs.push_back(&*rule.judge);
  } else if (const auto* r = std::get_if<RouterSpec>(&spec)) {
    for (const Reference& c : r->candidates) refs.push_back(&c);
    refs.push_back(&r->embedder);
  } else if (const auto* st = std::get_if<StackSpec>(&spec)) {
    for (const StackStepSpec& step : st->steps) refs.push_back(&step.model);
  } else if (const auto* rt = std::get_if<RetrievalSpec>(&spec)) {
    refs.push_back(&rt->model);
    refs.push_back(&rt->embedder);
  }
  // References were read in key order; report them in file order.
  std::stable_sort(refs.begin(), refs.end(), [](const Reference* a, const Reference* b) {
    return std::pair(a->at.line, a->at.column) < std::pair(b->at.line, b->at.column);
  });
  return refs;
}

namespace detail {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
constexpr double kMaxDouble = std::numeric_limits<double>::max();

const std::vector<std::string> kStrategies = {"sample",      "greedy", "speculative", "lookup",          "contrastive",
                                              "proxy",       "best-of-n", "self-consistency", "mbr"};

// The keys only some strategies use.
struct StrategyKey {
  const char* key;
  std::vector<std::string> strategies;
};
const std::vector<StrategyKey> kStrategyKeys = {
    {"draft", {"speculative"}},
    {"draft_max", {"speculative", "lookup"}},
    {"draft_min", {"speculative", "lookup"}},
    {"draft_init", {"speculative", "lookup"}},
    {"adaptive_draft", {"speculative", "lookup"}},
    {"spec_fallback", {"speculative", "lookup"}},
    {"ngram_min", {"lookup"}},
    {"ngram_max", {"lookup"}},
    {"amateur", {"contrastive"}},
    {"alpha", {"contrastive"}},
    {"expert", {"proxy"}},
    {"anti_expert", {"proxy"}},
    {"proxy_strength", {"proxy"}},
    {"n_samples", {"best-of-n", "self-consistency", "mbr"}},
    {"scorer", {"best-of-n"}},
    {"scorer_template", {"best-of-n"}},
    {"scorer_verdict", {"best-of-n"}},
    {"mbr_utility", {"mbr"}},
};

std::string join_and(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return s;
}

// The GGUF `text` names: absolute as is; relative from `dir`, then from the
// working directory. Fails with every path tried.
std::string resolve_gguf(const std::string& text, const fs::path& dir, const Location& at, const std::string& model) {
  const fs::path p(text);
  std::vector<fs::path> tried;
  if (p.is_absolute()) {
    tried.push_back(p);
  } else {
    std::error_code ec_abs;
    const fs::path base = fs::absolute(dir, ec_abs);
    tried.push_back(((ec_abs ? dir : base) / p).lexically_normal());
    std::error_code ec;
    const fs::path cwd = fs::current_path(ec);
    if (!ec) {
      const fs::path from_cwd = (cwd / p).lexically_normal();
      std::error_code ec2;
      if (from_cwd != tried[0] && !fs::equivalent(tried[0], from_cwd, ec2)) tried.push_back(from_cwd);
    }
  }
  for (const fs::path& candidate : tried) {
    std::error_code ec;
    if (!fs::exists(candidate, ec)) continue;
    if (!fs::is_regular_file(candidate, ec))
      fail(at, "the GGUF of local model '" + model + "' is not a file: " + candidate.string());
    std::ifstream in(candidate, std::ios::binary);
    char magic[4] = {};
    if (!in.read(magic, 4) || std::memcmp(magic, "GGUF", 4) != 0)
      fail(at, "the file of local model '" + model + "' is not a GGUF (it does not start with 'GGUF'): " +
                   candidate.string());
    return candidate.string();
  }
  std::string list;
  for (const fs::path& t : tried) list += (list.empty() ? "" : ", ") + t.string();
  fail(at, "GGUF file '" + text + "' of local model '" + model + "' not found (tried " + list + ")");
}

// Strategy-specific keys with another strategy, and helper models a strategy
// needs but lacks.
void check_strategy_keys(const Fields& f, const std::string& strategy) {
  for (const StrategyKey& k : kStrategyKeys) {
    const auto& s = k.strategies;
    if (f.has(k.key) && std::find(s.begin(), s.end(), strategy) == s.end())
      fail(f.key_at(k.key), "'" + std::string(k.key) + "' is used only by strategy " + join_and(s) +
                                ", not by '" + strategy + "' (" + f.what() + ")");
  }
  const std::pair<const char*, const char*> needs[] = {
      {"speculative", "draft"}, {"contrastive", "amateur"}, {"proxy", "expert"}, {"proxy", "anti_expert"}};
  const Location at = f.has("strategy") ? f.value_at("strategy") : f.at();
  for (const auto& [s, key] : needs) {
    if (strategy == s && !f.has(key))
      fail(at, "strategy " + strategy + " needs '" + key + "', the name of a local model (" + f.what() + ")");
  }
  for (const char* key : {"scorer_template", "scorer_verdict"}) {
    if (f.has(key) && !f.has("scorer"))
      fail(f.key_at(key), "'" + std::string(key) + "' needs 'scorer' (without a judge model best-of-n ranks by "
                                                   "mean logprob) (" + f.what() + ")");
  }
}

LocalSpec parse_local(const Fields& f, const ModelSpec& m, const fs::path& dir, const Config& config) {
  LocalSpec s;
  f.require("path", m.at);
  s.path = resolve_gguf(*f.string("path"), dir, f.value_at("path"), m.name);
  if (auto st = f.string("strategy")) {
    if (std::find(kStrategies.begin(), kStrategies.end(), *st) == kStrategies.end())
      fail(f.value_at("strategy"), "unknown strategy '" + *st + "' (use " + join_or(kStrategies) + ")");
    s.strategy = *st;
  }
  check_strategy_keys(f, s.strategy);
  s.draft = f.reference("draft");
  s.amateur = f.reference("amateur");
  s.expert = f.reference("expert");
  s.anti_expert = f.reference("anti_expert");
  s.scorer = f.reference("scorer");
  auto integer = [&](const char* key, int64_t min) -> std::optional<int> {
    if (auto x = f.integer(key, min, kMaxInt)) return static_cast<int>(*x);
    return std::nullopt;
  };
  s.draft_max = integer("draft_max", 1);
  s.draft_min = integer("draft_min", 1);
  s.draft_init = integer("draft_init", 1);
  s.adaptive_draft = f.boolean("adaptive_draft");
  s.spec_fallback = f.boolean("spec_fallback");
  s.ngram_min = integer("ngram_min", 1);
  s.ngram_max = integer("ngram_max", 1);
  if (auto x = f.number("alpha", 0, 1)) s.alpha = static_cast<float>(*x);
  if (auto x = f.number("proxy_strength", -kMaxDouble, kMaxDouble)) s.proxy_strength = static_cast<float>(*x);
  s.n_samples = integer("n_samples", 1);
  if (auto u = f.string("mbr_utility")) {
    const std::vector<std::string> utilities = {"exact", "f1", "chrf"};
    if (std::find(utilities.begin(), utilities.end(), *u) == utilities.end())
      fail(f.value_at("mbr_utility"), "unknown mbr_utility '" + *u + "' (use exact, f1 or chrf)");
    s.mbr_utility = u;
  }
  s.scorer_template = f.string("scorer_template");
  s.scorer_verdict = f.string("scorer_verdict");
  s.threads = integer("threads", 0);
  s.n_ctx = f.integer("n_ctx", 0, std::numeric_limits<int64_t>::max());
  s.sampling = config.defaults.sampling;
  if (const YAML::Node* n = f.find("sampling"))
    s.sampling = parse_sampling(f.file(), *n, f.what(), config.defaults.sampling);
  return s;
}

RemoteSpec parse_remote(const Fields& f, const ModelSpec& m) {
  f.forbid("api_key", "an API key never goes in a config file: set api_key_env to the name of the environment "
                      "variable that holds it");
  RemoteSpec s;
  f.require("base_url", m.at);
  s.base_url = *f.string("base_url");
  if (s.base_url.rfind("http://", 0) != 0 && s.base_url.rfind("https://", 0) != 0)
    fail(f.value_at("base_url"), "base_url of " + f.what() + " must start with http:// or https://, got '" +
                                     s.base_url + "'");
  s.model = f.string("model").value_or("");
  if (auto api = f.string("api")) {
    if (*api != "chat" && *api != "completions")
      fail(f.value_at("api"), "unknown api '" + *api + "' of " + f.what() + " (use chat or completions)");
    s.api = *api;
  }
  if (auto env = f.string("api_key_env")) {
    const bool valid = std::all_of(env->begin(), env->end(), [](char c) {
      return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }) && !(env->front() >= '0' && env->front() <= '9');
    if (!valid)
      fail(f.value_at("api_key_env"), "api_key_env of " + f.what() +
                                          " must be the NAME of an environment variable (letters, digits, '_'), "
                                          "got '" + *env + "'");
    s.api_key_env = *env;
    s.api_key_env_at = f.value_at("api_key_env");
  }
  s.context = f.integer("context", 0, std::numeric_limits<int64_t>::max()).value_or(0);
  s.connect_timeout_s = f.number("connect_timeout_s", 1e-3, kMaxDouble);
  s.read_timeout_s = f.number("read_timeout_s", 1e-3, kMaxDouble);
  if (auto x = f.integer("max_retries", 0, kMaxInt)) s.max_retries = static_cast<int>(*x);
  if (auto x = f.integer("max_concurrency", 1, kMaxInt)) s.max_concurrency = static_cast<int>(*x);
  if (auto x = f.integer("cooldown_after", 1, kMaxInt)) s.cooldown_after = static_cast<int>(*x);
  s.cooldown_s = f.number("cooldown_s", 0, kMaxDouble);
  s.logprobs = f.boolean("logprobs");
  s.params = f.number("params", 1, kMaxDouble);
  return s;
}

// The signals that use each optional key of a rule.
const std::vector<std::pair<const char*, std::vector<std::string>>> kRuleKeys = {
    {"samples", {"agreement", "self_verify"}}, {"k", {"agreement"}},      {"agree_on", {"agreement"}},
    {"mode", {"agreement"}},                   {"temperature", {"agreement", "self_verify"}},
    {"judge", {"verdict"}},                    {"template", {"verdict", "self_verify"}},
    {"verdict", {"verdict"}},                  {"against", {"verdict"}}};

void check_rule_keys(const Fields& f, const std::string& signal) {
  for (const auto& [key, users] : kRuleKeys) {
    if (f.has(key) && std::find(users.begin(), users.end(), signal) == users.end())
      fail(f.key_at(key), "'" + std::string(key) + "' is used only by signal " + join_or(users) + ", not by " + signal);
  }
}

void parse_text_fields(const Fields& f, RuleSpec& r) {
  r.templ = f.string("template");
  if (r.templ && r.templ->find("{answer}") == std::string::npos)
    fail(f.value_at("template"), "'template' of " + f.what() +
                                     " has no {answer} placeholder (every answer would be judged the same)");
  r.verdict = f.string("verdict");  // a string is never empty (Fields::string)
  r.against = f.string("against");
  if (r.signal == "verdict") {
    f.require("judge", r.at);
    r.judge = f.reference("judge");
  }
}

RuleSpec parse_rule(const std::string& file, const YAML::Node& node, const std::string& what) {
  const Fields f(file, node, what,
                 {"signal", "threshold", "samples", "k", "agree_on", "mode", "temperature", "judge", "template",
                  "verdict", "against"});
  RuleSpec r;
  r.at = f.at();
  f.require("signal", r.at);
  f.require("threshold", r.at);
  r.signal = *f.string("signal");
  const std::vector<std::string> signals = {"mean_logprob", "min_logprob", "agreement", "verdict", "self_verify"};
  if (std::find(signals.begin(), signals.end(), r.signal) == signals.end())
    fail(f.value_at("signal"), "unknown signal '" + r.signal + "' (use " + join_or(signals) + ")");
  const double inf = std::numeric_limits<double>::infinity();
  r.threshold = *f.number("threshold", -inf, inf);
  const bool logprob = r.signal == "mean_logprob" || r.signal == "min_logprob";
  if (!std::isinf(r.threshold) && logprob && r.threshold > 0)
    fail(f.value_at("threshold"), "threshold " + f.find("threshold")->Scalar() + " of " + r.signal +
                                      " is never reached (a logprob is <= 0): use a value <= 0, or .inf to always defer");
  if (!std::isinf(r.threshold) && !logprob && (r.threshold < 0 || r.threshold > 1))
    fail(f.value_at("threshold"), "threshold " + f.find("threshold")->Scalar() + " of " + r.signal +
                                      " must be a share in [0, 1] (or -.inf / .inf)");
  for (const auto& [key, alias] : {std::pair{"samples", "k"}, std::pair{"agree_on", "mode"}}) {
    if (f.has(key) && f.has(alias))
      fail(f.key_at(alias), "'" + std::string(alias) + "' is another name of '" + key + "': give one (" + what + ")");
  }
  check_rule_keys(f, r.signal);
  const char* samples = f.has("k") ? "k" : "samples";
  if (auto k = f.integer(samples, r.signal == "self_verify" ? 1 : 2, kMaxInt)) r.samples = static_cast<int>(*k);
  const char* agree_on = f.has("mode") ? "mode" : "agree_on";
  if (auto on = f.string(agree_on)) {
    if (*on != "answer" && *on != "text")
      fail(f.value_at(agree_on), "unknown " + std::string(agree_on) + " '" + *on + "' (use answer or text)");
    r.agree_on = on;
  }
  if (auto t = f.number("temperature", 1e-6, kMaxDouble)) r.temperature = static_cast<float>(*t);
  parse_text_fields(f, r);
  return r;
}

CascadeSpec parse_cascade(const Fields& f, const ModelSpec& m) {
  CascadeSpec s;
  f.require("stages", m.at);
  const YAML::Node& stages = *f.find("stages");
  if (!stages.IsSequence())
    fail(f.value_at("stages"), "'stages' of " + f.what() + " must be a list of model names, got " + describe(stages));
  for (const YAML::Node& stage : stages) {
    const Location at = location(f.file(), stage.Mark());
    if (!stage.IsScalar() || stage.Scalar().empty())
      fail(at, "a stage of " + f.what() + " must be a model name, got " + describe(stage));
    s.stages.push_back({stage.Scalar(), at});
  }
  if (s.stages.size() < 2)
    fail(f.value_at("stages"), f.what() + " needs at least two stages, got " + std::to_string(s.stages.size()));
  if (f.has("rule") && f.has("rules"))
    fail(f.key_at("rules"), f.what() + " has both 'rule' and 'rules': give one rule for every stage, or one per stage "
                                       "but the last");
  if (const YAML::Node* rule = f.find("rule")) {
    s.rules.push_back(parse_rule(f.file(), *rule, "the rule of " + f.what()));
  } else if (const YAML::Node* rules = f.find("rules")) {
    if (!rules->IsSequence() || rules->size() != s.stages.size() - 1)
      fail(f.value_at("rules"), "'rules' of " + f.what() + " must be a list of " + std::to_string(s.stages.size() - 1) +
                                    " rules (one per stage but the last), got " +
                                    (rules->IsSequence() ? std::to_string(rules->size()) + " rules" : describe(*rules)));
    for (size_t i = 0; i < rules->size(); ++i)
      s.rules.push_back(parse_rule(f.file(), (*rules)[i], "rule " + std::to_string(i + 1) + " of " + f.what()));
  } else {
    fail(m.at, f.what() + " needs 'rule' (or 'rules', one per stage but the last)");
  }
  return s;
}

const std::vector<std::string> kLocalKeys = {
    "type",      "path",           "strategy",       "draft",     "draft_max",       "draft_min",
    "draft_init", "adaptive_draft", "spec_fallback",  "ngram_min", "ngram_max",       "amateur",
    "alpha",     "expert",         "anti_expert",    "proxy_strength", "n_samples",  "mbr_utility",
    "scorer",    "scorer_template", "scorer_verdict", "threads",   "n_ctx",           "sampling"};
const std::vector<std::string> kRemoteKeys = {
    "type",           "base_url",    "model",          "api",        "api_key_env", "context",  "connect_timeout_s",
    "read_timeout_s", "max_retries", "max_concurrency", "cooldown_after", "cooldown_s", "logprobs", "params"};
const std::vector<std::string> kCascadeKeys = {"type", "stages", "rule", "rules"};
const std::vector<std::string> kRouterKeys = {"type", "candidates", "embedder", "table", "k", "cost_weight", "large_share"};
const std::vector<std::string> kStackKeys = {"type", "steps"};
const std::vector<std::string> kRetrievalKeys = {"type", "model", "embedder", "index", "k", "template"};

void check_name(const std::string& name, const Location& at) {
  const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':' || c == '/';
  });
  if (!valid) fail(at, "model name '" + name + "' may hold only letters, digits and _ - . : /");
  if (name == "default_local") fail(at, "'default_local' is reserved (the price of local models without their own)");
}

}  // namespace

void parse_models(const Fields& models, const fs::path& dir, Config& config) {
  if (models.entries().empty()) fail(models.at(), "'models' is empty: define at least one model");
  for (const auto& [key, value] : models.entries()) {
    ModelSpec m;
    m.name = key.Scalar();
    m.at = location(config.file, key.Mark());
    check_name(m.name, m.at);
    const Fields untyped(config.file, value, "model '" + m.name + "'", {});
    untyped.require("type", m.at);
    const std::string type = *untyped.string("type");
    if (type == "local") {
      const Fields f(config.file, value, "local model '" + m.name + "'", kLocalKeys);
      m.spec = parse_local(f, m, dir, config);
    } else if (type == "remote") {
      const Fields f(config.file, value, "remote model '" + m.name + "'", kRemoteKeys, {"api_key"});
      m.spec = parse_remote(f, m);
    } else if (type == "cascade") {
      const Fields f(config.file, value, "cascade '" + m.name + "'", kCascadeKeys);
      m.spec = parse_cascade(f, m);
    } else if (type == "router") {
      const Fields f(config.file, value, "router '" + m.name + "'", kRouterKeys);
      m.spec = parse_router(f, m, dir);
    } else if (type == "stack") {
      const Fields f(config.file, value, "stack '" + m.name + "'", kStackKeys);
      m.spec = parse_stack(f, m);
    } else if (type == "retrieval") {
      const Fields f(config.file, value, "retrieval '" + m.name + "'", kRetrievalKeys);
      m.spec = parse_retrieval(f, m, dir);
    } else {
      fail(untyped.value_at("type"), "unknown type '" + type + "' of model '" + m.name +
                                         "' (use local, remote, cascade, router, stack or retrieval)");
    }
    config.models.push_back(std::move(m));
  }
}

}  // namespace detail

}  // namespace tandem::config
