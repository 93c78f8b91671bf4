// The host driver for the Veridian NIC: reset and init, ring set-up in host
// memory, TX post, RX refill, completion processing and interrupt handling.
// It reaches the NIC only through an MmioPort and the rings in host memory
// (never through the model's internals), exactly as a kernel driver reaches
// a PCIe device; the RTL harness is one implementation of that port.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "veridian/core/hostmem.hpp"
#include "veridian/core/netdev.hpp"
#include "veridian/core/mmio_port.hpp"

namespace vd::dev {

class AbiMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DriverConfig {
  std::uint16_t queues = 4;      // queue pairs the driver enables (<= what the NIC has)
  unsigned ring_log2 = 8;        // entries per ring = 2^ring_log2
  std::optional<std::uint32_t> expect_abi_id;  // tests use this to provoke a mismatch
  // Interrupt moderation for every ring: an interrupt per irq_frames
  // completions, or irq_delay_cycles after the first unsignalled one
  // (0 = no timer; rounded up to the NIC's IRQ_MOD_UNIT).
  bool rx_csum = true;  // let the NIC verify RX checksums (else QCTRL_RX_NO_CSUM on every RX ring)
  std::uint16_t irq_frames = 1;
  std::uint32_t irq_delay_cycles = 0;
};

// Ring index arithmetic on free-running 16-bit indices (exposed for unit tests).
struct RingIndex {
  static std::uint16_t used(std::uint16_t prod, std::uint16_t cons) { return static_cast<std::uint16_t>(prod - cons); }
  static bool full(std::uint16_t prod, std::uint16_t cons, std::uint32_t size) { return used(prod, cons) >= size; }
  static std::uint32_t slot(std::uint16_t idx, std::uint32_t size) { return idx & (size - 1); }
  // Completion phase expected at free-running index idx: 1 on the first pass.
  static std::uint8_t phase(std::uint16_t idx, unsigned log2) { return static_cast<std::uint8_t>(((idx >> log2) & 1u) ^ 1u); }
};

class NicDriver {
 public:
  NicDriver(MmioPort& nic, HostMemory& mem, BufferPool& pool, DriverConfig cfg);

  // Resets the NIC, checks the ABI, sets up rings, posts RX buffers, arms
  // interrupts and enables the NIC. Throws AbiMismatch or std::runtime_error.
  void init();

  bool transmit(Packet&& frame, std::uint16_t queue);
  // Programs the NIC's RSS registers (validated against the enabled queues).
  void set_rss(const RssConfig& c);
  // Interrupt entry: processes the completions of every queue in mask,
  // refills RX and re-arms. RX frames go to the handler.
  void handle_irq(std::uint32_t mask);
  void set_rx_handler(std::function<void(Packet&&)> h) { rx_ = std::move(h); }
  // Called after each interrupt that delivered frames (see NetDevice).
  void set_rx_burst_end(std::function<void()> h) { burst_end_ = std::move(h); }

  std::uint32_t abi_id() const { return abi_id_; }
  std::uint32_t nic_features() const { return features_; }
  std::uint16_t queues() const { return cfg_.queues; }
  Counters counters() const { return counters_.to_map(); }
  std::size_t tx_in_flight(std::uint16_t q) const;

 private:
  struct Ring {
    std::uint64_t desc = 0, cpl = 0;
    std::uint32_t size = 0;
    unsigned log2 = 0;
    std::uint16_t prod = 0;      // descriptors posted
    std::uint16_t cpl_cons = 0;  // completions consumed
    std::vector<Packet> slots;
  };
  void setup_ring(Ring& r, bool tx, unsigned q);
  void refill_rx(unsigned q);
  void process_tx(unsigned q);
  void process_rx(unsigned q);

  MmioPort& nic_;
  HostMemory& mem_;
  BufferPool& pool_;
  DriverConfig cfg_;
  std::vector<Ring> txr_, rxr_;
  std::function<void(Packet&&)> rx_;
  std::function<void()> burst_end_;
  std::uint32_t abi_id_ = 0, features_ = 0;
  enum Ctr : std::size_t {
    tx_packets, tx_bytes, rx_packets, rx_bytes, tx_ring_full, tx_errors, rx_errors, rx_no_buffer, irqs, tx_invalid,
    kCounters
  };
  CounterSlots<kCounters> counters_{{"tx_packets", "tx_bytes", "rx_packets", "rx_bytes", "tx_ring_full",
                                     "tx_errors", "rx_errors", "rx_no_buffer", "irqs", "tx_invalid"}};
};

}  // namespace vd::dev
