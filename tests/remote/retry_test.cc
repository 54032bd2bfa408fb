// Back-off, Retry-After and the endpoint's cool-down and concurrency limit,
// with a fake clock and fixed jitter: every expected wait is computed by hand.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>

#include "fake_clock.h"
#include "remote/endpoint.h"
#include "remote/retry.h"
#include "util/error.h"

namespace tandem::remote {
namespace {

using testing::FakeClock;

TEST(RetryBackoff, FullJitterOfADoublingCappedWindow) {
  const RetryPolicy p{.max_retries = 5, .base_delay_s = 0.5, .max_delay_s = 3.0, .max_retry_after_s = 60};
  // window = min(3, 0.5 * 2^retry): 0.5, 1, 2, 3, 3; delay = jitter * window.
  EXPECT_DOUBLE_EQ(backoff_delay_s(p, 0, std::nullopt, 0.5), 0.25);
  EXPECT_DOUBLE_EQ(backoff_delay_s(p, 1, std::nullopt, 0.5), 0.5);
  EXPECT_DOUBLE_EQ(backoff_delay_s(p, 2, std::nullopt, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(backoff_delay_s(p, 3, std::nullopt, 1.0), 3.0);
  EXPECT_DOUBLE_EQ(backoff_delay_s(p, 40, std::nullopt, 1.0), 3.0);
  EXPECT_DOUBLE_EQ(backoff_delay_s(p, 2, std::nullopt, 0.0), 0.0);
}

TEST(RetryBackoff, RetryAfterIsAFloorNotACap) {
  const RetryPolicy p{.max_retries = 5, .base_delay_s = 0.5, .max_delay_s = 30.0, .max_retry_after_s = 60};
  EXPECT_DOUBLE_EQ(backoff_delay_s(p, 0, 2.0, 0.5), 2.0);    // 0.25 < 2
  EXPECT_DOUBLE_EQ(backoff_delay_s(p, 4, 2.0, 0.5), 4.0);    // 0.5 * 8 = 4 > 2
}

TEST(RetryBackoff, RetryableStatuses) {
  EXPECT_TRUE(is_retryable_status(429));
  EXPECT_TRUE(is_retryable_status(500));
  EXPECT_TRUE(is_retryable_status(503));
  for (int s : {400, 401, 403, 404, 408, 422}) EXPECT_FALSE(is_retryable_status(s)) << s;
}

TEST(RetryAfter, SecondsAndHttpDates) {
  EXPECT_EQ(parse_retry_after("120", 0), 120.0);
  EXPECT_EQ(parse_retry_after(" 3 ", 0), 3.0);
  // Wed, 21 Oct 2015 07:28:00 GMT is unix 1445412480 (RFC 9110's example).
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412000.0), 480.0);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445413000.0), 0.0);  // in the past
  EXPECT_FALSE(parse_retry_after("", 0));
  EXPECT_FALSE(parse_retry_after("soon", 0));
  EXPECT_FALSE(parse_retry_after("-5", 0));
  EXPECT_FALSE(parse_retry_after("1.5", 0));
}

std::shared_ptr<Endpoint> endpoint(const std::shared_ptr<FakeClock>& clock, int after, double cooldown, int limit = 4) {
  return std::make_shared<Endpoint>(
      EndpointOptions{.base_url = "http://e", .max_concurrency = limit, .cooldown_after = after, .cooldown_s = cooldown},
      clock);
}

TEST(EndpointHealth, CoolsDownAfterFailuresInARowUntilTheTimeHasPassed) {
  auto clock = std::make_shared<FakeClock>();
  auto e = endpoint(clock, 2, 10.0);
  { auto s = e->admit(); }
  e->record_failure("HTTP 503: busy");
  EXPECT_FALSE(e->health().cooling);
  { auto s = e->admit(); }
  e->record_failure("HTTP 503: busy");
  EXPECT_TRUE(e->health().cooling);
  EXPECT_DOUBLE_EQ(e->health().cooldown_left_s, 10.0);
  try {
    e->admit();
    FAIL() << "admitted while cooling";
  } catch (const Error& err) {
    const std::string m = err.what();
    EXPECT_NE(m.find("http://e is cooling down for 10.0 s more after 2 failed attempts"), std::string::npos) << m;
    EXPECT_NE(m.find("HTTP 503: busy"), std::string::npos) << m;
  }
  clock->advance(9.9);
  EXPECT_THROW(e->admit(), Error);
  clock->advance(0.2);
  { auto s = e->admit(); }  // a probe
  e->record_failure("HTTP 503: still busy");  // the probe failed: cooled down again at once
  EXPECT_TRUE(e->health().cooling);
  clock->advance(10.1);
  { auto s = e->admit(); }
  e->record_success();
  const EndpointHealth h = e->health();
  EXPECT_FALSE(h.cooling);
  EXPECT_EQ(h.consecutive_failures, 0);
  EXPECT_EQ(h.attempts, 4);
  EXPECT_EQ(h.failures, 3);
}

TEST(EndpointHealth, ALongerRetryAfterSetsTheCooldown) {
  auto clock = std::make_shared<FakeClock>();
  auto e = endpoint(clock, 1, 10.0);
  e->record_failure("HTTP 429: slow down", 30.0);
  EXPECT_DOUBLE_EQ(e->health().cooldown_left_s, 30.0);
  // Below the threshold a Retry-After only delays its own call's retry.
  auto e2 = endpoint(clock, 2, 10.0);
  e2->record_failure("HTTP 429: slow down", 30.0);
  EXPECT_FALSE(e2->health().cooling);
}

TEST(EndpointConcurrency, AThirdCallWaitsForAFreeSlot) {
  auto clock = std::make_shared<FakeClock>();
  auto e = endpoint(clock, 5, 10.0, 2);
  auto a = std::make_unique<Endpoint::Slot>(e->admit());
  Endpoint::Slot b = e->admit();
  EXPECT_EQ(e->health().in_flight, 2);
  auto third = std::async(std::launch::async, [&] { Endpoint::Slot c = e->admit(); });
  EXPECT_EQ(third.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  a.reset();
  EXPECT_EQ(third.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  third.get();
  EXPECT_EQ(e->health().in_flight, 1);
}

TEST(EndpointOptionsCheck, OutOfRangeIsAnError) {
  auto clock = std::make_shared<FakeClock>();
  EXPECT_THROW(endpoint(clock, 1, 1.0, 0), Error);
  EXPECT_THROW(endpoint(clock, 0, 1.0), Error);
}

}  // namespace
}  // namespace tandem::remote
