// NicDriver against a device that is not the RTL harness: a register file
// behind vd::MmioPort that completes descriptors in host memory itself.
// Proves the driver depends on the port only (issue 13, item 2), and pins
// down the MMIO sequence the driver issues, which any second device model
// (a recorded trace, another NIC) has to answer.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "veridian/abi.hpp"
#include "veridian/core/hostmem.hpp"
#include "veridian/core/mmio_port.hpp"
#include "veridian/dev/nic_driver.hpp"


// Not "abi": <cxxabi.h> (via GoogleTest) already names a global namespace abi.
namespace vabi = vd::abi;

namespace {

// Answers the identification registers, keeps every written value, and
// records the writes in order.
class RegisterFileNic : public vd::MmioPort {
 public:
  explicit RegisterFileNic(std::uint32_t abi_id = vabi::ABI_ID_VALUE) {
    regs_[vabi::REG_ABI_ID] = abi_id;
    regs_[vabi::REG_VERSION] = vabi::ABI_VERSION;
    regs_[vabi::REG_FEATURES] = 0;
    regs_[vabi::REG_QUEUE_COUNT] = 2u | 2u << 8;  // 2 TX, 2 RX queues
  }
  void mmio_write(std::uint32_t addr, std::uint32_t data) override {
    writes.push_back({addr, data});
    if (addr == vabi::REG_CTRL && (data >> vabi::CTRL_RESET_BIT & 1u)) data = 0;  // reset self-clears
    regs_[addr] = data;
  }
  std::uint32_t mmio_read(std::uint32_t addr) override {
    ++reads;
    return regs_.count(addr) ? regs_[addr] : 0;
  }
  std::uint32_t reg(std::uint32_t addr) const { return regs_.count(addr) ? regs_.at(addr) : 0; }
  std::uint64_t ring_addr(std::uint32_t base) const {
    return std::uint64_t(reg(base + vabi::REG_Q_RING_HI)) << 32 | reg(base + vabi::REG_Q_RING_LO);
  }
  std::uint64_t cpl_addr(std::uint32_t base) const {
    return std::uint64_t(reg(base + vabi::REG_Q_CPL_HI)) << 32 | reg(base + vabi::REG_Q_CPL_LO);
  }

  struct Write {
    std::uint32_t addr, data;
  };
  std::vector<Write> writes;
  unsigned reads = 0;

 private:
  std::map<std::uint32_t, std::uint32_t> regs_;
};

vd::dev::DriverConfig two_queues() {
  vd::dev::DriverConfig c;
  c.queues = 2;
  c.ring_log2 = 4;
  return c;
}

// Host memory, a buffer pool, the device and its driver (rings of 16, 2 queues).
struct Rig {
  explicit Rig(std::uint32_t abi_id = vabi::ABI_ID_VALUE) : nic(abi_id), drv(nic, mem, pool, two_queues()) {}
  vd::HostMemory mem{1 << 20};
  vd::BufferPool pool{mem, 2048, 64};
  RegisterFileNic nic;
  vd::dev::NicDriver drv;
};

}  // namespace

TEST(DriverPort, AbiMismatchIsRefusedBeforeAnyRegisterIsWritten) {
  Rig r(0xdeadbeef);
  auto& [mem, pool, nic, drv] = r;
  EXPECT_THROW(drv.init(), vd::dev::AbiMismatch);
  EXPECT_TRUE(nic.writes.empty());
}

TEST(DriverPort, InitResetsProgramsEveryRingThenEnables) {
  Rig r;
  auto& [mem, pool, nic, drv] = r;
  drv.init();
  ASSERT_FALSE(nic.writes.empty());
  EXPECT_EQ(nic.writes.front().addr, vabi::REG_CTRL);
  EXPECT_EQ(nic.writes.front().data, 1u << vabi::CTRL_RESET_BIT);
  EXPECT_EQ(nic.reg(vabi::REG_CTRL), 1u << vabi::CTRL_ENABLE_BIT);
  for (unsigned q = 0; q < 2; ++q) {
    for (std::uint32_t base : {vabi::txq_reg(q, 0), vabi::rxq_reg(q, 0)}) {
      EXPECT_EQ(nic.reg(base + vabi::REG_Q_SIZE_LOG2), 4u) << q;
      EXPECT_TRUE(nic.reg(base + vabi::REG_Q_CTRL) >> vabi::QCTRL_ENABLE_BIT & 1u) << q;
      // Rings and completion rings are distinct, in host memory, 4 KiB aligned.
      EXPECT_NE(nic.ring_addr(base), nic.cpl_addr(base));
      EXPECT_EQ(nic.ring_addr(base) % 4096, 0u);
      EXPECT_NE(mem.ptr(nic.ring_addr(base), vabi::DESC_SIZE), nullptr);
    }
    // RX is filled to the ring size with buffers and the doorbell rung.
    EXPECT_EQ(nic.reg(vabi::rxq_reg(q, vabi::REG_Q_PROD)), 16u) << q;
  }
}

TEST(DriverPort, TransmitRingsTheDoorbellAndACompletionFreesTheSlot) {
  Rig r;
  auto& [mem, pool, nic, drv] = r;
  drv.init();
  const std::size_t free_before = pool.available();
  vd::Packet p = pool.alloc();
  p.append(60);
  const std::uint64_t buf = p.dma_addr();
  ASSERT_TRUE(drv.transmit(std::move(p), 1));
  EXPECT_EQ(nic.reg(vabi::txq_reg(1, vabi::REG_Q_PROD)), 1u);
  EXPECT_EQ(drv.tx_in_flight(1), 1u);
  // The descriptor the device would fetch points at the frame.
  const auto d = vabi::TxDesc::unpack({mem.ptr(nic.ring_addr(vabi::txq_reg(1, 0)), vabi::DESC_SIZE), vabi::DESC_SIZE});
  EXPECT_EQ(d.addr, buf);
  EXPECT_EQ(d.len, 60u);

  // The device completes it (phase 1 on the first pass) and interrupts.
  vabi::Cpl c;
  c.index = 0;
  c.len = 60;
  c.queue = 1;
  c.phase = 1;
  c.pack({mem.ptr(nic.cpl_addr(vabi::txq_reg(1, 0)), vabi::CPL_SIZE), vabi::CPL_SIZE});
  drv.handle_irq(1u << 1);
  EXPECT_EQ(drv.tx_in_flight(1), 0u);
  EXPECT_EQ(pool.available(), free_before);  // the frame's buffer is back in the pool
  EXPECT_EQ(drv.counters().at("tx_errors"), 0u);
  // Re-armed with the consumed completion count in the upper half.
  EXPECT_EQ(nic.reg(vabi::txq_reg(1, vabi::REG_Q_IRQ_ARM)), 1u | 1u << 16);
}
