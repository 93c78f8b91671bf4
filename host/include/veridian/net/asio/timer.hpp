// vd::net::sim_timer: a timer on the Simulation's clock (veridian/net/asio.hpp).
#pragma once

#include "veridian/net/asio/common.hpp"

namespace vd::net {

// A timer on the Simulation's clock (paced to the wall clock in real time).
class sim_timer {
 public:
  sim_timer(asio::io_context& io, Scheduler& sched) : io_(&io), sched_(&sched) {}
  ~sim_timer() { cancel(); }
  void expires_after(std::chrono::nanoseconds d) { at_ = sched_->now() + static_cast<TimePs>(d.count()) * kPsPerNs; }
  TimePs expiry() const { return at_; }
  // Handler: void(error_code); operation_aborted when cancelled.
  template <class Token>
  auto async_wait(Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [this](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto* io = io_;
          pending_ = [io, h](error_code ec) { asio::post(*io, [h, ec]() mutable { std::move (*h)(ec); }); };
          auto fire = pending_;
          id_ = sched_->schedule_at(std::max(at_, sched_->now()), [this, fire] {
            id_ = kNoTimer;
            pending_ = nullptr;
            fire(error_code{});
          });
        },
        token);
  }
  void cancel() {
    if (id_ != kNoTimer) {
      sched_->cancel(id_);
      id_ = kNoTimer;
      if (pending_) pending_(asio::error::operation_aborted);
      pending_ = nullptr;
    }
  }

 private:
  asio::io_context* io_;
  Scheduler* sched_;
  TimePs at_ = 0;
  TimerId id_ = kNoTimer;
  std::function<void(error_code)> pending_;
};

}  // namespace vd::net
