// load(): a `type: stack` entry of `models:` (compose/stack.h). Each step is
// a map {model, template, name, max_tokens, stop}; the templates are parsed
// here, so that a misspelt placeholder is an error at its template.
#include <limits>
#include <map>

#include "compose/stack.h"
#include "config/load_internal.h"
#include "util/error.h"

namespace tandem::config::detail {

namespace {

const std::vector<std::string> kStepKeys = {"model", "template", "name", "max_tokens", "stop"};

std::vector<std::string> parse_stop(const Fields& f) {
  const YAML::Node& node = *f.find("stop");
  std::vector<std::string> stop;
  if (node.IsScalar()) {
    stop.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const YAML::Node& s : node) {
      if (!s.IsScalar()) fail(location(f.file(), s.Mark()), "a stop string of " + f.what() + " must be text, got " + describe(s));
      stop.push_back(s.Scalar());
    }
  } else {
    fail(f.value_at("stop"), "'stop' of " + f.what() + " must be a string or a list of strings, got " + describe(node));
  }
  for (const std::string& s : stop)
    if (s.empty()) fail(f.value_at("stop"), "a stop string of " + f.what() + " is empty (it would stop at once)");
  return stop;
}

StackStepSpec parse_step(const std::string& file, const YAML::Node& node, const std::string& what, bool last) {
  if (!node.IsMap())
    fail(location(file, node.Mark()), what + " must be a map {model, template}, got " + describe(node));
  const Fields f(file, node, what, kStepKeys);
  StackStepSpec s;
  s.at = f.at();
  f.require("model", s.at);
  s.model = *f.reference("model");
  f.require("template", s.at);
  s.templ = *f.string("template");
  if (auto n = f.string("name")) {
    if (n->empty()) fail(f.value_at("name"), "the name of " + what + " is empty");
    s.name = *n;
  }
  if (last && f.has("max_tokens"))
    f.forbid("max_tokens", "the last step's max_tokens is the request's (set it per request or in defaults)");
  if (last && f.has("stop")) f.forbid("stop", "the last step's stop strings are the request's");
  if (auto n = f.integer("max_tokens", -1, std::numeric_limits<int32_t>::max())) {
    if (*n == 0) fail(f.value_at("max_tokens"), "max_tokens 0 of " + what + " would pass nothing on");
    s.max_tokens = static_cast<int>(*n);
  }
  if (f.has("stop")) s.stop = parse_stop(f);
  return s;
}

}  // namespace

StackSpec parse_stack(const Fields& f, const ModelSpec& m) {
  StackSpec s;
  f.require("steps", m.at);
  const YAML::Node& steps = *f.find("steps");
  if (!steps.IsSequence() || steps.size() == 0)
    fail(f.value_at("steps"), "'steps' of " + f.what() + " must be a non-empty list of {model, template} maps, got " +
                                  describe(steps));
  std::vector<std::string> names;
  std::map<std::string, size_t> taken;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string what = "step " + std::to_string(i + 1) + " of " + f.what();
    StackStepSpec step = parse_step(f.file(), steps[i], what, i + 1 == steps.size());
    const std::string name = step.name.empty() ? step.model.name : step.name;
    if (name == "input" || name == "previous")
      fail(step.at, what + " is named '" + name + "', a placeholder: give it another `name`");
    if (!taken.emplace(name, i).second)
      fail(step.at, what + " is named '" + name + "' like step " + std::to_string(taken[name] + 1) +
                        ": give one of them a `name` of its own");
    names.push_back(name);
    s.steps.push_back(std::move(step));
  }
  for (size_t i = 0; i < s.steps.size(); ++i) {
    const Fields step(f.file(), steps[i], "step", kStepKeys);
    try {
      compose::parse_stack_template(s.steps[i].templ, i, names);
    } catch (const Error& e) {
      fail(step.value_at("template"), "the template of step " + std::to_string(i + 1) + " of " + f.what() + ": " + e.what());
    }
  }
  return s;
}

}  // namespace tandem::config::detail
