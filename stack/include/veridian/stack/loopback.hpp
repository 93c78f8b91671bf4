// The loopback device (`lo`) every Stack has as interface 0: what is sent to
// it comes back in as received, later in the same virtual instant, as
// Linux's loopback_xmit hands the skb to netif_rx. The buffer moves: no
// copy. Checksums are never computed (Linux's lo is NETIF_F_NO_CSUM): a
// frame is marked as verified on the way back in, which is sound because
// nothing sent to lo ever leaves the stack. MTU 65535 (the largest an IPv4
// datagram can be), so TCP sends 64 KiB segments without TSO.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"

namespace vd::stack {

class LoopbackDevice final : public NetDevice {
 public:
  static constexpr std::size_t kBufSize = 65535 + BufferPool::kDefaultHeadroom + 64;
  static constexpr std::size_t kBufs = 256;

  explicit LoopbackDevice(Scheduler& sched);
  ~LoopbackDevice() override;

  std::string kind() const override { return "loopback"; }
  const DeviceFeatures& features() const override { return features_; }
  MacAddr mac() const override { return {}; }
  // Made on first use, so an idle namespace costs no buffer memory.
  BufferPool& pool() override;
  bool transmit(Packet&& frame, std::uint16_t queue = 0) override;
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
  Counters stats() const override;
  // Frames sent and not yet delivered (bounded by the pool).
  std::size_t pending() const { return q_.size(); }

 private:
  void deliver();

  Scheduler& sched_;
  DeviceFeatures features_;
  std::unique_ptr<HostMemory> mem_;
  std::unique_ptr<BufferPool> pool_;
  std::deque<Packet> q_;
  TimerId timer_ = kNoTimer;
  RxHandler rx_;
  std::function<void()> burst_end_;
  IrqDispatch dispatch_;
  std::uint64_t packets_ = 0, bytes_ = 0, drops_ = 0;
  // Cleared by the destructor: a delivery event or poll that outlives the
  // device sees it and does nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vd::stack
