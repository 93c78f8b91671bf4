// The RX descriptor cache: descriptors are fetched ahead in bursts, so a
// run of frames costs far fewer descriptor reads than frames, and frames
// still land in the posted buffers in ring order.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "veridian/abi.hpp"
#include "veridian/core/hostmem.hpp"
#include "veridian/dev/nic_driver.hpp"
#include "veridian/rtl/nic_model.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

class RtlRxPrefetch : public ::testing::TestWithParam<unsigned> {};

TEST_P(RtlRxPrefetch, DescriptorsAreReadInBurstsAndFramesArriveInOrder) {
  vd::HostMemory mem{std::size_t(64) << 20};
  vd::BufferPool pool{mem, 2048, 512};
  vd::rtl::NicModelConfig mc;
  mc.data_width = GetParam();
  auto nic = vd::rtl::NicModel::create(mc, mem);
  std::uint32_t irq = 0;
  nic->on_tx([](Bytes&&, std::uint64_t) {});
  nic->on_irq([&](std::uint32_t m, std::uint64_t) { irq |= m; });
  vd::dev::NicDriver drv(*nic, mem, pool, vd::dev::DriverConfig{1, 6, std::nullopt});
  std::deque<Bytes> got;
  drv.set_rx_handler([&](vd::Packet&& p) { got.emplace_back(p.data(), p.data() + p.size()); });
  drv.init();
  for (int i = 0; i < 1000 && !nic->idle(); ++i) nic->tick(16);  // initial prefetch
  ASSERT_TRUE(nic->idle());
  const auto reads0 = nic->stats().dma_reads;
  constexpr int kFrames = 200;
  for (int k = 0; k < kFrames; ++k) {
    Bytes f(60 + k % 200, static_cast<std::uint8_t>(k));
    nic->rx_frame(f, nic->cycle());
    for (int i = 0; i < 2000 && got.size() < std::size_t(k) + 1; ++i) {
      nic->tick(16, true);
      if (irq) {
        const auto m = irq;
        irq = 0;
        drv.handle_irq(m);
      }
    }
    ASSERT_EQ(got.size(), std::size_t(k) + 1) << "frame " << k;
    ASSERT_EQ(got.back(), f) << "frame " << k;
  }
  const auto reads = nic->stats().dma_reads - reads0;
  // At most one read per half cache (8 descriptors), plus ring wrap splits.
  EXPECT_LE(reads, std::uint64_t(kFrames / 8 + kFrames / 64 + 2)) << reads << " descriptor reads for " << kFrames;
  EXPECT_GT(reads, 0u);
  EXPECT_EQ(drv.counters().at("rx_errors"), 0u);
}

std::string width_name(const ::testing::TestParamInfo<unsigned>& i) { return "w" + std::to_string(i.param); }
INSTANTIATE_TEST_SUITE_P(Widths, RtlRxPrefetch, ::testing::ValuesIn(vd::rtl::NicModel::available_widths()), width_name);

}  // namespace

namespace {

// QCTRL_RX_NO_CSUM switches RX checksum verification off for one ring.
TEST_P(RtlRxPrefetch, RxChecksumVerificationCanBeSwitchedOffPerQueue) {
  vd::HostMemory mem{std::size_t(32) << 20};
  vd::BufferPool pool{mem, 2048, 256};
  vd::rtl::NicModelConfig mc;
  mc.data_width = GetParam();
  auto nic = vd::rtl::NicModel::create(mc, mem);
  std::uint32_t irq = 0;
  nic->on_tx([](Bytes&&, std::uint64_t) {});
  nic->on_irq([&](std::uint32_t m, std::uint64_t) { irq |= m; });
  vd::dev::NicDriver drv(*nic, mem, pool, vd::dev::DriverConfig{1, 4, std::nullopt});
  std::deque<vd::OffloadMeta> got;
  drv.set_rx_handler([&](vd::Packet&& p) { got.push_back(p.meta); });
  drv.init();
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
  auto one = [&] {
    nic->rx_frame(f, nic->cycle());
    for (int i = 0; i < 500 && got.empty(); ++i) {
      nic->tick(16, true);
      if (irq) {
        const auto m = irq;
        irq = 0;
        drv.handle_irq(m);
      }
    }
    EXPECT_EQ(got.size(), 1u);
    const auto m = got.front();
    got.clear();
    return m.rx_csum_ip;
  };
  using C = vd::OffloadMeta::Csum;
  EXPECT_EQ(one(), C::Good);
  const std::uint32_t ctrl = vd::abi::rxq_reg(0, vd::abi::REG_Q_CTRL);
  nic->mmio_write(ctrl, 1u << vd::abi::QCTRL_ENABLE_BIT | 1u << vd::abi::QCTRL_RX_NO_CSUM_BIT);
  EXPECT_EQ(nic->mmio_read(ctrl), 3u);
  EXPECT_EQ(one(), C::NotChecked);
  nic->mmio_write(ctrl, 1u << vd::abi::QCTRL_ENABLE_BIT);
  EXPECT_EQ(one(), C::Good);
}

}  // namespace
