#include "veridian/sim/event_queue.hpp"

#include <limits>
#include <stdexcept>

namespace vd::sim {

TimerId EventQueue::schedule_at(TimePs t, std::function<void()> fn) {
  if (t < now_) t = now_;  // the past is not reachable: run as soon as possible
  const TimerId id = next_id_++;
  heap_.push(Entry{t, seq_++, id});
  live_.emplace(id, std::move(fn));
  return id;
}

void EventQueue::cancel(TimerId id) { live_.erase(id); }

void EventQueue::drop_cancelled_top() const {
  while (!heap_.empty() && !live_.count(heap_.top().id)) heap_.pop();
}

TimePs EventQueue::horizon() const {
  drop_cancelled_top();
  return heap_.empty() ? std::numeric_limits<TimePs>::max() : heap_.top().t;
}

bool EventQueue::run_one() {
  drop_cancelled_top();
  if (heap_.empty()) return false;
  const Entry e = heap_.top();
  heap_.pop();
  auto it = live_.find(e.id);
  std::function<void()> fn = std::move(it->second);
  live_.erase(it);
  now_ = e.t;
  ++events_run_;
  fn();
  return true;
}

std::uint64_t EventQueue::run_until(TimePs t) {
  std::uint64_t n = 0;
  while (horizon() <= t) {
    run_one();
    ++n;
  }
  if (t > now_) now_ = t;
  return n;
}

bool EventQueue::run_until(TimePs t, const std::function<bool()>& pred) {
  if (pred()) return true;
  while (horizon() <= t) {
    run_one();
    if (pred()) return true;
  }
  if (t > now_) now_ = t;
  return pred();
}

}  // namespace vd::sim
