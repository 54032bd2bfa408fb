#include "remote/endpoint.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "util/error.h"

namespace tandem::remote {

Endpoint::Endpoint(EndpointOptions options, std::shared_ptr<const Clock> clock)
    : options_(std::move(options)), clock_(std::move(clock)) {
  const std::string where = "endpoint " + options_.base_url + ": ";
  if (!clock_) throw Error(where + "no clock given");
  if (options_.max_concurrency <= 0) throw Error(where + "max_concurrency must be at least 1");
  if (options_.cooldown_after <= 0) throw Error(where + "cooldown_after must be at least 1");
  if (!(options_.cooldown_s >= 0)) throw Error(where + "cooldown_s must be >= 0");
}

void Endpoint::throw_if_cooling_locked() const {
  const double left = cooling_until_ - clock_->now_s();
  if (left <= 0) return;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", left);
  throw Error("endpoint " + options_.base_url + " is cooling down for " + seconds + " s more after " +
              std::to_string(consecutive_failures_) + " failed attempts in a row (last: " + last_error_ + ")");
}

Endpoint::Slot Endpoint::admit() {
  std::unique_lock lock(mutex_);
  throw_if_cooling_locked();
  slot_free_.wait(lock, [&] { return in_flight_ < options_.max_concurrency; });
  throw_if_cooling_locked();
  ++in_flight_;
  ++attempts_;
  return Slot(*this);
}

void Endpoint::release() {
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
  }
  slot_free_.notify_one();
}

void Endpoint::record_success() {
  std::lock_guard lock(mutex_);
  consecutive_failures_ = 0;
  cooling_until_ = 0.0;
}

void Endpoint::record_failure(const std::string& error, std::optional<double> retry_after_s) {
  std::lock_guard lock(mutex_);
  ++consecutive_failures_;
  ++failures_;
  last_error_ = error;
  if (consecutive_failures_ < options_.cooldown_after) return;
  // Cooled down for cooldown_s, or until the time the server named, whichever is later.
  const double length = std::max(options_.cooldown_s, retry_after_s.value_or(0.0));
  cooling_until_ = std::max(cooling_until_, clock_->now_s() + length);
}

EndpointHealth Endpoint::health() const {
  std::lock_guard lock(mutex_);
  EndpointHealth h;
  h.cooldown_left_s = std::max(0.0, cooling_until_ - clock_->now_s());
  h.cooling = h.cooldown_left_s > 0;
  h.consecutive_failures = consecutive_failures_;
  h.in_flight = in_flight_;
  h.attempts = attempts_;
  h.failures = failures_;
  h.last_error = last_error_;
  return h;
}

}  // namespace tandem::remote
