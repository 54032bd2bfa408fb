// The state one remote endpoint (a base URL) shares between every call and
// every RemoteModel that uses it: a limit on calls in flight, and its health —
// after `cooldown_after` failed attempts in a row it is cooled down, and calls
// fail at once, until the cool-down (cooldown_s, or the Retry-After of the
// failure that started it when longer) has passed; attempts after that are
// probes: one more failure cools it down again, one success makes it healthy.
// (A single 429's Retry-After only delays the retry of its own call.)
//
// Thread-safe. Shared by shared_ptr: a config that names one base URL for two
// models gives both the same Endpoint, so the limit is per endpoint.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "remote/retry.h"

namespace tandem::remote {

struct EndpointOptions {
  std::string base_url;
  int max_concurrency = 4;       // calls in flight at once (> 0)
  int cooldown_after = 5;        // failed attempts in a row that start a cool-down (> 0)
  double cooldown_s = 30.0;      // length of a cool-down (a longer Retry-After wins)
};

// A snapshot for traces and metrics.
struct EndpointHealth {
  bool cooling = false;
  double cooldown_left_s = 0.0;
  int consecutive_failures = 0;
  int in_flight = 0;
  int64_t attempts = 0;  // every attempt admitted so far
  int64_t failures = 0;  // every failed attempt so far
  std::string last_error;
};

class Endpoint {
 public:
  // Throws tandem::Error when an option is out of range. `clock` must not be null.
  Endpoint(EndpointOptions options, std::shared_ptr<const Clock> clock);
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const EndpointOptions& options() const { return options_; }

  // Holds one of the endpoint's concurrency slots while alive.
  class Slot {
   public:
    explicit Slot(Endpoint& e) : e_(&e) {}
    Slot(Slot&& o) noexcept : e_(o.e_) { o.e_ = nullptr; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot() { if (e_) e_->release(); }
   private:
    Endpoint* e_;
  };

  // Waits for a free slot, then admits one attempt. Throws tandem::Error
  // naming the endpoint, the time left and the last error while it is
  // cooling down (checked before and after the wait).
  Slot admit();

  // The outcome of an admitted attempt. A failure is the endpoint's fault
  // (no connection, a timeout, 429, 5xx, a broken answer); `retry_after_s`
  // is the server's Retry-After, if any.
  void record_success();
  void record_failure(const std::string& error, std::optional<double> retry_after_s = std::nullopt);

  EndpointHealth health() const;

 private:
  void release();
  void throw_if_cooling_locked() const;

  const EndpointOptions options_;
  const std::shared_ptr<const Clock> clock_;
  mutable std::mutex mutex_;
  std::condition_variable slot_free_;
  int in_flight_ = 0;
  int consecutive_failures_ = 0;
  double cooling_until_ = 0.0;  // clock seconds; cooling while now < this
  int64_t attempts_ = 0;
  int64_t failures_ = 0;
  std::string last_error_;
};

}  // namespace tandem::remote
