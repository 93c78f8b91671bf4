// Discrete-event kernel: virtual time in picoseconds, events ordered by
// (time, insertion sequence) so equal-time events run in a fixed order and a
// run with the same seed is bit-for-bit repeatable.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
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

  bool empty() const { return live_.empty(); }
  std::size_t pending() const { return live_.size(); }
  std::uint64_t events_run() const { return events_run_; }

 private:
  struct Entry {
    TimePs t;
    std::uint64_t seq;
    TimerId id;
    bool operator>(const Entry& o) const { return t != o.t ? t > o.t : seq > o.seq; }
  };
  void drop_cancelled_top() const;

  TimePs now_ = 0;
  std::uint64_t seq_ = 0;
  TimerId next_id_ = 1;
  std::uint64_t events_run_ = 0;
  // Cancelled events stay in the heap and are skipped when they surface.
  mutable std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  std::unordered_map<TimerId, std::function<void()>> live_;
};

}  // namespace vd::sim
