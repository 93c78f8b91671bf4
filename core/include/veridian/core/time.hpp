// Virtual time and the scheduler seam. The stack core never reads a clock of
// its own: it is handed a Scheduler, which the discrete-event simulator, a
// real-time loop or a unit-test fake implements.
#pragma once

#include <cstdint>
#include <functional>

namespace vd {

using TimePs = std::uint64_t;  // picoseconds since the start of a run

constexpr TimePs kPsPerNs = 1000;
constexpr TimePs ns_to_ps(std::uint64_t n) { return n * kPsPerNs; }
constexpr TimePs us_to_ps(std::uint64_t n) { return n * 1000 * kPsPerNs; }
constexpr TimePs ms_to_ps(std::uint64_t n) { return n * 1000 * 1000 * kPsPerNs; }
constexpr TimePs s_to_ps(std::uint64_t n) { return n * 1000 * 1000 * 1000 * kPsPerNs; }

using TimerId = std::uint64_t;
constexpr TimerId kNoTimer = 0;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual TimePs now() const = 0;
  // Runs fn at time t (>= now()). Events at equal times run in the order
  // they were scheduled, which keeps runs deterministic.
  virtual TimerId schedule_at(TimePs t, std::function<void()> fn) = 0;
  // Cancelling an unknown or already-fired timer is a no-op.
  virtual void cancel(TimerId id) = 0;

  // The earliest time at which anything else may happen (the next pending
  // event). A clocked model may run ahead up to, not past, this horizon.
  virtual TimePs horizon() const { return now(); }

  TimerId schedule_in(TimePs delay, std::function<void()> fn) {
    return schedule_at(now() + delay, std::move(fn));
  }
};

}  // namespace vd
