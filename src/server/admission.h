// A bounded admission gate: at most `parallel` requests hold a slot, at most
// `max_queue` wait for one; a request arriving beyond that is refused (the
// server answers 429 with Retry-After). Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

namespace tandem::server {

class Admission {
 public:
  Admission(int parallel, int max_queue);

  // Holds a slot until destroyed.
  class Slot {
   public:
    explicit Slot(Admission& a) : a_(a) {}
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    Admission& a_;
  };

  // Waits for a slot; nullptr at once when the queue is full, or when
  // close() was called (before or while waiting).
  std::unique_ptr<Slot> enter();
  // Wakes every waiter with nullptr and refuses later enter() calls.
  void close();

  int64_t active() const;
  int64_t queued() const;

 private:
  const int parallel_, max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  int active_ = 0, queued_ = 0;
  bool closed_ = false;
};

}  // namespace tandem::server
