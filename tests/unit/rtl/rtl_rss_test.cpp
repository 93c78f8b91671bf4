// RSS in the RTL NIC against the reference model (offload::rss_classify with
// the NIC's parse window, offload::rss_queue): registers, steering, and a
// seeded random differential run over frames built to hit every branch of
// the classifier (VLAN, IPv4 options and fragments, IPv6 extension-header
// chains that cross the parse window, lying lengths, short L4 headers,
// non-IP), at every Verilated width.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>

#include "rtl_rig.hpp"
#include "veridian/core/netdev.hpp"
#include "veridian/offload/rss.hpp"

using vd::RssConfig;
using vd::offload::RssType;

namespace {

using namespace rtl_test;

// The NIC with 16 queue pairs behind the host driver; the test ticks it.
struct Rig : DriverRig {
  std::deque<Rx> rx;

  explicit Rig(unsigned width)
      : DriverRig(width, DriverConfig{16, 4, std::nullopt}, PoolSpec{std::size_t(64) << 20, 2048, 1024}) {
    drv->set_rx_handler(collect_into(rx));
    drv->init();
  }
  bool run_until(const std::function<bool()>& pred, std::uint64_t max_cycles = 200000) {
    return DriverRig::run_until(pred, max_cycles);
  }
};

class RtlRss : public ::testing::TestWithParam<unsigned> {};

RssConfig random_config(std::mt19937& rng, std::uint32_t types) {
  RssConfig c;
  for (auto& b : c.key) b = static_cast<std::uint8_t>(rng());
  c.table.resize(128);
  for (auto& q : c.table) q = static_cast<std::uint16_t>(rng() % 16);
  c.types = types;
  return c;
}

// A frame meant to reach some corner of the classifier; mostly well formed.
Bytes random_rss_frame(std::mt19937& rng) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto rnd = [&](std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
  };
  Bytes f = rnd(12);  // MACs
  if (u(0, 3) == 0) {
    f.insert(f.end(), {0x81, 0x00});
    const Bytes tci = rnd(2);
    f.insert(f.end(), tci.begin(), tci.end());
  }
  const int kind = u(0, 19);  // 0..8 IPv4, 9..17 IPv6, 18..19 something else
  const int l4k = u(0, 9);    // 0..3 TCP, 4..7 UDP, 8..9 other
  const std::uint8_t proto = l4k < 4 ? 6 : l4k < 8 ? 17 : static_cast<std::uint8_t>(u(0, 1) ? 47 : 59);
  std::size_t l4len = proto == 6 ? 20 + 4 * std::size_t(u(0, 10)) : proto == 17 ? 8 : std::size_t(u(0, 16));
  if (u(0, 24) == 0) l4len = std::size_t(u(0, 19));  // an L4 header cut short
  const std::size_t payload = u(0, 7) == 0 ? std::size_t(u(0, 1200)) : std::size_t(u(0, 40));
  if (kind >= 18) {
    const std::uint16_t et = u(0, 1) ? 0x0806 : static_cast<std::uint16_t>(u(0, 0xffff));
    f.push_back(static_cast<std::uint8_t>(et >> 8));
    f.push_back(static_cast<std::uint8_t>(et));
    const Bytes body = rnd(std::size_t(u(0, 80)));
    f.insert(f.end(), body.begin(), body.end());
    return f;
  }
  const Bytes l4 = rnd(l4len + payload);
  if (kind < 9) {
    f.insert(f.end(), {0x08, 0x00});
    const std::size_t ihl = 20 + 4 * std::size_t(u(0, 3) == 0 ? u(1, 10) : 0);
    Bytes ip = rnd(ihl);
    ip[0] = static_cast<std::uint8_t>(0x40 | (ihl / 4));
    if (u(0, 40) == 0) ip[0] = static_cast<std::uint8_t>(u(0, 255));  // bad version or IHL
    std::size_t total = ihl + l4.size();
    if (u(0, 30) == 0) total += std::size_t(u(1, 100));  // claims more than is there
    if (u(0, 40) == 0) total = std::size_t(u(0, 30));     // shorter than the header
    ip[2] = static_cast<std::uint8_t>(total >> 8);
    ip[3] = static_cast<std::uint8_t>(total);
    const int fr = u(0, 9);  // mostly not a fragment
    ip[6] = fr == 0 ? 0x20 : fr == 1 ? static_cast<std::uint8_t>(u(0, 0x1f)) : 0x40;
    ip[7] = fr == 1 ? static_cast<std::uint8_t>(u(1, 255)) : 0;
    ip[9] = proto;
    f.insert(f.end(), ip.begin(), ip.end());
  } else {
    f.insert(f.end(), {0x86, 0xdd});
    Bytes ext;
    std::uint8_t first = proto;
    // A chain of extension headers, built back to front; long ones cross the window.
    const int next_count = u(0, 2) == 0 ? u(1, 6) : 0;
    std::uint8_t nh = proto;
    for (int i = 0; i < next_count; ++i) {
      static constexpr std::uint8_t kTypes[] = {0, 43, 60, 44};
      const std::uint8_t t = kTypes[u(0, 3)];
      const std::size_t len = t == 44 ? 8 : 8 * std::size_t(1 + u(0, 3));
      Bytes h = rnd(len);
      h[0] = nh;
      if (t != 44) h[1] = static_cast<std::uint8_t>(len / 8 - 1);
      ext.insert(ext.begin(), h.begin(), h.end());
      nh = t;
    }
    first = nh;
    Bytes ip = rnd(40);
    ip[0] = static_cast<std::uint8_t>(0x60 | (ip[0] & 0x0f));
    if (u(0, 40) == 0) ip[0] = static_cast<std::uint8_t>(u(0, 255));
    std::size_t plen = ext.size() + l4.size();
    if (u(0, 30) == 0) plen += std::size_t(u(1, 100));
    if (u(0, 30) == 0 && !ext.empty()) plen = std::size_t(u(0, int(ext.size())));  // cuts the chain
    ip[4] = static_cast<std::uint8_t>(plen >> 8);
    ip[5] = static_cast<std::uint8_t>(plen);
    ip[6] = first;
    f.insert(f.end(), ip.begin(), ip.end());
    f.insert(f.end(), ext.begin(), ext.end());
  }
  f.insert(f.end(), l4.begin(), l4.end());
  if (u(0, 5) == 0) {  // Ethernet padding
    const Bytes pad = rnd(std::size_t(u(1, 30)));
    f.insert(f.end(), pad.begin(), pad.end());
  }
  return f;
}

TEST_P(RtlRss, FeatureBitsAndRegistersReadBack) {
  Rig r(GetParam());
  const std::uint32_t feat = r.nic->mmio_read(vd::abi::REG_FEATURES);
  EXPECT_TRUE((feat >> vd::abi::FEAT_RSS_BIT) & 1u);
  EXPECT_TRUE((feat >> vd::abi::FEAT_RSS_IPV6_BIT) & 1u);
  // After reset: RSS off, the table spread over the queues.
  EXPECT_EQ(r.nic->mmio_read(vd::abi::REG_RSS_TYPES), 0u);
  EXPECT_EQ(r.nic->mmio_read(vd::abi::REG_RSS_TABLE + 4 * 17), 1u);
  std::mt19937 rng(7);
  RssConfig c = random_config(rng, vd::offload::kRssEnableAll);
  c.table.resize(8);  // a shorter table repeats
  r.drv->set_rss(c);
  EXPECT_EQ(r.nic->mmio_read(vd::abi::REG_RSS_TYPES), vd::offload::kRssEnableAll);
  EXPECT_EQ(r.nic->mmio_read(vd::abi::REG_RSS_KEY + 4), std::uint32_t(c.key[4]) << 24 | std::uint32_t(c.key[5]) << 16 |
                                                           std::uint32_t(c.key[6]) << 8 | c.key[7]);
  for (unsigned i : {0u, 7u, 8u, 127u})
    EXPECT_EQ(r.nic->mmio_read(vd::abi::REG_RSS_TABLE + 4 * i), c.table[i % 8]) << i;
}

TEST_P(RtlRss, BadConfigurationsAreRefusedWithAReason) {
  Rig r(GetParam());
  RssConfig c;
  c.types = vd::offload::kRssEnableAll;
  c.table = {0, 1, 2};  // not a power of two
  EXPECT_THROW(r.drv->set_rss(c), std::invalid_argument);
  c.table = {0, 16};  // no queue 16
  EXPECT_THROW(r.drv->set_rss(c), std::invalid_argument);
  c.table = {0, 1};
  c.types = 1u << 9;
  EXPECT_THROW(r.drv->set_rss(c), std::invalid_argument);
  EXPECT_EQ(r.nic->mmio_read(vd::abi::REG_RSS_TYPES), 0u);  // nothing was half-applied
}

// The published Microsoft vector (66.9.149.187:2794 -> 161.142.100.80:1766,
// TCP/IPv4 hash 0x51ccc178) lands on table[hash % 128] with type tcp4.
TEST_P(RtlRss, MicrosoftVectorIsHashedAndSteered) {
  Rig r(GetParam());
  RssConfig c;
  c.key = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
           0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
           0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
  for (std::uint16_t i = 0; i < 128; ++i) c.table.push_back(static_cast<std::uint16_t>((i * 7) % 16));
  c.types = vd::offload::kRssEnableAll;
  r.drv->set_rss(c);
  Bytes f(14 + 20 + 20, 0);
  f[12] = 0x08;
  f[14] = 0x45;
  f[17] = 40;
  f[23] = 6;
  const std::uint8_t addrs[] = {66, 9, 149, 187, 161, 142, 100, 80};
  std::copy(std::begin(addrs), std::end(addrs), f.begin() + 26);
  f[34] = 2794 >> 8;
  f[35] = 2794 & 0xff;
  f[36] = 1766 >> 8;
  f[37] = 1766 & 0xff;
  f[46] = 0x50;
  r.nic->rx_frame(f, r.nic->cycle());
  ASSERT_TRUE(r.run_until([&] { return !r.rx.empty(); }));
  EXPECT_EQ(r.rx.front().meta.rss_hash, 0x51ccc178u);
  EXPECT_EQ(r.rx.front().meta.rss_type, vd::abi::RSS_TYPE_TCP_IPV4);
  EXPECT_EQ(r.rx.front().meta.queue, c.table[0x51ccc178u % 128]);
}

TEST_P(RtlRss, SeededRandomFramesMatchTheReferenceModel) {
  constexpr int kConfigs = 4, kPerConfig = 2500;  // 10,000 frames per width
  Rig r(GetParam());
  std::mt19937 rng(20261125);
  std::map<int, int> seen;  // RSS type -> frames
  int steered_off_default = 0;
  for (int ci = 0; ci < kConfigs; ++ci) {
    // All types on, then random subsets (a disabled 4-tuple falls back to the 2-tuple).
    const std::uint32_t types = ci == 0 ? vd::offload::kRssEnableAll : (rng() & 0x7e);
    const RssConfig c = random_config(rng, types);
    r.drv->set_rss(c);
    for (int k = 0; k < kPerConfig; ++k) {
      const Bytes f = random_rss_frame(rng);
      r.nic->rx_frame(f, r.nic->cycle());
      ASSERT_TRUE(r.run_until([&] { return !r.rx.empty(); })) << "config " << ci << " frame " << k;
      const Rx got = std::move(r.rx.front());
      r.rx.pop_front();
      ASSERT_EQ(got.data, f);
      const auto want = vd::offload::rss_classify(f, c.key, c.types, vd::abi::PARSE_WINDOW);
      const std::uint16_t want_q =
          want.type == RssType::none ? 0 : vd::offload::rss_queue(want.hash, c.table);
      ASSERT_EQ(got.meta.rss_type, static_cast<std::uint8_t>(want.type)) << "config " << ci << " frame " << k;
      ASSERT_EQ(got.meta.rss_hash, want.hash) << "config " << ci << " frame " << k;
      ASSERT_EQ(got.meta.queue, want_q) << "config " << ci << " frame " << k;
      ++seen[static_cast<int>(want.type)];
      steered_off_default += want_q != 0;
    }
  }
  // The generator must reach every outcome, or matching proves little.
  for (int t = 0; t <= 6; ++t) EXPECT_GT(seen[t], 150) << "type " << t;
  EXPECT_GT(steered_off_default, 5000);
  EXPECT_EQ(r.drv->counters().at("rx_errors"), 0u);
}

// The reference model's window: headers past PARSE_WINDOW give the 2-tuple.
TEST(RssWindow, ExtensionChainPastTheWindowFallsBackToTheTwoTuple) {
  Bytes f(14 + 40, 0);
  f[12] = 0x86;
  f[13] = 0xdd;
  f[14] = 0x60;
  f[20] = 60;  // destination options, 80 bytes, then TCP
  Bytes ext(80, 0);
  ext[0] = 6;
  ext[1] = 80 / 8 - 1;
  f.insert(f.end(), ext.begin(), ext.end());
  Bytes tcp(20, 0);
  tcp[12] = 0x50;
  f.insert(f.end(), tcp.begin(), tcp.end());
  const std::size_t plen = 80 + 20;
  f[18] = static_cast<std::uint8_t>(plen >> 8);
  f[19] = static_cast<std::uint8_t>(plen);
  std::array<std::uint8_t, 40> key{};
  key[0] = 1;
  EXPECT_EQ(vd::offload::rss_classify(f, key).type, RssType::tcp_ipv6);  // L4 at 134: seen without a window
  EXPECT_EQ(vd::offload::rss_classify(f, key, vd::offload::kRssEnableAll, 128).type, RssType::ipv6);
}

VD_RTL_INSTANTIATE_WIDTHS(RtlRss);

}  // namespace
