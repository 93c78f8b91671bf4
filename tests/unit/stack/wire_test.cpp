// Checked views: every parse error reason, the accessors, and emitted
// headers against independently computed checksum vectors.
#include "test_util.hpp"
#include "veridian/offload/csum_offload.hpp"

namespace vd::test {
namespace {

using wire::ParseError;

Bytes hex(std::string_view h) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < h.size();) {
    if (h[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

// The textbook IPv4 header (checksum 0xb861) followed by `payload` bytes.
Bytes wiki_ipv4(std::size_t payload = 95) {
  Bytes b = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  b.resize(b.size() + payload, 0xab);
  return b;
}

class Scratch : public ::testing::Test {
 protected:
  Scratch() : mem_(1u << 20), pool_(mem_, 2048, 4) {}
  Packet with_payload(std::span<const std::uint8_t> b) { return packet_from_bytes(pool_, b); }
  HostMemory mem_;
  BufferPool pool_;
};

// ------------------------------------------------------------ Ethernet

TEST(EthernetView, ParsesHeaderFields) {
  const Bytes f = hex("ffffffffffff 02000000000a 0806 deadbeef");
  const auto e = wire::EthernetView::parse(f);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->dst(), wire::kBroadcastMac);
  EXPECT_EQ(e->src(), kMacA);
  EXPECT_EQ(e->ethertype(), wire::kEthertypeArp);
  EXPECT_EQ(e->header_len(), 14u);
  EXPECT_FALSE(e->vlan_tci().has_value());
  ASSERT_EQ(e->payload().size(), 4u);
  EXPECT_EQ(e->payload()[0], 0xde);
}

TEST(EthernetView, TooShort) {
  const Bytes f(13, 0);
  const auto e = wire::EthernetView::parse(f);
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.error(), ParseError::too_short);
  EXPECT_EQ(e.reason(), "too_short");
  EXPECT_THROW((void)e.value(), std::bad_optional_access);
}

TEST(EthernetView, VlanTag) {
  const Bytes f = hex("02000000000b 02000000000a 8100 2064 0800 45");
  const auto e = wire::EthernetView::parse(f);
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->vlan_tci().has_value());
  EXPECT_EQ(*e->vlan_tci(), 0x2064);
  EXPECT_EQ(e->ethertype(), wire::kEthertypeIpv4);
  EXPECT_EQ(e->header_len(), 18u);
  EXPECT_EQ(e->payload().size(), 1u);
  // A tag announced but cut off.
  const Bytes cut = hex("02000000000b 02000000000a 8100 20");
  EXPECT_EQ(wire::EthernetView::parse(cut).error(), ParseError::too_short);
}

// ------------------------------------------------------------ ARP

Bytes arp_body() { return hex("0001 0800 06 04 0001 02000000000a 0a000001 000000000000 0a000002"); }

TEST(ArpView, ParsesRequest) {
  const Bytes b = arp_body();
  const auto a = wire::ArpView::parse(b);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->oper(), wire::kArpOpRequest);
  EXPECT_EQ(a->sender_mac(), kMacA);
  EXPECT_EQ(a->sender_ip(), ip("10.0.0.1"));
  EXPECT_EQ(a->target_mac(), MacAddr{});
  EXPECT_EQ(a->target_ip(), ip("10.0.0.2"));
}

TEST(ArpView, Errors) {
  Bytes b = arp_body();
  b.pop_back();
  EXPECT_EQ(wire::ArpView::parse(b).error(), ParseError::too_short);

  b = arp_body();
  b[1] = 6;  // htype IEEE 802
  EXPECT_EQ(wire::ArpView::parse(b).error(), ParseError::unsupported);
  b = arp_body();
  b[2] = 0x86;  // ptype IPv6
  EXPECT_EQ(wire::ArpView::parse(b).error(), ParseError::unsupported);
  b = arp_body();
  b[4] = 8;  // hlen
  EXPECT_EQ(wire::ArpView::parse(b).error(), ParseError::unsupported);
  b = arp_body();
  b[5] = 16;  // plen
  EXPECT_EQ(wire::ArpView::parse(b).error(), ParseError::unsupported);
  b = arp_body();
  b[7] = 3;  // RARP request
  EXPECT_EQ(wire::ArpView::parse(b).error(), ParseError::bad_opcode);
  EXPECT_EQ(wire::to_string(ParseError::bad_opcode), "bad_opcode");
}

TEST_F(Scratch, EmitArpRoundTrips) {
  Packet p = pool_.alloc();
  wire::emit_arp(p, {wire::kArpOpReply, kMacA, ip("10.0.0.1"), kMacB, ip("10.0.0.2")});
  ASSERT_EQ(p.size(), 28u);
  EXPECT_EQ(to_bytes(p), hex("0001 0800 06 04 0002 02000000000a 0a000001 02000000000b 0a000002"));
}

// ------------------------------------------------------------ IPv4

TEST(Ipv4View, ParsesTextbookHeader) {
  const Bytes b = wiki_ipv4();
  const auto v = wire::Ipv4View::parse(b);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version(), 4);
  EXPECT_EQ(v->header_len(), 20u);
  EXPECT_EQ(v->total_length(), 0x73);
  EXPECT_TRUE(v->dont_fragment());
  EXPECT_FALSE(v->more_fragments());
  EXPECT_EQ(v->frag_offset(), 0);
  EXPECT_EQ(v->ttl(), 64);
  EXPECT_EQ(v->protocol(), wire::kIpProtoUdp);
  EXPECT_EQ(v->checksum(), 0xb861);
  EXPECT_EQ(v->src(), ip("192.168.0.1"));
  EXPECT_EQ(v->dst(), ip("192.168.0.199"));
  EXPECT_TRUE(v->checksum_ok());
  EXPECT_EQ(v->payload().size(), 95u);
  EXPECT_TRUE(v->options().empty());
}

TEST(Ipv4View, TrailingPaddingIsOutsideTheView) {
  Bytes b = wiki_ipv4();
  b.resize(b.size() + 10, 0);
  const auto v = wire::Ipv4View::parse(b);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->payload().size(), 95u);
}

TEST(Ipv4View, OptionsAreSkipped) {
  // IHL 6: one 4-byte option (NOP x3 + EOL) then a 4-byte payload.
  Bytes b = hex("4600 01c0 0000 0000 4011 0000 0a000001 0a000002 01010100 cafef00d");
  b[2] = 0;
  b[3] = 28;
  fix_ipv4_csum(b, 0);
  const auto v = wire::Ipv4View::parse(b);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->header_len(), 24u);
  EXPECT_EQ(v->options().size(), 4u);
  ASSERT_EQ(v->payload().size(), 4u);
  EXPECT_EQ(v->payload()[0], 0xca);
  EXPECT_TRUE(v->checksum_ok());
}

TEST(Ipv4View, Errors) {
  const Bytes good = wiki_ipv4();
  EXPECT_EQ(wire::Ipv4View::parse(std::span(good).first(19)).error(), ParseError::too_short);

  Bytes b = good;
  b[0] = 0x65;  // version 6
  EXPECT_EQ(wire::Ipv4View::parse(b).error(), ParseError::bad_version);
  b = good;
  b[0] = 0x44;  // IHL 4
  EXPECT_EQ(wire::Ipv4View::parse(b).error(), ParseError::bad_ihl);
  b = good;
  b[0] = 0x4f;  // IHL 15 = 60 bytes, but only 30 bytes are there
  EXPECT_EQ(wire::Ipv4View::parse(std::span(b).first(30)).error(), ParseError::too_short);
  b = good;
  b[3] = 0x74;  // total length one more than the bytes available
  EXPECT_EQ(wire::Ipv4View::parse(b).error(), ParseError::bad_length);
  b = good;
  b[2] = 0;
  b[3] = 19;  // total length shorter than the header
  EXPECT_EQ(wire::Ipv4View::parse(b).error(), ParseError::bad_length);
  // The data is truncated below its declared total length.
  EXPECT_EQ(wire::Ipv4View::parse(std::span(good).first(good.size() - 1)).error(), ParseError::bad_length);
}

TEST(Ipv4View, ChecksumIsCheckedSeparately) {
  Bytes b = wiki_ipv4();
  b[8] = 63;  // TTL changed, checksum not updated
  const auto v = wire::Ipv4View::parse(b);
  ASSERT_TRUE(v.ok());  // parse does not judge the checksum
  EXPECT_FALSE(v->checksum_ok());
}

TEST_F(Scratch, EmitIpv4MatchesTextbookVector) {
  const Bytes payload(95, 0xab);
  Packet p = with_payload(payload);
  wire::emit_ipv4(p, {ip("192.168.0.1"), ip("192.168.0.199"), wire::kIpProtoUdp, 64, 0, 0, true});
  EXPECT_EQ(to_bytes(p), wiki_ipv4());
}

TEST_F(Scratch, EmitIpv4RefusesOversizedDatagram) {
  // 65516 payload bytes + 20 header bytes > 65535: refused before pushing.
  HostMemory big(1u << 20);
  BufferPool bp(big, 70000, 1);
  Packet q = bp.alloc(64);
  q.append(65535 - 19);
  EXPECT_THROW(wire::emit_ipv4(q, {ip("10.0.0.1"), ip("10.0.0.2"), 17, 64, 0}), std::length_error);
  EXPECT_EQ(q.size(), 65535u - 19);  // nothing pushed
}

// ------------------------------------------------------------ ICMP

TEST(IcmpView, ParsesEchoAndChecksum) {
  Bytes b = hex("0800 0000 1234 0001");
  for (int i = 0; i < 56; ++i) b.push_back(static_cast<std::uint8_t>(i));
  b[2] = 0xee;
  b[3] = 0xb7;  // computed independently
  const auto v = wire::IcmpView::parse(b);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type(), wire::kIcmpEchoRequest);
  EXPECT_EQ(v->code(), 0);
  EXPECT_EQ(v->echo_ident(), 0x1234);
  EXPECT_EQ(v->echo_seq(), 1);
  EXPECT_EQ(v->payload().size(), 56u);
  EXPECT_TRUE(v->checksum_ok());
  b[20] ^= 1;
  EXPECT_FALSE(wire::IcmpView::parse(b)->checksum_ok());
}

TEST(IcmpView, TooShort) {
  const Bytes b = hex("0800 f7ff 0000 00");
  EXPECT_EQ(wire::IcmpView::parse(b).error(), ParseError::too_short);
}

TEST_F(Scratch, EmitIcmpEchoMatchesVector) {
  Bytes payload;
  for (int i = 0; i < 56; ++i) payload.push_back(static_cast<std::uint8_t>(i));
  Packet p = with_payload(payload);
  wire::emit_icmp_echo(p, wire::kIcmpEchoRequest, 0x1234, 1);
  ASSERT_EQ(p.size(), 64u);
  EXPECT_EQ(wire::load_be16(p.bytes(), 2), 0xeeb7);
  Packet r = with_payload(payload);
  wire::emit_icmp_echo(r, wire::kIcmpEchoReply, 0x1234, 1);
  EXPECT_EQ(wire::load_be16(r.bytes(), 2), 0xf6b7);
}

// ------------------------------------------------------------ UDP

TEST(UdpView, ParsesAndTrimsToLength) {
  // 10.0.0.1:49152 -> 10.0.0.2:7 "hello", checksum 0xe7f7 computed independently,
  // followed by 3 bytes that are not part of the datagram.
  Bytes b = hex("c000 0007 000d e7f7");
  for (char c : std::string("hello")) b.push_back(static_cast<std::uint8_t>(c));
  b.insert(b.end(), {0, 0, 0});
  const auto v = wire::UdpView::parse(b);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->src_port(), 49152);
  EXPECT_EQ(v->dst_port(), 7);
  EXPECT_EQ(v->length(), 13);
  EXPECT_EQ(v->payload().size(), 5u);
  EXPECT_TRUE(v->has_checksum());
  EXPECT_TRUE(v->checksum_ok(ip("10.0.0.1"), ip("10.0.0.2")));
  EXPECT_FALSE(v->checksum_ok(ip("10.0.0.1"), ip("10.0.0.3")));  // pseudo-header matters
}

TEST(UdpView, Errors) {
  const Bytes shortb = hex("c000 0007 0008 00");
  EXPECT_EQ(wire::UdpView::parse(shortb).error(), ParseError::too_short);
  const Bytes too_long = hex("c000 0007 000a 0000 01");  // says 10, has 9
  EXPECT_EQ(wire::UdpView::parse(too_long).error(), ParseError::bad_length);
  const Bytes below_header = hex("c000 0007 0007 0000 01");  // says 7 < 8
  EXPECT_EQ(wire::UdpView::parse(below_header).error(), ParseError::bad_length);
  const Bytes no_csum = hex("c000 0007 0008 0000");
  ASSERT_TRUE(wire::UdpView::parse(no_csum).ok());
  EXPECT_FALSE(wire::UdpView::parse(no_csum)->has_checksum());
}

TEST_F(Scratch, EmitUdpMatchesVectors) {
  const Bytes hello = to_bytes("hello");
  Packet p = with_payload(hello);
  wire::emit_udp(p, ip("10.0.0.1"), ip("10.0.0.2"), 49152, 7);
  Bytes want = hex("c000 0007 000d e7f7");
  want.insert(want.end(), hello.begin(), hello.end());
  EXPECT_EQ(to_bytes(p), want);

  Packet e = pool_.alloc();
  wire::emit_udp(e, ip("10.0.0.1"), ip("10.0.0.2"), 1000, 2000);
  EXPECT_EQ(to_bytes(e), hex("03e8 07d0 0008 e023"));
}

TEST_F(Scratch, EmitUdpWithOffloadLeavesAPartialSumTheModelCompletes) {
  const Bytes payload = to_bytes("offloaded checksum, odd length");
  Packet sw = with_payload(payload);
  wire::emit_udp(sw, ip("10.0.0.1"), ip("10.0.0.2"), 1234, 5678);
  Packet hw = with_payload(payload);
  wire::emit_udp(hw, ip("10.0.0.1"), ip("10.0.0.2"), 1234, 5678, /*csum_offload=*/true);
  EXPECT_TRUE(hw.meta.tx_csum_partial);
  EXPECT_EQ(hw.meta.csum_offset, 6u);
  EXPECT_NE(to_bytes(hw), to_bytes(sw));  // not finished yet: the field holds the pseudo-header sum
  ASSERT_TRUE(offload::insert_partial(hw.bytes(), 0, hw.meta.csum_offset));
  EXPECT_EQ(to_bytes(hw), to_bytes(sw));
}

TEST_F(Scratch, EmitUdpSendsZeroChecksumAsAllOnes) {
  // Choose a 2-byte payload that makes the one's-complement sum 0xffff, so
  // the computed checksum is 0 and must go on the wire as 0xffff.
  const Ipv4Addr s = ip("10.0.0.1"), d = ip("10.0.0.2");
  const Bytes hdr = hex("03e8 07d0 000a 0000");
  std::uint32_t sum = offload::pseudo_header_v4(s.b, d.b, wire::kIpProtoUdp, 10);
  sum = offload::csum_partial(hdr, sum);
  const std::uint16_t w = static_cast<std::uint16_t>(0xffff - offload::csum_fold(sum));
  const Bytes payload{static_cast<std::uint8_t>(w >> 8), static_cast<std::uint8_t>(w)};
  Packet p = with_payload(payload);
  wire::emit_udp(p, s, d, 1000, 2000);
  EXPECT_EQ(wire::load_be16(p.bytes(), 6), 0xffff);
  const auto v = wire::UdpView::parse(p.bytes());
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->checksum_ok(s, d));
}

TEST_F(Scratch, EmitEthernetAndPad) {
  Packet p = with_payload(Bytes{1, 2, 3});
  p.append(5)[0] = 0x77;  // stale bytes in the buffer that padding must zero
  p.trim(3);
  wire::emit_ethernet(p, {kMacB, kMacA, wire::kEthertypeIpv4, std::nullopt});
  wire::pad_frame(p);
  ASSERT_EQ(p.size(), 60u);
  EXPECT_EQ(to_bytes(p), [] {
    Bytes w = hex("02000000000b 02000000000a 0800 010203");
    w.resize(60, 0);
    return w;
  }());
  Packet big = with_payload(Bytes(70, 1));
  wire::pad_frame(big);
  EXPECT_EQ(big.size(), 70u);  // never shortens
}

TEST_F(Scratch, EmittersNeedHeadroom) {
  Packet p = pool_.alloc(4);
  EXPECT_THROW(wire::emit_ethernet(p, {}), std::length_error);
}

}  // namespace
}  // namespace vd::test
