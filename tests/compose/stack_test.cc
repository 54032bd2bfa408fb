// The stack (FSLM): what each step is asked (its filled template and its
// request's options), what is passed on and traced, usage, streaming, budgets
// and every construction error. Scripted steps, so each prompt is known by
// hand; the engine-built stack over real models is in tests/config.
#include "compose/stack.h"

#include <gtest/gtest.h>

#include "api/response_json.h"
#include "compose/scripted_model.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

using testing::ScriptedAnswer;
using testing::ScriptedModel;

std::shared_ptr<ScriptedModel> scripted(const std::string& name, const std::string& prompt,
                                        const ScriptedAnswer& answer, double cost = 0.25) {
  return std::make_shared<ScriptedModel>(name, std::map<std::string, std::vector<ScriptedAnswer>>{{prompt, {answer}}},
                                         cost);
}

StackStep step(std::shared_ptr<const api::Model> m, std::string templ, std::string name = "") {
  StackStep s;
  s.model = std::move(m);
  s.templ = std::move(templ);
  s.name = std::move(name);
  return s;
}

api::Request ask(const std::string& prompt) {
  api::Request r;
  r.prompt = prompt;
  r.max_tokens = 9;
  r.stop = {"\n\n"};
  r.logprobs = 2;
  r.sampling.seed = 0;
  r.sampling.temperature = 0.5f;
  return r;
}

// A chat model answering "<role>: <content>" of each message, one per line.
class EchoChat : public api::Model {
 public:
  const std::string& name() const override { return name_; }
  api::Capabilities capabilities() const override { return {.chat = true, .context = 512, .vocabulary = ""}; }
  api::Response complete(const api::Request& request, const api::StreamCallback& = {}) const override {
    api::Response r;
    for (const api::Message& m : request.messages) r.text += m.role + ": " + m.content + "\n";
    r.finish_reason = "stop";
    r.usage[name_] = {.prompt_tokens = 1, .completion_tokens = 1};
    return r;
  }

 private:
  std::string name_ = "echo";
};

TEST(Stack, PassesEachMessageOnAndAnswersWithTheLastStep) {
  const auto a = scripted("a", "Q: 2+2\nThink:", {{" add", -0.5}, {" two and two \n", -0.5}}, 0.25);
  const auto b = scripted("b", "Q: 2+2\nNotes: add two and two\nA:", {{" 4", -0.1}}, 1.0);
  StackOptions o{"s", {step(a, "Q: {input}\nThink:"), step(b, "Q: {input}\nNotes: {previous}\nA:")}};
  o.steps[0].max_tokens = 5;
  o.steps[0].stop = {"Q:"};
  const Stack s(o);
  std::string streamed;
  const api::Response r = s.complete(ask("2+2"), [&](std::string_view t) {
    streamed += t;
    return true;
  });
  EXPECT_EQ(r.text, " 4");
  EXPECT_EQ(streamed, " 4");  // only the last step streams
  EXPECT_EQ(r.answered_by, "b");
  EXPECT_EQ(r.finish_reason, "stop");
  ASSERT_EQ(r.logprobs.size(), 1u);
  ASSERT_EQ(r.usage.size(), 2u);
  EXPECT_EQ(r.usage.at("a").completion_tokens, 2);
  EXPECT_DOUBLE_EQ(r.cost(), 2 * 0.25 + 1 * 1.0);
  ASSERT_EQ(r.trace.size(), 2u);
  EXPECT_EQ(r.trace[0].model, "a");
  EXPECT_EQ(r.trace[0].decision, "pass");
  EXPECT_EQ(r.trace[0].text, "add two and two");  // trimmed
  EXPECT_EQ(r.trace[1].model, "b");
  EXPECT_EQ(r.trace[1].decision, "answer");
  EXPECT_EQ(api::to_json(r)["trace"][0]["text"], "add two and two");
  EXPECT_FALSE(api::to_json(r)["trace"][1].contains("text"));

  const auto first = a->calls(), second = b->calls();
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_FALSE(first[0].streamed);
  EXPECT_TRUE(second[0].streamed);
  // Non-final: its own max_tokens and stop, no logprobs; the caller's sampling.
  EXPECT_EQ(first[0].request.max_tokens, 5);
  EXPECT_EQ(first[0].request.stop, std::vector<std::string>{"Q:"});
  EXPECT_EQ(first[0].request.logprobs, -1);
  EXPECT_FLOAT_EQ(first[0].request.sampling.temperature, 0.5f);
  // Last: the caller's request with the filled template.
  EXPECT_EQ(second[0].request.max_tokens, 9);
  EXPECT_EQ(second[0].request.stop, std::vector<std::string>{"\n\n"});
  EXPECT_EQ(second[0].request.logprobs, 2);
}

TEST(Stack, NamedStepsAndOnePassFilling) {
  // The input holds "{previous}": inserted text is never expanded again.
  const std::string in = "x {previous} y";
  const auto a = scripted("a", "1 " + in, {{"A{input}", 0}});
  const auto b = scripted("b", "2 A{input}", {{"B", 0}});
  const auto c = scripted("c", "3 B|A{input}|{\"k\": 1} {unknown-json \xc3\xa9}", {{"C", 0}});
  const Stack s({"s", {step(a, "1 {input}", "first"), step(b, "2 {previous}"),
                       step(c, "3 {previous}|{first}|{\"k\": 1} {unknown-json \xc3\xa9}")}});
  EXPECT_EQ(s.fill(2, in, {"A{input}", "B"}), "3 B|A{input}|{\"k\": 1} {unknown-json \xc3\xa9}");
  const api::Response r = s.complete(ask(in));
  EXPECT_EQ(r.text, "C");
  ASSERT_EQ(r.trace.size(), 3u);
  EXPECT_EQ(r.trace[1].text, "B");
  EXPECT_THROW(s.fill(1, in, {}), Error);
}

TEST(Stack, ChatRequestsReplaceTheLastUserMessage) {
  const auto e = std::make_shared<EchoChat>();
  const Stack s({"s", {step(e, "first: {input}", "one"), step(e, "second: {one}", "two")}});
  EXPECT_TRUE(s.capabilities().chat);
  EXPECT_EQ(s.capabilities().context, 512);
  api::Request q;
  q.messages = {{"system", "sys"}, {"user", "hi"}, {"assistant", "yo"}, {"user", "q"}};
  const api::Response r = s.complete(q);
  EXPECT_EQ(r.trace[0].text, "system: sys\nuser: hi\nassistant: yo\nuser: first: q");
  EXPECT_EQ(r.text, "system: sys\nuser: hi\nassistant: yo\nuser: second: system: sys\nuser: hi\nassistant: yo\nuser: first: q\n");
  q.messages = {{"system", "only"}};
  EXPECT_THROW(s.complete(q), Error);
}

TEST(Stack, CancelStopsTheLastStep) {
  const auto a = scripted("a", "{q}", {{"m", 0}});
  const auto b = scripted("b", "m!", {{"x", 0}, {"y", 0}, {"z", 0}});
  const Stack s({"s", {step(a, "{input}"), step(b, "{previous}!")}});
  std::string got;
  const api::Response r = s.complete(ask("{q}"), [&](std::string_view t) {
    got += t;
    return false;
  });
  EXPECT_EQ(got, "x");
  EXPECT_EQ(r.finish_reason, "cancelled");
}

TEST(Stack, OverBudgetIsUnavailableAndErrorsPropagate) {
  const auto a = scripted("a", "p", {{"m", 0}}, 1.0);
  const auto b = scripted("b", "m", {{"x", 0}}, 1.0);
  auto budgets = std::make_shared<Budgets>();
  budgets->set("b", {.max_cost = 1.5});
  const Stack s({"s", {step(a, "{input}"), step(b, "{previous}")}}, budgets);
  EXPECT_EQ(s.complete(ask("p")).text, "x");
  EXPECT_DOUBLE_EQ(budgets->spent("b").cost, 1.0);
  EXPECT_EQ(s.complete(ask("p")).text, "x");  // 1.0 < 1.5 before the call
  try {
    s.complete(ask("p"));
    FAIL() << "no UnavailableError";
  } catch (const UnavailableError& e) {
    EXPECT_NE(std::string(e.what()).find("stack 's': step 'b'"), std::string::npos) << e.what();
  }
  // A step's error (no script for the prompt) propagates, naming the model.
  try {
    s.complete(ask("other"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model 'a'"), std::string::npos) << e.what();
  }
}

std::string construction_error(StackOptions o) {
  try {
    Stack s(std::move(o));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Stack, ConstructionErrors) {
  const auto a = scripted("a", "p", {{"m", 0}});
  const auto b = scripted("b", "m", {{"x", 0}});
  auto has = [](const std::string& error, const std::string& part) {
    return error.find(part) != std::string::npos;
  };
  EXPECT_TRUE(has(construction_error({"s", {}}), "stack 's': needs at least one step"));
  EXPECT_TRUE(has(construction_error({"s", {step(nullptr, "{input}")}}), "missing"));
  EXPECT_TRUE(has(construction_error({"s", {step(a, "{input}"), step(a, "{previous}")}}), "taken by step 1"));
  EXPECT_TRUE(has(construction_error({"s", {step(a, "{input}", "input")}}), "is a placeholder"));
  EXPECT_TRUE(has(construction_error({"s", {step(a, "no input")}}), "must hold {input}"));
  EXPECT_TRUE(has(construction_error({"s", {step(a, "{previous}")}}), "nothing came before"));
  EXPECT_TRUE(has(construction_error({"s", {step(a, "{input}"), step(b, "{input}")}}), "uses no earlier message"));
  EXPECT_TRUE(has(construction_error({"s", {step(a, "{input}"), step(b, "{typo}")}}), "unknown placeholder {typo}"));
  EXPECT_TRUE(has(construction_error({"s", {step(a, "{input} {b}"), step(b, "{a}")}}), "{b} is not an earlier step"));
  StackOptions last{"s", {step(a, "{input}")}};
  last.steps[0].max_tokens = 4;
  EXPECT_TRUE(has(construction_error(last), "is the last"));
  StackOptions zero{"s", {step(a, "{input}"), step(b, "{previous}")}};
  zero.steps[0].max_tokens = 0;
  EXPECT_TRUE(has(construction_error(zero), "max_tokens 0"));
  // One step is a prompt template around one model: allowed.
  EXPECT_EQ(construction_error({"s", {step(a, "Q: {input}")}}), "");
}

}  // namespace
}  // namespace tandem::compose
