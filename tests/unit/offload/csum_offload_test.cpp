#include "veridian/offload/csum_offload.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "veridian/offload/checksum.hpp"

namespace {

using namespace vd::offload;
using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
std::uint16_t get16(const Bytes& b, std::size_t o) { return static_cast<std::uint16_t>((b[o] << 8) | b[o + 1]); }

struct Frame {
  Bytes b;
  std::size_t l3 = 0, l4 = 0;
};

// Ethernet (+ optional VLAN) + IPv4/IPv6 + TCP/UDP header + payload, with all
// checksum fields zero.
Frame make(bool v6, std::uint8_t proto, std::size_t payload, bool vlan = false, std::uint16_t frag = 0) {
  Frame f;
  f.b = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  if (vlan) {
    put16(f.b, 0x8100);
    put16(f.b, 7);
  }
  put16(f.b, v6 ? 0x86dd : 0x0800);
  f.l3 = f.b.size();
  Bytes l4;
  put16(l4, 1234);
  put16(l4, 53);
  if (proto == 6) {
    l4.insert(l4.end(), {0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0x20, 0x00, 0, 0, 0, 0});
  } else {
    put16(l4, static_cast<std::uint16_t>(8 + payload));
    put16(l4, 0);
  }
  for (std::size_t i = 0; i < payload; ++i) l4.push_back(static_cast<std::uint8_t>(0xf1 + i * 13));
  if (!v6) {
    f.b.insert(f.b.end(), {0x45, 0});
    put16(f.b, static_cast<std::uint16_t>(20 + l4.size()));
    f.b.insert(f.b.end(), {0x12, 0x34});
    put16(f.b, frag);
    f.b.insert(f.b.end(), {64, proto, 0, 0, 192, 168, 1, 10, 10, 20, 30, 40});
  } else {
    f.b.insert(f.b.end(), {0x60, 0, 0, 0});
    put16(f.b, static_cast<std::uint16_t>(l4.size()));
    f.b.insert(f.b.end(), {proto, 64});
    for (int i = 0; i < 16; ++i) f.b.push_back(static_cast<std::uint8_t>(0xfe - i));
    for (int i = 0; i < 16; ++i) f.b.push_back(static_cast<std::uint8_t>(0x11 * i));
  }
  f.l4 = f.b.size();
  f.b.insert(f.b.end(), l4.begin(), l4.end());
  return f;
}

std::size_t field_of(const Frame& f, std::uint8_t proto) { return f.l4 + (proto == 6 ? 16 : 6); }

// Pseudo-header sum computed here from the bytes, independently of the model.
std::uint32_t pseudo_sum(const Frame& f, bool v6, std::uint8_t proto) {
  const std::span<const std::uint8_t> s(f.b);
  const std::size_t l4_len = f.b.size() - f.l4;
  if (!v6) return csum_partial(s.subspan(f.l3 + 12, 8)) + proto + static_cast<std::uint32_t>(l4_len);
  return csum_partial(s.subspan(f.l3 + 8, 32)) + proto + static_cast<std::uint32_t>(l4_len);
}

TEST(CsumInsertFull, KnownIpv4HeaderChecksum) {
  // The classic example header 4500 0073 0000 4000 4011 xxxx c0a8 0001 c0a8 00c7 -> b861.
  Bytes f = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
             0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  f.resize(14 + 0x73, 0);
  f[14 + 20 + 4] = 0;  // UDP length 0 is irrelevant here
  const InsertResult r = insert_full(f);
  EXPECT_TRUE(r.parsed);
  EXPECT_TRUE(r.ip_header);
  EXPECT_EQ(get16(f, 24), 0xb861);
}

TEST(CsumInsertFull, TcpUdpOverIpv4AndIpv6OddAndEvenLengths) {
  for (bool v6 : {false, true}) {
    for (std::uint8_t proto : {std::uint8_t{6}, std::uint8_t{17}}) {
      for (std::size_t payload : {0u, 1u, 2u, 3u, 101u, 1000u}) {
        for (bool vlan : {false, true}) {
          Frame f = make(v6, proto, payload, vlan);
          const InsertResult r = insert_full(f.b);
          EXPECT_TRUE(r.parsed);
          EXPECT_EQ(r.ip_header, !v6);
          EXPECT_TRUE(r.l4);
          const std::span<const std::uint8_t> s(f.b);
          if (!v6) {
            EXPECT_EQ(internet_checksum(s.subspan(f.l3, 20)), 0);
          }
          EXPECT_EQ(internet_checksum(s.subspan(f.l4), pseudo_sum(f, v6, proto)), 0);
          EXPECT_EQ(verify(f.b), (RxCsum{v6 ? CsumStatus::not_checked : CsumStatus::good, CsumStatus::good}));
        }
      }
    }
  }
}

// Makes the UDP checksum come out as 0 by choosing two payload bytes.
Frame udp_with_zero_sum(bool v6) {
  Frame f = make(v6, 17, 4);
  const std::size_t x = f.l4 + 8;  // even offset from the L4 start
  f.b[x] = f.b[x + 1] = 0;
  const std::uint16_t s = csum_fold(csum_partial(std::span<const std::uint8_t>(f.b).subspan(f.l4), pseudo_sum(f, v6, 17)));
  const auto fill = static_cast<std::uint16_t>(0xffff - s);
  f.b[x] = static_cast<std::uint8_t>(fill >> 8);
  f.b[x + 1] = static_cast<std::uint8_t>(fill);
  return f;
}

TEST(CsumInsertFull, UdpZeroResultSentAsFfff) {
  for (bool v6 : {false, true}) {
    Frame f = udp_with_zero_sum(v6);
    ASSERT_TRUE(insert_full(f.b).l4);
    EXPECT_EQ(get16(f.b, field_of(f, 17)), 0xffff);
    EXPECT_EQ(verify(f.b).l4, CsumStatus::good);
  }
}

TEST(CsumInsertFull, FragmentsOtherProtocolsAndMalformed) {
  Frame frag = make(false, 6, 10, false, 0x2000);
  InsertResult r = insert_full(frag.b);
  EXPECT_TRUE(r.ip_header);
  EXPECT_FALSE(r.l4);
  EXPECT_EQ(get16(frag.b, field_of(frag, 6)), 0);
  EXPECT_EQ(verify(frag.b), (RxCsum{CsumStatus::good, CsumStatus::not_checked}));

  Frame icmp = make(false, 1, 10);
  r = insert_full(icmp.b);
  EXPECT_TRUE(r.ip_header);
  EXPECT_FALSE(r.l4);

  Frame good = make(true, 17, 9);
  for (std::size_t n = 0; n < good.b.size(); ++n) {
    Bytes t(good.b.begin(), good.b.begin() + static_cast<std::ptrdiff_t>(n));
    const Bytes before = t;
    EXPECT_FALSE(insert_full(t).parsed) << n;
    EXPECT_EQ(t, before);  // nothing written
    EXPECT_EQ(verify(t), RxCsum{}) << n;
  }
  Bytes arp = good.b;
  arp[13] = 0x06;
  arp[12] = 0x08;
  EXPECT_FALSE(insert_full(arp).parsed);

  // IP length leaves only 4 bytes of UDP: no L4 checksum either way.
  Frame shorty = make(false, 17, 0);
  shorty.b[shorty.l3 + 3] = 24;
  r = insert_full(shorty.b);
  EXPECT_TRUE(r.ip_header);
  EXPECT_FALSE(r.l4);
  EXPECT_EQ(verify(shorty.b), (RxCsum{CsumStatus::good, CsumStatus::not_checked}));
}

TEST(CsumInsertPartial, MatchesFullInsertion) {
  for (bool v6 : {false, true}) {
    for (std::uint8_t proto : {std::uint8_t{6}, std::uint8_t{17}}) {
      for (std::size_t payload : {0u, 1u, 7u, 64u, 999u}) {
        Frame full = make(v6, proto, payload);
        insert_full(full.b);
        Frame part = make(v6, proto, payload);
        if (!v6) insert_full(part.b);  // IP header checksum; L4 field is overwritten below
        const std::size_t field = field_of(part, proto);
        // What the stack leaves in the field: the folded pseudo-header sum.
        const std::uint16_t ph = csum_fold(pseudo_sum(part, v6, proto));
        part.b[field] = static_cast<std::uint8_t>(ph >> 8);
        part.b[field + 1] = static_cast<std::uint8_t>(ph);
        ASSERT_TRUE(insert_partial(part.b, part.l4, field - part.l4));
        if (proto == 17 && get16(full.b, field) == 0xffff) continue;  // partial stores 0 there
        EXPECT_EQ(part.b, full.b) << "v6 " << v6 << " proto " << int(proto) << " payload " << payload;
        EXPECT_EQ(verify(part.b).l4, CsumStatus::good);
      }
    }
  }
}

TEST(CsumInsertPartial, GenericOddLengthBuffer) {
  Bytes b = {0x00, 0x01, 0xf2, 0x03, 0x04, 0x00, 0x00, 0xf5, 0x06, 0x07};
  ASSERT_TRUE(insert_partial(b, 1, 4));
  // Words from byte 1 (field bytes 5-6 hold 0; the trailing odd byte is padded).
  const std::uint32_t s = 0x01f2 + 0x0304 + 0x0000 + 0xf506 + 0x0700;
  EXPECT_EQ(get16(b, 5), static_cast<std::uint16_t>(~csum_fold(s)));
  EXPECT_EQ(internet_checksum(std::span<const std::uint8_t>(b).subspan(1)), 0);
  EXPECT_EQ(b[0], 0x00);
}

TEST(CsumInsertPartial, OutOfRangeRejectedUntouched) {
  Bytes b(10, 0x55);
  const Bytes before = b;
  constexpr auto kMax = std::numeric_limits<std::size_t>::max();
  EXPECT_FALSE(insert_partial(b, 11, 0));
  EXPECT_FALSE(insert_partial(b, 10, 0));
  EXPECT_FALSE(insert_partial(b, 0, 9));
  EXPECT_FALSE(insert_partial(b, 4, 5));
  EXPECT_FALSE(insert_partial(b, kMax, 2));
  EXPECT_FALSE(insert_partial(b, 2, kMax));
  EXPECT_FALSE(insert_partial(b, kMax, kMax));
  EXPECT_FALSE(insert_partial(std::span<std::uint8_t>{}, 0, 0));
  EXPECT_EQ(b, before);
  EXPECT_TRUE(insert_partial(b, 0, 8));
  EXPECT_TRUE(insert_partial(b, 8, 0));
}

TEST(CsumVerify, DetectsCorruption) {
  for (bool v6 : {false, true}) {
    for (std::uint8_t proto : {std::uint8_t{6}, std::uint8_t{17}}) {
      Frame f = make(v6, proto, 33);
      insert_full(f.b);
      Bytes payload_flip = f.b;
      payload_flip.back() ^= 0x01;  // odd trailing byte
      EXPECT_EQ(verify(payload_flip).l4, CsumStatus::bad);
      Bytes addr_flip = f.b;
      addr_flip[f.l3 + (v6 ? 39 : 19)] ^= 0x80;  // pseudo-header field (dst)
      EXPECT_EQ(verify(addr_flip).l4, CsumStatus::bad);
      if (!v6) {
        EXPECT_EQ(verify(addr_flip).ip, CsumStatus::bad);
        Bytes ttl = f.b;
        ttl[f.l3 + 8] = 1;
        EXPECT_EQ(verify(ttl), (RxCsum{CsumStatus::bad, CsumStatus::good}));
      }
    }
  }
}

TEST(CsumVerify, UdpZeroChecksum) {
  Frame v4 = make(false, 17, 5);
  insert_full(v4.b);
  v4.b[field_of(v4, 17)] = v4.b[field_of(v4, 17) + 1] = 0;
  EXPECT_EQ(verify(v4.b), (RxCsum{CsumStatus::good, CsumStatus::not_checked}));
  Frame v6 = make(true, 17, 5);
  EXPECT_EQ(verify(v6.b), (RxCsum{CsumStatus::not_checked, CsumStatus::bad}));
  // Whereas TCP with a zero field is simply verified (and is wrong here).
  Frame tcp = make(false, 6, 5);
  insert_full(tcp.b);
  tcp.b[field_of(tcp, 6)] = tcp.b[field_of(tcp, 6) + 1] = 0;
  EXPECT_EQ(verify(tcp.b).l4, CsumStatus::bad);
}

TEST(CsumVerify, EthernetPaddingIgnored) {
  Frame f = make(false, 17, 1);
  insert_full(f.b);
  f.b.resize(60, 0xaa);
  EXPECT_EQ(verify(f.b), (RxCsum{CsumStatus::good, CsumStatus::good}));
}

}  // namespace

namespace {

// The eight-bytes-at-a-time sum is an optimisation of the RFC 1071 word loop:
// it must return the same 32-bit value, not only a congruent one, for every
// length (the odd tail, lengths around the 256-step lane flush), every start
// alignment and any chained initial value. Seeded, so a failure reproduces.
TEST(CsumPartial, FastSumEqualsTheWordLoopExactly) {
  std::mt19937_64 rng(0x5eed'c5u);
  std::vector<std::uint8_t> buf(70000);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  std::vector<std::size_t> lens = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 2047, 2048, 2049, 2055, 4096, 4104, 65535, 65536, 69990};
  for (int i = 0; i < 300; ++i) lens.push_back(rng() % 70000);
  for (std::size_t len : lens) {
    for (std::size_t off : {0u, 1u, 3u, 6u}) {
      if (off + len > buf.size()) continue;
      const std::span<const std::uint8_t> s(buf.data() + off, len);
      for (std::uint32_t init : {0u, 0x1234u, 0xffffffffu, static_cast<std::uint32_t>(rng())}) {
        ASSERT_EQ(csum_partial(s, init), csum_partial_bytewise(s, init)) << "len " << len << " off " << off;
      }
    }
  }
  // All-ones data is the worst case for the lanes: every byte 0xff.
  std::vector<std::uint8_t> ones(65536, 0xff);
  EXPECT_EQ(csum_partial(ones), csum_partial_bytewise(ones));
}

}  // namespace
