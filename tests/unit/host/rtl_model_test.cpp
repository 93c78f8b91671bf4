// The Verilated NIC through rtl::NicModel, for every Verilated data width:
// registers, idle/skip, the driver's TX/RX path with the frame looped back,
// ABI mismatch, bad TX descriptors (posted by hand over MMIO), RX drops and a
// seeded random TX->RX loopback.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "veridian/abi.hpp"
#include "veridian/core/hostmem.hpp"
#include "veridian/dev/nic_driver.hpp"
#include "veridian/offload/csum_offload.hpp"
#include "veridian/offload/frame_layout.hpp"
#include "veridian/offload/tso.hpp"
#include "veridian/rtl/nic_model.hpp"


using vd::BufferPool;
using vd::HostMemory;
using vd::Packet;
using vd::dev::DriverConfig;
using vd::dev::NicDriver;
using vd::dev::RingIndex;
using vd::rtl::NicModel;
using vd::rtl::NicModelConfig;
using Bytes = std::vector<std::uint8_t>;

namespace {

constexpr std::uint64_t kMaxCycles = 100000;  // bound on any single wait

Bytes random_frame(std::mt19937& rng, std::size_t n) {
  Bytes f(n);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : f) b = static_cast<std::uint8_t>(byte(rng));
  return f;
}

Bytes counting_frame(std::size_t n, std::uint8_t seed) {
  Bytes f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::uint8_t>(seed + i * 31 + (i >> 8));
  return f;
}

std::string hex(std::uint32_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// The NIC model plus the host driver, wired like RtlNic does it but without
// the event loop: the test decides when to tick and services IRQs itself.
struct DriverRig {
  HostMemory mem{std::size_t(64) << 20};
  BufferPool pool{mem, 10240, 256};
  std::unique_ptr<NicModel> nic;
  std::unique_ptr<NicDriver> drv;
  std::deque<Bytes> tx_out;  // frames the MAC sent
  std::deque<Bytes> rx_in;   // frames the driver delivered
  std::uint32_t irq_mask = 0;
  std::uint64_t irq_calls = 0;

  explicit DriverRig(unsigned width, DriverConfig cfg = DriverConfig{2, 4, std::nullopt}) {
    NicModelConfig mc;
    mc.data_width = width;
    nic = NicModel::create(mc, mem);
    nic->on_tx([this](Bytes&& f, std::uint64_t) { tx_out.push_back(std::move(f)); });
    nic->on_irq([this](std::uint32_t m, std::uint64_t) {
      irq_mask |= m;
      ++irq_calls;
    });
    drv = std::make_unique<NicDriver>(*nic, mem, pool, cfg);
    drv->set_rx_handler([this](Packet&& p) { rx_in.emplace_back(p.data(), p.data() + p.size()); });
  }

  void service_irqs() {
    if (irq_mask) {
      const std::uint32_t m = irq_mask;
      irq_mask = 0;
      drv->handle_irq(m);
    }
  }

  // Ticks (servicing interrupts after every batch) until pred() holds.
  bool run_until(const std::function<bool()>& pred, std::uint64_t max_cycles = kMaxCycles) {
    std::uint64_t done = 0;
    while (!pred()) {
      if (done >= max_cycles) return false;
      done += nic->tick(std::min<std::uint64_t>(64, max_cycles - done), /*stop_on_output=*/true);
      service_irqs();
    }
    return true;
  }

  bool send(const Bytes& f, std::uint16_t q = 0) {
    Packet p = vd::packet_from_bytes(pool, f);
    if (!p) return false;
    return drv->transmit(std::move(p), q);
  }

  std::uint32_t reg(std::uint32_t addr) { return nic->mmio_read(addr); }
};

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

  explicit RawRig(unsigned width, NicModelConfig mc = {}) {
    mc.data_width = width;
    nic = NicModel::create(mc, mem);
    nic->on_tx([this](Bytes&& f, std::uint64_t c) {
      tx_out.push_back(std::move(f));
      tx_cycle.push_back(c);
    });
    nic->on_irq([this](std::uint32_t m, std::uint64_t) { irqs.push_back(m); });
  }

  // A frame in host memory, posted on TX queue q.
  void send(Ring& r, unsigned q, const Bytes& f) {
    const std::uint64_t buf = mem.alloc(f.size());
    ASSERT_TRUE(mem.write(buf, f));
    post_tx(r, q, buf, static_cast<std::uint16_t>(f.size()));
  }

  void setup(Ring& r, bool tx, unsigned q, std::optional<std::uint64_t> desc_override = std::nullopt) {
    r.size = 1u << r.log2;
    r.desc = desc_override ? *desc_override : mem.alloc(std::size_t(r.size) * vd::abi::DESC_SIZE, 4096);
    r.cpl = mem.alloc(std::size_t(r.size) * vd::abi::CPL_SIZE, 4096);
    auto reg = [&](std::uint32_t off) { return tx ? vd::abi::txq_reg(q, off) : vd::abi::rxq_reg(q, off); };
    nic->mmio_write(reg(vd::abi::REG_Q_RING_LO), static_cast<std::uint32_t>(r.desc));
    nic->mmio_write(reg(vd::abi::REG_Q_RING_HI), static_cast<std::uint32_t>(r.desc >> 32));
    nic->mmio_write(reg(vd::abi::REG_Q_CPL_LO), static_cast<std::uint32_t>(r.cpl));
    nic->mmio_write(reg(vd::abi::REG_Q_CPL_HI), static_cast<std::uint32_t>(r.cpl >> 32));
    nic->mmio_write(reg(vd::abi::REG_Q_SIZE_LOG2), r.log2);
    nic->mmio_write(reg(vd::abi::REG_Q_CTRL), 1u << vd::abi::QCTRL_ENABLE_BIT);
  }
  void enable() {
    nic->mmio_write(vd::abi::REG_CTRL, 1u << vd::abi::CTRL_ENABLE_BIT);
    flush();
  }
  // MMIO writes reach the CSRs one per cycle; a read drains them first. A
  // short frame injected right after a doorbell would otherwise race it.
  void flush() { (void)nic->mmio_read(vd::abi::REG_STATUS); }

  void post_tx(Ring& r, unsigned q, std::uint64_t addr, std::uint16_t len) {
    vd::abi::TxDesc d;
    d.addr = addr;
    d.len = len;
    d.pack({mem.ptr(r.desc + std::uint64_t(RingIndex::slot(r.prod, r.size)) * vd::abi::DESC_SIZE, vd::abi::DESC_SIZE),
            vd::abi::DESC_SIZE});
    ++r.prod;
    nic->mmio_write(vd::abi::txq_reg(q, vd::abi::REG_Q_PROD), r.prod);
  }
  void ring_tx_doorbell(Ring& r, unsigned q) {
    ++r.prod;
    nic->mmio_write(vd::abi::txq_reg(q, vd::abi::REG_Q_PROD), r.prod);
  }
  void post_rx(Ring& r, unsigned q, std::uint64_t addr, std::uint16_t len) {
    vd::abi::RxDesc d;
    d.addr = addr;
    d.len = len;
    d.pack({mem.ptr(r.desc + std::uint64_t(RingIndex::slot(r.prod, r.size)) * vd::abi::DESC_SIZE, vd::abi::DESC_SIZE),
            vd::abi::DESC_SIZE});
    ++r.prod;
    nic->mmio_write(vd::abi::rxq_reg(q, vd::abi::REG_Q_PROD), r.prod);
    flush();
  }

  // Ticks until the next completion of ring r is written; returns it.
  std::optional<vd::abi::Cpl> wait_cpl(Ring& r, std::uint64_t max_cycles = kMaxCycles) {
    const std::uint64_t at = r.cpl + std::uint64_t(RingIndex::slot(r.cons, r.size)) * vd::abi::CPL_SIZE;
    for (std::uint64_t n = 0; n <= max_cycles; ++n) {
      const auto c = vd::abi::Cpl::unpack({mem.ptr(at, vd::abi::CPL_SIZE), vd::abi::CPL_SIZE});
      if ((c.phase & 1) == RingIndex::phase(r.cons, r.log2)) {
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

class RtlModel : public ::testing::TestWithParam<unsigned> {};

std::string width_name(const ::testing::TestParamInfo<unsigned>& i) { return "w" + std::to_string(i.param); }

}  // namespace

// ---------------------------------------------------------------- registers, idle

TEST(RtlModelWidths, BothWidthsAreBuiltAndOthersRejected) {
  const auto w = NicModel::available_widths();
  EXPECT_FALSE(w.empty());
  HostMemory mem(1 << 20);
  NicModelConfig bad;
  bad.data_width = 128;
  if (std::find(w.begin(), w.end(), 128u) == w.end()) {
    EXPECT_THROW(NicModel::create(bad, mem), std::invalid_argument);
  }
  NicModelConfig zero_clock;
  zero_clock.clock_mhz = 0;
  EXPECT_THROW(NicModel::create(zero_clock, mem), std::invalid_argument);
}

TEST_P(RtlModel, IdentityRegisters) {
  HostMemory mem(1 << 20);
  NicModelConfig mc;
  mc.data_width = GetParam();
  auto nic = NicModel::create(mc, mem);
  EXPECT_EQ(nic->config().data_width, GetParam());
  EXPECT_EQ(nic->mmio_read(vd::abi::REG_ABI_ID), vd::abi::ABI_ID_VALUE);
  EXPECT_EQ(nic->mmio_read(vd::abi::REG_DATA_WIDTH), GetParam());
  EXPECT_EQ(nic->mmio_read(vd::abi::REG_VERSION), vd::abi::ABI_VERSION);
  const std::uint32_t qc = nic->mmio_read(vd::abi::REG_QUEUE_COUNT);
  EXPECT_GE(qc & 0xff, 2u);
  EXPECT_LE(qc & 0xff, vd::abi::MAX_QUEUES);
  EXPECT_EQ(qc & 0xff, (qc >> 8) & 0xff);
  EXPECT_EQ(nic->mmio_read(vd::abi::REG_CTRL), 0u) << "disabled after reset";
  EXPECT_EQ(nic->mmio_read(vd::abi::REG_STATUS) & 1u, 1u) << "STATUS.idle after reset";
  for (std::uint32_t r : {vd::abi::REG_STAT_TX_PKTS, vd::abi::REG_STAT_RX_PKTS, vd::abi::REG_STAT_RX_DROP_ERR,
                          vd::abi::REG_STAT_RX_DROP_NODESC, vd::abi::REG_STAT_DESC_ERR})
    EXPECT_EQ(nic->mmio_read(r), 0u) << "stat register " << r;
  // A read-write register reads back what was written.
  nic->mmio_write(vd::abi::txq_reg(1, vd::abi::REG_Q_RING_LO), 0x12345670u);
  nic->mmio_write(vd::abi::txq_reg(1, vd::abi::REG_Q_RING_HI), 0x9u);
  EXPECT_EQ(nic->mmio_read(vd::abi::txq_reg(1, vd::abi::REG_Q_RING_LO)), 0x12345670u);
  EXPECT_EQ(nic->mmio_read(vd::abi::txq_reg(1, vd::abi::REG_Q_RING_HI)), 0x9u);
  EXPECT_EQ(nic->mmio_read(vd::abi::rxq_reg(1, vd::abi::REG_Q_RING_LO)), 0u) << "TX and RX queue windows are separate";
  EXPECT_EQ(nic->stats().mmio_writes, 2u);
}

TEST_P(RtlModel, IdleAfterResetAndSkipToCostsNoCycles) {
  HostMemory mem(1 << 20);
  NicModelConfig mc;
  mc.data_width = GetParam();
  auto nic = NicModel::create(mc, mem);
  EXPECT_TRUE(nic->idle());
  EXPECT_EQ(nic->next_input_cycle(), UINT64_MAX);
  const std::uint64_t c0 = nic->cycle();
  const std::uint64_t evaluated = nic->stats().cycles;
  nic->skip_to(c0 + 1'000'000);
  EXPECT_EQ(nic->cycle(), c0 + 1'000'000);
  EXPECT_EQ(nic->stats().cycles, evaluated) << "skipping evaluates nothing";
  nic->skip_to(5);  // backwards: no-op
  EXPECT_EQ(nic->cycle(), c0 + 1'000'000);
  // Still alive after the jump: a register read takes a couple of cycles.
  EXPECT_EQ(nic->mmio_read(vd::abi::REG_ABI_ID), vd::abi::ABI_ID_VALUE);
  EXPECT_GT(nic->cycle(), c0 + 1'000'000);
  EXPECT_LE(nic->cycle(), c0 + 1'000'000 + 4);
  EXPECT_TRUE(nic->idle());
  // A frame due in the future keeps the model idle and names the wake-up cycle.
  const std::uint64_t due = nic->cycle() + 500;
  nic->rx_frame(counting_frame(64, 1), due);
  EXPECT_TRUE(nic->idle());
  EXPECT_EQ(nic->next_input_cycle(), due);
  nic->skip_to(due);
  EXPECT_FALSE(nic->idle()) << "the frame is due now";
  EXPECT_EQ(nic->next_input_cycle(), due);
  // Tick it through (the NIC is disabled: the frame is dropped) and go idle.
  for (int i = 0; i < 1000 && !nic->idle(); ++i) nic->tick(1);
  EXPECT_TRUE(nic->idle());
  EXPECT_EQ(nic->next_input_cycle(), UINT64_MAX);
  EXPECT_EQ(nic->stats().rx_frames, 1u);
}

TEST_P(RtlModel, PastArrivalCycleIsClampedToNow) {
  HostMemory mem(1 << 20);
  NicModelConfig mc;
  mc.data_width = GetParam();
  auto nic = NicModel::create(mc, mem);
  nic->skip_to(10'000);
  nic->rx_frame(counting_frame(64, 1), 3);
  EXPECT_EQ(nic->next_input_cycle(), 10'000u);
  EXPECT_FALSE(nic->idle());
}

// ---------------------------------------------------------------- driver path

TEST_P(RtlModel, DriverInitLeavesTheNicEnabledAndIdle) {
  DriverRig r(GetParam());
  r.drv->init();
  EXPECT_EQ(r.drv->abi_id(), vd::abi::ABI_ID_VALUE);
  EXPECT_EQ(r.reg(vd::abi::REG_CTRL), 1u << vd::abi::CTRL_ENABLE_BIT);
  EXPECT_EQ(r.reg(vd::abi::rxq_reg(0, vd::abi::REG_Q_PROD)), 16u) << "RX ring of 16 fully posted";
  EXPECT_EQ(r.reg(vd::abi::rxq_reg(1, vd::abi::REG_Q_PROD)), 16u);
  EXPECT_EQ(r.reg(vd::abi::txq_reg(0, vd::abi::REG_Q_SIZE_LOG2)), 4u);
  EXPECT_EQ(r.reg(vd::abi::txq_reg(0, vd::abi::REG_Q_CTRL)), 1u);
  // Posted RX descriptors are prefetched into the NIC's cache (a bounded
  // amount of work), then the NIC is idle.
  EXPECT_TRUE(r.run_until([&] { return r.nic->idle(); }, 2000)) << "prefetching RX descriptors never ends";
  EXPECT_GT(r.nic->stats().dma_reads, 0u);
  EXPECT_EQ(r.irq_calls, 0u);
  const auto reads = r.nic->stats().dma_reads;
  r.nic->tick(1000);
  EXPECT_EQ(r.nic->stats().dma_reads, reads) << "an idle NIC keeps reading";
  EXPECT_TRUE(r.nic->idle());
}

TEST_P(RtlModel, DriverTransmitsAndReceivesFramesOfManySizes) {
  DriverRig r(GetParam());
  r.drv->init();
  const std::size_t sizes[] = {14, 15, 60, 61, 63, 64, 65, 127, 128, 1514, 1518, 4097, 9000, vd::abi::MAX_FRAME};
  std::uint64_t tx_bytes = 0;
  std::uint16_t q = 0;
  for (std::size_t n : sizes) {
    SCOPED_TRACE("size " + std::to_string(n) + " queue " + std::to_string(q));
    const Bytes f = counting_frame(n, static_cast<std::uint8_t>(n));
    ASSERT_TRUE(r.send(f, q));
    ASSERT_TRUE(r.run_until([&] { return !r.tx_out.empty(); })) << "frame never left the MAC";
    ASSERT_EQ(r.tx_out.size(), 1u);
    EXPECT_EQ(r.tx_out.front(), f);
    // TX completion comes back through the IRQ and frees the buffer.
    ASSERT_TRUE(r.run_until([&] { return r.drv->tx_in_flight(q) == 0; }));
    // Loop it back in.
    r.nic->rx_frame(std::move(r.tx_out.front()), r.nic->cycle());
    r.tx_out.pop_front();
    ASSERT_TRUE(r.run_until([&] { return !r.rx_in.empty(); })) << "frame never reached the driver";
    ASSERT_EQ(r.rx_in.size(), 1u);
    EXPECT_EQ(r.rx_in.front(), f);
    r.rx_in.pop_front();
    tx_bytes += n;
    q = static_cast<std::uint16_t>(q ^ 1);
  }
  const std::uint32_t npk = static_cast<std::uint32_t>(std::size(sizes));
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_TX_PKTS), npk);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_PKTS), npk);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_TX_BYTES), static_cast<std::uint32_t>(tx_bytes));
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_BYTES), static_cast<std::uint32_t>(tx_bytes));
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_DESC_ERR), 0u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_ERR), 0u);
  const auto c = r.drv->counters();
  EXPECT_EQ(c.at("tx_packets"), npk);
  EXPECT_EQ(c.at("rx_packets"), npk);
  EXPECT_EQ(c.at("rx_bytes"), tx_bytes);
  EXPECT_EQ(c.at("tx_errors"), 0u);
  EXPECT_EQ(c.at("rx_errors"), 0u);
  EXPECT_GT(c.at("irqs"), 0u);
  EXPECT_EQ(r.nic->stats().dma_read_errors, 0u);
  EXPECT_EQ(r.nic->stats().dma_write_errors, 0u);
  // Nothing leaked: every TX buffer came back, RX rings are full again.
  EXPECT_EQ(r.pool.available(), r.pool.capacity() - 2 * 16);
  // Quiet again once the last MMIO writes have gone through.
  ASSERT_TRUE(r.run_until([&] { return r.nic->idle(); }, 1000));
}

TEST_P(RtlModel, AbiMismatchIsRefusedWithTheIdInTheMessage) {
  DriverConfig cfg{2, 4, vd::abi::ABI_ID_VALUE ^ 0x5a5a5a5au};
  DriverRig r(GetParam(), cfg);
  try {
    r.drv->init();
    FAIL() << "init() accepted a wrong ABI id";
  } catch (const vd::dev::AbiMismatch& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("ABI id"), std::string::npos) << msg;
    EXPECT_NE(msg.find(hex(vd::abi::ABI_ID_VALUE)), std::string::npos) << "reported id missing: " << msg;
    EXPECT_NE(msg.find(hex(vd::abi::ABI_ID_VALUE ^ 0x5a5a5a5au)), std::string::npos) << "expected id missing: " << msg;
  }
  EXPECT_EQ(r.reg(vd::abi::REG_CTRL), 0u) << "a refused NIC is not enabled";
}

TEST_P(RtlModel, DriverConfigIsValidated) {
  HostMemory mem(std::size_t(8) << 20);
  BufferPool pool(mem, 2048, 64);
  NicModelConfig mc;
  mc.data_width = GetParam();
  auto nic = NicModel::create(mc, mem);
  const auto make = [&](DriverConfig c) { NicDriver d(*nic, mem, pool, c); };
  EXPECT_THROW(make(DriverConfig{2, vd::abi::MIN_RING_LOG2 - 1, std::nullopt}), std::invalid_argument);
  EXPECT_THROW(make(DriverConfig{2, vd::abi::MAX_RING_LOG2 + 1, std::nullopt}), std::invalid_argument);
  EXPECT_THROW(make(DriverConfig{0, 4, std::nullopt}), std::invalid_argument);
  EXPECT_NO_THROW(make(DriverConfig{2, vd::abi::MAX_RING_LOG2, std::nullopt}));
  const std::uint32_t nq = nic->mmio_read(vd::abi::REG_QUEUE_COUNT) & 0xff;
  NicDriver too_many(*nic, mem, pool, DriverConfig{static_cast<std::uint16_t>(nq + 1), 4, std::nullopt});
  EXPECT_THROW(too_many.init(), std::runtime_error);
}

// ---------------------------------------------------------------- bad TX descriptors

TEST_P(RtlModel, BadTxDescriptorsCompleteWithErrorsAndTheNicKeepsWorking) {
  RawRig rig(GetParam());
  RawRig::Ring tx;
  rig.setup(tx, true, 0);
  rig.enable();
  const std::uint64_t end = rig.mem.base() + rig.mem.size();
  struct Case {
    const char* what;
    std::uint64_t addr;
    std::uint16_t len;
    std::uint16_t status;
  };
  const Case cases[] = {
      {"below host memory", 0x1000, 64, vd::abi::ERR_DMA},
      {"straddles the end of host memory", end - 10, 64, vd::abi::ERR_DMA},
      {"just past the end", end, 64, vd::abi::ERR_DMA},
      {"wraps past 2^64", 0xffff'ffff'ffff'ffc0ull, 128, vd::abi::ERR_DMA},
      {"zero length", rig.mem.base(), 0, vd::abi::ERR_DESC_LEN},
      {"longer than MAX_FRAME", rig.mem.base(), static_cast<std::uint16_t>(vd::abi::MAX_FRAME + 1), vd::abi::ERR_DESC_LEN},
  };
  std::uint32_t errs = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::uint16_t idx = tx.prod;
    rig.post_tx(tx, 0, c.addr, c.len);
    auto cpl = rig.wait_cpl(tx);
    ASSERT_TRUE(cpl.has_value()) << "no completion";
    EXPECT_EQ(cpl->status, c.status);
    EXPECT_EQ(cpl->index, RingIndex::slot(idx, tx.size));
    EXPECT_EQ(cpl->len, 0u);
    EXPECT_EQ(cpl->queue, 0u);
    ++errs;
    EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), errs);
    EXPECT_EQ(rig.nic->mmio_read(vd::abi::txq_reg(0, vd::abi::REG_Q_CONS)), tx.prod);
  }
  EXPECT_TRUE(rig.tx_out.empty()) << "nothing may reach the wire from a bad descriptor";
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_TX_PKTS), 0u);

  // A good frame afterwards goes out intact.
  const Bytes good = counting_frame(333, 7);
  const std::uint64_t buf = rig.mem.alloc(good.size());
  ASSERT_TRUE(rig.mem.write(buf, good));
  rig.post_tx(tx, 0, buf, static_cast<std::uint16_t>(good.size()));
  auto cpl = rig.wait_cpl(tx);
  ASSERT_TRUE(cpl.has_value());
  EXPECT_EQ(cpl->status, vd::abi::ERR_OK);
  EXPECT_EQ(cpl->len, good.size());
  ASSERT_EQ(rig.tx_out.size(), 1u);
  EXPECT_EQ(rig.tx_out[0], good);
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_TX_PKTS), 1u);
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), errs);
  EXPECT_TRUE(rig.settle());
}

TEST_P(RtlModel, TxDescriptorRingOutsideHostMemoryCompletesWithDmaError) {
  RawRig rig(GetParam());
  RawRig::Ring bad, good;
  rig.setup(bad, true, 1, /*desc ring*/ 0x40);  // the ring itself is unreachable
  rig.setup(good, true, 0);
  rig.enable();
  rig.ring_tx_doorbell(bad, 1);  // no descriptor can be written there: only the doorbell
  auto c = rig.wait_cpl(bad);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status, vd::abi::ERR_DMA);
  EXPECT_EQ(c->queue, 1u);
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), 1u);
  const Bytes f = counting_frame(80, 3);
  const std::uint64_t buf = rig.mem.alloc(f.size());
  ASSERT_TRUE(rig.mem.write(buf, f));
  rig.post_tx(good, 0, buf, 80);
  auto g = rig.wait_cpl(good);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->status, vd::abi::ERR_OK);
  ASSERT_EQ(rig.tx_out.size(), 1u);
  EXPECT_EQ(rig.tx_out[0], f);
}

// ---------------------------------------------------------------- RX drops

TEST_P(RtlModel, BadRxFramesAreDroppedAndCounted) {
  DriverRig r(GetParam());
  r.drv->init();
  const auto deliver = [&](Bytes f, bool err) { r.nic->rx_frame(std::move(f), r.nic->cycle(), err); };
  deliver(counting_frame(64, 1), /*err=*/true);  // MAC error (tuser)
  deliver(counting_frame(3, 2), false);          // runt
  deliver(counting_frame(13, 3), false);         // one byte short of an Ethernet header
  deliver(Bytes{}, false);                       // nothing at all
  ASSERT_TRUE(r.run_until([&] { return r.nic->idle(); }));
  r.run_until([] { return false; }, 2000);  // let any (wrong) delivery surface
  EXPECT_TRUE(r.rx_in.empty()) << "a bad frame reached the driver";
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_ERR), 4u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_PKTS), 0u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_NODESC), 0u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_FULL), 0u);
  // Good frames at the limits still get through afterwards.
  const Bytes min = counting_frame(14, 6);
  const Bytes max = counting_frame(vd::abi::MAX_FRAME, 7);
  deliver(min, false);
  ASSERT_TRUE(r.run_until([&] { return r.rx_in.size() == 1; }));
  deliver(max, false);
  ASSERT_TRUE(r.run_until([&] { return r.rx_in.size() == 2; }));
  EXPECT_EQ(r.rx_in[0], min);
  EXPECT_EQ(r.rx_in[1], max);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_ERR), 4u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_PKTS), 2u);
  // Oversize frames (one byte over, and far over MAX_FRAME) are dropped and counted.
  deliver(counting_frame(vd::abi::MAX_FRAME + 1, 4), false);
  deliver(counting_frame(vd::abi::MAX_FRAME + 4096, 5), false);
  ASSERT_TRUE(r.run_until([&] { return r.nic->idle(); }));
  r.run_until([] { return false; }, 2000);
  EXPECT_EQ(r.rx_in.size(), 2u) << "an oversize frame reached the driver";
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_ERR), 6u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_PKTS), 2u);
}

// After an oversize frame the RX engine must accept the next good frame.
// vd_rx_engine.sv keeps rx_oversize set across frames (oversize_now ORs in
// the previous value even on the first beat of a new frame), so every later
// frame is dropped as oversize until the NIC is reset.
TEST_P(RtlModel, RxRecoversAfterAnOversizeFrame) {
  DriverRig r(GetParam());
  r.drv->init();
  r.nic->rx_frame(counting_frame(vd::abi::MAX_FRAME + 1, 1), r.nic->cycle());
  ASSERT_TRUE(r.run_until([&] { return r.nic->idle(); }));
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_ERR), 1u);
  const Bytes good = counting_frame(100, 2);
  for (int i = 0; i < 3; ++i) {
    r.nic->rx_frame(good, r.nic->cycle());
    r.run_until([&] { return r.rx_in.size() == std::size_t(i + 1); }, 20000);
  }
  EXPECT_EQ(r.rx_in.size(), 3u) << "good frames after an oversize one were lost";
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_ERR), 1u) << "good frames were counted as errors";
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_PKTS), 3u);
}

TEST_P(RtlModel, FifthBackToBackFrameFindsAllSlotsFullAndIsCounted) {
  DriverRig r(GetParam());
  r.drv->init();
  // Four store-and-forward slots. Right after init no RX descriptor has been
  // prefetched yet, so the first frame waits out the DMA latency (~125
  // cycles) for one; short frames right behind it fill the other slots, and
  // the fifth and sixth have nowhere to go.
  for (std::uint8_t i = 0; i < 6; ++i) r.nic->rx_frame(counting_frame(64, i), r.nic->cycle());
  ASSERT_TRUE(r.run_until([&] { return r.rx_in.size() == 4; }));
  r.run_until([] { return false; }, 2000);
  ASSERT_EQ(r.rx_in.size(), 4u);
  for (std::uint8_t i = 0; i < 4; ++i) EXPECT_EQ(r.rx_in[i], counting_frame(64, i));
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_FULL), 2u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_ERR), 0u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_PKTS), 4u);
}

TEST_P(RtlModel, RxFrameWithoutADescriptorIsCountedAsNoDesc) {
  RawRig rig(GetParam());
  RawRig::Ring rx;
  rig.setup(rx, false, 0);
  rig.enable();
  rig.nic->rx_frame(counting_frame(100, 1), rig.nic->cycle());
  ASSERT_TRUE(rig.settle());
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_RX_DROP_NODESC), 1u);
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_RX_PKTS), 0u);
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::rxq_reg(0, vd::abi::REG_Q_CPL_PROD)), 0u) << "a drop writes no completion";
  // Post one buffer: the next frame lands in it.
  const Bytes f = counting_frame(100, 2);
  const std::uint64_t buf = rig.mem.alloc(vd::abi::MAX_FRAME);
  rig.post_rx(rx, 0, buf, static_cast<std::uint16_t>(vd::abi::MAX_FRAME));
  rig.nic->rx_frame(f, rig.nic->cycle());
  auto c = rig.wait_cpl(rx);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status, vd::abi::ERR_OK);
  EXPECT_EQ(c->len, 100u);
  EXPECT_EQ(c->index, 0u);
  Bytes got(100);
  ASSERT_TRUE(rig.mem.read(buf, got));
  EXPECT_EQ(got, f);
  // The ring is empty again: the third frame is dropped too.
  rig.nic->rx_frame(counting_frame(64, 3), rig.nic->cycle());
  ASSERT_TRUE(rig.settle());
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_RX_DROP_NODESC), 2u);
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_RX_PKTS), 1u);
}

TEST_P(RtlModel, RxBufferTooSmallCompletesWithAnError) {
  RawRig rig(GetParam());
  RawRig::Ring rx;
  rig.setup(rx, false, 0);
  rig.enable();
  const std::uint64_t small = rig.mem.alloc(64);
  const std::uint64_t guard = rig.mem.alloc(64);
  const Bytes sentinel(64, 0xee);
  ASSERT_TRUE(rig.mem.write(guard, sentinel));
  rig.post_rx(rx, 0, small, 64);
  rig.nic->rx_frame(counting_frame(65, 1), rig.nic->cycle());
  auto c = rig.wait_cpl(rx);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status, vd::abi::ERR_RX_BUF_SMALL);
  EXPECT_EQ(c->len, 0u);
  Bytes after(64);
  ASSERT_TRUE(rig.mem.read(guard, after));
  EXPECT_EQ(after, sentinel) << "the NIC wrote past the posted buffer";
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), 1u);
}

// ---------------------------------------------------------------- queues, interrupts, harness models

TEST_P(RtlModel, RingSizeIsClampedAndDisablingAQueueRewindsIt) {
  RawRig rig(GetParam());
  const std::uint32_t lg = vd::abi::txq_reg(3, vd::abi::REG_Q_SIZE_LOG2);
  rig.nic->mmio_write(lg, 0);
  EXPECT_EQ(rig.nic->mmio_read(lg), vd::abi::MIN_RING_LOG2);
  rig.nic->mmio_write(lg, 15);
  EXPECT_EQ(rig.nic->mmio_read(lg), vd::abi::MAX_RING_LOG2);
  rig.nic->mmio_write(lg, 0xffff'fff5u);
  EXPECT_EQ(rig.nic->mmio_read(lg), vd::abi::MAX_RING_LOG2);
  rig.nic->mmio_write(lg, 7);
  EXPECT_EQ(rig.nic->mmio_read(lg), 7u);
  // Disabling rewinds the producer index the driver wrote.
  const std::uint32_t prod = vd::abi::txq_reg(3, vd::abi::REG_Q_PROD);
  rig.nic->mmio_write(prod, 9);
  EXPECT_EQ(rig.nic->mmio_read(prod), 9u);
  rig.nic->mmio_write(vd::abi::txq_reg(3, vd::abi::REG_Q_CTRL), 0);
  EXPECT_EQ(rig.nic->mmio_read(prod), 0u);
  EXPECT_TRUE(rig.nic->idle()) << "a disabled NIC with a doorbell written is not busy";
}

TEST_P(RtlModel, InterruptFiresOncePerArmAndAtOnceForAStaleArm) {
  RawRig rig(GetParam());
  RawRig::Ring tx;
  rig.setup(tx, true, 2);
  rig.enable();
  const std::uint32_t arm = vd::abi::txq_reg(2, vd::abi::REG_Q_IRQ_ARM);
  rig.send(tx, 2, counting_frame(64, 1));
  ASSERT_TRUE(rig.wait_cpl(tx).has_value());
  ASSERT_TRUE(rig.settle());
  EXPECT_TRUE(rig.irqs.empty()) << "interrupt without an arm";
  // Arm claiming 0 consumed while the NIC has written 1: fires at once.
  rig.nic->mmio_write(arm, 1u | (0u << 16));
  rig.nic->tick(4);
  ASSERT_EQ(rig.irqs.size(), 1u);
  EXPECT_EQ(rig.irqs[0], 1u << 2) << "queue 2's line";
  EXPECT_EQ(rig.nic->mmio_read(arm), 0u) << "not left armed after firing";
  // Arm with the true count: quiet until the next completion, then one pulse.
  rig.nic->mmio_write(arm, 1u | (1u << 16));
  rig.nic->tick(50);
  EXPECT_EQ(rig.irqs.size(), 1u);
  EXPECT_EQ(rig.nic->mmio_read(arm), 1u);
  rig.send(tx, 2, counting_frame(64, 2));
  ASSERT_TRUE(rig.wait_cpl(tx).has_value());
  rig.nic->tick(4);
  ASSERT_EQ(rig.irqs.size(), 2u);
  EXPECT_EQ(rig.irqs[1], 1u << 2);
  // Disarmed by firing: a third completion raises nothing.
  rig.send(tx, 2, counting_frame(64, 3));
  ASSERT_TRUE(rig.wait_cpl(tx).has_value());
  ASSERT_TRUE(rig.settle());
  EXPECT_EQ(rig.irqs.size(), 2u);
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::txq_reg(2, vd::abi::REG_Q_CPL_PROD)), 3u);
}

TEST_P(RtlModel, TxQueuesAreServedRoundRobin) {
  RawRig rig(GetParam());
  RawRig::Ring t0, t1;
  rig.setup(t0, true, 0);
  rig.setup(t1, true, 1);
  // Fill both rings before enabling so both are pending from the start.
  for (std::uint8_t i = 0; i < 4; ++i) {
    rig.send(t0, 0, counting_frame(100, static_cast<std::uint8_t>(0x00 + i)));
    rig.send(t1, 1, counting_frame(200, static_cast<std::uint8_t>(0x80 + i)));
  }
  rig.flush();
  EXPECT_TRUE(rig.tx_out.empty()) << "the NIC sent while disabled";
  rig.enable();
  ASSERT_TRUE(rig.settle());
  ASSERT_EQ(rig.tx_out.size(), 8u);
  // Alternating queues (by frame size), and each queue in its own order.
  std::uint8_t n0 = 0, n1 = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    if (i > 0) {
      EXPECT_NE(rig.tx_out[i].size(), rig.tx_out[i - 1].size()) << "queue served twice in a row at " << i;
    }
    if (rig.tx_out[i].size() == 100) {
      EXPECT_EQ(rig.tx_out[i], counting_frame(100, n0++));
    } else {
      EXPECT_EQ(rig.tx_out[i], counting_frame(200, static_cast<std::uint8_t>(0x80 + n1++)));
    }
  }
}

TEST_P(RtlModel, RxDefaultQueueSteersFramesToThatRing) {
  RawRig rig(GetParam());
  RawRig::Ring r3;
  rig.setup(r3, false, 3);
  rig.nic->mmio_write(vd::abi::REG_RX_DEFAULT_Q, 3);
  rig.enable();
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_RX_DEFAULT_Q), 3u);
  const std::uint64_t buf = rig.mem.alloc(2048);
  rig.post_rx(r3, 3, buf, 2048);
  const Bytes f = counting_frame(150, 9);
  rig.nic->rx_frame(f, rig.nic->cycle());
  auto c = rig.wait_cpl(r3);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status, vd::abi::ERR_OK);
  EXPECT_EQ(c->queue, 3u);
  EXPECT_EQ(c->len, 150u);
  Bytes got(150);
  ASSERT_TRUE(rig.mem.read(buf, got));
  EXPECT_EQ(got, f);
}

TEST_P(RtlModel, RxDescriptorRingOutsideHostMemoryCompletesWithDmaError) {
  RawRig rig(GetParam());
  RawRig::Ring rx;
  rig.setup(rx, false, 0, /*desc ring*/ 0x100);
  rig.enable();
  ++rx.prod;  // a doorbell for a descriptor the NIC cannot fetch
  rig.nic->mmio_write(vd::abi::rxq_reg(0, vd::abi::REG_Q_PROD), rx.prod);
  rig.flush();
  rig.nic->rx_frame(counting_frame(80, 1), rig.nic->cycle());
  auto c = rig.wait_cpl(rx);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status, vd::abi::ERR_DMA);
  EXPECT_EQ(c->len, 0u);
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), 1u);
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_RX_PKTS), 0u);
  EXPECT_TRUE(rig.settle()) << "the RX slot was not released";
}

TEST_P(RtlModel, DriverCountsTxErrorsAndReturnsTheBuffers) {
  DriverRig r(GetParam());
  r.drv->init();
  const std::size_t avail = r.pool.available();
  Packet empty = r.pool.alloc();
  ASSERT_TRUE(r.drv->transmit(std::move(empty), 0));        // zero length: ERR_DESC_LEN
  ASSERT_TRUE(r.send(counting_frame(vd::abi::MAX_FRAME + 1, 1), 1));  // over MAX_FRAME
  ASSERT_TRUE(r.run_until([&] { return r.drv->tx_in_flight(0) == 0 && r.drv->tx_in_flight(1) == 0; }));
  EXPECT_EQ(r.drv->counters().at("tx_errors"), 2u);
  EXPECT_TRUE(r.tx_out.empty());
  EXPECT_EQ(r.pool.available(), avail) << "an errored TX buffer was not returned";
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_DESC_ERR), 2u);
}

TEST_P(RtlModel, DriverRefusesWhenTheTxRingIsFull) {
  DriverRig r(GetParam(), DriverConfig{1, 2, std::nullopt});  // 4 entries
  r.drv->init();
  const std::size_t avail = r.pool.available();
  for (std::uint8_t i = 0; i < 4; ++i) EXPECT_TRUE(r.send(counting_frame(60, i), 0));
  EXPECT_FALSE(r.send(counting_frame(60, 9), 0));
  EXPECT_EQ(r.drv->counters().at("tx_ring_full"), 1u);
  EXPECT_EQ(r.pool.available(), avail - 4) << "the refused frame's buffer must go back to the pool";
  ASSERT_TRUE(r.run_until([&] { return r.tx_out.size() == 4 && r.drv->tx_in_flight(0) == 0; }));
  for (std::uint8_t i = 0; i < 4; ++i) EXPECT_EQ(r.tx_out[i], counting_frame(60, i));
  EXPECT_TRUE(r.send(counting_frame(60, 10), 0)) << "room again after completions";
}

TEST_P(RtlModel, DriverReinitResetsTheNicAndKeepsWorking) {
  DriverRig r(GetParam());
  r.drv->init();
  ASSERT_TRUE(r.send(counting_frame(70, 1), 0));
  ASSERT_TRUE(r.run_until([&] { return r.tx_out.size() == 1 && r.drv->tx_in_flight(0) == 0; }));
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_TX_PKTS), 1u);
  r.drv->init();  // soft reset: counters and rings start over
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_TX_PKTS), 0u);
  EXPECT_EQ(r.reg(vd::abi::txq_reg(0, vd::abi::REG_Q_CONS)), 0u);
  ASSERT_TRUE(r.send(counting_frame(90, 2), 0));
  ASSERT_TRUE(r.run_until([&] { return r.tx_out.size() == 2; }));
  EXPECT_EQ(r.tx_out[1], counting_frame(90, 2));
  r.nic->rx_frame(counting_frame(90, 3), r.nic->cycle());
  ASSERT_TRUE(r.run_until([&] { return r.rx_in.size() == 1; }));
  EXPECT_EQ(r.rx_in[0], counting_frame(90, 3));
}

TEST_P(RtlModel, MacPacingSpacesFramesByTheirWireTime) {
  NicModelConfig mc;
  mc.mac_gbps = 1.0;  // 250 MHz: (1000 + 24) * 8 ns = 8192 ns = 2048 cycles per frame
  RawRig rig(GetParam(), mc);
  RawRig::Ring tx;
  rig.setup(tx, true, 0);
  rig.enable();
  for (std::uint8_t i = 0; i < 3; ++i) rig.send(tx, 0, counting_frame(1000, i));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(rig.wait_cpl(tx, 20000).has_value());
  ASSERT_EQ(rig.tx_cycle.size(), 3u);
  EXPECT_GE(rig.tx_cycle[1] - rig.tx_cycle[0], 2048u);
  EXPECT_GE(rig.tx_cycle[2] - rig.tx_cycle[1], 2048u);
  EXPECT_LT(rig.tx_cycle[2] - rig.tx_cycle[1], 2048u + 200u) << "paced far slower than the MAC rate";
  // Unpaced, the same frames go out much faster.
  RawRig fast(GetParam());
  RawRig::Ring ftx;
  fast.setup(ftx, true, 0);
  fast.enable();
  for (std::uint8_t i = 0; i < 3; ++i) fast.send(ftx, 0, counting_frame(1000, i));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(fast.wait_cpl(ftx, 20000).has_value());
  ASSERT_EQ(fast.tx_cycle.size(), 3u);
  EXPECT_LT(fast.tx_cycle[2] - fast.tx_cycle[1], 2048u);
}

TEST_P(RtlModel, DmaLatencyDelaysTheFirstFrame) {
  const auto first_out = [&](double latency_ns) {
    NicModelConfig mc;
    mc.dma.latency_ns = latency_ns;
    RawRig rig(GetParam(), mc);
    RawRig::Ring tx;
    rig.setup(tx, true, 0);
    rig.enable();
    const std::uint64_t t0 = rig.nic->cycle();
    rig.send(tx, 0, counting_frame(64, 1));
    EXPECT_TRUE(rig.wait_cpl(tx).has_value());
    EXPECT_EQ(rig.tx_cycle.size(), 1u);
    return rig.tx_cycle.empty() ? 0 : rig.tx_cycle[0] - t0;
  };
  const std::uint64_t fast = first_out(100.0);   // 25 cycles per read
  const std::uint64_t slow = first_out(2000.0);  // 500 cycles per read
  // Descriptor read, then data read: two round trips before the first byte.
  EXPECT_GE(slow, 2u * 500u);
  EXPECT_GE(fast, 2u * 25u);
  EXPECT_LT(fast, 2u * 500u);
  EXPECT_GE(slow - fast, 2u * (500u - 25u) - 2u);
}

// ---------------------------------------------------------------- random loopback

TEST_P(RtlModel, SeededRandomLoopbackOf300Frames) {
  DriverRig r(GetParam());
  r.drv->init();
  std::mt19937 rng(20240611u + GetParam());
  std::uniform_int_distribution<std::size_t> size(14, vd::abi::MAX_FRAME);
  std::uniform_int_distribution<int> queue(0, 1);
  constexpr int kFrames = 300;

  std::vector<Bytes> frames;
  std::vector<std::uint16_t> qs;
  for (int i = 0; i < kFrames; ++i) {
    frames.push_back(random_frame(rng, size(rng)));
    qs.push_back(static_cast<std::uint16_t>(queue(rng)));
  }
  // Per queue the NIC keeps posting order; across queues it round-robins.
  std::deque<std::size_t> expect_q[2];
  std::vector<std::size_t> wire_order;  // frame ids in the order they left the MAC
  std::deque<Bytes> to_loop;            // sent frames waiting to be looped back
  std::size_t next = 0, rx_checked = 0, injected = 0;
  std::uint64_t cycles = 0;
  const std::uint64_t budget = 4'000'000;
  while (rx_checked < frames.size() && cycles < budget) {
    // Keep both TX rings busy.
    while (next < frames.size() && r.drv->tx_in_flight(qs[next]) < 16) {
      ASSERT_TRUE(r.send(frames[next], qs[next]));
      expect_q[qs[next]].push_back(next);
      ++next;
    }
    cycles += r.nic->tick(64, true);
    r.service_irqs();
    // Every frame that left the MAC is looped straight back in.
    while (!r.tx_out.empty()) {
      Bytes f = std::move(r.tx_out.front());
      r.tx_out.pop_front();
      std::size_t id = SIZE_MAX;
      for (auto& dq : expect_q)
        if (!dq.empty() && frames[dq.front()] == f) {
          id = dq.front();
          dq.pop_front();
          break;
        }
      ASSERT_NE(id, SIZE_MAX) << "TX frame #" << wire_order.size() << " (" << f.size()
                              << " bytes) is not the next frame of either queue";
      wire_order.push_back(id);
      to_loop.push_back(std::move(f));
    }
    // Loop back in, but never more than two frames in the NIC at once: the
    // RX side has two store-and-forward slots and the harness MAC does not
    // pace its input, so an unpaced burst is (correctly) dropped as full.
    while (!to_loop.empty() && injected - rx_checked < 2) {
      r.nic->rx_frame(std::move(to_loop.front()), r.nic->cycle());
      to_loop.pop_front();
      ++injected;
    }
    while (!r.rx_in.empty()) {
      ASSERT_LT(rx_checked, wire_order.size()) << "received more than was sent";
      ASSERT_EQ(r.rx_in.front(), frames[wire_order[rx_checked]]) << "RX frame #" << rx_checked;
      r.rx_in.pop_front();
      ++rx_checked;
    }
  }
  ASSERT_EQ(rx_checked, frames.size()) << "only " << rx_checked << " frames looped back in " << cycles << " cycles";
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_TX_PKTS), std::uint32_t(kFrames));
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_PKTS), std::uint32_t(kFrames));
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_FULL), 0u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_RX_DROP_NODESC), 0u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_DESC_ERR), 0u);
  ASSERT_TRUE(r.run_until([&] { return r.drv->tx_in_flight(0) == 0 && r.drv->tx_in_flight(1) == 0; }));
  EXPECT_EQ(r.pool.available(), r.pool.capacity() - 2 * 16) << "buffers leaked";
}

// Differential test: the RTL's partial checksum (CHECKSUM_PARTIAL) against the
// offload/ reference model, bit for bit, on seeded random frames, starts and
// offsets (odd and even starts, fields straddling beat boundaries).
TEST_P(RtlModel, TxPartialChecksumMatchesTheReferenceModel) {
  DriverRig r(GetParam());
  r.drv->init();
  ASSERT_NE(r.reg(vd::abi::REG_FEATURES) & (1u << vd::abi::FEAT_TX_CSUM_BIT), 0u);
  std::mt19937 rng(20261125u + GetParam());
  std::uniform_int_distribution<std::size_t> len_d(16, vd::abi::MAX_FRAME);
  constexpr int kFrames = 10000;
  for (int k = 0; k < kFrames; ++k) {
    const std::size_t n = k < 40 ? 16 + std::size_t(k) : len_d(rng);
    Bytes f = random_frame(rng, n);
    const std::size_t start = std::uniform_int_distribution<std::size_t>(0, std::min<std::size_t>(255, n - 2))(rng);
    const std::size_t max_off = std::min<std::size_t>(254, n - 2 - start) / 2;
    const std::size_t off = 2 * std::uniform_int_distribution<std::size_t>(0, max_off)(rng);
    Bytes want = f;
    ASSERT_TRUE(vd::offload::insert_partial(want, start, off));
    Packet p = vd::packet_from_bytes(r.pool, f);
    ASSERT_TRUE(p);
    p.meta.tx_csum_partial = true;
    p.meta.csum_start = static_cast<std::uint16_t>(start);
    p.meta.csum_offset = static_cast<std::uint16_t>(off);
    ASSERT_TRUE(r.drv->transmit(std::move(p), 0));
    ASSERT_TRUE(r.run_until([&] { return !r.tx_out.empty(); }));
    ASSERT_EQ(r.tx_out.front(), want) << "frame " << k << " len " << n << " start " << start << " offset " << off;
    r.tx_out.pop_front();
    ASSERT_TRUE(r.run_until([&] { return r.drv->tx_in_flight(0) == 0; }));
  }
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_DESC_ERR), 0u);
}

TEST_P(RtlModel, TxPartialChecksumFieldOutsideTheFrameIsADescriptorError) {
  DriverRig r(GetParam());
  r.drv->init();
  Packet p = vd::packet_from_bytes(r.pool, counting_frame(40, 1));
  p.meta.tx_csum_partial = true;
  p.meta.csum_start = 30;
  p.meta.csum_offset = 10;  // field at 40..41: past the end
  ASSERT_TRUE(r.drv->transmit(std::move(p), 0));
  ASSERT_TRUE(r.run_until([&] { return r.drv->tx_in_flight(0) == 0; }));
  EXPECT_TRUE(r.tx_out.empty());
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_DESC_ERR), 1u);
  EXPECT_EQ(r.drv->counters().at("tx_errors"), 1u);
  // and the next frame, checksum off, goes out untouched
  const Bytes g = counting_frame(100, 9);
  ASSERT_TRUE(r.send(g));
  ASSERT_TRUE(r.run_until([&] { return !r.tx_out.empty(); }));
  EXPECT_EQ(r.tx_out.front(), g);
}

// A random IPv4 or IPv6 (no extension headers, untagged) TCP/UDP/other
// datagram with correct checksums, then perhaps damaged: a flipped byte,
// a zero UDP checksum, non-zero Ethernet padding, or a lying length field.
Bytes random_ip_frame(std::mt19937& rng) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const bool v6 = u(0, 2) == 0;
  const bool vlan = u(0, 4) == 0;
  const std::size_t l3 = vlan ? 18 : 14;
  const int kind = u(0, 9);  // 0..4 UDP, 5..8 TCP, 9 other
  const std::uint8_t proto = kind < 5 ? 17 : kind < 9 ? 6 : 59;
  const std::size_t l4hdr = proto == 6 ? 20 + 4 * std::size_t(u(0, 10)) : proto == 17 ? 8 : 0;
  const std::size_t payload = std::size_t(u(0, 1400));
  // IPv6 extension headers, some long enough to push L4 past the NIC's
  // 128-byte parse window (then L4 is not checked, by the model too).
  Bytes ext;
  std::uint8_t first = proto;
  if (v6 && u(0, 2) == 0) {
    std::uint8_t nh = proto;
    for (int i = u(1, 3); i > 0; --i) {
      static constexpr std::uint8_t kTypes[] = {0, 43, 60, 44};
      const std::uint8_t ty = kTypes[u(0, 3)];
      const std::size_t len = ty == 44 ? 8 : 8 * std::size_t(1 + u(0, 4));
      Bytes h = random_frame(rng, len);
      h[0] = nh;
      if (ty != 44) h[1] = static_cast<std::uint8_t>(len / 8 - 1);
      ext.insert(ext.begin(), h.begin(), h.end());
      nh = ty;
    }
    first = nh;
  }
  const std::size_t iph = v6 ? 40 + ext.size() : 20 + 4 * std::size_t(u(0, 10));
  const std::size_t dlen = iph + l4hdr + payload;
  Bytes f = random_frame(rng, l3 + dlen);
  if (vlan) {
    f[12] = 0x81;
    f[13] = 0x00;
  }
  f[l3 - 2] = v6 ? 0x86 : 0x08;
  f[l3 - 1] = v6 ? 0xDD : 0x00;
  if (v6) {
    f[l3] = static_cast<std::uint8_t>(0x60 | (f[l3] & 0x0F));
    f[l3 + 4] = static_cast<std::uint8_t>((dlen - 40) >> 8);
    f[l3 + 5] = static_cast<std::uint8_t>(dlen - 40);
    f[l3 + 6] = first;
    std::copy(ext.begin(), ext.end(), f.begin() + std::ptrdiff_t(l3 + 40));
  } else {
    f[l3] = static_cast<std::uint8_t>(0x40 | (iph / 4));
    f[l3 + 2] = static_cast<std::uint8_t>(dlen >> 8);
    f[l3 + 3] = static_cast<std::uint8_t>(dlen);
    f[l3 + 6] = u(0, 7) == 0 ? f[l3 + 6] : 0;  // mostly not a fragment
    f[l3 + 7] = f[l3 + 6] ? f[l3 + 7] : 0;
    f[l3 + 9] = proto;
  }
  const std::size_t l4 = l3 + iph;
  if (proto == 6) f[l4 + 12] = static_cast<std::uint8_t>((l4hdr / 4) << 4);
  if (proto == 17) {
    f[l4 + 4] = static_cast<std::uint8_t>((l4hdr + payload) >> 8);
    f[l4 + 5] = static_cast<std::uint8_t>(l4hdr + payload);
  }
  vd::offload::insert_full(f);
  switch (u(0, 8)) {
    case 0: f[std::size_t(u(0, int(f.size()) - 1))] ^= static_cast<std::uint8_t>(u(1, 255)); break;
    case 1: if (proto == 17) { f[l4 + 6] = 0; f[l4 + 7] = 0; } break;
    case 2: for (int i = u(1, 40); i > 0; --i) f.push_back(static_cast<std::uint8_t>(u(0, 255))); break;
    case 3: f[l3 + (v6 ? 5 : 3)] = static_cast<std::uint8_t>(f[l3 + (v6 ? 5 : 3)] + u(1, 3)); break;
    case 4: f[l3 + std::size_t(u(0, int(iph) - 1))] ^= static_cast<std::uint8_t>(u(1, 255)); break;
    default: break;
  }
  if (f.size() < 60) f.resize(60, 0);
  return f;
}

// Differential test: RX checksum verification in RTL against offload::verify,
// per layer, on seeded random frames.
TEST_P(RtlModel, RxChecksumStatusMatchesTheReferenceModel) {
  DriverRig r(GetParam());
  std::deque<std::pair<Bytes, vd::OffloadMeta>> got;
  r.drv->set_rx_handler([&](Packet&& p) { got.emplace_back(Bytes(p.data(), p.data() + p.size()), p.meta); });
  r.drv->init();
  ASSERT_NE(r.reg(vd::abi::REG_FEATURES) & (1u << vd::abi::FEAT_RX_CSUM_BIT), 0u);
  std::mt19937 rng(777u + GetParam());
  constexpr int kFrames = 10000;
  int good_l4 = 0, bad_l4 = 0, bad_ip = 0;
  for (int k = 0; k < kFrames; ++k) {
    const Bytes f = random_ip_frame(rng);
    r.nic->rx_frame(f, r.nic->cycle());
    ASSERT_TRUE(r.run_until([&] { return !got.empty(); })) << "frame " << k;
    ASSERT_EQ(got.front().first, f);
    const auto want = vd::offload::verify(f, vd::abi::PARSE_WINDOW);
    const auto& m = got.front().second;
    ASSERT_EQ(static_cast<int>(m.rx_csum_ip), static_cast<int>(want.ip)) << "frame " << k << " len " << f.size();
    ASSERT_EQ(static_cast<int>(m.rx_csum_l4), static_cast<int>(want.l4)) << "frame " << k << " len " << f.size();
    good_l4 += want.l4 == vd::offload::CsumStatus::good;
    bad_l4 += want.l4 == vd::offload::CsumStatus::bad;
    bad_ip += want.ip == vd::offload::CsumStatus::bad;
    got.pop_front();
  }
  // The generator must exercise every outcome, or the comparison proves little.
  EXPECT_GT(good_l4, kFrames / 3);
  EXPECT_GT(bad_l4, 50);
  EXPECT_GT(bad_ip, 30);
}


// ---------------------------------------------------------------- full TX checksum and TSO
// Posted by hand (RawRig) with the descriptor's offload fields, one frame at
// a time from one reusable 64 KiB buffer.
struct OffloadRig {
  RawRig rig;
  RawRig::Ring txr;
  std::uint64_t buf = 0;
  explicit OffloadRig(unsigned width) : rig(width) {
    txr.log2 = 4;
    rig.setup(txr, true, 0);
    rig.enable();
    buf = rig.mem.alloc(65536 + 64);
  }
  // Posts f with flags/mss, waits for the completion; the wire frames are in rig.tx_out.
  std::optional<vd::abi::Cpl> run(const Bytes& f, std::uint16_t flags, std::uint16_t mss = 0) {
    rig.tx_out.clear();
    if (!rig.mem.write(buf, f)) return std::nullopt;
    vd::abi::TxDesc d;
    d.addr = buf;
    d.len = static_cast<std::uint16_t>(f.size());
    d.flags = flags;
    d.mss = mss;
    d.pack({rig.mem.ptr(txr.desc + std::uint64_t(RingIndex::slot(txr.prod, txr.size)) * vd::abi::DESC_SIZE,
                        vd::abi::DESC_SIZE),
            vd::abi::DESC_SIZE});
    ++txr.prod;
    rig.nic->mmio_write(vd::abi::txq_reg(0, vd::abi::REG_Q_PROD), txr.prod);
    const std::uint64_t at = txr.cpl + std::uint64_t(RingIndex::slot(txr.cons, txr.size)) * vd::abi::CPL_SIZE;
    for (std::uint64_t n = 0; n < 4000000; n += 32) {
      const auto c = vd::abi::Cpl::unpack({rig.mem.ptr(at, vd::abi::CPL_SIZE), vd::abi::CPL_SIZE});
      if ((c.phase & 1) == RingIndex::phase(txr.cons, txr.log2)) {
        ++txr.cons;
        return c;
      }
      rig.nic->tick(32);
    }
    return std::nullopt;
  }
};

constexpr std::uint16_t kFlagIp = 1u << vd::abi::TXF_CSUM_IP_BIT;
constexpr std::uint16_t kFlagL4 = 1u << vd::abi::TXF_CSUM_L4_BIT;
constexpr std::uint16_t kFlagTso = 1u << vd::abi::TXF_TSO_BIT;

struct GenOpts {
  bool v6 = false;
  bool vlan = false;
  std::uint8_t proto = 6;
  std::size_t ip_opt = 0;      // IPv4 option bytes (multiple of 4, <= 40)
  std::size_t ext = 0;         // IPv6 extension headers: total bytes (multiple of 8)
  std::size_t l4_opt = 0;      // TCP option bytes (multiple of 4, <= 40)
  std::size_t payload = 0;
  bool frag6 = false;          // the first IPv6 extension header is a fragment header
};

// A well-formed Ethernet / IPv4-or-IPv6 / TCP-or-UDP frame with random
// contents (checksum fields are random: the NIC is to fill them in).
Bytes gen_frame(std::mt19937& rng, const GenOpts& o) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::size_t l3 = o.vlan ? 18 : 14;
  const std::size_t iph = o.v6 ? 40 + o.ext : 20 + o.ip_opt;
  const std::size_t l4h = o.proto == 6 ? 20 + o.l4_opt : o.proto == 17 ? 8 : 0;
  const std::size_t dlen = iph + l4h + o.payload;
  Bytes f = random_frame(rng, l3 + dlen);
  if (o.vlan) {
    f[12] = 0x81;
    f[13] = 0x00;
  }
  f[l3 - 2] = o.v6 ? 0x86 : 0x08;
  f[l3 - 1] = o.v6 ? 0xDD : 0x00;
  if (o.v6) {
    f[l3] = static_cast<std::uint8_t>(0x60 | (f[l3] & 0x0F));
    f[l3 + 4] = static_cast<std::uint8_t>((dlen - 40) >> 8);
    f[l3 + 5] = static_cast<std::uint8_t>(dlen - 40);
    // extension headers: hop-by-hop / routing / destination options, lengths in 8-byte units
    std::size_t at = l3 + 40, left = o.ext;
    std::size_t nh_pos = l3 + 6;
    while (left > 0) {
      const bool fh = o.frag6 && at == l3 + 40;
      const std::size_t units = fh ? 1 : std::size_t(u(1, int(left / 8)));
      const int kind = u(0, 2);
      f[nh_pos] = fh ? 44 : kind == 0 ? 0 : kind == 1 ? 43 : 60;
      f[at + 1] = static_cast<std::uint8_t>(units - 1);
      nh_pos = at;
      at += units * 8;
      left -= units * 8;
    }
    f[nh_pos] = o.proto;
  } else {
    f[l3] = static_cast<std::uint8_t>(0x40 | (iph / 4));
    f[l3 + 2] = static_cast<std::uint8_t>(dlen >> 8);
    f[l3 + 3] = static_cast<std::uint8_t>(dlen);
    f[l3 + 6] &= 0x40;  // DF maybe; not a fragment
    f[l3 + 7] = 0;
    f[l3 + 9] = o.proto;
  }
  const std::size_t l4 = l3 + iph;
  if (o.proto == 6) f[l4 + 12] = static_cast<std::uint8_t>(((l4h / 4) << 4) | (f[l4 + 12] & 0x0F));
  if (o.proto == 17) {
    f[l4 + 4] = static_cast<std::uint8_t>((l4h + o.payload) >> 8);
    f[l4 + 5] = static_cast<std::uint8_t>(l4h + o.payload);
  }
  return f;
}

// Random TSO super-frame options: headers within 128 bytes.
GenOpts random_tso_opts(std::mt19937& rng, std::size_t max_payload) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  GenOpts o;
  o.v6 = u(0, 1) == 1;
  o.vlan = u(0, 3) == 0;
  const std::size_t l3 = o.vlan ? 18 : 14;
  if (o.v6) o.ext = u(0, 2) == 0 ? 8 * std::size_t(u(1, 4)) : 0;
  else o.ip_opt = u(0, 2) == 0 ? 4 * std::size_t(u(1, 10)) : 0;
  const std::size_t used = l3 + (o.v6 ? 40 + o.ext : 20 + o.ip_opt) + 20;
  const std::size_t max_opt = std::min<std::size_t>(40, (128 - used) / 4 * 4);
  o.l4_opt = u(0, 1) == 0 ? 4 * std::size_t(u(0, int(max_opt / 4))) : 0;
  o.payload = std::size_t(u(0, int(max_payload)));
  if (u(0, 15) == 0) o.payload = 0;
  else if (u(0, 7) == 0) o.payload = std::size_t(u(1, 64));  // small sends (MSS 1 is used on these)
  return o;
}

std::uint16_t random_mss(std::mt19937& rng, std::size_t payload) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int p = int(std::max<std::size_t>(payload, 1));
  switch (u(0, 7)) {
    case 0: return payload <= 64 ? 1 : static_cast<std::uint16_t>(u(64, 128));
    case 1: return static_cast<std::uint16_t>(std::max(1, p - 1));
    case 2: return static_cast<std::uint16_t>(p);
    case 3: return static_cast<std::uint16_t>(p + 1);
    case 4: return static_cast<std::uint16_t>(u(1, 9000));
    default: return static_cast<std::uint16_t>(u(std::max(1, p / 8), p));
  }
}

// Checks one TSO send against offload::tso_segment; returns the number of segments.
std::size_t check_tso(OffloadRig& o, const Bytes& f, std::uint16_t mss, const std::string& what) {
  const auto want = vd::offload::tso_segment(f, mss);
  EXPECT_TRUE(want.ok()) << what << ": " << vd::offload::to_string(want.error);
  const auto c = o.run(f, kFlagTso, mss);
  EXPECT_TRUE(c.has_value()) << what;
  if (!c) return 0;
  EXPECT_EQ(c->status, vd::abi::ERR_OK) << what;
  EXPECT_EQ(c->len, f.size()) << what;
  EXPECT_EQ(o.rig.tx_out.size(), want.segments.size()) << what;
  for (std::size_t i = 0; i < std::min(o.rig.tx_out.size(), want.segments.size()); ++i) {
    if (o.rig.tx_out[i] != want.segments[i]) {
      ADD_FAILURE() << what << ": segment " << i << " of " << want.segments.size() << " differs";
      break;
    }
  }
  return want.segments.size();
}

// Full checksum insertion expected for the requested layers: insert_full's
// output, restricted to the fields the flags ask for.
Bytes expect_full(const Bytes& f, std::uint16_t flags) {
  Bytes all = f;
  const auto r = vd::offload::insert_full(all);
  Bytes want = f;
  if (!r.parsed) return want;
  const auto l = vd::offload::parse_layout(f).layout;
  if ((flags & kFlagIp) && r.ip_header) {
    want[l.l3_off + 10] = all[l.l3_off + 10];
    want[l.l3_off + 11] = all[l.l3_off + 11];
  }
  if ((flags & kFlagL4) && r.l4) {
    const std::size_t fld = l.l4_off + (l.l4_proto == 6 ? 16 : 6);
    want[fld] = all[fld];
    want[fld + 1] = all[fld + 1];
  }
  return want;
}

// Random frame for full checksum: TCP / UDP / other over IPv4 / IPv6 (with
// extension headers), tagged or not; some fragments, Ethernet padding,
// truncated or lying lengths, non-IP.
Bytes random_csum_frame(std::mt19937& rng) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  GenOpts o;
  o.v6 = u(0, 1) == 1;
  o.vlan = u(0, 3) == 0;
  const int kind = u(0, 9);
  o.proto = kind < 5 ? 6 : kind < 9 ? 17 : 59;
  if (o.v6) o.ext = u(0, 3) == 0 ? 8 * std::size_t(u(1, 5)) : 0;
  if (o.v6 && o.ext > 0) o.frag6 = u(0, 7) == 0;
  if (!o.v6) o.ip_opt = u(0, 2) == 0 ? 4 * std::size_t(u(1, 10)) : 0;
  o.l4_opt = o.proto == 6 ? 4 * std::size_t(u(0, 10)) : 0;
  o.payload = u(0, 15) == 0 ? std::size_t(u(0, 8000)) : std::size_t(u(0, 1500));
  if (u(0, 7) == 0) o.payload = std::size_t(u(0, 3));
  Bytes f = gen_frame(rng, o);
  const std::size_t l3 = o.vlan ? 18 : 14;
  switch (u(0, 15)) {
    case 0:  // Ethernet padding
      for (int i = u(1, 40); i > 0 && f.size() < vd::abi::MAX_FRAME; --i) f.push_back(static_cast<std::uint8_t>(u(0, 255)));
      break;
    case 1:  // IPv4 fragment (L4 not touched)
      if (!o.v6) f[l3 + 6] = static_cast<std::uint8_t>(0x20 | (f[l3 + 6] & 0x40));
      break;
    case 2:  // truncated: the IP length claims more than the frame
      f.resize(f.size() - std::min<std::size_t>(f.size() - l3, std::size_t(u(1, 30))));
      break;
    case 3:  // non-IP
      f[l3 - 2] = 0x88;
      f[l3 - 1] = 0xB5;
      break;
    case 4:  // tiny frame
      f.resize(std::size_t(u(1, 60)));
      break;
    case 5:  // L4 shorter than its header: IP length cut
      if (!o.v6) {
        const std::size_t dl = 20 + o.ip_opt + std::size_t(u(0, 7));
        f[l3 + 2] = static_cast<std::uint8_t>(dl >> 8);
        f[l3 + 3] = static_cast<std::uint8_t>(dl);
      }
      break;
    default: break;
  }
  return f;
}

TEST_P(RtlModel, TxFullChecksumMatchesTheReferenceModel) {
  OffloadRig o(GetParam());
  std::mt19937 rng(4242u + GetParam());
  const int kFrames = 5000;
  std::size_t ip_done = 0, l4_done = 0;
  for (int k = 0; k < kFrames; ++k) {
    const Bytes f = random_csum_frame(rng);
    const int fl = std::uniform_int_distribution<int>(0, 3)(rng);
    const std::uint16_t flags = fl == 0 ? kFlagIp : fl == 1 ? kFlagL4 : static_cast<std::uint16_t>(kFlagIp | kFlagL4);
    const Bytes want = expect_full(f, flags);
    const auto c = o.run(f, flags);
    ASSERT_TRUE(c.has_value()) << "frame " << k;
    ASSERT_EQ(c->status, vd::abi::ERR_OK) << "frame " << k;
    ASSERT_EQ(o.rig.tx_out.size(), 1u) << "frame " << k;
    ASSERT_EQ(o.rig.tx_out.front(), want) << "frame " << k << " len " << f.size() << " flags " << flags;
    ip_done += want != f && (flags & kFlagIp);
    l4_done += want != f && (flags & kFlagL4);
  }
  EXPECT_GT(ip_done, std::size_t(kFrames / 4));
  EXPECT_GT(l4_done, std::size_t(kFrames / 4));
  EXPECT_EQ(o.rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), 0u);
}

TEST_P(RtlModel, TxFullChecksumBeyondTheHeaderWindowIsADescriptorError) {
  OffloadRig o(GetParam());
  std::mt19937 rng(99u);
  GenOpts g;
  g.v6 = true;
  g.vlan = true;
  g.ext = 80;  // TCP checksum field at 18 + 40 + 80 + 16 = 154: past the 128-byte header window
  g.payload = 100;
  const Bytes f = gen_frame(rng, g);
  const auto c = o.run(f, kFlagL4);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status, vd::abi::ERR_DESC_FLAGS);
  EXPECT_TRUE(o.rig.tx_out.empty());
  // the same frame without L4 checksum goes out untouched (IPv6: nothing to do)
  const auto c2 = o.run(f, kFlagIp);
  ASSERT_TRUE(c2.has_value());
  EXPECT_EQ(c2->status, vd::abi::ERR_OK);
  ASSERT_EQ(o.rig.tx_out.size(), 1u);
  EXPECT_EQ(o.rig.tx_out.front(), f);
}

TEST_P(RtlModel, TsoMatchesTheReferenceModel) {
  OffloadRig o(GetParam());
  ASSERT_NE(o.rig.nic->mmio_read(vd::abi::REG_FEATURES) & (1u << vd::abi::FEAT_TSO_BIT), 0u);
  std::mt19937 rng(31337u + GetParam());
  const int kSends = 5000;
  std::size_t segs = 0;
  for (int k = 0; k < kSends; ++k) {
    const GenOpts g = random_tso_opts(rng, k % 50 == 0 ? 20000 : 1600);
    const Bytes f = gen_frame(rng, g);
    // a segment must fit the NIC's 9216-byte frame buffer: MSS at most 9000 here
    const std::uint16_t mss = std::min<std::uint16_t>(random_mss(rng, g.payload), 9000);
    segs += check_tso(o, f, mss, "send " + std::to_string(k) + " payload " + std::to_string(g.payload) +
                                     " mss " + std::to_string(mss));
    if (HasFailure()) return;
  }
  std::printf("TSO: %d sends, %zu segments checked\n", kSends, segs);
  EXPECT_EQ(o.rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), 0u);
}

TEST_P(RtlModel, TsoEdgeCases) {
  OffloadRig o(GetParam());
  std::mt19937 rng(5u);
  GenOpts g;
  // MSS 1
  g.payload = 300;
  g.l4_opt = 12;
  check_tso(o, gen_frame(rng, g), 1, "mss 1");
  // MSS 9000: one segment
  g.v6 = true;
  g.payload = 9000;
  g.l4_opt = 0;
  EXPECT_EQ(check_tso(o, gen_frame(rng, g), 9000, "mss 9000"), 1u);
  // zero payload: one segment, FIN/PSH kept
  g.payload = 0;
  EXPECT_EQ(check_tso(o, gen_frame(rng, g), 1448, "no payload"), 1u);
  // the largest send (LEN 65535), IPv4 and IPv6, headers of 128 bytes
  for (bool v6 : {false, true}) {
    GenOpts b;
    b.v6 = v6;
    b.vlan = true;
    b.ip_opt = v6 ? 0 : 40;
    b.ext = v6 ? 24 : 0;
    b.l4_opt = v6 ? 28 : 32;  // 18 + 60 + 52 = 130 > 128: trimmed below
    const std::size_t l3 = 18, iph = v6 ? 40 + b.ext : 20 + b.ip_opt;
    b.l4_opt = (128 - l3 - iph - 20) / 4 * 4;
    b.payload = 65535 - (l3 + iph + 20 + b.l4_opt);
    if (!v6) {
      // the IPv4 total length field is 16 bits: the datagram is 65535 - 18 here
    }
    const Bytes f = gen_frame(rng, b);
    ASSERT_EQ(f.size(), 65535u);
    EXPECT_EQ(check_tso(o, f, 1460, v6 ? "64K v6" : "64K v4"), (b.payload + 1459) / 1460);
    EXPECT_GT(check_tso(o, f, 9000, v6 ? "64K v6 mss 9000" : "64K v4 mss 9000"), 7u);
  }
}

TEST_P(RtlModel, BadTsoDescriptorsCompleteWithAnErrorAndTheNicKeepsWorking) {
  OffloadRig o(GetParam());
  std::mt19937 rng(6u);
  GenOpts g;
  g.payload = 2000;
  const Bytes good = gen_frame(rng, g);
  std::vector<std::pair<std::string, std::pair<Bytes, std::uint16_t>>> bad;
  bad.push_back({"mss 0", {good, 0}});
  GenOpts u = g;
  u.proto = 17;
  bad.push_back({"udp", {gen_frame(rng, u), 1000}});
  GenOpts big = g;
  big.v6 = true;
  big.ext = 48;
  big.l4_opt = 40;  // 14 + 88 + 60 = 162 > 128
  bad.push_back({"header > 128", {gen_frame(rng, big), 1000}});
  Bytes fr = good;
  fr[14 + 6] = 0x20;  // IPv4 MF
  bad.push_back({"fragment", {fr, 1000}});
  Bytes nip = good;
  nip[12] = 0x88;
  bad.push_back({"not IP", {nip, 1000}});
  Bytes tr = good;
  tr.resize(100);  // IP length runs past the frame
  bad.push_back({"truncated", {tr, 1000}});
  bad.push_back({"segment > MAX_FRAME", {good, 9500}});  // 2000-byte payload fits: not an error, see below
  unsigned errors = 0;
  for (const auto& [what, fm] : bad) {
    const auto want = vd::offload::tso_segment(fm.first, fm.second);
    if (want.ok()) {
      check_tso(o, fm.first, fm.second, what);
      continue;
    }
    const auto c = o.run(fm.first, kFlagTso, fm.second);
    ASSERT_TRUE(c.has_value()) << what;
    EXPECT_EQ(c->status, vd::abi::ERR_DESC_FLAGS) << what;
    EXPECT_EQ(c->len, 0u) << what;
    EXPECT_TRUE(o.rig.tx_out.empty()) << what;
    ++errors;
    check_tso(o, good, 536, "after " + what);
  }
  EXPECT_EQ(errors, 6u);
  // a segment that would not fit the frame buffer is refused (the model has no such limit)
  GenOpts h = g;
  h.payload = 12000;
  const auto c = o.run(gen_frame(rng, h), kFlagTso, 10000);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status, vd::abi::ERR_DESC_FLAGS);
  EXPECT_EQ(o.rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), 7u);
  check_tso(o, good, 1000, "after oversize segment");
}

TEST_P(RtlModel, TsoCyclesFor64KiBSend) {
  OffloadRig o(GetParam());
  std::mt19937 rng(8u);
  GenOpts g;
  g.payload = 65536 - 14 - 20 - 20 - 1;  // LEN 65535
  const Bytes f = gen_frame(rng, g);
  const std::uint64_t c0 = o.rig.nic->cycle();
  EXPECT_EQ(check_tso(o, f, 1460, "64K"), 45u);
  const std::uint64_t c1 = o.rig.nic->cycle();
  std::printf("TSO 64 KiB send (LEN %zu, MSS 1460, 45 segments) at %u bits: %llu cycles\n", f.size(), GetParam(),
              static_cast<unsigned long long>(c1 - c0));
}


// The driver path: a TSO send (bigger than the default 10240-byte buffers)
// from a pool of 64 KiB buffers, with PacketMeta.tso_mss; and a TSO send
// refused when the NIC does not advertise FEAT_TSO is covered by the
// driver's feature check (nic_features()).
TEST_P(RtlModel, DriverTsoSendFromALargeBufferPool) {
  DriverRig r(GetParam());
  r.drv->init();
  ASSERT_NE(r.drv->nic_features() & (1u << vd::abi::FEAT_TSO_BIT), 0u);
  BufferPool big{r.mem, 65536 + 256, 4};
  std::mt19937 rng(11u);
  GenOpts g;
  g.payload = 30000;
  const Bytes f = gen_frame(rng, g);
  const auto want = vd::offload::tso_segment(f, 1448);
  ASSERT_TRUE(want.ok());
  Packet p = vd::packet_from_bytes(big, f);
  ASSERT_TRUE(p);
  p.meta.tso_mss = 1448;
  ASSERT_TRUE(r.drv->transmit(std::move(p), 0));
  ASSERT_TRUE(r.run_until([&] { return r.drv->tx_in_flight(0) == 0; }, 400000));
  ASSERT_EQ(r.tx_out.size(), want.segments.size());
  for (std::size_t i = 0; i < want.segments.size(); ++i) EXPECT_EQ(r.tx_out[i], want.segments[i]) << i;
  EXPECT_EQ(r.drv->counters().at("tx_errors"), 0u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_TX_PKTS), want.segments.size());
  // full checksum through the driver's meta flags
  GenOpts c;
  c.proto = 17;
  c.payload = 500;
  const Bytes u = gen_frame(rng, c);
  Packet q = vd::packet_from_bytes(r.pool, u);
  q.meta.tx_csum_ip = true;
  q.meta.tx_csum_l4 = true;
  ASSERT_TRUE(r.drv->transmit(std::move(q), 0));
  ASSERT_TRUE(r.run_until([&] { return r.tx_out.size() == want.segments.size() + 1; }));
  EXPECT_EQ(r.tx_out.back(), expect_full(u, kFlagIp | kFlagL4));
}

// ---------------------------------------------------------------- TX pipeline

// Many frames in flight on three queues, bad descriptors among them (zero
// length, a buffer outside host memory, a partial checksum field outside the
// frame), and 16-entry rings wrapping twice while descriptors are prefetched
// in bursts and reposted as completions come back. Every completion comes in
// ring order with its status and length, every good frame reaches the wire
// intact and in its queue's order, nothing from a bad descriptor is sent; at
// 512 bits the frames overlap (one at a time took ~460 cycles per frame).
TEST_P(RtlModel, TxPipelineManyFramesInFlightWithErrorsAndRingWrap) {
  RawRig rig(GetParam());
  constexpr unsigned kQ = 3, kPerQ = 40;
  RawRig::Ring rings[kQ];
  for (unsigned q = 0; q < kQ; ++q) rig.setup(rings[q], true, q);
  rig.enable();
  std::mt19937 rng(1234);
  const std::uint64_t end = rig.mem.base() + rig.mem.size();
  struct Exp {
    std::uint16_t status, len;
  };
  std::deque<Exp> expect[kQ];
  std::vector<Bytes> wire_expect[kQ];
  unsigned posted[kQ] = {}, good = 0, bad = 0;
  auto post = [&](unsigned q) {
    RawRig::Ring& r = rings[q];
    const unsigned k = posted[q]++;
    const int kind = (k % 7 == 3) ? int(rng() % 3) + 1 : 0;  // every 7th descriptor is bad
    std::size_t n = (rng() % 4 == 0) ? 60 + rng() % 9000 : 60 + rng() % 1500;
    if (kind == 3) n = 60 + rng() % 200;
    Bytes f = counting_frame(n, static_cast<std::uint8_t>(rng()));
    f[0] = static_cast<std::uint8_t>(q);
    f[1] = static_cast<std::uint8_t>(k);
    const std::uint64_t buf = rig.mem.alloc(n);
    ASSERT_TRUE(rig.mem.write(buf, f));
    vd::abi::TxDesc d;
    d.addr = buf;
    d.len = static_cast<std::uint16_t>(n);
    Exp e{vd::abi::ERR_OK, static_cast<std::uint16_t>(n)};
    if (kind == 1) {
      d.len = 0;
      e = {static_cast<std::uint16_t>(vd::abi::ERR_DESC_LEN), 0};
    } else if (kind == 2) {
      d.addr = end - 8;
      e = {static_cast<std::uint16_t>(vd::abi::ERR_DMA), 0};
    } else if (kind == 3) {
      d.flags = 1u << vd::abi::TXF_CSUM_PARTIAL_BIT;
      d.csum_start = 200;
      d.csum_offset = 100;
      e = {static_cast<std::uint16_t>(vd::abi::ERR_DESC_FLAGS), 0};
    }
    d.pack({rig.mem.ptr(r.desc + std::uint64_t(RingIndex::slot(r.prod, r.size)) * vd::abi::DESC_SIZE,
                        vd::abi::DESC_SIZE),
            vd::abi::DESC_SIZE});
    ++r.prod;
    rig.nic->mmio_write(vd::abi::txq_reg(q, vd::abi::REG_Q_PROD), r.prod);
    if (kind == 0) {
      wire_expect[q].push_back(f);
      ++good;
    } else {
      ++bad;
    }
    expect[q].push_back(e);
  };
  for (unsigned q = 0; q < kQ; ++q)
    while (posted[q] < kPerQ && RingIndex::used(rings[q].prod, rings[q].cons) < rings[q].size) post(q);
  const std::uint64_t c0 = rig.nic->cycle();
  unsigned done = 0;
  for (std::uint64_t n = 0; done < kQ * kPerQ && n < 200000; ++n) {
    rig.nic->tick(16);
    for (unsigned q = 0; q < kQ; ++q) {
      RawRig::Ring& r = rings[q];
      for (;;) {
        const std::uint64_t at = r.cpl + std::uint64_t(RingIndex::slot(r.cons, r.size)) * vd::abi::CPL_SIZE;
        const auto c = vd::abi::Cpl::unpack({rig.mem.ptr(at, vd::abi::CPL_SIZE), vd::abi::CPL_SIZE});
        if ((c.phase & 1) != RingIndex::phase(r.cons, r.log2)) break;
        ASSERT_FALSE(expect[q].empty()) << "queue " << q << ": a completion nothing was posted for";
        SCOPED_TRACE("queue " + std::to_string(q) + " completion " + std::to_string(done));
        EXPECT_EQ(c.index, RingIndex::slot(r.cons, r.size));
        EXPECT_EQ(c.queue, q);
        EXPECT_EQ(c.status, expect[q].front().status);
        EXPECT_EQ(c.len, expect[q].front().len);
        expect[q].pop_front();
        ++r.cons;
        ++done;
        if (posted[q] < kPerQ) post(q);
      }
    }
  }
  const std::uint64_t cycles = rig.nic->cycle() - c0;
  ASSERT_EQ(done, kQ * kPerQ);
  ASSERT_TRUE(rig.settle());
  std::vector<Bytes> got[kQ];
  for (const Bytes& f : rig.tx_out) {
    ASSERT_GE(f.size(), 2u);
    ASSERT_LT(f[0], kQ);
    got[f[0]].push_back(f);
  }
  for (unsigned q = 0; q < kQ; ++q) {
    ASSERT_EQ(got[q].size(), wire_expect[q].size()) << "queue " << q;
    for (std::size_t i = 0; i < got[q].size(); ++i) {
      EXPECT_TRUE(got[q][i] == wire_expect[q][i]) << "queue " << q << " frame " << i;
    }
  }
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_TX_PKTS), good);
  EXPECT_EQ(rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), bad);
  EXPECT_GT(bad, 10u);
  std::printf("[ tx pipeline ] DW=%u: %u frames (%u bad) in %llu cycles\n", GetParam(), kQ * kPerQ, bad,
              static_cast<unsigned long long>(cycles));
  if (GetParam() == 512) {
    EXPECT_LT(cycles, std::uint64_t(kQ * kPerQ) * 100);
  }
}

INSTANTIATE_TEST_SUITE_P(Widths, RtlModel, ::testing::ValuesIn(NicModel::available_widths()), width_name);
