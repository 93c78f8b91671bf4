// Interrupt moderation in the RTL NIC: an interrupt per N completions, or a
// timer after the first unsignalled one; the timer keeps the NIC busy (so
// idle fast-forward cannot skip it), and a re-arm counts what is pending.
#include <gtest/gtest.h>

#include <cstdint>

#include "rtl_rig.hpp"

namespace {

using namespace rtl_test;

// The driver with one queue pair and the given moderation; frames delivered
// are only counted.
vd::dev::DriverConfig moderated(std::uint16_t frames, std::uint32_t delay_cycles) {
  vd::dev::DriverConfig cfg{1, 5, std::nullopt};
  cfg.irq_frames = frames;
  cfg.irq_delay_cycles = delay_cycles;
  return cfg;
}

struct Rig : DriverRig {
  std::size_t delivered = 0;

  Rig(unsigned width, std::uint16_t frames, std::uint32_t delay_cycles)
      : DriverRig(width, moderated(frames, delay_cycles), PoolSpec{std::size_t(32) << 20, 2048, 256}) {
    drv->set_rx_handler([this](vd::Packet&&) { ++delivered; });
    drv->init();
    tick_while_busy(100, 16);
  }
  std::uint32_t cpl_prod() { return nic->mmio_read(vd::abi::rxq_reg(0, vd::abi::REG_Q_CPL_PROD)); }
  // One frame in, ticked until its completion is written; interrupts not serviced.
  void receive_one() {
    const std::uint32_t before = cpl_prod();
    nic->rx_frame(Bytes(100, 0x5a), nic->cycle());
    for (int i = 0; i < 200 && cpl_prod() == before; ++i) nic->tick(8);
    ASSERT_EQ(cpl_prod(), before + 1);
  }
  void service() { service_irqs(); }
};

class RtlIrqMod : public ::testing::TestWithParam<unsigned> {};

TEST_P(RtlIrqMod, OneInterruptPerNCompletions) {
  Rig r(GetParam(), 8, 0);
  EXPECT_EQ(r.nic->mmio_read(vd::abi::rxq_reg(0, vd::abi::REG_Q_IRQ_MOD)), 8u);
  for (int k = 0; k < 7; ++k) r.receive_one();
  EXPECT_TRUE(r.irq_cycles.empty()) << "fired before 8 completions";
  r.receive_one();
  EXPECT_EQ(r.irq_cycles.size(), 1u);
  r.service();
  EXPECT_EQ(r.delivered, 8u);
  for (int k = 0; k < 8; ++k) r.receive_one();
  EXPECT_EQ(r.irq_cycles.size(), 2u);
  r.service();
  EXPECT_EQ(r.delivered, 16u);
}

TEST_P(RtlIrqMod, WithoutModerationEveryCompletionInterrupts) {
  Rig r(GetParam(), 1, 0);
  for (int k = 0; k < 5; ++k) {
    r.receive_one();
    r.service();
  }
  EXPECT_EQ(r.irq_cycles.size(), 5u);
  EXPECT_EQ(r.delivered, 5u);
}

TEST_P(RtlIrqMod, TimerFiresAfterTheDelayAndKeepsTheNicBusy) {
  constexpr std::uint32_t kDelay = 640;
  Rig r(GetParam(), 100, kDelay);
  const std::uint64_t t0 = r.nic->cycle();
  for (int k = 0; k < 3; ++k) r.receive_one();
  EXPECT_TRUE(r.irq_cycles.empty());
  EXPECT_FALSE(r.nic->idle()) << "a running moderation timer is work";
  for (int i = 0; i < 200 && r.irq_cycles.empty(); ++i) r.nic->tick(16);
  ASSERT_EQ(r.irq_cycles.size(), 1u);
  // The timer starts at the first completion, which comes after t0.
  EXPECT_GE(r.irq_cycles[0], t0 + kDelay);
  EXPECT_LE(r.irq_cycles[0], t0 + kDelay + 400);
  r.service();
  EXPECT_EQ(r.delivered, 3u);
  for (int i = 0; i < 50 && !r.nic->idle(); ++i) r.nic->tick(16);
  EXPECT_TRUE(r.nic->idle());
}

TEST_P(RtlIrqMod, RearmCountsCompletionsAlreadyPending) {
  Rig r(GetParam(), 4, 0);
  for (int k = 0; k < 4; ++k) r.receive_one();
  ASSERT_EQ(r.irq_cycles.size(), 1u);
  // Not serviced yet: three more completions land while the ring is disarmed.
  for (int k = 0; k < 3; ++k) r.receive_one();
  EXPECT_EQ(r.irq_cycles.size(), 1u);
  r.service();  // consumes all 7 and re-arms with 0 pending
  EXPECT_EQ(r.delivered, 7u);
  for (int k = 0; k < 3; ++k) r.receive_one();
  EXPECT_EQ(r.irq_cycles.size(), 1u);
  r.receive_one();
  EXPECT_EQ(r.irq_cycles.size(), 2u);
}

VD_RTL_INSTANTIATE_WIDTHS(RtlIrqMod);

}  // namespace
