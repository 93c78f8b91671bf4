// The RX path of the Verilated NIC, for every width: bad frames (MAC error,
// runt, oversize) dropped and counted, recovery after an oversize frame, all
// store-and-forward slots full, no descriptor, a buffer too small, an RX
// descriptor ring outside host memory, the default RX queue.
#include <gtest/gtest.h>

#include <cstdint>

#include "rtl_rig.hpp"

using namespace rtl_test;

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
  // The sideband shows the loss without an MMIO read (so it is read first:
  // reading the register clocks the NIC).
  const std::uint64_t cycle = r.nic->cycle();
  EXPECT_EQ(r.nic->rx_drops().full, 2u);
  EXPECT_EQ(r.nic->rx_drops().no_desc, 0u);
  EXPECT_EQ(r.nic->cycle(), cycle) << "reading the sideband clocked the NIC";
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
