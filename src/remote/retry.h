// When and how long to wait before trying a remote call again: exponential
// back-off with full jitter, at least as long as the server's Retry-After.
// Time and randomness come from outside (Clock, a jitter source), so the
// policy is tested without sleeping and without chance.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

namespace tandem::remote {

// Seconds on a monotonic clock, and a way to wait. Implementations are
// thread-safe (one Clock serves every call of a model).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual double now_s() const = 0;             // monotonic seconds
  virtual double unix_now_s() const = 0;        // wall-clock seconds since 1970 (for HTTP dates)
  virtual void sleep_s(double seconds) const = 0;
};

// std::chrono::steady_clock, system_clock and std::this_thread::sleep_for.
class SystemClock : public Clock {
 public:
  double now_s() const override;
  double unix_now_s() const override;
  void sleep_s(double seconds) const override;
};

// Uniform in [0, 1); must be safe to call from several threads.
using Jitter = std::function<double()>;
// A jitter source seeded from std::random_device, guarded by a mutex.
Jitter random_jitter();

struct RetryPolicy {
  int max_retries = 2;            // attempts after the first
  double base_delay_s = 0.5;      // the cap of the first wait
  double max_delay_s = 20.0;      // the cap of any back-off wait
  double max_retry_after_s = 60;  // a longer Retry-After is not waited for (the call fails)
};

// The wait before retry number `retry` (0 for the first retry): full jitter,
// jitter() * min(max_delay, base_delay * 2^retry), raised to `retry_after`
// when the server named one ("honour Retry-After": never earlier).
double backoff_delay_s(const RetryPolicy& policy, int retry, std::optional<double> retry_after_s, double jitter);

// Whether an HTTP status is worth another try: 429 and every 5xx. Other 4xx
// are the request's fault and fail at once.
bool is_retryable_status(int status);

// The seconds a Retry-After header asks for: delta-seconds ("120") or an
// HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", relative to `unix_now_s`,
// never negative). Empty when the value is absent or not understood.
std::optional<double> parse_retry_after(std::string_view value, double unix_now_s);

}  // namespace tandem::remote
