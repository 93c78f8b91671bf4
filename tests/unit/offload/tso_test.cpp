#include "veridian/offload/tso.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "veridian/offload/checksum.hpp"

namespace {

using namespace vd::offload;
using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
std::uint16_t get16(const Bytes& b, std::size_t o) { return static_cast<std::uint16_t>((b[o] << 8) | b[o + 1]); }
std::uint32_t get32(const Bytes& b, std::size_t o) { return (std::uint32_t(get16(b, o)) << 16) | get16(b, o + 2); }

struct Spec {
  bool v6 = false;
  bool vlan = false;
  std::uint8_t proto = 6;
  Bytes ip_options{};      // IPv4
  Bytes ext{};             // IPv6: one destination-options header (whole, len byte set by caller)
  Bytes tcp_options{};     // multiple of 4
  std::uint8_t flags = 0x18;  // ACK|PSH
  std::uint32_t seq = 0xfffffff0u;  // wraps during segmentation
  std::uint16_t ip_id = 0xfffe;     // wraps too
  std::uint16_t frag = 0x4000;      // DF
  std::size_t payload = 100;
};

struct Built {
  Bytes frame;
  std::size_t l3_off, l4_off, hdr_len;
  Bytes payload;
};

Built build(const Spec& s) {
  Built b;
  Bytes& f = b.frame;
  f = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  if (s.vlan) {
    put16(f, 0x8100);
    put16(f, 0x0064);
  }
  put16(f, s.v6 ? 0x86dd : 0x0800);
  b.l3_off = f.size();
  for (std::size_t i = 0; i < s.payload; ++i) b.payload.push_back(static_cast<std::uint8_t>(i * 7 + 3));
  Bytes tcp;
  put16(tcp, 40000);
  put16(tcp, 80);
  put32(tcp, s.seq);
  put32(tcp, 0x01020304);
  tcp.push_back(static_cast<std::uint8_t>(((20 + s.tcp_options.size()) / 4) << 4));
  tcp.push_back(s.flags);
  put16(tcp, 0xffff);
  put16(tcp, 0xdead);  // stale checksum: TSO recomputes it
  put16(tcp, 0);
  tcp.insert(tcp.end(), s.tcp_options.begin(), s.tcp_options.end());
  const std::size_t l4_total = tcp.size() + b.payload.size();
  if (!s.v6) {
    const std::size_t ihl = 20 + s.ip_options.size();
    f.push_back(static_cast<std::uint8_t>(0x40 | (ihl / 4)));
    f.push_back(0);
    put16(f, static_cast<std::uint16_t>(ihl + l4_total));
    put16(f, s.ip_id);
    put16(f, s.frag);
    f.push_back(64);
    f.push_back(s.proto);
    put16(f, 0xbeef);
    put32(f, 0x0a000001);
    put32(f, 0x0a000002);
    f.insert(f.end(), s.ip_options.begin(), s.ip_options.end());
  } else {
    put32(f, 0x60000000);
    put16(f, static_cast<std::uint16_t>(s.ext.size() + l4_total));
    f.push_back(s.ext.empty() ? s.proto : 60);
    f.push_back(64);
    for (int i = 0; i < 16; ++i) f.push_back(static_cast<std::uint8_t>(0x20 + i));
    for (int i = 0; i < 16; ++i) f.push_back(static_cast<std::uint8_t>(0x40 + i));
    if (!s.ext.empty()) {
      Bytes e = s.ext;
      e[0] = s.proto;
      f.insert(f.end(), e.begin(), e.end());
    }
  }
  b.l4_off = f.size();
  b.hdr_len = b.l4_off + tcp.size();
  f.insert(f.end(), tcp.begin(), tcp.end());
  f.insert(f.end(), b.payload.begin(), b.payload.end());
  return b;
}

// Independent check of every segment: lengths, checksums, seq, ID, flags;
// returns the reassembled payload.
Bytes check_segments(const Spec& s, const Built& b, const TsoResult& r, std::uint16_t mss) {
  Bytes stream;
  const std::size_t n = r.segments.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Bytes& g = r.segments[i];
    EXPECT_GE(g.size(), b.hdr_len);
    EXPECT_TRUE(std::equal(g.begin(), g.begin() + 12, b.frame.begin()));  // MACs
    const std::size_t seg_payload = g.size() - b.hdr_len;
    EXPECT_LE(seg_payload, mss);
    if (i + 1 < n) {
      EXPECT_EQ(seg_payload, mss);
    }
    const std::size_t l4_len = g.size() - b.l4_off;
    std::uint32_t pseudo = 0;
    if (!s.v6) {
      const std::size_t ihl = 20 + s.ip_options.size();
      EXPECT_EQ(get16(g, b.l3_off + 2), g.size() - b.l3_off);
      EXPECT_EQ(get16(g, b.l3_off + 4), static_cast<std::uint16_t>(s.ip_id + i));
      EXPECT_EQ(get16(g, b.l3_off + 6), s.frag);
      EXPECT_EQ(internet_checksum(std::span<const std::uint8_t>(g).subspan(b.l3_off, ihl)), 0);
      pseudo = csum_partial(std::span<const std::uint8_t>(g).subspan(b.l3_off + 12, 8));
      pseudo += 6 + static_cast<std::uint32_t>(l4_len);
    } else {
      EXPECT_EQ(get16(g, b.l3_off + 4), g.size() - b.l3_off - 40);
      pseudo = csum_partial(std::span<const std::uint8_t>(g).subspan(b.l3_off + 8, 32));
      pseudo += 6 + static_cast<std::uint32_t>(l4_len);
    }
    EXPECT_EQ(internet_checksum(std::span<const std::uint8_t>(g).subspan(b.l4_off), pseudo), 0) << "segment " << i;
    EXPECT_EQ(get32(g, b.l4_off + 4), s.seq + static_cast<std::uint32_t>(stream.size()));
    const std::uint8_t f = g[b.l4_off + 13];
    const std::uint8_t expect = static_cast<std::uint8_t>(
        s.flags & ~(i == 0 ? 0 : 0x80) & ~(i + 1 == n ? 0 : 0x09));
    EXPECT_EQ(f, expect) << "segment " << i;
    // Everything else in the headers is copied (ack, window, urgent, options).
    EXPECT_EQ(get32(g, b.l4_off + 8), 0x01020304u);
    EXPECT_EQ(get16(g, b.l4_off + 14), 0xffff);
    EXPECT_TRUE(std::equal(g.begin() + static_cast<std::ptrdiff_t>(b.l4_off + 20),
                           g.begin() + static_cast<std::ptrdiff_t>(b.hdr_len),
                           b.frame.begin() + static_cast<std::ptrdiff_t>(b.l4_off + 20)));
    stream.insert(stream.end(), g.begin() + static_cast<std::ptrdiff_t>(b.hdr_len), g.end());
  }
  return stream;
}

void run(const Spec& s, std::uint16_t mss, std::size_t expect_segments) {
  const Built b = build(s);
  const TsoResult r = tso_segment(b.frame, mss);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  ASSERT_EQ(r.segments.size(), expect_segments) << "payload " << s.payload << " mss " << mss;
  EXPECT_EQ(check_segments(s, b, r, mss), b.payload);
}

TEST(Tso, SegmentCountsAroundMssMultiples) {
  const std::uint16_t mss = 100;
  for (std::size_t p : {1u, 99u, 100u, 101u, 199u, 200u, 201u, 1000u, 1001u}) {
    Spec s;
    s.payload = p;
    run(s, mss, (p + mss - 1) / mss);
    s.v6 = true;
    run(s, mss, (p + mss - 1) / mss);
  }
}

TEST(Tso, MssOneAndOddSizes) {
  Spec s;
  s.payload = 37;
  run(s, 1, 37);
  s.v6 = true;
  run(s, 1, 37);
  s.payload = 1001;
  run(s, 7, 143);
}

TEST(Tso, ZeroPayloadGivesOneSegment) {
  Spec s;
  s.payload = 0;
  s.flags = 0x99;  // CWR|ACK|FIN: one segment is both first and last
  run(s, 1460, 1);
  s.v6 = true;
  run(s, 1460, 1);
}

TEST(Tso, FlagsRules) {
  Spec s;
  s.flags = 0xff & ~0x02 & ~0x04;  // CWR ECE URG ACK PSH FIN
  s.payload = 300;
  run(s, 100, 3);  // check_segments verifies CWR first only, FIN/PSH last only
  s.v6 = true;
  run(s, 100, 3);
}

TEST(Tso, LargeSuperFrame) {
  Spec s;
  s.payload = 65535 - 20 - 32;
  s.tcp_options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};  // NOP NOP timestamps
  run(s, 1448, (s.payload + 1447) / 1448);
}

TEST(Tso, VlanIpv4OptionsTcpOptions) {
  Spec s;
  s.vlan = true;
  s.ip_options = {0x94, 0x04, 0x00, 0x00};
  s.tcp_options = {0x02, 0x04, 0x05, 0xb4};
  s.payload = 250;
  run(s, 64, 4);
}

TEST(Tso, Ipv6ExtensionHeader) {
  Spec s;
  s.v6 = true;
  s.vlan = true;
  s.ext = {0, 1, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // dest opts, 16 bytes, PadN
  s.payload = 500;
  run(s, 128, 4);
}

TEST(Tso, Errors) {
  Spec s;
  Built b = build(s);
  EXPECT_EQ(tso_segment(b.frame, 0).error, TsoError::mss_zero);
  EXPECT_TRUE(tso_segment(b.frame, 0).segments.empty());

  Spec u;
  u.proto = 17;
  EXPECT_EQ(tso_segment(build(u).frame, 100).error, TsoError::not_tcp);

  Bytes arp = b.frame;
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(tso_segment(arp, 100).error, TsoError::not_ip);

  Spec frag;
  frag.frag = 0x2000;
  EXPECT_EQ(tso_segment(build(frag).frame, 100).error, TsoError::fragment);

  // 14 + 60 (IPv4 with 40 option bytes) + 60 (TCP with 40 option bytes) = 134 > 128.
  Spec big;
  big.ip_options = Bytes(40, 1);
  big.tcp_options = Bytes(40, 1);
  EXPECT_EQ(tso_segment(build(big).frame, 100).error, TsoError::header_too_long);
  // Header lengths are 2 mod 4 here: 126 is the largest accepted, 130 (with a
  // VLAN tag) the smallest rejected.
  big.ip_options = Bytes(36, 1);
  big.tcp_options = Bytes(36, 1);
  EXPECT_EQ(build(big).hdr_len, 126u);
  big.vlan = true;
  EXPECT_EQ(build(big).hdr_len, 130u);
  EXPECT_EQ(tso_segment(build(big).frame, 100).error, TsoError::header_too_long);
  big.vlan = false;
  run(big, 10, 10);

  Bytes bad_doff = b.frame;
  bad_doff[b.l4_off + 12] = 0x40;
  EXPECT_EQ(tso_segment(bad_doff, 100).error, TsoError::malformed);
  Bytes bad_ihl = b.frame;
  bad_ihl[b.l3_off] = 0x43;
  EXPECT_EQ(tso_segment(bad_ihl, 100).error, TsoError::malformed);
  // TCP data offset beyond the datagram.
  Spec nop;
  nop.payload = 0;
  Bytes long_doff = build(nop).frame;
  long_doff[b.l4_off + 12] = 0xf0;
  EXPECT_EQ(tso_segment(long_doff, 100).error, TsoError::truncated);
}

TEST(Tso, EveryTruncationIsAnErrorNotACrash) {
  for (bool v6 : {false, true}) {
    Spec s;
    s.v6 = v6;
    s.payload = 20;
    const Built b = build(s);
    for (std::size_t n = 0; n < b.frame.size(); ++n) {
      const TsoResult r = tso_segment(std::span<const std::uint8_t>(b.frame.data(), n), 8);
      EXPECT_FALSE(r.ok()) << n;
      EXPECT_TRUE(r.segments.empty());
      if (n >= 14) {
        EXPECT_EQ(r.error, TsoError::truncated) << n;
      }
    }
  }
}

TEST(Tso, EthernetPaddingIgnored) {
  Spec s;
  s.payload = 3;
  Built b = build(s);
  b.frame.resize(60, 0xee);
  const TsoResult r = tso_segment(b.frame, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(check_segments(s, b, r, 2), b.payload);
}

}  // namespace
