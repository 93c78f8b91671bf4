// The TX path of the Verilated NIC, for every width, with descriptors
// posted by hand over MMIO: bad descriptors and a descriptor ring outside
// host memory, interrupt arming, round robin between queues, MAC pacing, DMA
// latency, and many frames in flight on three queues with errors and ring wrap.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "rtl_rig.hpp"

using namespace rtl_test;

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
    rig.post_tx_desc(r, q, d);
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
        const auto next = rig.peek_cpl(r);
        if (!next) break;
        const auto& c = *next;
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
