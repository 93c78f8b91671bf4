// Shared by the Asio I/O objects (veridian/net/asio.hpp): the error-code
// bridge, the readiness waiters and buffer-sequence I/O.
#pragma once

#include <utility>  // before Boost 1.74's awaitable.hpp, which uses std::exchange without it

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <concepts>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "veridian/sim/simulation.hpp"
#include "veridian/stack/stack.hpp"

namespace vd::net {

namespace asio = boost::asio;
using boost::system::error_code;

inline error_code to_asio(std::error_code ec) {
  return ec ? error_code(ec.value(), boost::system::generic_category()) : error_code{};
}

namespace detail {

// Operations waiting for readiness; retried when the stack says something
// changed. Each returns true once it has completed (and posted its handler).
// They live in their socket's state and point back to it by raw pointer, so
// a socket that goes away takes its pending operations (and any coroutine
// suspended in them) with it instead of keeping itself alive in a cycle.
class Waiters {
 public:
  Waiters() = default;
  Waiters(Waiters&&) = default;
  void add(std::function<bool()> op) { ops_.push_back(std::move(op)); }
  // An operation with a deadline (SO_RCVTIMEO): if it has not completed
  // `timeout` after now on the stack's clock (`clock()`; nullptr once the
  // stack is gone), on_timeout() completes it instead and it is dropped.
  // A timer that fires after these Waiters are gone does nothing.
  void add_timed(std::function<bool()> op, std::function<Scheduler*()> clock, TimePs timeout,
                 std::function<void()> on_timeout) {
    Scheduler* sched = clock();
    if (!sched || timeout <= 0) return add(std::move(op));
    struct Deadline {
      bool done = false;
      TimerId id = kNoTimer;
    };
    auto d = std::make_shared<Deadline>();
    ops_.push_back([op = std::move(op), d, clock]() mutable {
      if (d->done) return true;
      if (!op()) return false;
      d->done = true;
      if (Scheduler* sc = clock(); sc && d->id != kNoTimer) sc->cancel(d->id);
      d->id = kNoTimer;
      return true;
    });
    std::weak_ptr<int> alive = alive_;
    d->id = sched->schedule_in(timeout, [d, alive, on_timeout = std::move(on_timeout)] {
      d->id = kNoTimer;
      if (d->done || alive.expired()) return;
      d->done = true;
      on_timeout();
    });
  }
  void retry() {
    std::deque<std::function<bool()>> still;
    auto ops = std::move(ops_);
    ops_.clear();
    for (auto& op : ops)
      if (!op()) still.push_back(std::move(op));
    for (auto& op : still) ops_.push_back(std::move(op));
  }
  bool empty() const { return ops_.empty(); }

 private:
  std::deque<std::function<bool()>> ops_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// Moves bytes through each buffer of a sequence with `io` (the socket's
// send or recv) until one comes back short or fails; returns the total.
template <class Buffer, class Buffers, class Io>
std::size_t each_buffer(const Buffers& bufs, std::error_code& ec, Io&& io) {
  std::size_t total = 0;
  for (auto it = asio::buffer_sequence_begin(bufs); it != asio::buffer_sequence_end(bufs); ++it) {
    Buffer b = *it;
    const std::size_t n = io(b, ec);
    total += n;
    if (ec || n < b.size()) break;
  }
  return total;
}

}  // namespace detail

}  // namespace vd::net
