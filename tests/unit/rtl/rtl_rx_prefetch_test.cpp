// The RX descriptor cache: descriptors are fetched ahead in bursts, so a
// run of frames costs far fewer descriptor reads than frames, and frames
// still land in the posted buffers in ring order. Also the per-queue RX
// checksum switch.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <deque>

#include "rtl_rig.hpp"

namespace {

using namespace rtl_test;

// The NIC with one queue pair behind the driver; the test ticks it.
struct Rig : DriverRig {
  std::deque<Rx> got;

  Rig(unsigned width, unsigned ring_log2)
      : DriverRig(width, vd::dev::DriverConfig{1, ring_log2, std::nullopt},
                  PoolSpec{std::size_t(64) << 20, 2048, 512}) {
    drv->set_rx_handler(collect_into(got));
    drv->init();
    tick_while_busy(1000, 16);  // the initial prefetch
  }
  // One frame in, ticked (interrupts serviced) until it is delivered.
  bool receive(const Bytes& f) {
    const std::size_t before = got.size();
    nic->rx_frame(f, nic->cycle());
    run_until([&] { return got.size() != before; }, 2000 * 16, 16);
    return got.size() == before + 1;
  }
};

class RtlRxPrefetch : public ::testing::TestWithParam<unsigned> {};

TEST_P(RtlRxPrefetch, DescriptorsAreReadInBurstsAndFramesArriveInOrder) {
  Rig r(GetParam(), 6);
  ASSERT_TRUE(r.nic->idle());
  const auto reads0 = r.nic->stats().dma_reads;
  constexpr int kFrames = 200;
  for (int k = 0; k < kFrames; ++k) {
    const Bytes f(60 + k % 200, static_cast<std::uint8_t>(k));
    ASSERT_TRUE(r.receive(f)) << "frame " << k;
    ASSERT_EQ(r.got.back().data, f) << "frame " << k;
  }
  const auto reads = r.nic->stats().dma_reads - reads0;
  // At most one read per half cache (8 descriptors), plus ring wrap splits.
  EXPECT_LE(reads, std::uint64_t(kFrames / 8 + kFrames / 64 + 2)) << reads << " descriptor reads for " << kFrames;
  EXPECT_GT(reads, 0u);
  EXPECT_EQ(r.drv->counters().at("rx_errors"), 0u);
}

// QCTRL_RX_NO_CSUM switches RX checksum verification off for one ring.
TEST_P(RtlRxPrefetch, RxChecksumVerificationCanBeSwitchedOffPerQueue) {
  Rig r(GetParam(), 4);
  // IPv4/UDP with a correct header checksum and UDP checksum 0 over a 20-byte
  // datagram: the IPv4 header is what the verifier reports on.
  Bytes f(14 + 28, 0);
  f[12] = 0x08;
  f[14] = 0x45;
  f[17] = 28;
  f[22] = 64;
  f[23] = 17;
  std::uint32_t s = 0;
  for (int i = 0; i < 20; i += 2) s += std::uint32_t(f[14 + i]) << 8 | f[15 + i];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  f[24] = static_cast<std::uint8_t>(~s >> 8);
  f[25] = static_cast<std::uint8_t>(~s);
  using C = vd::OffloadMeta::Csum;
  ASSERT_TRUE(r.receive(f));
  EXPECT_EQ(r.got.back().meta.rx_csum_ip, C::Good);
  const std::uint32_t ctrl = vd::abi::rxq_reg(0, vd::abi::REG_Q_CTRL);
  r.nic->mmio_write(ctrl, 1u << vd::abi::QCTRL_ENABLE_BIT | 1u << vd::abi::QCTRL_RX_NO_CSUM_BIT);
  EXPECT_EQ(r.nic->mmio_read(ctrl), 3u);
  ASSERT_TRUE(r.receive(f));
  EXPECT_EQ(r.got.back().meta.rx_csum_ip, C::NotChecked);
  r.nic->mmio_write(ctrl, 1u << vd::abi::QCTRL_ENABLE_BIT);
  ASSERT_TRUE(r.receive(f));
  EXPECT_EQ(r.got.back().meta.rx_csum_ip, C::Good);
}

VD_RTL_INSTANTIATE_WIDTHS(RtlRxPrefetch);

}  // namespace
