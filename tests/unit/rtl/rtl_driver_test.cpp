// The host driver (NicDriver) on the Verilated NIC, for every width: init,
// TX and RX with the frame looped back, ABI mismatch, config validation, TX
// errors, a full TX ring, re-init, and a seeded random TX->RX loopback.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "rtl_rig.hpp"

using namespace rtl_test;

namespace {

std::string hex(std::uint32_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

}  // namespace

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
