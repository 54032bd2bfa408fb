#include "compose/signals.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>

#include "compose/verdict_rules.h"
#include "util/answer.h"
#include "util/error.h"

namespace tandem::compose {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

Signal with_value(double value) {
  Signal s;
  s.value = value;
  return s;
}

double checked_threshold(double threshold, std::string_view signal) {
  if (std::isnan(threshold)) throw Error("rule '" + std::string(signal) + "': the threshold is NaN (give a number, or -inf / inf)");
  return threshold;
}

// The single answer a logprob rule judges; an answer with text but no
// logprobs is an error (its model did not apply the request's logprobs).
const api::Response& logprob_answer(std::span<const api::Response> answers, std::string_view signal) {
  if (answers.size() != 1)
    throw Error("rule '" + std::string(signal) + "' judges one answer, got " + std::to_string(answers.size()));
  const api::Response& a = answers[0];
  if (a.logprobs.empty() && !a.text.empty())
    throw Error("rule '" + std::string(signal) + "': the answer of '" + a.answered_by +
                "' carries no per-token logprobs although they were requested");
  return a;
}

// Runs of whitespace become one space; leading and trailing whitespace go.
std::string normalize_whitespace(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

MeanLogprobRule::MeanLogprobRule(double threshold) : threshold_(checked_threshold(threshold, "mean_logprob")) {}

Signal MeanLogprobRule::evaluate(const api::Request&, std::span<const api::Response> answers) const {
  const api::Response& a = logprob_answer(answers, signal());
  if (a.logprobs.empty()) return with_value(kNegInf);
  double sum = 0.0;
  for (const auto& t : a.logprobs) sum += t.logprob;
  return with_value(sum / static_cast<double>(a.logprobs.size()));
}

MinLogprobRule::MinLogprobRule(double threshold) : threshold_(checked_threshold(threshold, "min_logprob")) {}

Signal MinLogprobRule::evaluate(const api::Request&, std::span<const api::Response> answers) const {
  const api::Response& a = logprob_answer(answers, signal());
  double low = a.logprobs.empty() ? kNegInf : a.logprobs[0].logprob;
  for (const auto& t : a.logprobs) low = std::min(low, t.logprob);
  return with_value(low);
}

AgreementRule::AgreementRule(double threshold, AgreementOptions options)
    : threshold_(checked_threshold(threshold, "agreement")), options_(options) {
  if (options_.samples < 2)
    throw Error("rule 'agreement': samples must be at least 2, got " + std::to_string(options_.samples));
  if (!(options_.temperature > 0.0f) || !std::isfinite(options_.temperature))
    throw Error("rule 'agreement': temperature must be a number > 0 (greedy samples all agree), got " +
                std::to_string(options_.temperature));
}

std::vector<api::Request> AgreementRule::stage_requests(const api::Request& request) const {
  std::vector<api::Request> out(static_cast<size_t>(options_.samples), request);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].sampling.temperature = options_.temperature;
    if (request.sampling.seed) out[i].sampling.seed = *request.sampling.seed + i;
  }
  return out;
}

Signal AgreementRule::evaluate(const api::Request&, std::span<const api::Response> answers) const {
  if (answers.empty()) throw Error("rule 'agreement': no samples to compare");
  std::map<std::string, int> votes;
  std::vector<std::pair<std::string, size_t>> first_seen;  // key, first sample with it
  for (size_t i = 0; i < answers.size(); ++i) {
    std::optional<std::string> key = options_.on == AgreeOn::kText ? normalize_whitespace(answers[i].text)
                                                                   : extract_final_answer(answers[i].text);
    if (!key) continue;
    if (votes[*key]++ == 0) first_seen.emplace_back(*key, i);
  }
  Signal s;
  int best = 0;
  for (const auto& [key, index] : first_seen) {
    if (votes[key] > best) {
      best = votes[key];
      s.chosen = index;
    }
  }
  s.value = static_cast<double>(best) / static_cast<double>(answers.size());
  return s;
}

namespace {

// The first field set in `o` that `signal` does not use, or null.
const char* unused_field(const RuleOptions& o) {
  const bool agreement = o.signal == "agreement", verdict = o.signal == "verdict",
             self_verify = o.signal == "self_verify";
  if (o.samples && !agreement && !self_verify) return "samples";
  if (o.agree_on && !agreement) return "agree_on";
  if (o.temperature && !agreement && !self_verify) return "temperature";
  if (o.judge && !verdict) return "judge";
  if (o.templ && !verdict && !self_verify) return "template";
  if (o.verdict && !verdict) return "verdict";
  if (o.against && !verdict) return "against";
  return nullptr;
}

}  // namespace

std::shared_ptr<const DeferralRule> make_rule(const RuleOptions& o) {
  static const char* const kSignals[] = {"mean_logprob", "min_logprob", "agreement", "verdict", "self_verify"};
  if (std::find(std::begin(kSignals), std::end(kSignals), o.signal) == std::end(kSignals))
    throw Error("unknown rule signal '" + o.signal +
                "' (use mean_logprob, min_logprob, agreement, verdict or self_verify)");
  if (const char* extra = unused_field(o))
    throw Error("rule '" + o.signal + "': '" + extra + "' is not used by the " + o.signal + " signal");
  if (o.signal == "min_logprob") return std::make_shared<MinLogprobRule>(o.threshold);
  if (o.signal == "agreement") {
    AgreementOptions a;
    a.samples = o.samples.value_or(a.samples);
    a.temperature = o.temperature.value_or(a.temperature);
    const std::string on = o.agree_on.value_or("answer");
    if (on != "answer" && on != "text")
      throw Error("rule 'agreement': agree_on must be 'answer' or 'text', got '" + on + "'");
    a.on = on == "text" ? AgreeOn::kText : AgreeOn::kAnswer;
    return std::make_shared<AgreementRule>(o.threshold, a);
  }
  if (o.signal == "verdict") {
    VerdictOptions v;
    v.judge = o.judge;
    if (o.templ) v.templ = *o.templ;
    if (o.verdict) v.verdict = *o.verdict;
    if (o.against) v.against = *o.against;
    return std::make_shared<VerdictRule>(o.threshold, std::move(v));
  }
  if (o.signal == "self_verify") {
    SelfVerifyOptions v;
    v.samples = o.samples.value_or(v.samples);
    v.temperature = o.temperature.value_or(v.temperature);
    if (o.templ) v.templ = *o.templ;
    return std::make_shared<SelfVerifyRule>(o.threshold, std::move(v));
  }
  return std::make_shared<MeanLogprobRule>(o.threshold);  // mean_logprob, the one signal left
}

}  // namespace tandem::compose
