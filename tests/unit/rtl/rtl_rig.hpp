// Shared by the RTL unit tests (tests/unit/rtl/): the Verilated NIC through
// rtl::NicModel, alone (RawRig, programmed over MMIO by the test) or behind
// the host driver (DriverRig), the RtlModel fixture (every width), frame
// builders and the TX offload rig. Definitions too large to repeat in every
// translation unit are in rtl_rig.cpp.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "frame_gen.hpp"
#include "veridian/abi.hpp"
#include "veridian/core/hostmem.hpp"
#include "veridian/dev/nic_driver.hpp"
#include "veridian/rtl/nic_model.hpp"

namespace rtl_test {

using vd::BufferPool;
using vd::HostMemory;
using vd::Packet;
using vd::dev::DriverConfig;
using vd::dev::NicDriver;
using vd::dev::RingIndex;
using vd::rtl::NicModel;
using vd::rtl::NicModelConfig;
using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint64_t kMaxCycles = 100000;  // bound on any single wait

// ---------------------------------------------------------------- widths

// Parameterised over every Verilated data width; instantiated once, in rtl_rig.cpp.
class RtlModel : public ::testing::TestWithParam<unsigned> {};

inline std::string width_name(const ::testing::TestParamInfo<unsigned>& i) { return "w" + std::to_string(i.param); }

// Runs every TEST_P of `suite` at every Verilated width, named Widths/<suite>.<test>/w<width>.
#define VD_RTL_INSTANTIATE_WIDTHS(suite) \
  INSTANTIATE_TEST_SUITE_P(Widths, suite, ::testing::ValuesIn(::vd::rtl::NicModel::available_widths()), \
                           ::rtl_test::width_name)

// ---------------------------------------------------------------- frames

using vd::tb::random_frame;  // frame_gen.hpp (shared with the block testbenches)

inline Bytes counting_frame(std::size_t n, std::uint8_t seed) {
  Bytes f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::uint8_t>(seed + i * 31 + (i >> 8));
  return f;
}

// A received frame with the offload results the driver reported.
struct Rx {
  Bytes data;
  vd::OffloadMeta meta;
};

// An RX handler that appends every delivered frame (and its meta) to q.
inline std::function<void(Packet&&)> collect_into(std::deque<Rx>& q) {
  return [&q](Packet&& p) { q.push_back({Bytes(p.data(), p.data() + p.size()), p.meta}); };
}

// ---------------------------------------------------------------- the NIC behind the driver

// Host memory and the driver's buffer pool.
struct PoolSpec {
  std::size_t mem_bytes = std::size_t(64) << 20;
  std::size_t buf_size = 10240;
  std::size_t buf_count = 256;
};

// The NIC model plus the host driver, wired like RtlNic does it but without
// the event loop: the test decides when to tick and services IRQs itself.
// Frames the MAC sends go to tx_out, frames the driver delivers to rx_in
// (unless the test sets its own RX handler).
struct DriverRig {
  HostMemory mem;
  BufferPool pool;
  std::unique_ptr<NicModel> nic;
  std::unique_ptr<NicDriver> drv;
  std::deque<Bytes> tx_out;  // frames the MAC sent
  std::deque<Bytes> rx_in;   // frames the driver delivered
  std::uint32_t irq_mask = 0;
  std::uint64_t irq_calls = 0;
  std::vector<std::uint64_t> irq_cycles;  // the cycle of every interrupt

  explicit DriverRig(unsigned width, DriverConfig cfg = DriverConfig{2, 4, std::nullopt}, PoolSpec ps = {});

  // Hands the interrupts raised since the last call to the driver.
  void service_irqs() {
    if (irq_mask) {
      const std::uint32_t m = irq_mask;
      irq_mask = 0;
      drv->handle_irq(m);
    }
  }

  // Ticks `step` cycles at a time (servicing interrupts after every batch)
  // until pred() holds.
  bool run_until(const std::function<bool()>& pred, std::uint64_t max_cycles = kMaxCycles, std::uint64_t step = 64) {
    std::uint64_t done = 0;
    while (!pred()) {
      if (done >= max_cycles) return false;
      done += nic->tick(std::min<std::uint64_t>(step, max_cycles - done), /*stop_on_output=*/true);
      service_irqs();
    }
    return true;
  }

  // Ticks `step` cycles at a time, interrupts not serviced, while the NIC is
  // busy (at most `rounds` times): the RX prefetch after init().
  void tick_while_busy(int rounds, std::uint64_t step) {
    for (int i = 0; i < rounds && !nic->idle(); ++i) nic->tick(step);
  }

  bool send(const Bytes& f, std::uint16_t q = 0) {
    Packet p = vd::packet_from_bytes(pool, f);
    if (!p) return false;
    return drv->transmit(std::move(p), q);
  }

  std::uint32_t reg(std::uint32_t addr) { return nic->mmio_read(addr); }
};

// ---------------------------------------------------------------- the NIC alone

// The NIC alone, programmed over MMIO by the test (no driver), so the test
// can post descriptors a driver never would.
struct RawRig {
  struct Ring {
    std::uint64_t desc = 0, cpl = 0;
    unsigned log2 = 4;
    std::uint32_t size = 16;
    std::uint16_t prod = 0, cons = 0;
  };
  HostMemory mem{std::size_t(8) << 20};
  std::unique_ptr<NicModel> nic;
  std::vector<Bytes> tx_out;
  std::vector<std::uint64_t> tx_cycle;
  std::vector<std::uint32_t> irqs;  // one entry per interrupt pulse

  explicit RawRig(unsigned width, NicModelConfig mc = {});

  // A frame in host memory, posted on TX queue q.
  void send(Ring& r, unsigned q, const Bytes& f) {
    const std::uint64_t buf = mem.alloc(f.size());
    ASSERT_TRUE(mem.write(buf, f));
    post_tx(r, q, buf, static_cast<std::uint16_t>(f.size()));
  }

  void setup(Ring& r, bool tx, unsigned q, std::optional<std::uint64_t> desc_override = std::nullopt);
  void enable() {
    nic->mmio_write(vd::abi::REG_CTRL, 1u << vd::abi::CTRL_ENABLE_BIT);
    flush();
  }
  // MMIO writes reach the CSRs one per cycle; a read drains them first. A
  // short frame injected right after a doorbell would otherwise race it.
  void flush() { (void)nic->mmio_read(vd::abi::REG_STATUS); }

  // Writes a descriptor (TX or RX: both are DESC_SIZE bytes) into ring r's
  // next free slot and advances r.prod; the doorbell is the caller's.
  template <typename Desc>
  void write_desc(Ring& r, const Desc& d) {
    d.pack({mem.ptr(r.desc + std::uint64_t(RingIndex::slot(r.prod, r.size)) * vd::abi::DESC_SIZE, vd::abi::DESC_SIZE),
            vd::abi::DESC_SIZE});
    ++r.prod;
  }
  void post_tx_desc(Ring& r, unsigned q, const vd::abi::TxDesc& d) {
    write_desc(r, d);
    nic->mmio_write(vd::abi::txq_reg(q, vd::abi::REG_Q_PROD), r.prod);
  }
  void post_tx(Ring& r, unsigned q, std::uint64_t addr, std::uint16_t len) {
    vd::abi::TxDesc d;
    d.addr = addr;
    d.len = len;
    post_tx_desc(r, q, d);
  }
  void ring_tx_doorbell(Ring& r, unsigned q) {
    ++r.prod;
    nic->mmio_write(vd::abi::txq_reg(q, vd::abi::REG_Q_PROD), r.prod);
  }
  void post_rx(Ring& r, unsigned q, std::uint64_t addr, std::uint16_t len) {
    vd::abi::RxDesc d;
    d.addr = addr;
    d.len = len;
    write_desc(r, d);
    nic->mmio_write(vd::abi::rxq_reg(q, vd::abi::REG_Q_PROD), r.prod);
    flush();
  }

  // Ring r's next completion if the NIC has written it (not consumed).
  std::optional<vd::abi::Cpl> peek_cpl(const Ring& r) {
    const std::uint64_t at = r.cpl + std::uint64_t(RingIndex::slot(r.cons, r.size)) * vd::abi::CPL_SIZE;
    const auto c = vd::abi::Cpl::unpack({mem.ptr(at, vd::abi::CPL_SIZE), vd::abi::CPL_SIZE});
    if ((c.phase & 1) != RingIndex::phase(r.cons, r.log2)) return std::nullopt;
    return c;
  }

  // Ticks until the next completion of ring r is written; returns it.
  std::optional<vd::abi::Cpl> wait_cpl(Ring& r, std::uint64_t max_cycles = kMaxCycles) {
    for (std::uint64_t n = 0; n <= max_cycles; ++n) {
      if (const auto c = peek_cpl(r)) {
        ++r.cons;
        return c;
      }
      nic->tick(1);
    }
    return std::nullopt;
  }

  // Ticks until the model is idle (bounded).
  bool settle(std::uint64_t max_cycles = kMaxCycles) {
    for (std::uint64_t n = 0; n < max_cycles; ++n) {
      if (nic->idle()) return true;
      nic->tick(1);
    }
    return nic->idle();
  }
};

// ---------------------------------------------------------------- TX offloads (full checksum, TSO)

// Posted by hand (RawRig) with the descriptor's offload fields, one frame at
// a time from one reusable 64 KiB buffer.
struct OffloadRig {
  RawRig rig;
  RawRig::Ring txr;
  std::uint64_t buf = 0;
  explicit OffloadRig(unsigned width);
  // Posts f with flags/mss, waits for the completion; the wire frames are in rig.tx_out.
  std::optional<vd::abi::Cpl> run(const Bytes& f, std::uint16_t flags, std::uint16_t mss = 0);
};

inline constexpr std::uint16_t kFlagIp = 1u << vd::abi::TXF_CSUM_IP_BIT;
inline constexpr std::uint16_t kFlagL4 = 1u << vd::abi::TXF_CSUM_L4_BIT;
inline constexpr std::uint16_t kFlagTso = 1u << vd::abi::TXF_TSO_BIT;

using vd::tb::gen_frame;
using vd::tb::GenOpts;

// Full checksum insertion expected for the requested layers: insert_full's
// output, restricted to the fields the flags ask for.
Bytes expect_full(const Bytes& f, std::uint16_t flags);

}  // namespace rtl_test
