// A veth pair: two Ethernet devices joined back to back, as Linux's veth. A
// frame sent on one end is received on the other in the same virtual
// instant (VirtualDevice), the buffer moving across: no copy. Each end has
// its own MTU, up/down state and counters; an end has carrier only while
// both ends are up (Linux's veth_open/veth_close), and a frame longer than
// the receiving end's MTU is refused and counted on the sending end, as
// veth_xmit does. Both ends take buffers from one pool the owner supplies (a host's
// veth pool), so a buffer that crossed from one namespace to another stays
// valid after the pair is gone.
//
// No checksum offload: the sending stack computes checksums and the
// receiving one verifies them, in software (Linux skips both with
// CHECKSUM_PARTIAL; see docs/stack.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "veridian/stack/virtual_device.hpp"

namespace vd::stack {

class VethDevice final : public VirtualDevice {
 public:
  static constexpr std::uint16_t kMinMtu = 68;
  static constexpr std::uint16_t kMaxMtu = 9000;
  // A pool buffer must hold a maximal frame with headroom and a VLAN tag.
  static constexpr std::size_t kBufSize = kMaxMtu + BufferPool::kDefaultHeadroom + 64;

  // The two ends. `pool` (buffers of at least kBufSize) must outlive both
  // ends and every stack they are attached to. Both start down, as a new
  // Linux veth does; attaching one to a Stack brings it up.
  static std::pair<std::unique_ptr<VethDevice>, std::unique_ptr<VethDevice>> make_pair(Scheduler& sched,
                                                                                        BufferPool& pool,
                                                                                        MacAddr a, MacAddr b);
  // Unlinks the peer: it loses carrier and drops what it sends from now on.
  ~VethDevice() override;

  std::string kind() const override { return "veth"; }
  const DeviceFeatures& features() const override { return features_; }
  MacAddr mac() const override { return mac_; }
  BufferPool& pool() override { return pool_; }
  bool transmit(Packet&& frame, std::uint16_t queue = 0) override;
  Counters stats() const override;
  bool carrier() const override { return up_ && peer_ != nullptr && peer_->up_; }
  void set_admin_up(bool up) override { up_ = up; }
  bool admin_up() const { return up_; }
  // 68..9000; std::invalid_argument otherwise.
  void set_mtu(std::uint16_t mtu);
  VethDevice* peer() const { return peer_; }

 private:
  VethDevice(Scheduler& sched, BufferPool& pool, MacAddr mac);

  BufferPool& pool_;
  MacAddr mac_;
  DeviceFeatures features_;
  VethDevice* peer_ = nullptr;
  bool up_ = false;
  std::uint64_t tx_packets_ = 0, tx_bytes_ = 0;
  std::uint64_t tx_drop_no_carrier_ = 0, tx_drop_peer_mtu_ = 0;
};

}  // namespace vd::stack
