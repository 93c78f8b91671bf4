// TSO in the Verilated NIC against offload::tso_segment, for every width:
// seeded random sends, edge cases (MSS 1, MSS 9000, no payload, 64 KiB),
// bad TSO descriptors, the cycles of a 64 KiB send, and a TSO send through
// the driver from a pool of large buffers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "rtl_rig.hpp"
#include "veridian/offload/tso.hpp"

using namespace rtl_test;

namespace {

// Random TSO super-frame options: headers within 128 bytes.
GenOpts random_tso_opts(std::mt19937& rng, std::size_t max_payload) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  GenOpts o;
  o.v6 = u(0, 1) == 1;
  o.vlan = u(0, 3) == 0;
  const std::size_t l3 = o.vlan ? 18 : 14;
  if (o.v6) o.ext = u(0, 2) == 0 ? 8 * std::size_t(u(1, 4)) : 0;
  else o.ip_opt = u(0, 2) == 0 ? 4 * std::size_t(u(1, 10)) : 0;
  const std::size_t used = l3 + (o.v6 ? 40 + o.ext : 20 + o.ip_opt) + 20;
  const std::size_t max_opt = std::min<std::size_t>(40, (128 - used) / 4 * 4);
  o.l4_opt = u(0, 1) == 0 ? 4 * std::size_t(u(0, int(max_opt / 4))) : 0;
  o.payload = std::size_t(u(0, int(max_payload)));
  if (u(0, 15) == 0) o.payload = 0;
  else if (u(0, 7) == 0) o.payload = std::size_t(u(1, 64));  // small sends (MSS 1 is used on these)
  return o;
}

std::uint16_t random_mss(std::mt19937& rng, std::size_t payload) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int p = int(std::max<std::size_t>(payload, 1));
  switch (u(0, 7)) {
    case 0: return payload <= 64 ? 1 : static_cast<std::uint16_t>(u(64, 128));
    case 1: return static_cast<std::uint16_t>(std::max(1, p - 1));
    case 2: return static_cast<std::uint16_t>(p);
    case 3: return static_cast<std::uint16_t>(p + 1);
    case 4: return static_cast<std::uint16_t>(u(1, 9000));
    default: return static_cast<std::uint16_t>(u(std::max(1, p / 8), p));
  }
}

// Checks one TSO send against offload::tso_segment; returns the number of segments.
std::size_t check_tso(OffloadRig& o, const Bytes& f, std::uint16_t mss, const std::string& what) {
  const auto want = vd::offload::tso_segment(f, mss);
  EXPECT_TRUE(want.ok()) << what << ": " << vd::offload::to_string(want.error);
  const auto c = o.run(f, kFlagTso, mss);
  EXPECT_TRUE(c.has_value()) << what;
  if (!c) return 0;
  EXPECT_EQ(c->status, vd::abi::ERR_OK) << what;
  EXPECT_EQ(c->len, f.size()) << what;
  EXPECT_EQ(o.rig.tx_out.size(), want.segments.size()) << what;
  for (std::size_t i = 0; i < std::min(o.rig.tx_out.size(), want.segments.size()); ++i) {
    if (o.rig.tx_out[i] != want.segments[i]) {
      ADD_FAILURE() << what << ": segment " << i << " of " << want.segments.size() << " differs";
      break;
    }
  }
  return want.segments.size();
}

}  // namespace

TEST_P(RtlModel, TsoMatchesTheReferenceModel) {
  OffloadRig o(GetParam());
  ASSERT_NE(o.rig.nic->mmio_read(vd::abi::REG_FEATURES) & (1u << vd::abi::FEAT_TSO_BIT), 0u);
  std::mt19937 rng(31337u + GetParam());
  const int kSends = 5000;
  std::size_t segs = 0;
  for (int k = 0; k < kSends; ++k) {
    const GenOpts g = random_tso_opts(rng, k % 50 == 0 ? 20000 : 1600);
    const Bytes f = gen_frame(rng, g);
    // a segment must fit the NIC's 9216-byte frame buffer: MSS at most 9000 here
    const std::uint16_t mss = std::min<std::uint16_t>(random_mss(rng, g.payload), 9000);
    segs += check_tso(o, f, mss, "send " + std::to_string(k) + " payload " + std::to_string(g.payload) +
                                     " mss " + std::to_string(mss));
    if (HasFailure()) return;
  }
  std::printf("TSO: %d sends, %zu segments checked\n", kSends, segs);
  EXPECT_EQ(o.rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), 0u);
}

TEST_P(RtlModel, TsoEdgeCases) {
  OffloadRig o(GetParam());
  std::mt19937 rng(5u);
  GenOpts g;
  // MSS 1
  g.payload = 300;
  g.l4_opt = 12;
  check_tso(o, gen_frame(rng, g), 1, "mss 1");
  // MSS 9000: one segment
  g.v6 = true;
  g.payload = 9000;
  g.l4_opt = 0;
  EXPECT_EQ(check_tso(o, gen_frame(rng, g), 9000, "mss 9000"), 1u);
  // zero payload: one segment, FIN/PSH kept
  g.payload = 0;
  EXPECT_EQ(check_tso(o, gen_frame(rng, g), 1448, "no payload"), 1u);
  // the largest send (LEN 65535), IPv4 and IPv6, headers of 128 bytes
  for (bool v6 : {false, true}) {
    GenOpts b;
    b.v6 = v6;
    b.vlan = true;
    b.ip_opt = v6 ? 0 : 40;
    b.ext = v6 ? 24 : 0;
    b.l4_opt = v6 ? 28 : 32;  // 18 + 60 + 52 = 130 > 128: trimmed below
    const std::size_t l3 = 18, iph = v6 ? 40 + b.ext : 20 + b.ip_opt;
    b.l4_opt = (128 - l3 - iph - 20) / 4 * 4;
    b.payload = 65535 - (l3 + iph + 20 + b.l4_opt);
    if (!v6) {
      // the IPv4 total length field is 16 bits: the datagram is 65535 - 18 here
    }
    const Bytes f = gen_frame(rng, b);
    ASSERT_EQ(f.size(), 65535u);
    EXPECT_EQ(check_tso(o, f, 1460, v6 ? "64K v6" : "64K v4"), (b.payload + 1459) / 1460);
    EXPECT_GT(check_tso(o, f, 9000, v6 ? "64K v6 mss 9000" : "64K v4 mss 9000"), 7u);
  }
}

TEST_P(RtlModel, BadTsoDescriptorsCompleteWithAnErrorAndTheNicKeepsWorking) {
  OffloadRig o(GetParam());
  std::mt19937 rng(6u);
  GenOpts g;
  g.payload = 2000;
  const Bytes good = gen_frame(rng, g);
  std::vector<std::pair<std::string, std::pair<Bytes, std::uint16_t>>> bad;
  bad.push_back({"mss 0", {good, 0}});
  GenOpts u = g;
  u.proto = 17;
  bad.push_back({"udp", {gen_frame(rng, u), 1000}});
  GenOpts big = g;
  big.v6 = true;
  big.ext = 48;
  big.l4_opt = 40;  // 14 + 88 + 60 = 162 > 128
  bad.push_back({"header > 128", {gen_frame(rng, big), 1000}});
  Bytes fr = good;
  fr[14 + 6] = 0x20;  // IPv4 MF
  bad.push_back({"fragment", {fr, 1000}});
  Bytes nip = good;
  nip[12] = 0x88;
  bad.push_back({"not IP", {nip, 1000}});
  Bytes tr = good;
  tr.resize(100);  // IP length runs past the frame
  bad.push_back({"truncated", {tr, 1000}});
  bad.push_back({"segment > MAX_FRAME", {good, 9500}});  // 2000-byte payload fits: not an error, see below
  unsigned errors = 0;
  for (const auto& [what, fm] : bad) {
    const auto want = vd::offload::tso_segment(fm.first, fm.second);
    if (want.ok()) {
      check_tso(o, fm.first, fm.second, what);
      continue;
    }
    const auto c = o.run(fm.first, kFlagTso, fm.second);
    ASSERT_TRUE(c.has_value()) << what;
    EXPECT_EQ(c->status, vd::abi::ERR_DESC_FLAGS) << what;
    EXPECT_EQ(c->len, 0u) << what;
    EXPECT_TRUE(o.rig.tx_out.empty()) << what;
    ++errors;
    check_tso(o, good, 536, "after " + what);
  }
  EXPECT_EQ(errors, 6u);
  // a segment that would not fit the frame buffer is refused (the model has no such limit)
  GenOpts h = g;
  h.payload = 12000;
  const auto c = o.run(gen_frame(rng, h), kFlagTso, 10000);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status, vd::abi::ERR_DESC_FLAGS);
  EXPECT_EQ(o.rig.nic->mmio_read(vd::abi::REG_STAT_DESC_ERR), 7u);
  check_tso(o, good, 1000, "after oversize segment");
}

TEST_P(RtlModel, TsoCyclesFor64KiBSend) {
  OffloadRig o(GetParam());
  std::mt19937 rng(8u);
  GenOpts g;
  g.payload = 65536 - 14 - 20 - 20 - 1;  // LEN 65535
  const Bytes f = gen_frame(rng, g);
  const std::uint64_t c0 = o.rig.nic->cycle();
  EXPECT_EQ(check_tso(o, f, 1460, "64K"), 45u);
  const std::uint64_t c1 = o.rig.nic->cycle();
  std::printf("TSO 64 KiB send (LEN %zu, MSS 1460, 45 segments) at %u bits: %llu cycles\n", f.size(), GetParam(),
              static_cast<unsigned long long>(c1 - c0));
}


// The driver path: a TSO send (bigger than the default 10240-byte buffers)
// from a pool of 64 KiB buffers, with PacketMeta.tso_mss; and a TSO send
// refused when the NIC does not advertise FEAT_TSO is covered by the
// driver's feature check (nic_features()).
TEST_P(RtlModel, DriverTsoSendFromALargeBufferPool) {
  DriverRig r(GetParam());
  r.drv->init();
  ASSERT_NE(r.drv->nic_features() & (1u << vd::abi::FEAT_TSO_BIT), 0u);
  BufferPool big{r.mem, 65536 + 256, 4};
  std::mt19937 rng(11u);
  GenOpts g;
  g.payload = 30000;
  const Bytes f = gen_frame(rng, g);
  const auto want = vd::offload::tso_segment(f, 1448);
  ASSERT_TRUE(want.ok());
  Packet p = vd::packet_from_bytes(big, f);
  ASSERT_TRUE(p);
  p.meta.tso_mss = 1448;
  ASSERT_TRUE(r.drv->transmit(std::move(p), 0));
  ASSERT_TRUE(r.run_until([&] { return r.drv->tx_in_flight(0) == 0; }, 400000));
  ASSERT_EQ(r.tx_out.size(), want.segments.size());
  for (std::size_t i = 0; i < want.segments.size(); ++i) EXPECT_EQ(r.tx_out[i], want.segments[i]) << i;
  EXPECT_EQ(r.drv->counters().at("tx_errors"), 0u);
  EXPECT_EQ(r.reg(vd::abi::REG_STAT_TX_PKTS), want.segments.size());
  // full checksum through the driver's meta flags
  GenOpts c;
  c.proto = 17;
  c.payload = 500;
  const Bytes u = gen_frame(rng, c);
  Packet q = vd::packet_from_bytes(r.pool, u);
  q.meta.tx_csum_ip = true;
  q.meta.tx_csum_l4 = true;
  ASSERT_TRUE(r.drv->transmit(std::move(q), 0));
  ASSERT_TRUE(r.run_until([&] { return r.tx_out.size() == want.segments.size() + 1; }));
  EXPECT_EQ(r.tx_out.back(), expect_full(u, kFlagIp | kFlagL4));
}
