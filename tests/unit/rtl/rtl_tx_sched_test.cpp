// The TX scheduler shares the wire by bytes (deficit round robin), not by
// descriptors: a queue of 9000-byte frames does not get 90 times the bytes
// of a queue of 100-byte frames.
#include <gtest/gtest.h>

#include <cstddef>

#include "rtl_rig.hpp"

namespace {

using namespace rtl_test;

class RtlTxSched : public ::testing::TestWithParam<unsigned> {};

TEST_P(RtlTxSched, QueuesShareTheWireByBytes) {
  DriverRig r(GetParam(), vd::dev::DriverConfig{2, 6, std::nullopt});
  auto& pool = r.pool;
  auto& drv = *r.drv;
  const auto& wire = r.tx_out;
  drv.init();
  constexpr int kEach = 20;
  for (int k = 0; k < kEach; ++k) {
    ASSERT_TRUE(drv.transmit(vd::packet_from_bytes(pool, Bytes(9000, 0xB1)), 0));  // big frames on queue 0
    ASSERT_TRUE(drv.transmit(vd::packet_from_bytes(pool, Bytes(100, 0x5A)), 1));   // small frames on queue 1
  }
  r.run_until([&] { return wire.size() >= 2 * kEach; }, 20000 * 64);
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

VD_RTL_INSTANTIATE_WIDTHS(RtlTxSched);

}  // namespace
