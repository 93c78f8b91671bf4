// A device with no hardware behind it (lo, veth): a frame handed to it is
// delivered to a receive handler later in the same virtual instant, as
// Linux's loopback_xmit and veth_xmit hand the skb to the receive path
// instead of a wire. The buffer moves (no copy). Deliveries run in batches
// from a zero-delay event, so a conversation between two stacks (or a
// stack and itself) never recurses, and each batch ends with the burst-end
// signal TCP uses to send one ACK per burst.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"

namespace vd::stack {

class VirtualDevice : public NetDevice {
 public:
  explicit VirtualDevice(Scheduler& sched) : sched_(sched) {}
  ~VirtualDevice() override;
  VirtualDevice(const VirtualDevice&) = delete;
  VirtualDevice& operator=(const VirtualDevice&) = delete;

  void set_rx_handler(RxHandler h) override { rx_ = std::move(h); }
  bool set_rx_burst_end(std::function<void()> h) override {
    burst_end_ = std::move(h);
    return true;
  }
  // With the host CPU model, each delivery runs as an interrupt poll on
  // queue 0's core (Linux runs it in the sender's softirq).
  bool set_irq_dispatch(IrqDispatch d) override {
    dispatch_ = std::move(d);
    return true;
  }
  // Frames queued for delivery and not yet handed to the receive handler.
  std::size_t pending() const { return q_.size(); }

 protected:
  // Queues a frame for this device's receive handler.
  void deliver_later(Packet&& p);
  // Drops what is queued (before the pool its buffers came from goes).
  void discard_pending() { q_.clear(); }
  Scheduler& sched() { return sched_; }
  std::uint64_t rx_packets_ = 0, rx_bytes_ = 0;

 private:
  void deliver();

  Scheduler& sched_;
  std::deque<Packet> q_;
  TimerId timer_ = kNoTimer;
  RxHandler rx_;
  std::function<void()> burst_end_;
  IrqDispatch dispatch_;
  // Cleared by the destructor: a delivery event or poll that outlives the
  // device sees it and does nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vd::stack
