#include "compose/verdict_rules.h"

#include <cctype>
#include <chrono>
#include <cmath>

#include "compose/request_text.h"
#include "decode/judge.h"
#include "util/error.h"

namespace tandem::compose {

namespace {

double checked_threshold(double threshold, std::string_view signal) {
  if (std::isnan(threshold)) throw Error("rule '" + std::string(signal) + "': the threshold is NaN (give a number, or -inf / inf)");
  return threshold;
}

const api::Response& single_answer(std::span<const api::Response> answers, std::string_view signal) {
  if (answers.size() != 1)
    throw Error("rule '" + std::string(signal) + "' judges one answer, got " + std::to_string(answers.size()));
  return answers[0];
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string default_verdict_template() {
  // The best-of-n judge's wording, its placeholders renamed to this rule's.
  return decode::fill_judge_template(decode::kDefaultJudgeTemplate, "{question}", "{answer}");
}

std::string fill_rule_template(std::string_view rule, std::string_view templ, std::string_view question,
                               std::string_view answer) {
  static constexpr std::string_view kQuestion = "{question}", kAnswer = "{answer}";
  if (templ.find(kAnswer) == std::string_view::npos)
    throw Error("rule '" + std::string(rule) + "': the template has no {answer} placeholder (every answer would be "
                "judged the same)");
  std::string out;
  for (size_t i = 0; i < templ.size();) {
    if (templ.substr(i).starts_with(kQuestion)) {
      out += question;
      i += kQuestion.size();
    } else if (templ.substr(i).starts_with(kAnswer)) {
      out += answer;
      i += kAnswer.size();
    } else {
      out += templ[i++];
    }
  }
  return out;
}

std::string question_of(const api::Request& request) {
  const size_t i = last_user_message(request);
  return !request.is_chat() ? request.prompt : i < request.messages.size() ? request.messages[i].content : "";
}

bool says_yes(std::string_view reply) {
  size_t i = 0;
  while (i < reply.size() && std::isspace(static_cast<unsigned char>(reply[i]))) ++i;
  if (reply.size() - i < 3) return false;
  for (size_t j = 0; j < 3; ++j)
    if (std::tolower(static_cast<unsigned char>(reply[i + j])) != "yes"[j]) return false;
  return true;
}

VerdictRule::VerdictRule(double threshold, VerdictOptions options)
    : threshold_(checked_threshold(threshold, "verdict")), options_(std::move(options)) {
  if (!options_.judge) throw Error("rule 'verdict': no judge model");
  if (!options_.judge->capabilities().scoring)
    throw Error("rule 'verdict': the judge '" + options_.judge->name() +
                "' cannot score text (it needs scoring: a local model)");
  fill_rule_template("verdict", options_.templ, "", "");  // checks the {answer} placeholder
  if (options_.verdict.empty() || options_.against.empty())
    throw Error("rule 'verdict': the verdict and the text it is weighed against must not be empty");
  if (options_.verdict == options_.against)
    throw Error("rule 'verdict': the verdict and the text it is weighed against are the same ('" + options_.verdict +
                "')");
}

Signal VerdictRule::evaluate(const api::Request& request, std::span<const api::Response> answers) const {
  const api::Response& a = single_answer(answers, signal());
  const std::string prompt = fill_rule_template(signal(), options_.templ, question_of(request), a.text);
  const auto start = std::chrono::steady_clock::now();
  const api::Score yes = options_.judge->score(prompt, options_.verdict);
  const api::Score no = options_.judge->score(prompt, options_.against);
  Signal s;
  // p_yes / (p_yes + p_no) = 1 / (1 + exp(lp_no - lp_yes)): no underflow for
  // small probabilities; NaN when both are -inf.
  s.value = 1.0 / (1.0 + std::exp(no.sum_logprob - yes.sum_logprob));
  const std::string& judge = options_.judge->name();
  s.usage[judge] = {.prompt_tokens = static_cast<int64_t>(yes.tokens.size() + no.tokens.size()),
                    .completion_tokens = 0,
                    .seconds = seconds_since(start),
                    .cost = 0.0};
  s.trace.push_back({judge, "verdict", s.value, threshold_, "judge '" + a.answered_by + "'", ""});
  return s;
}

SelfVerifyRule::SelfVerifyRule(double threshold, SelfVerifyOptions options)
    : threshold_(checked_threshold(threshold, "self_verify")), options_(std::move(options)) {
  if (options_.samples < 1)
    throw Error("rule 'self_verify': samples must be at least 1, got " + std::to_string(options_.samples));
  if (!(options_.temperature > 0.0f) || !std::isfinite(options_.temperature))
    throw Error("rule 'self_verify': temperature must be a number > 0, got " + std::to_string(options_.temperature));
  fill_rule_template("self_verify", options_.templ, "", "");  // checks the {answer} placeholder
}

Signal SelfVerifyRule::evaluate(const api::Request&, std::span<const api::Response>) const {
  throw Error("rule 'self_verify' asks the stage itself: it needs evaluate_with_stage()");
}

std::vector<api::Request> SelfVerifyRule::verify_requests(const api::Request& request, std::string_view answer) const {
  const std::string text = fill_rule_template(signal(), options_.templ, question_of(request), answer);
  api::Request base;
  if (request.is_chat())
    base.messages = {{"user", text}};
  else
    base.prompt = text;
  base.sampling = request.sampling;
  base.sampling.temperature = options_.temperature;
  base.max_tokens = 8;
  std::vector<api::Request> out(static_cast<size_t>(options_.samples), base);
  for (size_t i = 0; i < out.size(); ++i)
    if (request.sampling.seed) out[i].sampling.seed = *request.sampling.seed + i;
  return out;
}

Signal SelfVerifyRule::evaluate_with_stage(const api::Model& stage, const api::Request& request,
                                           std::span<const api::Response> answers) const {
  const api::Response& a = single_answer(answers, signal());
  int yes = 0;
  Signal s;
  for (const api::Request& ask : verify_requests(request, a.text)) {
    const api::Response reply = stage.complete(ask);
    if (says_yes(reply.text)) ++yes;
    for (const auto& [model, u] : reply.usage) s.usage[model] += u;
  }
  s.value = static_cast<double>(yes) / static_cast<double>(options_.samples);
  s.trace.push_back({stage.name(), "self_verify", s.value, threshold_,
                     "verify: " + std::to_string(yes) + " of " + std::to_string(options_.samples) + " yes", ""});
  return s;
}

}  // namespace tandem::compose
