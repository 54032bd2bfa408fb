// The server's counters in Prometheus' text format (GET /metrics):
//   tandem_requests_total{endpoint,status}           counter
//   tandem_prompt_tokens_total, tandem_completion_tokens_total  counters
//   tandem_request_duration_seconds                  histogram (whole request)
//   tandem_time_to_first_token_seconds               histogram (streams: first text)
//   tandem_queue_depth, tandem_active_requests       gauges
//   tandem_answers_total{model,answered_by}          counter: per served model,
//     which underlying model gave each answer (a composition's share per stage)
// Thread-safe: one mutex; every method is cheap.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace tandem::server {

class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  void observe(double seconds);
  // Prometheus lines for `name` (cumulative buckets, +Inf, _sum, _count).
  std::string render(const std::string& name) const;

 private:
  std::array<uint64_t, kBounds.size()> counts_{};
  uint64_t count_ = 0;
  double sum_ = 0.0;
};

class Metrics {
 public:
  void request(const std::string& endpoint, int status, double seconds);
  void tokens(int64_t prompt, int64_t completion);
  void first_token(double seconds);
  void answer(const std::string& model, const std::string& answered_by);
  // Gauges, read when rendering.
  void set_gauges(int64_t queued, int64_t active);
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, uint64_t> answers_;
  int64_t prompt_tokens_ = 0, completion_tokens_ = 0;
  int64_t queued_ = 0, active_ = 0;
  Histogram latency_, ttft_;
};

}  // namespace tandem::server
