#include "remote/retry.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>

namespace tandem::remote {

double SystemClock::now_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double SystemClock::unix_now_s() const {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void SystemClock::sleep_s(double seconds) const {
  if (seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

Jitter random_jitter() {
  struct State {
    std::mutex mutex;
    std::mt19937_64 rng{std::random_device{}()};
  };
  auto state = std::make_shared<State>();
  return [state] {
    std::lock_guard lock(state->mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(state->rng);
  };
}

double backoff_delay_s(const RetryPolicy& policy, int retry, std::optional<double> retry_after_s, double jitter) {
  const double cap = std::min(policy.max_delay_s, policy.base_delay_s * std::ldexp(1.0, std::min(retry, 60)));
  const double delay = std::clamp(jitter, 0.0, 1.0) * cap;
  return retry_after_s ? std::max(delay, *retry_after_s) : delay;
}

bool is_retryable_status(int status) { return status == 429 || (status >= 500 && status <= 599); }

std::optional<double> parse_retry_after(std::string_view value, double unix_now_s) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::nullopt;  // more than 30 years: not a real answer
    return std::stod(std::string(value));
  }
  // IMF-fixdate, the form RFC 9110 requires senders to use.
  std::tm tm{};
  std::istringstream in{std::string(value)};
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail()) return std::nullopt;
  const double when = static_cast<double>(timegm(&tm));
  return std::max(0.0, when - unix_now_s);
}

}  // namespace tandem::remote
