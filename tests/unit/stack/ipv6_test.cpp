// IPv6 input and output: header checks, extension headers (RFC 8200 4.2
// option actions, RFC 5095 routing type 0, chain limits), source
// fragmentation (reassembly: ipv6_reasm_test.cpp),
// ICMPv6 errors with their rules and rate limit, Packet Too Big and the
// path MTU, echo, UDP over IPv6, forwarding, and fuzzed input.
#include <algorithm>
#include <random>

#include "ipv6_rig.hpp"

namespace vd::test {
namespace {

// ------------------------------------------------------------ basic input

TEST(Ipv6, UdpDatagramDelivered) {
  Udp6Rig t;
  const auto before = layer(t.st, "ipv6").rx_packets;
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoUdp, t.udp(to_bytes("hello"))));
  ASSERT_EQ(t.sock->pending(), 1u);
  const auto d = t.sock->recvfrom();
  EXPECT_EQ(d->data, to_bytes("hello"));
  EXPECT_TRUE(d->v6);
  EXPECT_EQ(d->src_addr6, kPeerG);
  EXPECT_EQ(d->src_port, 5000);
  EXPECT_EQ(layer(t.st, "ipv6").rx_packets, before + 1);
  EXPECT_EQ(layer(t.st, "udp").rx_bytes, 13u);
}

TEST(Ipv6, HeaderChecksCountedAsDrops) {
  Udp6Rig t;
  const Bytes good = ipv6_packet(kPeerG, t.me, wire::kIpProtoUdp, t.udp(to_bytes("x")));
  Bytes b = good;
  put16(b, 4, 200);  // payload length beyond the frame
  t.in(b);
  EXPECT_EQ(drops(t.st, "ipv6.bad_length"), 1u);
  b = good;
  b[0] = 0x40;
  t.in(b);
  EXPECT_EQ(drops(t.st, "ipv6.bad_version"), 1u);
  Bytes runt = eth_frame(kMacA, kMacPeer, good);
  runt.resize(14 + 30);  // no padding: a runt the device passed on
  t.dev.deliver(runt);
  EXPECT_EQ(drops(t.st, "ipv6.too_short"), 1u);
  t.in(ipv6_packet(ip6("ff02::1"), t.me, wire::kIpProtoUdp, t.udp(to_bytes("x"))));
  EXPECT_EQ(drops(t.st, "ipv6.bad_source"), 1u);
  t.in(ipv6_packet(ip6("::1"), t.me, wire::kIpProtoUdp, t.udp(to_bytes("x"))));
  EXPECT_EQ(drops(t.st, "ipv6.bad_address"), 1u);
  t.in(ipv6_packet(kPeerG, ip6("2001:db8::42"), wire::kIpProtoUdp, t.udp(to_bytes("x"))));
  EXPECT_EQ(drops(t.st, "ipv6.not_for_us"), 1u);
  // Zero UDP checksum: mandatory over IPv6.
  Bytes z = t.udp(to_bytes("x"));
  z[6] = z[7] = 0;
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoUdp, z));
  EXPECT_EQ(drops(t.st, "udp.zero_checksum_v6"), 1u);
  Bytes bad = t.udp(to_bytes("x"));
  bad[8] ^= 1;
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoUdp, bad));
  EXPECT_EQ(drops(t.st, "udp.bad_checksum"), 1u);
  // Ethernet padding after a short packet is not part of it.
  t.in(good);
  EXPECT_EQ(t.sock->pending(), 1u);
  // IPv6 off on an interface: the ethertype is not spoken there.
  FakeScheduler s2;
  FakeDevice d2(kMacB);
  stack::Stack st2(s2, "b");
  st2.add_interface(d2);
  d2.deliver(eth_frame(kMacB, kMacPeer, good));
  EXPECT_EQ(drops(st2, "eth.unsupported_ethertype"), 1u);
}

// ------------------------------------------------------------ extension headers

TEST(Ipv6, ExtensionHeadersProcessed) {
  Udp6Rig t;
  // HBH with router alert and PadN, a destination options header with an
  // unknown skippable option (type 0x1e: action 00), then UDP.
  Bytes pl = opts_hdr(wire::kIpv6DestOpts, {5, 2, 0, 0});
  append(pl, opts_hdr(wire::kIpProtoUdp, {0x1e, 2, 9, 9}));
  append(pl, t.udp(to_bytes("ext")));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6HopByHop, pl));
  ASSERT_EQ(t.sock->pending(), 1u);
  EXPECT_EQ(t.sock->recvfrom()->data, to_bytes("ext"));
  // A routing header with segments left 0 is skipped (any type).
  Bytes rt{wire::kIpProtoUdp, 0, 0, 0, 0, 0, 0, 0};
  append(rt, t.udp(to_bytes("rt")));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6Routing, rt));
  EXPECT_EQ(t.sock->pending(), 1u);
  EXPECT_EQ(total_drops(t.st), 0u);
}

TEST(Ipv6, UnknownOptionActions) {
  Udp6Rig t;
  auto with_opt = [&](std::uint8_t type, const Ipv6Addr& dst) {
    Bytes pl = opts_hdr(wire::kIpProtoUdp, {type, 2, 0, 0});
    append(pl, udp6_msg(kPeerG, dst, 5000, 7, to_bytes("o")));
    return ipv6_packet(kPeerG, dst, wire::kIpv6DestOpts, pl);
  };
  const Ipv6Addr mc = ip6("ff02::1");
  // 01: discard silently.
  t.in(with_opt(0x5f, t.me));
  EXPECT_EQ(drops(t.st, "ipv6.unknown_option"), 1u);
  EXPECT_TRUE(t.dev.sent.empty());
  // 10: discard and parameter problem code 2 pointing at the option, even to multicast.
  t.in(with_opt(0x9f, mc), mc.multicast_mac());
  auto pp = icmp6_of_type(t.dev.sent, wire::kIcmpv6ParamProblem);
  ASSERT_EQ(pp.size(), 1u);
  EXPECT_EQ(pp[0].code, wire::kParamUnknownOption);
  EXPECT_EQ(pp[0].rest, 42u);  // 40 + 2: the option's type byte
  EXPECT_EQ(pp[0].dst, kPeerG);
  EXPECT_TRUE(pp[0].csum_ok);
  // 11: only when the destination is not multicast.
  t.dev.sent.clear();
  t.in(with_opt(0xdf, mc), mc.multicast_mac());
  EXPECT_TRUE(icmp6_of_type(t.dev.sent, wire::kIcmpv6ParamProblem).empty());
  t.in(with_opt(0xdf, t.me));
  pp = icmp6_of_type(t.dev.sent, wire::kIcmpv6ParamProblem);
  ASSERT_EQ(pp.size(), 1u);
  EXPECT_EQ(pp[0].src, t.me);
  // The quote starts with the offending packet.
  const Bytes offending = with_opt(0xdf, t.me);
  EXPECT_EQ(pp[0].body, offending);
  EXPECT_EQ(drops(t.st, "ipv6.unknown_option"), 4u);
  EXPECT_EQ(t.sock->pending(), 0u);
}

TEST(Ipv6, RoutingType0AndBadChains) {
  Udp6Rig t;
  // RH0 with segments left 2: parameter problem at the routing type (RFC 5095).
  Bytes rh0(40, 0);
  rh0[0] = wire::kIpProtoUdp;
  rh0[1] = 4;
  rh0[2] = 0;
  rh0[3] = 2;
  append(rh0, t.udp(to_bytes("x")));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6Routing, rh0));
  auto pp = icmp6_of_type(t.dev.sent, wire::kIcmpv6ParamProblem);
  ASSERT_EQ(pp.size(), 1u);
  EXPECT_EQ(pp[0].code, wire::kParamErroneousField);
  EXPECT_EQ(pp[0].rest, 42u);
  EXPECT_EQ(drops(t.st, "ipv6.routing_type0"), 1u);
  // An unknown next header: code 1 pointing at the byte that named it.
  t.dev.sent.clear();
  Bytes dopt = opts_hdr(253, {});
  append(dopt, Bytes(8, 0));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6DestOpts, dopt));
  pp = icmp6_of_type(t.dev.sent, wire::kIcmpv6ParamProblem);
  ASSERT_EQ(pp.size(), 1u);
  EXPECT_EQ(pp[0].code, wire::kParamUnknownNextHeader);
  EXPECT_EQ(pp[0].rest, 40u);
  EXPECT_EQ(drops(t.st, "ipv6.unknown_protocol"), 1u);
  // Hop-by-hop after another header.
  t.dev.sent.clear();
  Bytes hbh2 = opts_hdr(wire::kIpv6HopByHop, {});
  append(hbh2, opts_hdr(wire::kIpProtoUdp, {}));
  append(hbh2, t.udp(to_bytes("x")));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6DestOpts, hbh2));
  pp = icmp6_of_type(t.dev.sent, wire::kIcmpv6ParamProblem);
  ASSERT_EQ(pp.size(), 1u);
  EXPECT_EQ(pp[0].rest, 40u);
  EXPECT_EQ(drops(t.st, "ipv6.hbh_not_first"), 1u);
  // Nine headers: over the chain limit. Truncated: too short.
  Bytes many;
  for (int i = 0; i < 9; ++i) append(many, opts_hdr(i == 8 ? wire::kIpProtoUdp : wire::kIpv6DestOpts, {}));
  append(many, t.udp(to_bytes("x")));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6DestOpts, many));
  EXPECT_EQ(drops(t.st, "ipv6.ext_chain_too_long"), 1u);
  Bytes cut = opts_hdr(wire::kIpProtoUdp, {});
  cut[1] = 3;
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6DestOpts, cut));
  EXPECT_EQ(drops(t.st, "ipv6.ext_too_short"), 1u);
  // No next header.
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6NoNext, Bytes(8, 0)));
  EXPECT_EQ(drops(t.st, "ipv6.no_next_header"), 1u);
  EXPECT_EQ(t.sock->pending(), 0u);
}

// ------------------------------------------------------------ ICMPv6 errors

TEST(Icmpv6, PortUnreachableAndSuppression) {
  Udp6Rig t;
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoUdp, t.udp(to_bytes("x"), 9)));
  auto du = icmp6_of_type(t.dev.sent, wire::kIcmpv6DestUnreachable);
  ASSERT_EQ(du.size(), 1u);
  EXPECT_EQ(du[0].code, wire::kUnreachPort);
  EXPECT_EQ(du[0].src, t.me);
  EXPECT_EQ(du[0].dst, kPeerG);
  EXPECT_EQ(du[0].eth_dst, kMacPeer);
  EXPECT_TRUE(du[0].csum_ok);
  EXPECT_EQ(drops(t.st, "udp.no_socket"), 1u);
  EXPECT_EQ(events(t.st, "icmpv6.tx_dest_unreachable"), 1u);
  // To a multicast group: no error.
  t.dev.sent.clear();
  const Ipv6Addr mc = ip6("ff02::1");
  t.in(ipv6_packet(kPeerG, mc, wire::kIpProtoUdp, udp6_msg(kPeerG, mc, 1, 9, to_bytes("x"))), mc.multicast_mac());
  // A unicast packet in a multicast frame: no error either.
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoUdp, t.udp(to_bytes("x"), 9)), mc.multicast_mac());
  // About an ICMPv6 error (unknown error type 5 is passed up, but an error
  // about it must not be generated): an error with a bad option header.
  Bytes pl = opts_hdr(wire::kIpProtoIcmpv6, {0xdf, 2, 0, 0});
  append(pl, icmp6_msg(kPeerG, t.me, wire::kIcmpv6DestUnreachable, 1, 0, Bytes(48, 0)));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6DestOpts, pl));
  EXPECT_TRUE(icmp6_of_type(t.dev.sent, wire::kIcmpv6DestUnreachable).empty());
  EXPECT_TRUE(icmp6_of_type(t.dev.sent, wire::kIcmpv6ParamProblem).empty());
  // (The multicast one never asks for an error; the other two are suppressed.)
  EXPECT_EQ(events(t.st, "icmpv6.error_suppressed"), 2u);
  EXPECT_EQ(events(t.st, "icmpv6.tx_dest_unreachable"), 1u);
}

TEST(Icmpv6, ErrorRateLimit) {
  Udp6Rig t;  // burst 10, one token per 10 ms
  const auto sent = [&] { return events(t.st, "icmpv6.tx_dest_unreachable"); };
  for (int i = 0; i < 30; ++i) t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoUdp, t.udp(to_bytes("x"), 9)));
  EXPECT_EQ(sent(), 10u);
  EXPECT_EQ(icmp6_of_type(t.dev.sent, wire::kIcmpv6DestUnreachable).size(), 10u);
  EXPECT_EQ(events(t.st, "icmpv6.error_rate_limited"), 20u);
  t.sched.run_for(ms_to_ps(25));  // two tokens back
  for (int i = 0; i < 5; ++i) t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoUdp, t.udp(to_bytes("x"), 9)));
  EXPECT_EQ(sent(), 12u);
  t.sched.run_for(s_to_ps(10));  // the bucket holds at most the burst
  for (int i = 0; i < 15; ++i) t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoUdp, t.udp(to_bytes("x"), 9)));
  EXPECT_EQ(sent(), 22u);
}

TEST(Icmpv6, ErrorQuoteBoundedBy1280) {
  Udp6Rig t;
  // A reassembled 5000-byte datagram to a closed port: the error carries
  // only what fits in 1280 bytes.
  for (const auto& f : fragments(kPeerG, t.me, wire::kIpProtoUdp, t.udp(pattern(5000, 1), 9), 1232, 8)) t.in(f);
  const auto du = icmp6_of_type(t.dev.sent, wire::kIcmpv6DestUnreachable);
  ASSERT_EQ(du.size(), 1u);
  EXPECT_EQ(du[0].packet.size(), 1280u);
  EXPECT_TRUE(du[0].csum_ok);
}

TEST(Icmpv6, PacketTooBigLowersPathMtu) {
  Udp6Rig t;
  auto s = t.st.udp_socket();
  EXPECT_EQ(t.st.path_mtu6(kPeerG), 1500u);
  ASSERT_FALSE(s->sendto(pattern(1400, 1), kPeerG, 9));
  const Bytes sent = all_out6(t.dev.sent).back().packet;
  ASSERT_EQ(sent.size(), 1448u);
  auto ptb = [&](std::uint32_t mtu, const Bytes& quote) {
    return ipv6_packet(ip6("2001:db8::fe"), t.me, wire::kIpProtoIcmpv6,
                       icmp6_msg(ip6("2001:db8::fe"), t.me, wire::kIcmpv6PacketTooBig, 0, mtu, quote));
  };
  t.in(ptb(1300, sent));
  EXPECT_EQ(t.st.path_mtu6(kPeerG), 1300u);
  EXPECT_EQ(events(t.st, "icmpv6.rx_packet_too_big"), 1u);
  EXPECT_EQ(t.st.path_mtu6(ip6("2001:db8::98")), 1500u);  // per destination
  // The next datagram goes out in fragments no larger than 1300.
  t.dev.sent.clear();
  ASSERT_FALSE(s->sendto(pattern(1400, 2), kPeerG, 9));
  const auto out = all_out6(t.dev.sent);
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) {
    EXPECT_LE(o.packet.size(), 1300u);
    EXPECT_EQ(o.nh, wire::kIpv6Fragment);
  }
  // Never raised by a PTB; below 1280 becomes 1280.
  t.in(ptb(1400, sent));
  EXPECT_EQ(t.st.path_mtu6(kPeerG), 1300u);
  t.in(ptb(500, sent));
  EXPECT_EQ(t.st.path_mtu6(kPeerG), 1280u);
  // About a packet we did not send: ignored.
  Bytes forged = sent;
  forged[23] ^= 0x55;  // source address changed
  t.in(ptb(1280, forged));
  EXPECT_EQ(drops(t.st, "icmpv6.ptb_not_ours"), 1u);
  // Aged out after pmtu_lifetime.
  t.sched.run_for(s_to_ps(601));
  EXPECT_EQ(t.st.path_mtu6(kPeerG), 1500u);
}

TEST(Icmpv6, EchoReplyToRequest) {
  Udp6Rig t;
  const Bytes req = icmp6_msg(kPeerG, t.me, wire::kIcmpv6EchoRequest, 0, 0x00420007, pattern(100, 3));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoIcmpv6, req));
  const auto rep = icmp6_of_type(t.dev.sent, wire::kIcmpv6EchoReply);
  ASSERT_EQ(rep.size(), 1u);
  EXPECT_EQ(rep[0].rest, 0x00420007u);
  EXPECT_EQ(rep[0].body, pattern(100, 3));
  EXPECT_EQ(rep[0].src, t.me);
  EXPECT_TRUE(rep[0].csum_ok);
  // Bad checksum: dropped.
  Bytes bad = req;
  bad[10] ^= 1;
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoIcmpv6, bad));
  EXPECT_EQ(drops(t.st, "icmpv6.bad_checksum"), 1u);
  // To all-nodes: answered from our link-local address.
  t.learn(kPeerLL);
  const Ipv6Addr mc = ip6("ff02::1");
  t.in(ipv6_packet(kPeerLL, mc, wire::kIpProtoIcmpv6, icmp6_msg(kPeerLL, mc, wire::kIcmpv6EchoRequest, 0, 1, Bytes(8, 0))),
       mc.multicast_mac());
  const auto mrep = icmp6_of_type(t.dev.sent, wire::kIcmpv6EchoReply);
  ASSERT_EQ(mrep.size(), 1u);
  EXPECT_EQ(mrep[0].src, t.ll());
}

// ------------------------------------------------------------ two stacks

struct TwoStacks6 {
  explicit TwoStacks6(stack::StackConfig cfg = OneStack6::quiet()) : da(kMacA), db(kMacB), a(sched, "a", cfg), b(sched, "b", cfg) {
    FakeDevice::connect(da, db, sched, us_to_ps(1));
    ia = a.add_interface(da);
    ib = b.add_interface(db);
    a.add_address6(ia, ip6("2001:db8::a"), 64);
    b.add_address6(ib, ip6("2001:db8::b"), 64);
    sched.run_for(s_to_ps(2));
  }
  FakeScheduler sched;
  FakeDevice da, db;
  stack::Stack a, b;
  int ia = 0, ib = 0;
};

TEST(Ipv6Pair, PingLinkLocalAndGlobal) {
  TwoStacks6 n;
  const Ipv6Addr bll = Ipv6Addr::link_local_from_mac(kMacB);
  ASSERT_FALSE(n.a.send_echo6(bll, 1, 1));
  ASSERT_FALSE(n.a.send_echo6(ip6("2001:db8::b"), 1, 2, 3000));  // fragmented both ways
  n.sched.run_for(ms_to_ps(5));
  ASSERT_EQ(n.a.echo_replies6().size(), 2u);
  EXPECT_EQ(n.a.echo_replies6()[0].from, bll);
  EXPECT_EQ(n.a.echo_replies6()[1].from, ip6("2001:db8::b"));
  EXPECT_EQ(n.a.echo_replies6()[1].payload_len, 3000u);
  EXPECT_GT(n.a.echo_replies6()[0].received_at, n.a.echo_replies6()[0].sent_at);
  EXPECT_EQ(events(n.b, "ipv6.reassembled"), 1u);
  EXPECT_EQ(events(n.a, "ipv6.reassembled"), 1u);
  // Nothing dropped but each side's DAD probes to groups the other has not joined.
  EXPECT_EQ(total_drops(n.a) + total_drops(n.b), drops(n.a, "eth.not_for_us") + drops(n.b, "eth.not_for_us"));
}

TEST(Ipv6Pair, UdpLargeDatagramFragmentedAndReassembled) {
  TwoStacks6 n;
  auto rx = n.b.udp_socket();
  ASSERT_FALSE(rx->bind(ip6("2001:db8::b"), 5353));
  auto tx = n.a.udp_socket();
  const Bytes small = pattern(100, 1);
  ASSERT_FALSE(tx->sendto(small, ip6("2001:db8::b"), 5353));  // resolves the neighbour first
  n.sched.run_for(ms_to_ps(1));
  const Bytes data = pattern(60000, 7);
  ASSERT_FALSE(tx->sendto(data, ip6("2001:db8::b"), 5353));
  n.sched.run_for(ms_to_ps(5));
  ASSERT_EQ(rx->pending(), 2u);
  EXPECT_EQ(rx->recvfrom()->data, small);
  const auto d = rx->recvfrom();
  EXPECT_EQ(d->data, data);
  EXPECT_EQ(d->src_addr6, ip6("2001:db8::a"));
  EXPECT_EQ(d->src_port, tx->local_port());
  EXPECT_TRUE(tx->is_v6());
  EXPECT_EQ(events(n.a, "ipv6.fragments_sent"), 42u);  // ceil(60008 / 1448)
  for (const auto& f : n.da.sent) EXPECT_LE(f.bytes.size(), 1514u);
  // One copy in, one copy out.
  EXPECT_EQ(n.da.pool().stats().bytes_copied_in, data.size() + small.size());
  EXPECT_EQ(n.db.pool().stats().bytes_copied_out, data.size() + small.size());
  // The largest datagram; one byte more is refused.
  ASSERT_FALSE(tx->sendto(pattern(65507, 2), ip6("2001:db8::b"), 5353));
  EXPECT_EQ(tx->sendto(pattern(65508, 2), ip6("2001:db8::b"), 5353), std::errc::message_size);
  n.sched.run_for(ms_to_ps(5));
  ASSERT_EQ(rx->pending(), 1u);
  EXPECT_EQ(rx->recvfrom()->data, pattern(65507, 2));
  EXPECT_EQ(total_drops(n.a) + total_drops(n.b), drops(n.a, "eth.not_for_us") + drops(n.b, "eth.not_for_us"));
}

TEST(Ipv6Pair, SocketFamiliesAndBindings) {
  TwoStacks6 n;
  n.a.add_address(n.ia, ip("10.0.0.1"), 24);
  auto s = n.a.udp_socket();
  ASSERT_FALSE(s->bind(ip6("2001:db8::a"), 4000));
  EXPECT_EQ(s->sendto(to_bytes("x"), ip("10.0.0.2"), 9), std::errc::address_family_not_supported);
  auto s4 = n.a.udp_socket();
  ASSERT_FALSE(s4->bind(Ipv4Addr{}, 4000));  // separate port spaces
  EXPECT_EQ(s4->sendto(to_bytes("x"), ip6("2001:db8::b"), 9), std::errc::address_family_not_supported);
  auto s6 = n.a.udp_socket();
  EXPECT_EQ(s6->bind(Ipv6Addr{}, 4000), std::errc::address_in_use);
  EXPECT_EQ(s6->bind(ip6("2001:db8::77"), 4001), std::errc::address_not_available);
  EXPECT_FALSE(s6->bind(Ipv6Addr{}, 4001));
  s->close();
  auto s7 = n.a.udp_socket();
  EXPECT_FALSE(s7->bind(ip6("2001:db8::a"), 4000));
  // Unbound sendto picks an ephemeral port.
  auto e = n.a.udp_socket();
  ASSERT_FALSE(e->sendto(to_bytes("x"), ip6("2001:db8::b"), 9));
  EXPECT_GE(e->local_port(), 49152);
  EXPECT_TRUE(e->is_v6());
  EXPECT_EQ(e->sendto(to_bytes("x"), Ipv6Addr{}, 9), std::errc::invalid_argument);
  EXPECT_EQ(e->sendto(to_bytes("x"), ip6("2001:db9::1"), 9), std::errc::network_unreachable);
}

// ------------------------------------------------------------ forwarding

struct Routed {
  // h1 (2001:db8:1::/64) -- r -- h2 (2001:db8:2::/64)
  Routed() : d1(kMacA), r1(kMacRouter), r2(MacAddr{2, 0, 0, 0, 0, 0x78}), d2(kMacB),
             h1(sched, "h1", OneStack6::quiet()), r(sched, "r", OneStack6::quiet()), h2(sched, "h2", OneStack6::quiet()) {
    FakeDevice::connect(d1, r1, sched, us_to_ps(1));
    FakeDevice::connect(r2, d2, sched, us_to_ps(1));
    i1 = h1.add_interface(d1);
    const int i2 = h2.add_interface(d2);
    ri1 = r.add_interface(r1);
    ri2 = r.add_interface(r2);
    r.set_forwarding6(true);
    h1.add_address6(i1, ip6("2001:db8:1::1"), 64);
    h2.add_address6(i2, ip6("2001:db8:2::2"), 64);
    r.add_address6(ri1, ip6("2001:db8:1::fe"), 64);
    r.add_address6(ri2, ip6("2001:db8:2::fe"), 64);
    h1.add_route6(Ipv6Addr{}, 0, ip6("2001:db8:1::fe"), i1);
    h2.add_route6(Ipv6Addr{}, 0, ip6("2001:db8:2::fe"), i2);
    sched.run_for(s_to_ps(2));
  }
  FakeScheduler sched;
  FakeDevice d1, r1, r2, d2;
  stack::Stack h1, r, h2;
  int ri1 = 0, ri2 = 0, i1 = 0;
};

TEST(Ipv6Forward, PingThroughRouter) {
  Routed n;
  ASSERT_FALSE(n.h1.send_echo6(ip6("2001:db8:2::2"), 1, 1, 2000));
  n.sched.run_for(ms_to_ps(10));
  ASSERT_EQ(n.h1.echo_replies6().size(), 1u);
  EXPECT_EQ(n.h1.echo_replies6()[0].from, ip6("2001:db8:2::2"));
  EXPECT_GE(events(n.r, "ipv6.forwarded"), 4u);  // two fragments each way
  // The hop limit was decremented on the way.
  std::size_t seen = 0;
  for (const auto& o : all_out6(n.r2.sent))
    if (o.src == ip6("2001:db8:1::1")) {
      EXPECT_EQ(o.hop, 63);
      ++seen;
    }
  EXPECT_EQ(seen, 2u);  // the two fragments of the request
}

TEST(Ipv6Forward, ErrorsFromRouter) {
  Routed n;
  // Hop limit 1: time exceeded back to the source.
  auto pkt = [&](std::uint8_t hop, const Ipv6Addr& src, const Ipv6Addr& dst) {
    return ipv6_packet(src, dst, wire::kIpProtoUdp, udp6_msg(src, dst, 1, 9, to_bytes("x")), hop);
  };
  n.h1.neighbor6(n.i1, ip6("2001:db8:1::fe"));
  n.r1.deliver(eth_frame(kMacRouter, kMacA, pkt(1, ip6("2001:db8:1::1"), ip6("2001:db8:2::2"))));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(drops(n.r, "ipv6.hop_limit_exceeded"), 1u);
  EXPECT_EQ(events(n.h1, "icmpv6.rx_time_exceeded"), 1u);
  // No route: destination unreachable code 0.
  n.r1.deliver(eth_frame(kMacRouter, kMacA, pkt(64, ip6("2001:db8:1::1"), ip6("2001:db8:9::9"))));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(drops(n.r, "ipv6.no_route"), 1u);
  EXPECT_EQ(events(n.h1, "icmpv6.rx_dest_unreachable"), 1u);
  // Link-local source: not forwarded.
  n.r1.deliver(eth_frame(kMacRouter, kMacA, pkt(64, Ipv6Addr::link_local_from_mac(kMacA), ip6("2001:db8:2::2"))));
  EXPECT_EQ(drops(n.r, "ipv6.fwd_link_local"), 1u);
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(events(n.h1, "icmpv6.rx_dest_unreachable"), 2u);  // beyond the scope of the source
  // Larger than the next link: Packet Too Big, and h1 learns the path MTU.
  n.r2.mutable_features().mtu = 1400;
  auto s = n.h1.udp_socket();
  ASSERT_FALSE(s->sendto(pattern(1440, 1), ip6("2001:db8:2::2"), 9));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(drops(n.r, "ipv6.packet_too_big"), 1u);
  EXPECT_EQ(n.h1.path_mtu6(ip6("2001:db8:2::2")), 1400u);
  // Unresolvable next hop behind the router: address unreachable to h1.
  n.r.add_route6(ip6("2001:db8:3::"), 64, ip6("2001:db8:2::33"), n.ri2);
  ASSERT_FALSE(n.h1.send_echo6(ip6("2001:db8:3::3"), 1, 1));
  n.sched.run_for(s_to_ps(4));
  EXPECT_EQ(drops(n.r, "nd.resolution_failed"), 1u);
  EXPECT_EQ(events(n.h1, "icmpv6.rx_dest_unreachable"), 3u);
}

// ------------------------------------------------------------ fuzz

TEST(Ipv6, RandomAndMutatedPacketsNeverCrash) {
  Udp6Rig t;
  std::vector<Bytes> seeds;
  seeds.push_back(ipv6_packet(kPeerG, t.me, wire::kIpProtoUdp, t.udp(to_bytes("hello"))));
  Bytes pl = opts_hdr(wire::kIpv6Fragment, {0xc2, 4, 0, 1, 0, 0});
  append(pl, frag_hdr(wire::kIpProtoUdp, 0, true, 5));
  append(pl, t.udp(pattern(64, 1)));
  seeds.push_back(ipv6_packet(kPeerG, t.me, wire::kIpv6HopByHop, pl));
  for (const auto& f : fragments(kPeerG, t.me, wire::kIpProtoUdp, t.udp(pattern(300, 1)), 128, 9)) seeds.push_back(f);
  const Ipv6Addr g = ip6("2001:db8::1");
  seeds.push_back(ipv6_packet(kPeerLL, g.solicited_node(), wire::kIpProtoIcmpv6, ns_msg(kPeerLL, g.solicited_node(), g, kMacPeer), 255));
  seeds.push_back(ipv6_packet(ip6("fe80::1"), ip6("ff02::1"), wire::kIpProtoIcmpv6,
                              ra_msg(ip6("fe80::1"), ip6("ff02::1"), 100, kMacRouter, prefix_opt(ip6("2001:db8:5::"), 64, true, true, 10, 5)), 255));
  seeds.push_back(ipv6_packet(kPeerG, t.me, wire::kIpProtoIcmpv6,
                              icmp6_msg(kPeerG, t.me, wire::kIcmpv6PacketTooBig, 0, 1280, seeds[0])));
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    Bytes f = seeds[static_cast<std::size_t>(i) % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) f[rng() % f.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    if (rng() % 8 == 0) f.resize(rng() % (f.size() + 1));
    t.in(f, (rng() % 4 == 0) ? ip6("ff02::1").multicast_mac() : kMacA);
    if (i % 1000 == 0) t.sched.run_for(s_to_ps(1));
  }
  for (int i = 0; i < 2000; ++i) {
    Bytes f(rng() % 200);
    for (auto& c : f) c = static_cast<std::uint8_t>(rng());
    if (f.size() > 0) f[0] = static_cast<std::uint8_t>(0x60 | (f[0] & 0x0f));
    t.in(f);
  }
  t.sched.run_for(s_to_ps(120));
  EXPECT_EQ(drops(t.st, "stack.internal_error"), 0u);
  EXPECT_GT(total_drops(t.st), 0u);
  t.st.neighbor6(t.ifindex, kPeerG);
}

}  // namespace
}  // namespace vd::test

namespace vd::test {
namespace {

TEST(Ipv6Pair, SynchronousLinkReentrancyAndAutoEnable) {
  // Frames cross inside transmit(): DAD, ND and the echo reply all re-enter
  // the other stack while the first is still sending.
  stack::StackConfig cfg = OneStack6::quiet();
  cfg.ipv6.auto_enable = true;
  FakeScheduler sched;
  FakeDevice da(kMacA), db(kMacB);
  stack::Stack a(sched, "a", cfg), b(sched, "b", cfg);
  FakeDevice::connect(da, db, sched, 0, true);
  const int ia = a.add_interface(da);
  const int ib = b.add_interface(db);
  ASSERT_EQ(a.addresses6(ia).size(), 1u);  // link-local made automatically
  b.add_address6(ib, ip6("2001:db8::b"), 64);
  a.add_address6(ia, ip6("2001:db8::a"), 64);
  sched.run_for(s_to_ps(2));
  for (const auto& x : a.addresses6(ia)) EXPECT_EQ(x.state, stack::Addr6State::preferred);
  ASSERT_FALSE(a.send_echo6(ip6("2001:db8::b"), 1, 1, 3000));
  ASSERT_EQ(a.echo_replies6().size(), 1u);
  EXPECT_EQ(a.echo_replies6()[0].received_at, a.echo_replies6()[0].sent_at);
  auto rx = b.udp_socket();
  ASSERT_FALSE(rx->bind(Ipv6Addr{}, 9));
  auto tx = a.udp_socket();
  ASSERT_FALSE(tx->sendto(pattern(20000, 3), ip6("2001:db8::b"), 9));
  ASSERT_EQ(rx->pending(), 1u);
  EXPECT_EQ(rx->recvfrom()->data, pattern(20000, 3));
  EXPECT_EQ(drops(a, "stack.internal_error") + drops(b, "stack.internal_error"), 0u);
}

}  // namespace
}  // namespace vd::test

namespace vd::test {
namespace {

TEST(Ipv6Forward, HopLimitFromEchoAndSocket) {
  Routed n;
  // Hop limit 1: the router answers with time exceeded (traceroute's first hop).
  ASSERT_FALSE(n.h1.send_echo6(ip6("2001:db8:2::2"), 9, 1, 56, -1, 1));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_TRUE(n.h1.echo_replies6().empty());
  EXPECT_EQ(events(n.h1, "icmpv6.rx_time_exceeded"), 1u);
  ASSERT_FALSE(n.h1.send_echo6(ip6("2001:db8:2::2"), 9, 2, 56, -1, 2));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(n.h1.echo_replies6().size(), 1u);
  // A socket's IP_TTL is its hop limit over IPv6.
  auto s = n.h1.udp_socket();
  s->set_ttl(7);
  n.d1.sent.clear();
  ASSERT_FALSE(s->sendto(to_bytes("x"), ip6("2001:db8:2::2"), 9));
  const auto out = all_out6(n.d1.sent);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].hop, 7);
}

}  // namespace
}  // namespace vd::test
