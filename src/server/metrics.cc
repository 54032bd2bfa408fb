#include "server/metrics.h"

#include <cstdio>
#include <cstdlib>

namespace tandem::server {
namespace {

// Shortest text that reads back as the same double (bucket bounds as "0.025").
std::string num(double v) {
  char buf[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// A label value with \, " and newlines escaped as the text format wants.
std::string label(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Histogram::observe(double seconds) {
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) ++counts_[i];
  }
  ++count_;
  sum_ += seconds;
}

std::string Histogram::render(const std::string& name) const {
  std::string out;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    out += name + "_bucket{le=\"" + num(kBounds[i]) + "\"} " + std::to_string(counts_[i]) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + num(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
  return out;
}

void Metrics::request(const std::string& endpoint, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{endpoint, status}];
  latency_.observe(seconds);
}

void Metrics::tokens(int64_t prompt, int64_t completion) {
  std::lock_guard<std::mutex> lock(mutex_);
  prompt_tokens_ += prompt;
  completion_tokens_ += completion;
}

void Metrics::first_token(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ttft_.observe(seconds);
}

void Metrics::answer(const std::string& model, const std::string& answered_by) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++answers_[{model, answered_by}];
}

void Metrics::set_gauges(int64_t queued, int64_t active) {
  std::lock_guard<std::mutex> lock(mutex_);
  queued_ = queued;
  active_ = active;
}

std::string Metrics::render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string o;
  o += "# HELP tandem_requests_total Requests answered, by endpoint and HTTP status.\n# TYPE tandem_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    o += "tandem_requests_total{endpoint=\"" + label(key.first) + "\",status=\"" + std::to_string(key.second) + "\"} " +
         std::to_string(n) + "\n";
  }
  o += "# HELP tandem_prompt_tokens_total Prompt tokens of answered requests (all underlying models).\n"
       "# TYPE tandem_prompt_tokens_total counter\ntandem_prompt_tokens_total " + std::to_string(prompt_tokens_) + "\n";
  o += "# HELP tandem_completion_tokens_total Generated tokens (all underlying models).\n"
       "# TYPE tandem_completion_tokens_total counter\ntandem_completion_tokens_total " + std::to_string(completion_tokens_) + "\n";
  o += "# HELP tandem_request_duration_seconds Wall time of a request, arrival to last byte.\n"
       "# TYPE tandem_request_duration_seconds histogram\n" + latency_.render("tandem_request_duration_seconds");
  o += "# HELP tandem_time_to_first_token_seconds Streamed requests: arrival to the first text.\n"
       "# TYPE tandem_time_to_first_token_seconds histogram\n" + ttft_.render("tandem_time_to_first_token_seconds");
  o += "# HELP tandem_queue_depth Requests waiting for a slot.\n# TYPE tandem_queue_depth gauge\ntandem_queue_depth " +
       std::to_string(queued_) + "\n";
  o += "# HELP tandem_active_requests Requests decoding now.\n# TYPE tandem_active_requests gauge\ntandem_active_requests " +
       std::to_string(active_) + "\n";
  o += "# HELP tandem_answers_total Answers per served model, by the underlying model that gave them.\n"
       "# TYPE tandem_answers_total counter\n";
  for (const auto& [key, n] : answers_) {
    o += "tandem_answers_total{model=\"" + label(key.first) + "\",answered_by=\"" + label(key.second) + "\"} " +
         std::to_string(n) + "\n";
  }
  return o;
}

}  // namespace tandem::server
