// The NetDevice seam: what the stack sees of a NIC. RtlNic (Verilated RTL
// behind a driver) and SoftNic (plain C++) both implement it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

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

// Named counters ("tx_packets", "rx_drop_no_desc", ...). A map keeps the
// device-specific counters visible to Python and reports without a schema.
using Counters = std::map<std::string, std::uint64_t>;

class NetDevice {
 public:
  virtual ~NetDevice() = default;

  virtual std::string kind() const = 0;  // "rtl" or "soft"
  virtual const DeviceFeatures& features() const = 0;
  virtual MacAddr mac() const = 0;
  virtual BufferPool& pool() = 0;

  // Hands one frame (Ethernet header first, no FCS) to the device; the
  // device owns it from here. Returns false, and drops the frame, when the
  // queue is full; the device counts the drop.
  virtual bool transmit(Packet&& frame, std::uint16_t queue = 0) = 0;

  // The stack's receive entry point; called once per received frame.
  using RxHandler = std::function<void(Packet&&)>;
  virtual void set_rx_handler(RxHandler h) = 0;

  virtual Counters stats() const = 0;
};

}  // namespace vd
