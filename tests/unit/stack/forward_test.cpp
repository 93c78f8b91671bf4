// Routing through a router stack: A (10.0.1.2) -- R (10.0.1.1 | 10.0.2.1) --
// B (10.0.2.2). Forwarding, TTL expiry, unreachables, fragmentation on the
// way, ICMP rate limiting, path MTU and VLAN sub-interfaces.
#include "routed_net.hpp"
#include "test_util.hpp"

namespace vd::test {
namespace {

// A 1400-byte UDP datagram from A to B with DF set, as A's NIC would send it.
Bytes wire_udp_df(Routed&, const Bytes& data) {
  FrameBuilder fb;
  const Bytes l4 = fb.udp_msg(ip("10.0.1.2"), ip("10.0.2.2"), 4000, 9, data);
  wire::Ipv4Repr r{ip("10.0.1.2"), ip("10.0.2.2"), wire::kIpProtoUdp, 64, 99};
  r.dont_fragment = true;
  return fb.ipv4(kMacR0, kMacA, r, l4);
}

TEST(Forward, PingAcrossTheRouter) {
  Routed n;
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.2"), 1, 1));
  n.run();
  ASSERT_EQ(n.a.echo_replies().size(), 1u);
  EXPECT_EQ(n.a.echo_replies()[0].from, ip("10.0.2.2"));
  EXPECT_EQ(events(n.r, "ipv4.forwarded"), 2u);
  // B saw the request with TTL 63 and A's address as the source.
  bool seen = false;
  for (const auto& f : n.r1.sent) {
    if (!is_ipv4(f)) continue;
    const auto v = wire::Ipv4View::parse(std::span(f.bytes).subspan(14));
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->checksum_ok());  // the incremental update kept it right
    if (v->dst() == ip("10.0.2.2")) {
      EXPECT_EQ(v->ttl(), 63);
      EXPECT_EQ(v->src(), ip("10.0.1.2"));
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
  EXPECT_EQ(total_drops(n.r), 0u);
}

TEST(Forward, TtlExpiryIsReportedByEachHop) {
  Routed n;
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.2"), 1, 1, 56, 1));
  n.run();
  ASSERT_EQ(n.a.icmp_errors().size(), 1u);
  const auto& e = n.a.icmp_errors()[0];
  EXPECT_EQ(e.from, ip("10.0.1.1"));
  EXPECT_EQ(e.type, wire::kIcmpTimeExceeded);
  EXPECT_EQ(e.code, wire::kIcmpCodeTtl);
  EXPECT_EQ(e.orig_dst, ip("10.0.2.2"));
  EXPECT_EQ(drops(n.r, "ipv4.ttl_exceeded"), 1u);
  // TTL 2 gets through.
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.2"), 1, 2, 56, 2));
  n.run();
  EXPECT_EQ(n.a.echo_replies().size(), 1u);
}

TEST(Forward, UnreachablePortAndNet) {
  Routed n;
  auto s = n.a.udp_socket();
  ASSERT_FALSE(s->sendto(to_bytes("hi"), ip("10.0.2.2"), 33434));
  ASSERT_FALSE(s->sendto(to_bytes("hi"), ip("10.0.9.9"), 33434));  // R has no route there
  n.run();
  ASSERT_EQ(n.a.icmp_errors().size(), 2u);
  // The router is nearer: its error comes first.
  const auto& port = n.a.icmp_errors()[1];
  EXPECT_EQ(port.from, ip("10.0.2.2"));
  EXPECT_EQ(port.type, wire::kIcmpDestUnreachable);
  EXPECT_EQ(port.code, wire::kIcmpCodePort);
  EXPECT_EQ(port.orig_dst_port, 33434);
  EXPECT_EQ(port.orig_src_port, s->local_port());
  const auto& net = n.a.icmp_errors()[0];
  EXPECT_EQ(net.from, ip("10.0.1.1"));
  EXPECT_EQ(net.code, wire::kIcmpCodeNet);
  EXPECT_EQ(drops(n.r, "ipv4.no_route"), 1u);
}

TEST(Forward, DisabledMeansNotForUs) {
  Routed n;
  n.r.set_forwarding(false);
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.2"), 1, 1));
  n.run();
  EXPECT_TRUE(n.a.echo_replies().empty());
  EXPECT_EQ(drops(n.r, "ipv4.not_for_us"), 1u);
}

TEST(Forward, SmallerMtuOnTheWayFragmentsOrSaysFragNeeded) {
  Routed n;
  n.r1.mutable_features().mtu = 1000;
  auto rx = n.b.udp_socket();
  ASSERT_FALSE(rx->bind(Ipv4Addr{}, 9));
  Bytes data(1400);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  auto s = n.a.udp_socket();
  ASSERT_FALSE(s->sendto(data, ip("10.0.2.2"), 9));
  n.run();
  ASSERT_EQ(rx->pending(), 1u);
  EXPECT_EQ(rx->recvfrom()->data, data);
  EXPECT_EQ(events(n.r, "ipv4.fragments_sent"), 2u);
  EXPECT_EQ(events(n.b, "ipv4.reassembled"), 1u);
  // With DF the router refuses and tells the sender the MTU, which lowers
  // A's path MTU to B (RFC 1191).
  Bytes df = wire_udp_df(n, data);
  n.r0.deliver(df);
  n.run();
  ASSERT_FALSE(n.a.icmp_errors().empty());
  EXPECT_EQ(n.a.icmp_errors().back().mtu, 1000);
  EXPECT_EQ(n.a.path_mtu(ip("10.0.2.2")), 1000u);
  EXPECT_EQ(n.a.path_mtu(ip("10.0.1.1")), 1500u);
  // A now fragments for that path itself: two fragments of at most 1000.
  n.da.sent.clear();
  ASSERT_FALSE(s->sendto(data, ip("10.0.2.2"), 9));
  ASSERT_EQ(count_ipv4(n.da.sent), 2u);
  for (const auto& f : n.da.sent) EXPECT_LE(f.bytes.size(), 14u + 1000);
}


TEST(Forward, UnresolvableNextHopEarnsHostUnreachable) {
  Routed n;
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.77"), 1, 1));  // on R's subnet, nobody home
  n.sched.run_for(s_to_ps(5));
  ASSERT_EQ(n.a.icmp_errors().size(), 1u);
  EXPECT_EQ(n.a.icmp_errors()[0].from, ip("10.0.1.1"));
  EXPECT_EQ(n.a.icmp_errors()[0].code, wire::kIcmpCodeHost);
  EXPECT_EQ(drops(n.r, "arp.resolution_failed"), 1u);
}

TEST(IcmpErrors, RateLimitedByTokenBucket) {
  stack::StackConfig c;
  c.icmp_burst = 3;
  c.icmp_rate_per_s = 1;
  OneStack t(c);
  t.learn_peer();
  for (int i = 0; i < 10; ++i)
    t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 5000, 9999, to_bytes("x")));
  EXPECT_EQ(count_ipv4(t.dev.sent), 3u);
  EXPECT_EQ(drops(t.st, "icmp.rate_limited"), 7u);
  t.sched.run_for(ms_to_ps(2500));  // 2.5 tokens back: two more errors
  for (int i = 0; i < 5; ++i)
    t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 5000, 9999, to_bytes("x")));
  EXPECT_EQ(count_ipv4(t.dev.sent), 5u);
}

TEST(IcmpErrors, NeverAboutErrorsBroadcastsOrFragments) {
  OneStack t;
  t.learn_peer();
  // Unknown protocol to our unicast address: protocol unreachable.
  t.dev.deliver(t.fb.ipv4(kMacA, kMacPeer, {ip("10.0.0.99"), ip("10.0.0.1"), 253, 64, 1}, Bytes(8, 0)));
  EXPECT_EQ(count_ipv4(t.dev.sent), 1u);
  // The same to the subnet broadcast: nothing.
  t.dev.deliver(t.fb.ipv4(wire::kBroadcastMac, kMacPeer, {ip("10.0.0.99"), ip("10.0.0.255"), 253, 64, 1}, Bytes(8, 0)));
  EXPECT_EQ(count_ipv4(t.dev.sent), 1u);
  EXPECT_EQ(drops(t.st, "ipv4.unknown_protocol"), 2u);
}

// RFC 1812 4.3.2.7 at a router: TTL expiry of an ICMP error or of a
// non-first fragment earns nothing; of an echo request it does.
TEST(IcmpErrors, RouterStaysSilentAboutErrorsAndLaterFragments) {
  Routed n;
  FrameBuilder fb;
  const Bytes err = fb.icmp_msg(wire::kIcmpDestUnreachable, 0, 0, Bytes(28, 0x45));
  n.r0.deliver(fb.ipv4(kMacR0, kMacA, {ip("10.0.1.2"), ip("10.0.2.2"), wire::kIpProtoIcmp, 1, 5}, err));
  Bytes frag = fb.ipv4(kMacR0, kMacA, {ip("10.0.1.2"), ip("10.0.2.2"), wire::kIpProtoUdp, 1, 6}, Bytes(16, 0));
  wire::store_be16(&frag[14 + 6], 2);  // offset 16, last fragment
  fix_ipv4_csum(frag);
  n.r0.deliver(frag);
  n.run();
  EXPECT_EQ(drops(n.r, "ipv4.ttl_exceeded"), 2u);
  EXPECT_EQ(drops(n.r, "icmp.error_suppressed"), 2u);
  EXPECT_TRUE(n.a.icmp_errors().empty());
  n.r0.deliver(fb.ipv4(kMacR0, kMacA, {ip("10.0.1.2"), ip("10.0.2.2"), wire::kIpProtoIcmp, 1, 7},
                       fb.icmp_msg(wire::kIcmpEchoRequest, 1, 1, Bytes(8, 0))));
  n.run();
  EXPECT_EQ(n.a.icmp_errors().size(), 1u);
}

TEST(Routes, ApiChecksItsArguments) {
  OneStack t;
  EXPECT_THROW(t.st.add_route(ip("10.9.0.0"), 16, ip("10.1.0.1")), std::invalid_argument);  // not on-link
  EXPECT_THROW(t.st.add_route(ip("10.9.0.0"), 33, ip("10.0.0.2")), std::invalid_argument);
  EXPECT_THROW(t.st.add_route(ip("10.9.0.0"), 16, std::nullopt), std::invalid_argument);
  EXPECT_THROW(t.st.add_route(ip("10.9.0.0"), 16, std::nullopt, 7), std::invalid_argument);
  EXPECT_NO_THROW(t.st.add_route(ip("10.9.0.0"), 16, ip("10.0.0.2")));
  EXPECT_THROW(t.st.add_route(ip("10.9.0.0"), 16, ip("10.0.0.3")), std::invalid_argument);  // exists
  EXPECT_NO_THROW(t.st.add_route(ip("10.9.0.0"), 16, ip("10.0.0.3"), std::nullopt, 10));  // other metric
  EXPECT_EQ(t.st.routes().lookup(ip("10.9.1.1"))->gateway, ip("10.0.0.2"));
  EXPECT_TRUE(t.st.remove_route(ip("10.9.0.0"), 16));
  EXPECT_FALSE(t.st.remove_route(ip("10.9.0.0"), 16));
  // A gateway route's next hop is the gateway: ARP asks for it.
  t.st.add_route(ip("0.0.0.0"), 0, ip("10.0.0.254"));
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->sendto(to_bytes("x"), ip("192.0.2.1"), 9));
  ASSERT_EQ(t.dev.sent.size(), 1u);
  EXPECT_EQ(wire::ArpView::parse(std::span(t.dev.sent[0].bytes).subspan(14))->target_ip(), ip("10.0.0.254"));
}

TEST(Vlan, SubInterfaceTagsAndUntagsAndIsolates) {
  OneStack t;
  const int v10 = t.st.add_vlan(t.ifindex, 10);
  EXPECT_THROW(t.st.add_vlan(t.ifindex, 10), std::invalid_argument);
  EXPECT_THROW(t.st.add_vlan(t.ifindex, 4095), std::invalid_argument);
  EXPECT_THROW(t.st.add_vlan(v10, 11), std::invalid_argument);
  t.st.add_address(v10, ip("192.168.10.1"), 24);
  // The announcement went out tagged.
  ASSERT_EQ(t.dev.sent.size(), 1u);
  EXPECT_EQ(wire::load_be16(t.dev.sent[0].bytes, 12), wire::kEthertypeVlan);
  EXPECT_EQ(wire::load_be16(t.dev.sent[0].bytes, 14) & 0x0fff, 10);
  t.dev.sent.clear();
  // An ARP request for the VLAN address, tagged 10 (priority 5): answered, tagged.
  Bytes req = t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, kMacPeer, ip("192.168.10.9"), MacAddr{},
                       ip("192.168.10.1"));
  const std::uint8_t tag[4] = {0xa0, 10, 0x08, 0x06};
  req.insert(req.begin() + 12, {0x81, 0x00});
  req.insert(req.begin() + 14, tag + 0, tag + 2);
  t.dev.deliver(req);
  ASSERT_EQ(t.dev.sent.size(), 1u);
  const Bytes& rep = t.dev.sent[0].bytes;
  EXPECT_EQ(wire::load_be16(rep, 12), wire::kEthertypeVlan);
  EXPECT_EQ(wire::load_be16(rep, 14), 10);
  EXPECT_EQ(wire::load_be16(rep, 16), wire::kEthertypeArp);
  // The untagged interface does not answer for the VLAN's address.
  t.dev.sent.clear();
  t.dev.deliver(t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, kMacPeer, ip("192.168.10.9"), MacAddr{},
                         ip("192.168.10.1")));
  EXPECT_TRUE(t.dev.sent.empty());
  // A UDP datagram to the VLAN address arrives on its socket; the offload
  // offsets of what we send are shifted by the tag.
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->bind(Ipv4Addr{}, 7));
  Bytes u = t.fb.udp(kMacA, kMacPeer, ip("192.168.10.9"), ip("192.168.10.1"), 5, 7, to_bytes("vlan"));
  u.insert(u.begin() + 12, {0x81, 0x00, 0x00, 10});
  t.dev.deliver(u);
  ASSERT_EQ(s->pending(), 1u);
  EXPECT_EQ(s->recvfrom()->data, to_bytes("vlan"));
  t.dev.mutable_features().tx_csum_partial = true;
  ASSERT_FALSE(s->sendto(to_bytes("back"), ip("192.168.10.9"), 5));
  ASSERT_EQ(t.dev.sent.size(), 1u);
  EXPECT_EQ(t.dev.sent[0].meta.l3_offset, 18);
  EXPECT_EQ(t.dev.sent[0].meta.csum_start, 18 + 20);
}

}  // namespace
}  // namespace vd::test
