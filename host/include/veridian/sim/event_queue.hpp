// Discrete-event kernel: virtual time in picoseconds, events ordered by
// (time, insertion sequence) so equal-time events run in a fixed order and a
// run with the same seed is bit-for-bit repeatable.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "veridian/core/time.hpp"

namespace vd::sim {

class EventQueue final : public Scheduler {
 public:
  TimePs now() const override { return now_; }
  TimerId schedule_at(TimePs t, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  TimePs horizon() const override;

  // Runs every event with time <= t, then sets now() to t.
  // Returns the number of events run.
  std::uint64_t run_until(TimePs t);
  // Runs events until pred() holds (checked after each event) or time t is
  // reached. Returns true if pred() held.
  bool run_until(TimePs t, const std::function<bool()>& pred);
  // Runs the next event, if any; false when the queue is empty.
  bool run_one();

  bool empty() const { return live_ == 0; }
  std::size_t pending() const { return live_; }
  std::uint64_t events_run() const { return events_run_; }

 private:
  // Callbacks live in reusable slots; a TimerId is (generation << 32 | slot),
  // so cancel and the stale-entry check are array lookups, not hash-map
  // operations (which cost about a tenth of a bulk TCP run).
  struct Entry {
    TimePs t;
    std::uint64_t seq;
    TimerId id;
    bool operator>(const Entry& o) const { return t != o.t ? t > o.t : seq > o.seq; }
  };
  struct Slot {
    std::uint32_t gen = 1;  // bumped when the slot is freed; never 0, so no id is kNoTimer
    bool armed = false;
    std::function<void()> fn;
  };
  static std::uint32_t slot_of(TimerId id) { return static_cast<std::uint32_t>(id); }
  static std::uint32_t gen_of(TimerId id) { return static_cast<std::uint32_t>(id >> 32); }
  bool is_live(TimerId id) const {
    const std::uint32_t i = slot_of(id);
    return i < slots_.size() && slots_[i].armed && slots_[i].gen == gen_of(id);
  }
  void free_slot(std::uint32_t i);
  void drop_cancelled_top() const;

  TimePs now_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t events_run_ = 0;
  std::size_t live_ = 0;
  // Min-heap on (time, seq); cancelled entries stay until they reach the top.
  mutable std::vector<Entry> heap_;  // std::push_heap/pop_heap with std::greater
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
};

}  // namespace vd::sim
