// An in-host learning bridge (Linux's `ip link add br0 type bridge`): ports
// are devices (veth ends, NICs) it takes over, and br0 itself is a device a
// stack attaches, so the bridge can have addresses of its own. A frame
// arriving on a port teaches the bridge where its source lives (MacTable,
// ageing on virtual time), then goes to the port its destination was learnt
// on, to br0 when it is addressed to br0's MAC, or, for broadcast,
// multicast and unknown destinations, to every other port and to br0
// (flooding). A frame whose destination is on the port it came in on is
// filtered. What br0 sends goes the same way, from no port. No STP, no
// VLAN filtering.
//
// Buffers: a frame moves (no copy) when it goes to one place and the target
// can take its buffer (a virtual device takes any; a NIC only its own
// pool's). Floods copy the frame for every extra target, as a frame that
// one receiver might rewrite in place cannot be shared; each copy is
// counted in the copying pool's bytes_copied_in.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "veridian/core/mac_table.hpp"
#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"

namespace vd::stack {

struct BridgeConfig {
  TimePs ageing = s_to_ps(300);   // Linux's ageing_time default (300 s)
  std::size_t fdb_size = 4096;    // learnt stations at most; more are flooded (fdb_full)
  std::uint16_t mtu = 1500;
};

struct BridgeStats {
  std::uint64_t rx_frames = 0;     // arrived on a port
  std::uint64_t to_host = 0;       // handed to br0's stack
  std::uint64_t forwarded = 0;     // to the one port the destination was learnt on
  std::uint64_t flooded = 0;       // frames sent to every other port
  std::uint64_t filtered = 0;      // destination on the ingress port
  std::uint64_t runts = 0;         // shorter than an Ethernet header
  std::uint64_t copies = 0;        // flood copies made
  std::uint64_t drop_no_buffer = 0;  // a copy's pool was empty
  std::uint64_t drop_port_busy = 0;  // a port refused the frame (its queue full, no carrier)
  std::uint64_t drop_down = 0;     // br0 down: frames neither forwarded nor taken up
};

class BridgeDevice final : public NetDevice {
 public:
  // `pool` (what the stack builds br0's frames in and floods copy into)
  // must outlive the bridge and every stack br0 is attached to.
  BridgeDevice(Scheduler& sched, BufferPool& pool, MacAddr mac, BridgeConfig cfg = {});
  // Lets go of its ports (their receive handlers are cleared).
  ~BridgeDevice() override;
  BridgeDevice(const BridgeDevice&) = delete;
  BridgeDevice& operator=(const BridgeDevice&) = delete;

  // Enslaves `dev` (ip link set DEV master br0): the bridge becomes its
  // receiver and brings it up. Returns its port number. std::invalid_argument
  // if it is a port already or is the bridge itself.
  unsigned add_port(NetDevice& dev);
  // Releases `dev` (nomaster): its receive handler is cleared and the
  // stations learnt on it are forgotten. std::invalid_argument if not a port.
  void remove_port(NetDevice& dev);
  std::size_t port_count() const;
  std::optional<unsigned> port_of(const NetDevice& dev) const;
  // The forwarding database (bridge fdb show), expired entries removed.
  std::vector<MacEntry> fdb() { return fdb_.entries(); }
  const MacTableStats& fdb_stats() const { return fdb_.stats(); }
  const BridgeStats& bridge_stats() const { return stats_; }

  // NetDevice: br0 as its stack sees it.
  std::string kind() const override { return "bridge"; }
  const DeviceFeatures& features() const override { return features_; }
  MacAddr mac() const override { return mac_; }
  BufferPool& pool() override { return pool_; }
  bool transmit(Packet&& frame, std::uint16_t queue = 0) override;
  void set_rx_handler(RxHandler h) override { rx_ = std::move(h); }
  bool set_rx_burst_end(std::function<void()> h) override {
    burst_end_ = std::move(h);
    return true;
  }
  Counters stats() const override;
  // As Linux shows it: carrier while any port has carrier, or while it has
  // no ports at all.
  bool carrier() const override;
  void set_admin_up(bool up) override { up_ = up; }

 private:
  struct Port {
    NetDevice* dev = nullptr;  // nullptr once removed (port numbers are not reused)
  };
  void from_port(unsigned port, Packet&& frame);
  // Sends `frame` to every live port but `except` (and up when `up`); the
  // last target gets the frame itself when it can take it.
  void flood(std::optional<unsigned> except, bool up, Packet&& frame);
  void to_port(unsigned port, Packet&& frame);
  void up(Packet&& frame);
  // A copy of `f` in `pool`, or an empty handle (counted) when it has none.
  Packet copy(const Packet& f, BufferPool& pool);
  // Whether `dev` can send a buffer from `f`'s pool.
  static bool takes(NetDevice& dev, const Packet& f);

  BufferPool& pool_;
  MacAddr mac_;
  DeviceFeatures features_;
  MacTable fdb_;
  std::vector<Port> ports_;
  RxHandler rx_;
  std::function<void()> burst_end_;
  bool up_ = false;
  BridgeStats stats_;
  std::uint64_t tx_packets_ = 0, tx_bytes_ = 0, rx_packets_ = 0, rx_bytes_ = 0;
};

}  // namespace vd::stack
