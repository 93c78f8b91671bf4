// The Verilated NIC through rtl::NicModel, for every Verilated data width:
// the widths built, identity and read-write registers, ring size clamping,
// idle and skip_to (fast-forward costs no evaluated cycles).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "rtl_rig.hpp"

using namespace rtl_test;

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
