// A stack (FSLM: a stack of small fine-tuned language models passing natural
// language along): models asked in order, each through its own prompt
// template, each receiving the text the earlier ones wrote. The last step's
// answer is the stack's; every intermediate message is in the trace, so a
// person can read how the answer was reached.
//
//   explain-then-answer:
//     type: stack
//     steps:
//       - {model: small, template: "Question: {input}\nThink it through:", max_tokens: 96}
//       - {model: base,  template: "Question: {input}\nNotes: {previous}\nAnswer:"}
//
// Templates. A brace pair holding a bare name ([A-Za-z_][A-Za-z0-9_-]*) is a
// placeholder: {input} is the request's text (the prompt, or the content of
// the last user message of a chat request), {previous} the message of the
// step before, {NAME} the message of the earlier step named NAME (a step's
// name is its model's unless given). Other braces are literal text (a JSON
// example in a template needs no escaping). Placeholders are filled in one
// pass: text they insert is never expanded again. Messages are passed on with
// surrounding whitespace trimmed.
//
// Requests. Step i's request is the caller's with its text replaced by the
// filled template: the prompt of a raw request; the content of the last user
// message of a chat request (earlier messages kept). Every step gets the
// caller's sampling (seed included). Non-final steps get their own max_tokens
// (default: the caller's) and stop strings (default: none), no logprobs, no
// grammar or JSON schema and ignore_eos off; the last step gets the caller's
// request as it is (max_tokens, stop, logprobs, grammar, ...).
//
// The Response: text, finish_reason, logprobs and answered_by of the last
// step; usage summed per underlying model over every step; trace: per step,
// the step model's own trace steps, then one step of this stack: model = the
// step's model, decision "pass" with text = the message passed on, or
// "answer" for the last step; latency_ms: the whole stack.
//
// Streaming: non-final steps are buffered; the last step gets the caller's
// callback and streams live (a cancel stops it). A buffered step cannot be
// cancelled while it runs.
//
// Budgets and failures: every step is needed, so a step whose budget is spent
// makes the stack unavailable (tandem::UnavailableError naming the stack and
// the step; tandem serve answers 429); a step's error propagates unchanged
// (it names the model). Usage is charged to the budgets as each call returns.
//
// Errors: construction throws tandem::Error naming the stack for no steps, a
// null model, duplicate step names or a name "input"/"previous", a template
// naming an unknown or later step, a first template without {input}, a later
// template using no earlier message, max_tokens or stop set on the last step,
// or a non-final max_tokens of 0.
//
// Thread-safety: immutable after construction; complete() may run
// concurrently (the api::Model contract).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/model.h"
#include "compose/budget.h"

namespace tandem::compose {

struct StackStep {
  std::shared_ptr<const api::Model> model;
  std::string name;                   // empty: the model's name
  std::string templ;                  // see "Templates" above
  std::optional<int> max_tokens;      // non-final steps only; < 0: until end of text
  std::vector<std::string> stop;      // non-final steps only
};

// One piece of a parsed step template: literal text, or a placeholder.
struct StackPiece {
  enum Kind { kText, kInput, kStep } kind = kText;
  std::string text;   // kText
  size_t step = 0;    // kStep: the index of the step whose message goes here
};

// Parses the template of step `step` of a stack whose steps are named `names`
// (in order; a step's name is its model's unless given). Throws tandem::Error,
// its message naming neither stack nor step, for a placeholder naming an
// unknown or a later step, {previous} in the first step, a first template
// without {input} or a later one that uses no earlier message. Config load
// uses it to point at the template; the Stack constructor to check its own.
std::vector<StackPiece> parse_stack_template(const std::string& templ, size_t step,
                                             const std::vector<std::string>& names);

struct StackOptions {
  std::string name;
  std::vector<StackStep> steps;       // at least one
};

class Stack : public api::Model {
 public:
  explicit Stack(StackOptions options, std::shared_ptr<Budgets> budgets = nullptr);

  const std::string& name() const override { return options_.name; }
  // chat: when every step's model has it; context: the smallest known
  // context (0 when one is unknown); logprobs and vocabulary: the last step's.
  api::Capabilities capabilities() const override;
  api::Response complete(const api::Request& request, const api::StreamCallback& on_text = {}) const override;

  // The prompt (or last user message) step `step` would receive, given the
  // request's text and the messages of the steps before it (one per earlier
  // step, in order). Throws tandem::Error for a wrong count.
  std::string fill(size_t step, const std::string& input, const std::vector<std::string>& messages) const;

 private:
  api::Request step_request(size_t step, const api::Request& request, const std::string& text) const;

  StackOptions options_;
  std::vector<std::vector<StackPiece>> templates_;  // per step
  std::shared_ptr<Budgets> budgets_;
};

}  // namespace tandem::compose
