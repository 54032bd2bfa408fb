// A Clock for tests: time moves only when someone sleeps or the test advances
// it, and every requested sleep is recorded (so back-off is checked exactly,
// without waiting).
#pragma once

#include <mutex>
#include <vector>

#include "remote/retry.h"

namespace tandem::remote::testing {

class FakeClock : public Clock {
 public:
  static constexpr double kUnixStart = 1445412000.0;  // 2015-10-21 07:20:00 UTC

  double now_s() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  double unix_now_s() const override { return kUnixStart + now_s(); }
  void sleep_s(double seconds) const override {
    std::lock_guard lock(mutex_);
    sleeps_.push_back(seconds);
    now_ += seconds;
  }
  void advance(double seconds) {
    std::lock_guard lock(mutex_);
    now_ += seconds;
  }
  std::vector<double> sleeps() const {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }

 private:
  mutable std::mutex mutex_;
  mutable double now_ = 0.0;
  mutable std::vector<double> sleeps_;
};

}  // namespace tandem::remote::testing
