// TX checksum offload in the Verilated NIC against the offload/ reference
// model, for every width: partial checksum (CHECKSUM_PARTIAL) through the
// driver, full IPv4 / L4 checksum insertion posted by hand (OffloadRig).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "rtl_rig.hpp"
#include "veridian/offload/csum_offload.hpp"

using namespace rtl_test;

namespace {

// Random frame for full checksum: TCP / UDP / other over IPv4 / IPv6 (with
// extension headers), tagged or not; some fragments, Ethernet padding,
// truncated or lying lengths, non-IP.
Bytes random_csum_frame(std::mt19937& rng) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  GenOpts o;
  o.v6 = u(0, 1) == 1;
  o.vlan = u(0, 3) == 0;
  const int kind = u(0, 9);
  o.proto = kind < 5 ? 6 : kind < 9 ? 17 : 59;
  if (o.v6) o.ext = u(0, 3) == 0 ? 8 * std::size_t(u(1, 5)) : 0;
  if (o.v6 && o.ext > 0) o.frag6 = u(0, 7) == 0;
  if (!o.v6) o.ip_opt = u(0, 2) == 0 ? 4 * std::size_t(u(1, 10)) : 0;
  o.l4_opt = o.proto == 6 ? 4 * std::size_t(u(0, 10)) : 0;
  o.payload = u(0, 15) == 0 ? std::size_t(u(0, 8000)) : std::size_t(u(0, 1500));
  if (u(0, 7) == 0) o.payload = std::size_t(u(0, 3));
  Bytes f = gen_frame(rng, o);
  const std::size_t l3 = o.vlan ? 18 : 14;
  switch (u(0, 15)) {
    case 0:  // Ethernet padding
      for (int i = u(1, 40); i > 0 && f.size() < vd::abi::MAX_FRAME; --i) f.push_back(static_cast<std::uint8_t>(u(0, 255)));
      break;
    case 1:  // IPv4 fragment (L4 not touched)
      if (!o.v6) f[l3 + 6] = static_cast<std::uint8_t>(0x20 | (f[l3 + 6] & 0x40));
      break;
    case 2:  // truncated: the IP length claims more than the frame
      f.resize(f.size() - std::min<std::size_t>(f.size() - l3, std::size_t(u(1, 30))));
      break;
    case 3:  // non-IP
      f[l3 - 2] = 0x88;
      f[l3 - 1] = 0xB5;
      break;
    case 4:  // tiny frame
      f.resize(std::size_t(u(1, 60)));
      break;
    case 5:  // L4 shorter than its header: IP length cut
      if (!o.v6) {
        const std::size_t dl = 20 + o.ip_opt + std::size_t(u(0, 7));
        f[l3 + 2] = static_cast<std::uint8_t>(dl >> 8);
        f[l3 + 3] = static_cast<std::uint8_t>(dl);
      }
      break;
    default: break;
  }
  return f;
}

}  // namespace

// Differential test: the RTL's partial checksum (CHECKSUM_PARTIAL) against the
// offload/ reference model, bit for bit, on seeded random frames, starts and
// offsets (odd and even starts, fields straddling beat boundaries).
TEST_P(RtlModel, TxPartialChecksumMatchesTheReferenceModel) {
  DriverRig r(GetParam());
  r.drv->init();
  ASSERT_NE(r.reg(vd::abi::REG_FEATURES) & (1u << vd::abi::FEAT_TX_CSUM_BIT), 0u);
  std::mt19937 rng(20261125u + GetParam());
  std::uniform_int_distribution<std::size_t> len_d(16, vd::abi::MAX_FRAME);
  constexpr int kFrames = 10000;
  for (int k = 0; k < kFrames; ++k) {
    const std::size_t n = k < 40 ? 16 + std::size_t(k) : len_d(rng);
    Bytes f = random_frame(rng, n);
    const std::size_t start = std::uniform_int_distribution<std::size_t>(0, std::min<std::size_t>(255, n - 2))(rng);
    const std::size_t max_off = std::min<std::size_t>(254, n - 2 - start) / 2;
    const std::size_t off = 2 * std::uniform_int_distribution<std::size_t>(0, max_off)(rng);
    Bytes want = f;
    ASSERT_TRUE(vd::offload::insert_partial(want, start, off));
    Packet p = vd::packet_from_bytes(r.pool, f);
    ASSERT_TRUE(p);
    p.meta.tx_csum_partial = true;
    p.meta.csum_start = static_cast<std::uint16_t>(start);
    p.meta.csum_offset = static_cast<std::uint16_t>(off);
    ASSERT_TRUE(r.drv->transmit(std::move(p), 0));
    ASSERT_TRUE(r.run_until([&] { return !r.tx_out.empty(); }));
    ASSERT_EQ(r.tx_out.front(), want) << "frame " << k << " len " << n << " start " << start << " offset " << off;
    r.tx_out.pop_front();
    ASSERT_TRUE(r.run_until([&] { return r.drv->tx_in_flight(0) == 0; }));
  }
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_DESC_ERR), 0u);
}

TEST_P(RtlModel, TxPartialChecksumFieldOutsideTheFrameIsADescriptorError) {
  DriverRig r(GetParam());
  r.drv->init();
  Packet p = vd::packet_from_bytes(r.pool, counting_frame(40, 1));
  p.meta.tx_csum_partial = true;
  p.meta.csum_start = 30;
  p.meta.csum_offset = 10;  // field at 40..41: past the end
  ASSERT_TRUE(r.drv->transmit(std::move(p), 0));
  ASSERT_TRUE(r.run_until([&] { return r.drv->tx_in_flight(0) == 0; }));
  EXPECT_TRUE(r.tx_out.empty());
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_DESC_ERR), 1u);
  EXPECT_EQ(r.drv->counters().at("tx_errors"), 1u);
  // and the next frame, checksum off, goes out untouched
  const Bytes g = counting_frame(100, 9);
  ASSERT_TRUE(r.send(g));
  ASSERT_TRUE(r.run_until([&] { return !r.tx_out.empty(); }));
  EXPECT_EQ(r.tx_out.front(), g);
}

TEST_P(RtlModel, TxFullChecksumMatchesTheReferenceModel) {
  OffloadRig o(GetParam());
  std::mt19937 rng(4242u + GetParam());
  const int kFrames = 5000;
  std::size_t ip_done = 0, l4_done = 0;
  for (int k = 0; k < kFrames; ++k) {
    const Bytes f = random_csum_frame(rng);
    const int fl = std::uniform_int_distribution<int>(0, 3)(rng);
    const std::uint16_t flags = fl == 0 ? kFlagIp : fl == 1 ? kFlagL4 : static_cast<std::uint16_t>(kFlagIp | kFlagL4);
    const Bytes want = expect_full(f, flags);
    const auto c = o.run(f, flags);
    ASSERT_TRUE(c.has_value()) << "frame " << k;
    ASSERT_EQ(c->status, vd::abi::ERR_OK) << "frame " << k;
    ASSERT_EQ(o.rig.tx_out.size(), 1u) << "frame " << k;
    ASSERT_EQ(o.rig.tx_out.front(), want) << "frame " << k << " len " << f.size() << " flags " << flags;
    ip_done += want != f && (flags & kFlagIp);
    l4_done += want != f && (flags & kFlagL4);
  }
  EXPECT_GT(ip_done, std::size_t(kFrames / 4));
  EXPECT_GT(l4_done, std::size_t(kFrames / 4));
  EXPECT_EQ(o.rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), 0u);
}

TEST_P(RtlModel, TxFullChecksumBeyondTheHeaderWindowIsADescriptorError) {
  OffloadRig o(GetParam());
  std::mt19937 rng(99u);
  GenOpts g;
  g.v6 = true;
  g.vlan = true;
  g.ext = 80;  // TCP checksum field at 18 + 40 + 80 + 16 = 154: past the 128-byte header window
  g.payload = 100;
  const Bytes f = gen_frame(rng, g);
  const auto c = o.run(f, kFlagL4);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status, vd::abi::ERR_DESC_FLAGS);
  EXPECT_TRUE(o.rig.tx_out.empty());
  // the same frame without L4 checksum goes out untouched (IPv6: nothing to do)
  const auto c2 = o.run(f, kFlagIp);
  ASSERT_TRUE(c2.has_value());
  EXPECT_EQ(c2->status, vd::abi::ERR_OK);
  ASSERT_EQ(o.rig.tx_out.size(), 1u);
  EXPECT_EQ(o.rig.tx_out.front(), f);
}
