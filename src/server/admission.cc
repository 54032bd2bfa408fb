#include "server/admission.h"

namespace tandem::server {

Admission::Admission(int parallel, int max_queue) : parallel_(parallel < 1 ? 1 : parallel), max_queue_(max_queue < 0 ? 0 : max_queue) {}

Admission::Slot::~Slot() {
  {
    std::lock_guard<std::mutex> lock(a_.mutex_);
    --a_.active_;
  }
  a_.cv_.notify_one();
}

std::unique_ptr<Admission::Slot> Admission::enter() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (closed_) return nullptr;
  if (active_ >= parallel_) {
    if (queued_ >= max_queue_) return nullptr;
    ++queued_;
    cv_.wait(lock, [&] { return closed_ || active_ < parallel_; });
    --queued_;
    if (closed_) return nullptr;
  }
  ++active_;
  return std::make_unique<Slot>(*this);
}

void Admission::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

int64_t Admission::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return active_;
}

int64_t Admission::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queued_;
}

}  // namespace tandem::server
