#include "veridian/sim/event_queue.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace vd::sim {

TimerId EventQueue::schedule_at(TimePs t, std::function<void()> fn) {
  if (t < now_) t = now_;  // the past is not reachable: run as soon as possible
  std::uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else {
    i = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[i];
  s.armed = true;
  s.fn = std::move(fn);
  ++live_;
  const TimerId id = (TimerId(s.gen) << 32) | i;
  heap_.push_back(Entry{t, seq_++, id});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  return id;
}

void EventQueue::free_slot(std::uint32_t i) {
  Slot& s = slots_[i];
  s.armed = false;
  s.fn = nullptr;
  if (++s.gen == 0) s.gen = 1;
  --live_;
  free_.push_back(i);
}

void EventQueue::cancel(TimerId id) {
  if (!is_live(id)) return;
  free_slot(slot_of(id));
  // A cancelled entry stays in the heap until it reaches the top. Timers that
  // are re-armed on every ACK (RTO, keepalive) are cancelled far from the top,
  // so without this the heap fills with them and every push and pop pays for
  // it. Rebuilding from the live entries is linear and amortised over at
  // least as many cancels as entries are dropped.
  if (heap_.size() > 4 * live_ + 256) {
    std::erase_if(heap_, [this](const Entry& e) { return !is_live(e.id); });
    std::make_heap(heap_.begin(), heap_.end(), std::greater<>());
  }
}

void EventQueue::drop_cancelled_top() const {
  while (!heap_.empty() && !is_live(heap_.front().id)) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    heap_.pop_back();
  }
}

TimePs EventQueue::horizon() const {
  drop_cancelled_top();
  return heap_.empty() ? std::numeric_limits<TimePs>::max() : heap_.front().t;
}

bool EventQueue::run_one() {
  drop_cancelled_top();
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
  const Entry e = heap_.back();
  heap_.pop_back();
  // Moved out and the slot freed first: the callback may schedule (and so
  // reuse this slot) or cancel its own, now stale, id.
  std::function<void()> fn = std::move(slots_[slot_of(e.id)].fn);
  free_slot(slot_of(e.id));
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
