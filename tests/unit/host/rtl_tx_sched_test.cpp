// The TX scheduler shares the wire by bytes (deficit round robin), not by
// descriptors: a queue of 9000-byte frames does not get 90 times the bytes
// of a queue of 100-byte frames.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "veridian/abi.hpp"
#include "veridian/core/hostmem.hpp"
#include "veridian/dev/nic_driver.hpp"
#include "veridian/rtl/nic_model.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

class RtlTxSched : public ::testing::TestWithParam<unsigned> {};

TEST_P(RtlTxSched, QueuesShareTheWireByBytes) {
  vd::HostMemory mem{std::size_t(64) << 20};
  vd::BufferPool pool{mem, 10240, 256};
  vd::rtl::NicModelConfig mc;
  mc.data_width = GetParam();
  auto nic = vd::rtl::NicModel::create(mc, mem);
  std::vector<Bytes> wire;
  std::uint32_t irq = 0;
  nic->on_tx([&](Bytes&& f, std::uint64_t) { wire.push_back(std::move(f)); });
  nic->on_irq([&](std::uint32_t m, std::uint64_t) { irq |= m; });
  vd::dev::NicDriver drv(*nic, mem, pool, vd::dev::DriverConfig{2, 6, std::nullopt});
  drv.init();
  constexpr int kEach = 20;
  for (int k = 0; k < kEach; ++k) {
    ASSERT_TRUE(drv.transmit(vd::packet_from_bytes(pool, Bytes(9000, 0xB1)), 0));  // big frames on queue 0
    ASSERT_TRUE(drv.transmit(vd::packet_from_bytes(pool, Bytes(100, 0x5A)), 1));   // small frames on queue 1
  }
  for (int i = 0; i < 20000 && wire.size() < 2 * kEach; ++i) {
    nic->tick(64, true);
    if (irq) {
      const auto m = irq;
      irq = 0;
      drv.handle_irq(m);
    }
  }
  ASSERT_EQ(wire.size(), std::size_t(2 * kEach));
  // When queue 1's last small frame leaves, queue 0 has sent only a couple of
  // big ones (per-descriptor round robin would have sent 19 or 20).
  int big = 0, small = 0;
  for (const auto& f : wire) {
    if (f[0] == 0xB1) ++big;
    else ++small;
    if (small == kEach) break;
  }
  EXPECT_EQ(small, kEach);
  EXPECT_LE(big, 3) << "queue 0 took " << big << " x 9000 bytes while queue 1 sent " << kEach << " x 100";
  EXPECT_GE(big, 1);
}

std::string width_name(const ::testing::TestParamInfo<unsigned>& i) { return "w" + std::to_string(i.param); }
INSTANTIATE_TEST_SUITE_P(Widths, RtlTxSched, ::testing::ValuesIn(vd::rtl::NicModel::available_widths()), width_name);

}  // namespace
