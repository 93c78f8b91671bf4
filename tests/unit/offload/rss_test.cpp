#include "veridian/offload/rss.hpp"

#include "veridian/offload/frame_layout.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace {

using namespace vd::offload;
using Bytes = std::vector<std::uint8_t>;

// Microsoft RSS verification key ("Verifying the RSS Hash Calculation").
constexpr std::array<std::uint8_t, 40> kMsKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

struct V4 {
  std::array<std::uint8_t, 4> src, dst;
  std::uint16_t sport, dport;
  std::uint32_t h2, h4;
};
struct V6 {
  std::array<std::uint8_t, 16> src, dst;
  std::uint16_t sport, dport;
  std::uint32_t h2, h4;
};

// The published IPv4 vectors.
const V4 kV4[] = {
    {{66, 9, 149, 187}, {161, 142, 100, 80}, 2794, 1766, 0x323e8fc2, 0x51ccc178},
    {{199, 92, 111, 2}, {65, 69, 140, 83}, 14230, 4739, 0xd718262a, 0xc626b0ea},
    {{24, 19, 198, 95}, {12, 22, 207, 184}, 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
    {{38, 27, 205, 30}, {209, 142, 163, 6}, 48228, 2217, 0x82989176, 0xafc7327f},
    {{153, 39, 163, 191}, {202, 188, 127, 2}, 44251, 1303, 0x5d1809c5, 0x10e828a2},
};

// The published IPv6 vectors.
const V6 kV6[] = {
    {{0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 7},
     {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 1},
     2794, 1766, 0x2cc18cd5, 0x40207d3d},
    {{0x3f, 0xfe, 0x05, 0x01, 0x00, 0x08, 0x00, 0x00, 0x02, 0x60, 0x97, 0xff, 0xfe, 0x40, 0xef, 0xab},
     {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
     14230, 4739, 0x0f0c461c, 0xdde51bbf},
    {{0x3f, 0xfe, 0x19, 0x00, 0x45, 0x45, 0x00, 0x03, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf},
     {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf},
     44251, 38024, 0x4b61e985, 0x02d1feef},
};

Bytes input(std::span<const std::uint8_t> src, std::span<const std::uint8_t> dst, int sport = -1, int dport = -1) {
  Bytes b(src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  if (sport >= 0) {
    put16(b, static_cast<std::uint16_t>(sport));
    put16(b, static_cast<std::uint16_t>(dport));
  }
  return b;
}

// ---- frame builder ----
struct Spec {
  bool v6 = false;
  bool vlan = false;
  std::uint8_t proto = kProtoTcp;
  std::span<const std::uint8_t> src{}, dst{};
  std::uint16_t sport = 0, dport = 0;
  Bytes ip_options{};                          // IPv4, multiple of 4
  std::vector<std::pair<std::uint8_t, Bytes>> ext{};  // IPv6 (type, whole header incl. first 2 bytes)
  std::uint16_t frag = 0;                    // IPv4 flags/offset word
  std::size_t payload = 10;
};

Bytes build(const Spec& s) {
  Bytes f = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  if (s.vlan) {
    put16(f, kEtherTypeVlan);
    put16(f, 0x0005);
  }
  put16(f, s.v6 ? kEtherTypeIpv6 : kEtherTypeIpv4);
  Bytes l4;
  put16(l4, s.sport);
  put16(l4, s.dport);
  l4.resize(s.proto == kProtoTcp ? 20 : 8, 0);
  if (s.proto == kProtoTcp) l4[12] = 0x50;
  l4.resize(l4.size() + s.payload, 0xab);
  if (!s.v6) {
    const std::size_t ihl = 20 + s.ip_options.size();
    f.push_back(static_cast<std::uint8_t>(0x40 | (ihl / 4)));
    f.push_back(0);
    put16(f, static_cast<std::uint16_t>(ihl + l4.size()));
    put16(f, 0x1234);
    put16(f, s.frag);
    f.push_back(64);
    f.push_back(s.proto);
    put16(f, 0);
    f.insert(f.end(), s.src.begin(), s.src.end());
    f.insert(f.end(), s.dst.begin(), s.dst.end());
    f.insert(f.end(), s.ip_options.begin(), s.ip_options.end());
  } else {
    std::size_t ext_len = 0;
    for (const auto& e : s.ext) ext_len += e.second.size();
    put16(f, 0x6000);
    put16(f, 0);
    put16(f, static_cast<std::uint16_t>(ext_len + l4.size()));
    f.push_back(s.ext.empty() ? s.proto : s.ext[0].first);
    f.push_back(64);
    f.insert(f.end(), s.src.begin(), s.src.end());
    f.insert(f.end(), s.dst.begin(), s.dst.end());
    for (std::size_t i = 0; i < s.ext.size(); ++i) {
      Bytes h = s.ext[i].second;
      h[0] = i + 1 < s.ext.size() ? s.ext[i + 1].first : s.proto;
      f.insert(f.end(), h.begin(), h.end());
    }
  }
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

TEST(RssToeplitz, MicrosoftIpv4Vectors) {
  for (const auto& v : kV4) {
    EXPECT_EQ(toeplitz(kMsKey, input(v.src, v.dst)), v.h2);
    EXPECT_EQ(toeplitz(kMsKey, input(v.src, v.dst, v.sport, v.dport)), v.h4);
  }
}

TEST(RssToeplitz, MicrosoftIpv6Vectors) {
  for (const auto& v : kV6) {
    EXPECT_EQ(toeplitz(kMsKey, input(v.src, v.dst)), v.h2);
    EXPECT_EQ(toeplitz(kMsKey, input(v.src, v.dst, v.sport, v.dport)), v.h4);
  }
}

TEST(RssToeplitz, EmptyInputAndZeroKey) {
  EXPECT_EQ(toeplitz(kMsKey, {}), 0u);
  std::array<std::uint8_t, 40> zero{};
  const Bytes in(36, 0xff);
  EXPECT_EQ(toeplitz(zero, in), 0u);
  // One bit set at input bit 0 selects the first 32 key bits.
  EXPECT_EQ(toeplitz(kMsKey, Bytes{0x80}), 0x6d5a56dau);
  // Inputs longer than the key (bits past the key are zero) do not crash.
  EXPECT_NO_FATAL_FAILURE((void)toeplitz(kMsKey, Bytes(64, 0xff)));
}

TEST(RssClassify, Ipv4TcpUdpAndTwoTuple) {
  for (const auto& v : kV4) {
    Spec s{.src = v.src, .dst = v.dst, .sport = v.sport, .dport = v.dport};
    EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h4, RssType::tcp_ipv4}));
    s.proto = kProtoUdp;
    EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h4, RssType::udp_ipv4}));
    s.proto = 1;  // ICMP: 2-tuple
    EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h2, RssType::ipv4}));
  }
}

TEST(RssClassify, Ipv6TcpUdpAndTwoTuple) {
  for (const auto& v : kV6) {
    Spec s{.v6 = true, .src = v.src, .dst = v.dst, .sport = v.sport, .dport = v.dport};
    EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h4, RssType::tcp_ipv6}));
    s.proto = kProtoUdp;
    EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h4, RssType::udp_ipv6}));
    s.proto = 58;  // ICMPv6
    EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h2, RssType::ipv6}));
  }
}

TEST(RssClassify, VlanAndIpv4Options) {
  const auto& v = kV4[0];
  Spec s{.vlan = true, .src = v.src, .dst = v.dst, .sport = v.sport, .dport = v.dport};
  s.ip_options = {0x01, 0x01, 0x01, 0x00, 0x94, 0x04, 0x00, 0x00};  // NOP NOP NOP EOL, router alert
  EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h4, RssType::tcp_ipv4}));
}

TEST(RssClassify, Ipv6ExtensionHeadersSkipped) {
  const auto& v = kV6[0];
  Spec s{.v6 = true, .vlan = true, .src = v.src, .dst = v.dst, .sport = v.sport, .dport = v.dport};
  Bytes hbh = {0, 0, 1, 4, 0, 0, 0, 0};                  // PadN
  Bytes dst(16, 0);
  dst[1] = 1;                                             // 16 bytes
  Bytes rt = {0, 0, 4, 0, 0, 0, 0, 0};                    // routing, segments left 0
  s.ext = {{kIpv6HopByHop, hbh}, {kIpv6Routing, rt}, {kIpv6DestOpts, dst}};
  EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h4, RssType::tcp_ipv6}));
  // A fragment header makes it a fragment: 2-tuple even at offset 0.
  Bytes frag = {0, 0, 0x00, 0x01, 0, 0, 0, 1};           // offset 0, M=1
  s.ext.push_back({kIpv6Fragment, frag});
  EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h2, RssType::ipv6}));
}

TEST(RssClassify, Ipv4FragmentsUseTwoTuple) {
  const auto& v = kV4[1];
  Spec s{.src = v.src, .dst = v.dst, .sport = v.sport, .dport = v.dport};
  s.frag = 0x2000;  // MF
  EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h2, RssType::ipv4}));
  s.frag = 0x0010;  // offset 16*8
  EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h2, RssType::ipv4}));
  s.frag = 0x4000;  // DF only: not a fragment
  EXPECT_EQ(rss_classify(build(s), kMsKey), (RssResult{v.h4, RssType::tcp_ipv4}));
}

TEST(RssClassify, EnableBitsAndFallback) {
  const auto& v = kV4[2];
  Spec s{.src = v.src, .dst = v.dst, .sport = v.sport, .dport = v.dport};
  const Bytes f = build(s);
  EXPECT_EQ(rss_classify(f, kMsKey, rss_bit(RssType::ipv4)), (RssResult{v.h2, RssType::ipv4}));
  EXPECT_EQ(rss_classify(f, kMsKey, rss_bit(RssType::udp_ipv4)), RssResult{});
  EXPECT_EQ(rss_classify(f, kMsKey, rss_bit(RssType::tcp_ipv4)), (RssResult{v.h4, RssType::tcp_ipv4}));
  EXPECT_EQ(rss_classify(f, kMsKey, 0), RssResult{});
  const auto& w = kV6[1];
  Spec s6{.v6 = true, .proto = kProtoUdp, .src = w.src, .dst = w.dst, .sport = w.sport, .dport = w.dport};
  EXPECT_EQ(rss_classify(build(s6), kMsKey, rss_bit(RssType::ipv6) | rss_bit(RssType::tcp_ipv6)),
            (RssResult{w.h2, RssType::ipv6}));
  EXPECT_EQ(rss_classify(build(s6), kMsKey, rss_bit(RssType::ipv4)), RssResult{});
}

TEST(RssClassify, NonIpAndMalformedGiveNone) {
  const auto& v = kV4[0];
  Spec s{.src = v.src, .dst = v.dst, .sport = v.sport, .dport = v.dport, .payload = 0};
  const Bytes good = build(s);
  Bytes arp = good;
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(rss_classify(arp, kMsKey), RssResult{});
  // Every truncation of a valid frame is either NONE or a 2-tuple hash, never a crash.
  for (std::size_t n = 0; n < good.size(); ++n) {
    const auto r = rss_classify(std::span<const std::uint8_t>(good.data(), n), kMsKey);
    EXPECT_EQ(r, RssResult{}) << n;  // IP total length exceeds what is present
  }
  Bytes bad_ihl = good;
  bad_ihl[14] = 0x44;
  EXPECT_EQ(rss_classify(bad_ihl, kMsKey), RssResult{});
  Bytes bad_ver = good;
  bad_ver[14] = 0x65;
  EXPECT_EQ(rss_classify(bad_ver, kMsKey), RssResult{});
  // IP length says only 4 bytes of TCP: too short for a TCP header.
  Bytes short_tcp = good;
  short_tcp[17] = 24;
  EXPECT_EQ(rss_classify(short_tcp, kMsKey), RssResult{});
  // Ethernet padding after the datagram is ignored.
  Bytes padded = good;
  padded.resize(good.size() + 6, 0);
  EXPECT_EQ(rss_classify(padded, kMsKey), (RssResult{v.h4, RssType::tcp_ipv4}));
}

TEST(RssClassify, Ipv6TruncatedExtensionHeader) {
  const auto& v = kV6[0];
  Spec s{.v6 = true, .src = v.src, .dst = v.dst, .sport = v.sport, .dport = v.dport, .payload = 0};
  Bytes dst(8, 0);
  dst[1] = 5;  // claims 48 bytes, more than the datagram
  s.ext = {{kIpv6DestOpts, dst}};
  EXPECT_EQ(rss_classify(build(s), kMsKey), RssResult{});
}

TEST(RssQueue, IndirectionUsesModulo) {
  const std::array<std::uint16_t, 4> table = {7, 5, 3, 1};
  EXPECT_EQ(rss_queue(0x51ccc178, table), table[0x51ccc178 & 3]);
  EXPECT_EQ(rss_queue(0x323e8fc2, table), table[2]);
  EXPECT_EQ(rss_queue(5, std::span<const std::uint16_t>{}), 0);
  const std::array<std::uint16_t, 3> odd = {0, 1, 2};
  EXPECT_EQ(rss_queue(10, odd), 1);
}

}  // namespace
