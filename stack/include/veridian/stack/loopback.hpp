// The loopback device (`lo`) every Stack has as interface 0: what is sent to
// it comes back in as received (VirtualDevice). Checksums are never
// computed (Linux's lo is NETIF_F_NO_CSUM): a frame is marked as verified
// on the way back in, which is sound because nothing sent to lo ever leaves
// the stack. MTU 65535 (the largest an IPv4 datagram can be), so TCP sends
// 64 KiB segments without TSO.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "veridian/stack/virtual_device.hpp"

namespace vd::stack {

class LoopbackDevice final : public VirtualDevice {
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
  Counters stats() const override;

 private:
  DeviceFeatures features_;
  std::unique_ptr<HostMemory> mem_;
  std::unique_ptr<BufferPool> pool_;
  std::uint64_t tx_packets_ = 0, tx_bytes_ = 0, drops_ = 0;
};

}  // namespace vd::stack
