#include "compose/stack.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "compose/capabilities.h"
#include "compose/request_text.h"
#include "util/error.h"
#include "util/text.h"

namespace tandem::compose {

namespace {

bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '-'; }

// The length of a placeholder "{name}" starting at s[i] == '{', or 0 when the
// braces there are literal text.
size_t placeholder_length(const std::string& s, size_t i) {
  if (i + 1 >= s.size() || !name_start(s[i + 1])) return 0;
  size_t j = i + 2;
  while (j < s.size() && name_char(s[j])) ++j;
  return j < s.size() && s[j] == '}' ? j + 1 - i : 0;
}

}  // namespace

std::vector<StackPiece> parse_stack_template(const std::string& t, size_t step, const std::vector<std::string>& names) {
  std::vector<StackPiece> pieces;
  bool uses_input = false, uses_earlier = false;
  for (size_t at = 0; at < t.size();) {
    const size_t len = t[at] == '{' ? placeholder_length(t, at) : 0;
    if (len == 0) {
      if (pieces.empty() || pieces.back().kind != StackPiece::kText) pieces.push_back({});
      pieces.back().text += t[at++];
      continue;
    }
    const std::string name = t.substr(at + 1, len - 2);
    StackPiece p;
    if (name == "input") {
      p.kind = StackPiece::kInput;
      uses_input = true;
    } else if (name == "previous") {
      if (step == 0) throw Error("{previous} in the first step: nothing came before it");
      p.kind = StackPiece::kStep;
      p.step = step - 1;
      uses_earlier = true;
    } else {
      const auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end())
        throw Error("unknown placeholder {" + name + "}: use {input}, {previous} or an earlier step's name");
      p.kind = StackPiece::kStep;
      p.step = static_cast<size_t>(it - names.begin());
      if (p.step >= step) throw Error("{" + name + "} is not an earlier step: a step reads only the messages before it");
      uses_earlier = true;
    }
    pieces.push_back(std::move(p));
    at += len;
  }
  if (step == 0 && !uses_input) throw Error("the first template must hold {input}");
  if (step > 0 && !uses_earlier) throw Error("the template uses no earlier message ({previous} or a step's name)");
  return pieces;
}

Stack::Stack(StackOptions options, std::shared_ptr<Budgets> budgets)
    : options_(std::move(options)), budgets_(std::move(budgets)) {
  const std::string self = "stack '" + options_.name + "'";
  const size_t n = options_.steps.size();
  if (n == 0) throw Error(self + ": needs at least one step");
  std::map<std::string, size_t> index;  // step name -> step
  for (size_t i = 0; i < n; ++i) {
    StackStep& s = options_.steps[i];
    const std::string which = self + ": step " + std::to_string(i + 1);
    if (!s.model) throw Error(which + ": the model is missing (null)");
    if (s.name.empty()) s.name = s.model->name();
    if (s.name == "input" || s.name == "previous")
      throw Error(which + ": '" + s.name + "' is a placeholder, not a step name: name the step otherwise");
    if (!index.emplace(s.name, i).second)
      throw Error(which + ": the name '" + s.name + "' is taken by step " + std::to_string(index[s.name] + 1) +
                  ": give one of them another name");
    if (i + 1 == n && (s.max_tokens || !s.stop.empty()))
      throw Error(which + " is the last: its max_tokens and stop are the request's, not the stack's");
    if (s.max_tokens && *s.max_tokens == 0) throw Error(which + ": max_tokens 0 would pass on nothing");
  }
  std::vector<std::string> names;
  for (const StackStep& s : options_.steps) names.push_back(s.name);
  for (size_t i = 0; i < n; ++i) {
    try {
      templates_.push_back(parse_stack_template(options_.steps[i].templ, i, names));
    } catch (const Error& e) {
      throw Error(self + ": step " + std::to_string(i + 1) + " ('" + names[i] + "'): " + e.what());
    }
  }
}

api::Capabilities Stack::capabilities() const {
  std::vector<std::shared_ptr<const api::Model>> models;
  for (const StackStep& s : options_.steps) models.push_back(s.model);
  api::Capabilities c = common_capabilities(models);
  const api::Capabilities last = options_.steps.back().model->capabilities();
  c.logprobs = last.logprobs;
  c.vocabulary = last.vocabulary;
  return c;
}

std::string Stack::fill(size_t step, const std::string& input, const std::vector<std::string>& messages) const {
  if (step >= templates_.size() || messages.size() != step)
    throw Error("stack '" + options_.name + "': fill() of step " + std::to_string(step + 1) + " needs " +
                std::to_string(step) + " earlier messages, got " + std::to_string(messages.size()));
  std::string out;
  for (const StackPiece& p : templates_[step]) {
    if (p.kind == StackPiece::kText) out += p.text;
    else if (p.kind == StackPiece::kInput) out += input;
    else out += messages[p.step];
  }
  return out;
}

api::Request Stack::step_request(size_t step, const api::Request& request, const std::string& text) const {
  api::Request r = request;
  request_text(r, "stack '" + options_.name + "'") = text;
  if (step + 1 == options_.steps.size()) return r;
  const StackStep& s = options_.steps[step];
  r.max_tokens = s.max_tokens.value_or(request.max_tokens);
  r.stop = s.stop;
  r.logprobs = -1;
  r.grammar.clear();
  r.json_schema.clear();
  r.ignore_eos = false;
  return r;
}

api::Response Stack::complete(const api::Request& request, const api::StreamCallback& on_text) const {
  const auto start = std::chrono::steady_clock::now();
  const std::string self = "stack '" + options_.name + "'";
  const std::string& input = request_text(request, self);
  api::Response out;
  std::vector<std::string> messages;
  for (size_t i = 0; i < options_.steps.size(); ++i) {
    const StackStep& s = options_.steps[i];
    const bool last = i + 1 == options_.steps.size();
    if (budgets_) {
      if (const std::optional<std::string> why = budgets_->refusal(s.model->name()))
        throw UnavailableError(self + ": step '" + s.name + "' (" + s.model->name() + ") is " + *why);
    }
    api::Response r = s.model->complete(step_request(i, request, fill(i, input, messages)),
                                        last ? on_text : api::StreamCallback{});
    if (budgets_) budgets_->charge(r.usage);
    for (const auto& [model, u] : r.usage) out.usage[model] += u;
    out.trace.insert(out.trace.end(), r.trace.begin(), r.trace.end());
    if (!last) {
      messages.emplace_back(trim(r.text));
      out.trace.push_back({s.model->name(), "", 0.0, 0.0, "pass", messages.back()});
      continue;
    }
    out.trace.push_back({s.model->name(), "", 0.0, 0.0, "answer", ""});
    out.text = std::move(r.text);
    out.finish_reason = std::move(r.finish_reason);
    out.logprobs = std::move(r.logprobs);
    out.answered_by = r.answered_by.empty() ? s.model->name() : std::move(r.answered_by);
  }
  out.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace tandem::compose
