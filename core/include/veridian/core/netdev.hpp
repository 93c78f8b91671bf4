// The NetDevice seam: what the stack sees of a NIC. RtlNic (Verilated RTL
// behind a driver) and SoftNic (plain C++) both implement it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "veridian/core/hostmem.hpp"

namespace vd {

using MacAddr = std::array<std::uint8_t, 6>;

struct DeviceFeatures {
  bool tx_csum_ip = false;
  bool tx_csum_l4 = false;
  bool tx_csum_partial = false;
  bool tso = false;
  bool rx_csum = false;
  bool rx_hash = false;
  std::uint16_t tx_queues = 1;
  std::uint16_t rx_queues = 1;
  std::uint16_t mtu = 1500;
};

// Receive-side scaling set-up (see offload/rss.hpp for the hash and the
// classifier). `types` enables hash types: bit (1 << RSS type value), the
// RSS_TYPE_* codes of the ABI; 0 turns RSS off. `table` maps the hash's low
// bits to an RX queue: a power-of-two length up to 128 (the NIC's table is
// 128 entries; a shorter one is repeated, which gives the same queue as
// hash % size).
struct RssConfig {
  std::array<std::uint8_t, 40> key{};
  std::vector<std::uint16_t> table;
  std::uint32_t types = 0;
};

// Throws std::invalid_argument naming what is wrong.
void validate_rss(const RssConfig& c, std::uint16_t rx_queues);

// Named counters ("tx_packets", "rx_drop_no_desc", ...). A map keeps the
// device-specific counters visible to Python and reports without a schema.
using Counters = std::map<std::string, std::uint64_t>;

// TSO send buffers (64 KiB each) a NIC offers the stack. TCP keeps its send
// buffer in them for zero-copy sends while the pool is at least half free,
// so 256 (16 MiB) lets a 4 MiB send buffer live there whole with room for
// the NIC's other sends; 64 left half of such a buffer to be copied.
inline constexpr std::size_t kTsoBuffers = 256;

// Per-packet counters of a device or driver: fixed slots bumped by index, made
// into a Counters map only when read. (A string-keyed map lookup per packet
// was 5% of a TCP bulk transfer's instructions.) `names` lists the slots in
// the order of the owner's index enum.
template <std::size_t N>
class CounterSlots {
 public:
  explicit constexpr CounterSlots(const std::array<const char*, N>& names) : names_(names) {}
  std::uint64_t& operator[](std::size_t i) { return v_[i]; }
  std::uint64_t operator[](std::size_t i) const { return v_[i]; }
  Counters to_map() const {
    Counters c;
    for (std::size_t i = 0; i < N; ++i) c[names_[i]] = v_[i];
    return c;
  }

 private:
  std::array<const char*, N> names_;
  std::array<std::uint64_t, N> v_{};
};

class NetDevice {
 public:
  virtual ~NetDevice() = default;

  virtual std::string kind() const = 0;  // "rtl" or "soft"
  virtual const DeviceFeatures& features() const = 0;
  virtual MacAddr mac() const = 0;
  virtual BufferPool& pool() = 0;
  // Buffers for TSO sends (up to 64 KiB + headroom); nullptr without TSO.
  virtual BufferPool* tso_pool() { return nullptr; }

  // Hands one frame (Ethernet header first, no FCS) to the device; the
  // device owns it from here. Returns false, and drops the frame, when the
  // queue is full; the device counts the drop.
  virtual bool transmit(Packet&& frame, std::uint16_t queue = 0) = 0;

  // The stack's receive entry point; called once per received frame.
  using RxHandler = std::function<void(Packet&&)>;
  virtual void set_rx_handler(RxHandler h) = 0;
  // Called after each burst of receive-handler calls (one interrupt's worth,
  // NAPI-style), so the stack can answer a burst with one ACK per connection
  // as a GRO receiver does. Returns false if the device delivers frame by
  // frame and will never call it.
  virtual bool set_rx_burst_end(std::function<void()> /*h*/) { return false; }

  virtual Counters stats() const = 0;

  // Whether the link is up (a cable's far end, a veth's peer). Frames sent
  // without carrier are dropped by the stack and counted.
  virtual bool carrier() const { return true; }
  // The stack's administrative state for the device (ip link set up/down,
  // attach and detach), for devices whose carrier depends on it (veth).
  virtual void set_admin_up(bool /*up*/) {}

  // The host CPU model's interrupt dispatch (sim/cpus.hpp): with one set,
  // the device hands each queue's interrupt poll to it, to run on that
  // queue's core when the core is free, instead of running it at once.
  // Returns false if the device cannot.
  using IrqDispatch = std::function<void(std::uint16_t queue, std::function<void()> poll)>;
  virtual bool set_irq_dispatch(IrqDispatch /*d*/) { return false; }

  // Programs RSS; throws std::invalid_argument on a bad configuration and
  // std::runtime_error if the device has no RSS.
  virtual void set_rss(const RssConfig& c);
};

}  // namespace vd
