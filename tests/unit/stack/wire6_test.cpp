// IPv6 wire views and emitters: byte-exact against packets built by scapy,
// round trips, and bogus extension-header chains and ND options.
#include "test_util6.hpp"

namespace vd::test {
namespace {

Bytes hex(std::string_view s) {
  Bytes b;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) b.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  return b;
}

struct Pool {
  Pool() : mem(1u << 20), pool(mem, 2048, 4) {}
  Packet with(std::span<const std::uint8_t> b) {
    Packet p = pool.alloc();
    if (!b.empty()) std::memcpy(p.append(b.size()), b.data(), b.size());
    return p;
  }
  HostMemory mem;
  BufferPool pool;
};

// scapy: IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=64)/UDP(sport=1234, dport=5678)/b"hello"
const char* kScapyUdp6 =
    "60000000000d114020010db800000000000000000000000120010db800000000000000000000000204d2162e000d458d68656c6c6f";
// scapy: IPv6(src="fe80::1", dst="fe80::2")/ICMPv6EchoRequest(id=0x1234, seq=7, data=b"abcd")
const char* kScapyEcho6 =
    "60000000000c3a40fe800000000000000000000000000001fe8000000000000000000000000000028000abb21234000761626364";
// scapy: IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255)/ICMPv6ND_NS(tgt="fe80::2")/
//        ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:0a")
const char* kScapyNs =
    "6000000000203afffe800000000000000000000000000001ff0200000000000000000001ff00000287007a8e00000000fe80000000000000"
    "0000000000000002010102000000000a";

TEST(Wire6, UdpEmitMatchesScapy) {
  Pool pl;
  Packet p = pl.with(to_bytes("hello"));
  wire::emit_udp6(p, ip6("2001:db8::1"), ip6("2001:db8::2"), 1234, 5678);
  wire::emit_ipv6(p, {ip6("2001:db8::1"), ip6("2001:db8::2"), wire::kIpProtoUdp, 64});
  EXPECT_EQ(to_bytes(p), hex(kScapyUdp6));
  const auto v = wire::Ipv6View::parse(p.bytes());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version(), 6);
  EXPECT_EQ(v->payload_length(), 13);
  EXPECT_EQ(v->next_header(), wire::kIpProtoUdp);
  EXPECT_EQ(v->hop_limit(), 64);
  EXPECT_EQ(v->src(), ip6("2001:db8::1"));
  EXPECT_EQ(v->dst(), ip6("2001:db8::2"));
  EXPECT_TRUE(wire::udp6_checksum_ok(v->payload(), v->src(), v->dst()));
  // The split form (header + payload spans) gives the same checksum.
  const Bytes hdr{0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0d, 0x00, 0x00};
  EXPECT_EQ(wire::udp6_checksum(v->src(), v->dst(), hdr, to_bytes("hello")), 0x458d);
}

TEST(Wire6, EchoAndNsEmitMatchScapy) {
  Pool pl;
  Packet p = pl.with(to_bytes("abcd"));
  wire::emit_icmpv6(p, ip6("fe80::1"), ip6("fe80::2"), wire::kIcmpv6EchoRequest, 0, (0x1234u << 16) | 7);
  wire::emit_ipv6(p, {ip6("fe80::1"), ip6("fe80::2"), wire::kIpProtoIcmpv6, 64});
  EXPECT_EQ(to_bytes(p), hex(kScapyEcho6));
  Packet n = pl.with({});
  wire::emit_nd_lla(n, wire::kNdOptSourceLla, kMacA);
  wire::push_addr(n, ip6("fe80::2"));
  wire::emit_icmpv6(n, ip6("fe80::1"), ip6("ff02::1:ff00:2"), wire::kNdNeighborSolicit, 0, 0);
  wire::emit_ipv6(n, {ip6("fe80::1"), ip6("ff02::1:ff00:2"), wire::kIpProtoIcmpv6, 255});
  EXPECT_EQ(to_bytes(n), hex(kScapyNs));
  const auto v = wire::Ipv6View::parse(n.bytes());
  ASSERT_TRUE(v.ok());
  const auto icmp = wire::Icmpv6View::parse(v->payload());
  ASSERT_TRUE(icmp.ok());
  EXPECT_TRUE(icmp->checksum_ok(v->src(), v->dst()));
  EXPECT_FALSE(icmp->checksum_ok(v->src(), ip6("ff02::1")));
  EXPECT_EQ(icmp->type(), wire::kNdNeighborSolicit);
  const auto o = wire::parse_nd_options(icmp->body().subspan(16));
  ASSERT_TRUE(o.has_value());
  ASSERT_TRUE(o->source_lla.has_value());
  EXPECT_EQ(*o->source_lla, kMacA);
}

TEST(Wire6, HeaderParseErrors) {
  Bytes b = hex(kScapyUdp6);
  EXPECT_EQ(wire::Ipv6View::parse(std::span(b).first(39)).error(), wire::ParseError::too_short);
  Bytes v4 = b;
  v4[0] = 0x45;
  EXPECT_EQ(wire::Ipv6View::parse(v4).error(), wire::ParseError::bad_version);
  Bytes longer = b;
  put16(longer, 4, 14);  // one more than present
  EXPECT_EQ(wire::Ipv6View::parse(longer).error(), wire::ParseError::bad_length);
  Bytes jumbo = b;
  put16(jumbo, 4, 0);
  jumbo[6] = wire::kIpv6HopByHop;
  EXPECT_EQ(wire::Ipv6View::parse(jumbo).error(), wire::ParseError::bad_length);
  // Padding after the packet stays outside the view.
  Bytes padded = b;
  padded.resize(b.size() + 9, 0);
  const auto v = wire::Ipv6View::parse(padded);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->packet().size(), b.size());
  // Traffic class and flow label.
  Bytes tc = b;
  put32(tc, 0, 0x6ab12345u);
  const auto t = wire::Ipv6View::parse(tc);
  EXPECT_EQ(t->traffic_class(), 0xab);
  EXPECT_EQ(t->flow_label(), 0x12345u);
}

TEST(Wire6, FragmentHeaderRoundTrip) {
  Pool pl;
  Packet p = pl.with(Bytes(16, 7));
  wire::emit_ipv6_frag(p, wire::kIpProtoUdp, 1448, true, 0xdeadbeef);
  const auto f = wire::Ipv6FragView::parse(p.bytes());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->next_header(), wire::kIpProtoUdp);
  EXPECT_EQ(f->offset(), 1448);
  EXPECT_TRUE(f->more());
  EXPECT_EQ(f->ident(), 0xdeadbeefu);
  EXPECT_FALSE(f->atomic());
  EXPECT_THROW(wire::emit_ipv6_frag(p, 17, 3, false, 1), std::invalid_argument);
  const Bytes fb = to_bytes(p);
  EXPECT_EQ(wire::Ipv6FragView::parse(std::span(fb).first(7)).error(), wire::ParseError::too_short);
}

// An extension header of `type` with `nh` next, padded to len8 8-byte units.
Bytes ext(std::uint8_t nh, std::size_t units = 1, std::span<const std::uint8_t> opts = {}) {
  Bytes h(units * 8, 0);
  h[0] = nh;
  h[1] = static_cast<std::uint8_t>(units - 1);
  std::size_t i = 2;
  for (auto c : opts) h[i++] = c;
  if (opts.empty() && units * 8 > 2) {  // a PadN filling the rest
    h[2] = 1;
    h[3] = static_cast<std::uint8_t>(units * 8 - 4);
  }
  return h;
}

TEST(Wire6, ExtChainWalk) {
  Bytes pl = ext(wire::kIpv6DestOpts);           // HBH -> DestOpts
  append(pl, ext(wire::kIpv6Routing));           // DestOpts -> Routing
  Bytes rt = ext(wire::kIpProtoUdp);
  rt[2] = 4, rt[3] = 0;                          // type 4, segments left 0
  append(pl, rt);
  append(pl, Bytes(8, 0));                       // "UDP"
  const auto c = wire::walk_ext_headers(wire::kIpv6HopByHop, pl);
  ASSERT_EQ(c.error, wire::ExtChain::Error::none);
  ASSERT_EQ(c.headers.size(), 3u);
  EXPECT_EQ(c.headers[0].type, wire::kIpv6HopByHop);
  EXPECT_EQ(c.headers[0].offset, 40u);
  EXPECT_EQ(c.headers[2].type, wire::kIpv6Routing);
  EXPECT_EQ(c.upper_proto, wire::kIpProtoUdp);
  EXPECT_EQ(c.upper_offset, 64u);
  EXPECT_EQ(c.nh_field_offset, 56u);  // the routing header's first byte
  // No extension headers at all.
  const auto d = wire::walk_ext_headers(wire::kIpProtoIcmpv6, Bytes(8, 0));
  EXPECT_EQ(d.upper_proto, wire::kIpProtoIcmpv6);
  EXPECT_EQ(d.upper_offset, 40u);
  EXPECT_EQ(d.nh_field_offset, 6u);
  // Stops after a fragment header.
  Bytes fr(8, 0);
  fr[0] = wire::kIpv6DestOpts;
  put16(fr, 2, 8);
  append(fr, Bytes(8, 0xee));
  const auto f = wire::walk_ext_headers(wire::kIpv6Fragment, fr);
  EXPECT_TRUE(f.stopped_at_fragment);
  EXPECT_EQ(f.headers.size(), 1u);
  EXPECT_EQ(f.upper_proto, wire::kIpv6DestOpts);
}

TEST(Wire6, BogusExtChains) {
  // Truncated: the header says 16 bytes, 8 are present.
  Bytes t = ext(wire::kIpProtoUdp, 2);
  t.resize(8);
  EXPECT_EQ(wire::walk_ext_headers(wire::kIpv6DestOpts, t).error, wire::ExtChain::Error::too_short);
  EXPECT_EQ(wire::walk_ext_headers(wire::kIpv6DestOpts, Bytes(5, 0)).error, wire::ExtChain::Error::too_short);
  // Too many: nine destination options headers.
  Bytes many;
  for (int i = 0; i < 9; ++i) append(many, ext(i == 8 ? wire::kIpProtoUdp : wire::kIpv6DestOpts));
  EXPECT_EQ(wire::walk_ext_headers(wire::kIpv6DestOpts, many).error, wire::ExtChain::Error::too_many);
  // Eight is fine.
  Bytes eight;
  for (int i = 0; i < 8; ++i) append(eight, ext(i == 7 ? wire::kIpProtoUdp : wire::kIpv6DestOpts));
  EXPECT_EQ(wire::walk_ext_headers(wire::kIpv6DestOpts, eight).error, wire::ExtChain::Error::none);
  // Hop-by-hop anywhere but first.
  Bytes hbh2 = ext(wire::kIpv6HopByHop);
  append(hbh2, ext(wire::kIpProtoUdp));
  const auto h = wire::walk_ext_headers(wire::kIpv6DestOpts, hbh2);
  EXPECT_EQ(h.error, wire::ExtChain::Error::hbh_not_first);
  EXPECT_EQ(h.nh_field_offset, 40u);
  // A "loop" of maximal headers is bounded by the header count.
  Bytes big;
  for (int i = 0; i < 20; ++i) append(big, ext(wire::kIpv6Routing, 32));
  EXPECT_EQ(wire::walk_ext_headers(wire::kIpv6Routing, big).error, wire::ExtChain::Error::too_many);
}

TEST(Wire6, OptionParsing) {
  // Pad1, PadN(2), unknown type 0xc2 with 4 bytes, in an 16-byte header.
  Bytes h{17, 1, 0, 1, 2, 0, 0, 0xc2, 4, 1, 2, 3, 4, 1, 1, 0};
  const auto o = wire::parse_ipv6_options(h);
  ASSERT_TRUE(o.has_value());
  ASSERT_EQ(o->size(), 4u);
  EXPECT_EQ((*o)[0].type, wire::kIpv6OptPad1);
  EXPECT_EQ((*o)[2].type, 0xc2);
  EXPECT_EQ((*o)[2].offset, 7u);
  EXPECT_EQ((*o)[2].data.size(), 4u);
  EXPECT_EQ((*o)[2].unknown_action(), wire::Ipv6Option::Action::discard_icmp_unless_multicast);
  // An option running past the header.
  Bytes bad{17, 0, 0x3e, 9, 0, 0, 0, 0};
  EXPECT_FALSE(wire::parse_ipv6_options(bad).has_value());
  Bytes cut{17, 0, 0, 0, 0, 0, 0, 1};  // a PadN type in the last byte without a length
  EXPECT_FALSE(wire::parse_ipv6_options(cut).has_value());
}

TEST(Wire6, NdOptions) {
  Bytes ok = lla_opt(1, kMacPeer);
  append(ok, prefix_opt(ip6("2001:db8:1::"), 64, true, true, 100, 50));
  Bytes mtu(8, 0);
  mtu[0] = 5, mtu[1] = 1;
  put32(mtu, 4, 1400);
  append(ok, mtu);
  Bytes unknown(16, 0);
  unknown[0] = 200, unknown[1] = 2;
  append(ok, unknown);
  const auto o = wire::parse_nd_options(ok);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->source_lla, kMacPeer);
  ASSERT_EQ(o->prefixes.size(), 1u);
  EXPECT_EQ(o->prefixes[0].prefix, ip6("2001:db8:1::"));
  EXPECT_EQ(o->prefixes[0].prefix_len, 64);
  EXPECT_TRUE(o->prefixes[0].on_link);
  EXPECT_TRUE(o->prefixes[0].autonomous);
  EXPECT_EQ(o->prefixes[0].valid_lifetime, 100u);
  EXPECT_EQ(o->prefixes[0].preferred_lifetime, 50u);
  EXPECT_EQ(o->mtu, 1400u);
  // Length 0 would loop forever: the whole message is invalid.
  EXPECT_FALSE(wire::parse_nd_options(Bytes{1, 0, 0, 0, 0, 0, 0, 0}).has_value());
  // Running past the end.
  EXPECT_FALSE(wire::parse_nd_options(Bytes{3, 4, 0, 0, 0, 0, 0, 0}).has_value());
  EXPECT_FALSE(wire::parse_nd_options(Bytes{1}).has_value());
  // A link-layer option of the wrong size for Ethernet.
  EXPECT_FALSE(wire::parse_nd_options(Bytes{1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}).has_value());
  // Emitters round trip.
  Pool pl;
  Packet p = pl.with({});
  wire::emit_nd_mtu(p, 1400);
  wire::emit_nd_prefix(p, o->prefixes[0]);
  wire::emit_nd_lla(p, 2, kMacB);
  const auto r = wire::parse_nd_options(p.bytes());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->target_lla, kMacB);
  EXPECT_EQ(r->prefixes.at(0).prefix, ip6("2001:db8:1::"));
  EXPECT_EQ(r->mtu, 1400u);
  EXPECT_EQ(wire::nd_fixed_len(wire::kNdRedirect), 32u);
  EXPECT_FALSE(wire::nd_fixed_len(wire::kIcmpv6EchoRequest).has_value());
}

}  // namespace
}  // namespace vd::test
