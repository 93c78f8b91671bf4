// The harness's utilisation counters: per-engine busy cycles sampled from the
// RTL's eng_busy port, and PCIe TLPs and bytes per direction. A TX-only run
// must show TX engines busy and RX engines idle (and the reverse), and the
// PCIe counts must add up to the DMA and MMIO traffic the run made.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "rtl_rig.hpp"

using namespace rtl_test;
using vd::rtl::kNicEngines;
using vd::rtl::NicModelStats;

namespace {

std::size_t engine(const std::string& name) {
  for (std::size_t i = 0; i < kNicEngines.size(); ++i)
    if (name == kNicEngines[i]) return i;
  ADD_FAILURE() << "no engine " << name;
  return 0;
}
std::uint64_t busy(const NicModelStats& s, const char* name) { return s.engine_busy_cycles[engine(name)]; }

// PCIe totals that follow from the DMA and MMIO counts whatever the run did.
void expect_pcie_adds_up(const NicModelStats& s, const NicModelConfig& mc) {
  // Downstream: read completion data and 4-byte MMIO writes and read requests.
  EXPECT_EQ(s.pcie_down.payload_bytes, s.dma_read_bytes + 4 * s.mmio_writes);
  EXPECT_GE(s.pcie_down.tlps, s.dma_reads + s.mmio_writes + s.mmio_reads);
  EXPECT_EQ(s.pcie_down.bytes, s.pcie_down.payload_bytes + s.pcie_down.tlps * mc.dma.tlp_overhead);
  // Upstream: posted write data, read requests and MMIO read completions.
  EXPECT_EQ(s.pcie_up.payload_bytes, s.dma_write_bytes + 4 * s.mmio_reads);
  EXPECT_GE(s.pcie_up.tlps, s.dma_reads + s.dma_writes + s.mmio_reads);
  EXPECT_EQ(s.pcie_up.bytes, s.pcie_up.payload_bytes + s.pcie_up.tlps * mc.dma.tlp_overhead);
  // The link time the timing model charged covers at least the data.
  const double bytes_per_cycle = mc.dma.gbps / 8.0 * (1e3 / mc.clock_mhz);
  EXPECT_GE(s.pcie_down.busy_cycles, double(s.dma_read_bytes) / bytes_per_cycle);
  EXPECT_GE(s.pcie_up.busy_cycles, double(s.dma_write_bytes) / bytes_per_cycle);
  for (const auto c : s.engine_busy_cycles) EXPECT_LE(c, s.cycles);
}

}  // namespace

TEST_P(RtlModel, TxRunKeepsTxEnginesBusyAndRxEnginesIdle) {
  NicModelConfig mc;
  RawRig rig(GetParam(), mc);
  RawRig::Ring tx;
  rig.setup(tx, true, 0);
  rig.enable();
  constexpr unsigned kFrames = 8;
  constexpr std::size_t kLen = 1000;
  for (unsigned i = 0; i < kFrames; ++i) rig.send(tx, 0, counting_frame(kLen, static_cast<std::uint8_t>(i)));
  for (unsigned i = 0; i < kFrames; ++i) ASSERT_TRUE(rig.wait_cpl(tx).has_value());
  ASSERT_TRUE(rig.settle());
  const NicModelStats& s = rig.nic->stats();
  ASSERT_EQ(s.tx_frames, kFrames);
  const std::uint64_t beats = (kLen + GetParam() / 8 - 1) / (GetParam() / 8);
  EXPECT_GE(busy(s, "tx_emit"), kFrames * beats);  // every beat is held at least a cycle
  // The first frame's data read waited out the DMA latency (500 ns = 125 cycles).
  EXPECT_GE(busy(s, "tx_read"), 125u);
  EXPECT_GT(busy(s, "tx_fetch"), 0u);
  EXPECT_GE(busy(s, "tx_header"), kFrames);
  EXPECT_GE(busy(s, "tx_cpl"), kFrames);
  EXPECT_EQ(busy(s, "rx_mac"), 0u);
  EXPECT_EQ(busy(s, "rx_rss"), 0u);
  EXPECT_EQ(busy(s, "rx_proc"), 0u);
  // Frame data came down; completions went up.
  EXPECT_GE(s.pcie_down.payload_bytes, kFrames * kLen);
  EXPECT_GE(s.pcie_up.tlps, kFrames);
  expect_pcie_adds_up(s, mc);
}

TEST_P(RtlModel, RxRunKeepsRxEnginesBusyAndTxEnginesIdle) {
  DriverRig r(GetParam());
  r.drv->init();
  r.tick_while_busy(100, 64);  // RX descriptor prefetch
  const NicModelStats before = r.nic->stats();
  constexpr unsigned kFrames = 6;
  constexpr std::size_t kLen = 600;
  for (unsigned i = 0; i < kFrames; ++i)
    r.nic->rx_frame(counting_frame(kLen, static_cast<std::uint8_t>(i)), r.nic->cycle() + 400 * i);
  ASSERT_TRUE(r.run_until([&] { return r.rx_in.size() == kFrames; }));
  const NicModelStats& s = r.nic->stats();
  const auto grew = [&](const char* name) { return busy(s, name) - busy(before, name); };
  const std::uint64_t beats = (kLen + GetParam() / 8 - 1) / (GetParam() / 8);
  EXPECT_GE(grew("rx_mac"), kFrames * (beats - 1));  // in_frame from the first beat to the last
  EXPECT_GE(grew("rx_rss"), kFrames);
  EXPECT_GE(grew("rx_proc"), kFrames * beats);  // the DMA write holds it a beat at a time
  EXPECT_EQ(grew("tx_emit"), 0u);
  EXPECT_EQ(grew("tx_header"), 0u);
  EXPECT_EQ(grew("tx_read"), 0u);
  // Frame data went up.
  EXPECT_GE(s.pcie_up.payload_bytes - before.pcie_up.payload_bytes, kFrames * kLen);
  expect_pcie_adds_up(s, NicModelConfig{});
}

