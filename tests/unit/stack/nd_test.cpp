// Neighbor Discovery: DAD, multicast filtering, NS/NA, the NUD state
// machine on virtual time, resolution failure, RS/RA with SLAAC and
// default routers, redirects.
#include "test_util6.hpp"

namespace vd::test {
namespace {

using stack::Addr6State;
using stack::NudState;

TEST(Nd, LinkLocalWithDad) {
  FakeScheduler sched;
  FakeDevice dev(kMacA);
  stack::Stack st(sched, "a");
  const int i = st.add_interface(dev);
  EXPECT_TRUE(dev.sent.empty());  // IPv6 is off by default
  st.enable_ipv6(i);
  const Ipv6Addr ll = Ipv6Addr::link_local_from_mac(kMacA);
  ASSERT_EQ(st.addresses6(i).size(), 1u);
  EXPECT_EQ(st.addresses6(i)[0].addr, ll);
  EXPECT_EQ(st.addresses6(i)[0].state, Addr6State::tentative);
  // The DAD probe: NS from ::, to the solicited-node group, no source LLA.
  const auto ns = icmp6_of_type(dev.sent, wire::kNdNeighborSolicit);
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_TRUE(ns[0].src.is_unspecified());
  EXPECT_EQ(ns[0].dst, ll.solicited_node());
  EXPECT_EQ(ns[0].eth_dst, ll.solicited_node().multicast_mac());
  EXPECT_EQ(ns[0].hop, 255);
  EXPECT_TRUE(ns[0].csum_ok);
  EXPECT_EQ(ns[0].body.size(), 16u);  // target only
  EXPECT_EQ(wire::load_ipv6(ns[0].body, 0), ll);
  // A tentative address is not used: echo to the peer has no source yet.
  EXPECT_EQ(st.send_echo6(kPeerLL, 1, 1), std::errc::network_unreachable);
  sched.run_for(ms_to_ps(999));
  EXPECT_EQ(st.addresses6(i)[0].state, Addr6State::tentative);
  sched.run_for(ms_to_ps(2));
  EXPECT_EQ(st.addresses6(i)[0].state, Addr6State::preferred);
  EXPECT_EQ(events(st, "nd.dad_ok"), 1u);
  // Then one router solicitation, from the link-local address with our MAC.
  sched.run_for(s_to_ps(1));
  const auto rs = icmp6_of_type(dev.sent, wire::kNdRouterSolicit);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].src, ll);
  EXPECT_EQ(rs[0].dst, ip6("ff02::2"));
  EXPECT_EQ(rs[0].body, lla_opt(1, kMacA));
  // Three in all, four seconds apart.
  sched.run_for(s_to_ps(20));
  EXPECT_EQ(icmp6_of_type(dev.sent, wire::kNdRouterSolicit).size(), 3u);
}

TEST(Nd, DadConflictByAdvert) {
  OneStack6 t;
  t.st.add_address6(t.ifindex, ip6("2001:db8::5"), 64);
  // Someone answers our probe: the address is a duplicate.
  const Ipv6Addr a = ip6("2001:db8::5");
  t.in(ipv6_packet(a, ip6("ff02::1"), wire::kIpProtoIcmpv6, na_msg(a, ip6("ff02::1"), a, wire::kNaOverride, kMacPeer), 255),
       ip6("ff02::1").multicast_mac());
  const auto addrs = t.st.addresses6(t.ifindex);
  ASSERT_EQ(addrs.size(), 3u);
  EXPECT_EQ(addrs[2].state, Addr6State::duplicate);
  EXPECT_EQ(events(t.st, "nd.dad_duplicate"), 1u);
  t.sched.run_for(s_to_ps(5));
  EXPECT_EQ(t.st.addresses6(t.ifindex)[2].state, Addr6State::duplicate);  // never becomes usable
  // Not used as a source and not answered for.
  auto s = t.st.udp_socket();
  EXPECT_EQ(s->bind(a, 9), std::errc::address_not_available);
  t.dev.sent.clear();
  t.in(ipv6_packet(kPeerLL, a.solicited_node(), wire::kIpProtoIcmpv6, ns_msg(kPeerLL, a.solicited_node(), a, kMacPeer), 255),
       a.solicited_node().multicast_mac());
  EXPECT_TRUE(icmp6_of_type(t.dev.sent, wire::kNdNeighborAdvert).empty());
}

TEST(Nd, DadConflictBySimultaneousProbe) {
  OneStack6 t;
  const Ipv6Addr a = ip6("2001:db8::6");
  t.st.add_address6(t.ifindex, a, 64);
  // Another node's DAD probe for the same address (from ::).
  t.in(ipv6_packet(Ipv6Addr{}, a.solicited_node(), wire::kIpProtoIcmpv6, ns_msg(Ipv6Addr{}, a.solicited_node(), a, std::nullopt), 255),
       a.solicited_node().multicast_mac());
  EXPECT_EQ(t.st.addresses6(t.ifindex).back().state, Addr6State::duplicate);
  EXPECT_EQ(events(t.st, "nd.dad_duplicate"), 1u);
}

TEST(Nd, AnswersDadProbeForOwnAddressToAllNodes) {
  OneStack6 t;
  const Ipv6Addr a = ip6("2001:db8::1");
  t.in(ipv6_packet(Ipv6Addr{}, a.solicited_node(), wire::kIpProtoIcmpv6, ns_msg(Ipv6Addr{}, a.solicited_node(), a, std::nullopt), 255),
       a.solicited_node().multicast_mac());
  const auto na = icmp6_of_type(t.dev.sent, wire::kNdNeighborAdvert);
  ASSERT_EQ(na.size(), 1u);
  EXPECT_EQ(na[0].dst, ip6("ff02::1"));
  EXPECT_EQ(na[0].rest & wire::kNaSolicited, 0u);
  EXPECT_NE(na[0].rest & wire::kNaOverride, 0u);
  EXPECT_EQ(t.st.addresses6(t.ifindex)[1].state, Addr6State::preferred);
}

TEST(Nd, MulticastMacFilter) {
  OneStack6 t;
  auto echo = [&](const Ipv6Addr& dst) {
    return ipv6_packet(kPeerLL, dst, wire::kIpProtoIcmpv6, icmp6_msg(kPeerLL, dst, wire::kIcmpv6EchoRequest, 0, 0x00010001, Bytes(4, 1)));
  };
  // All-nodes: joined. Some other group's MAC: filtered at Ethernet.
  t.in(echo(ip6("ff02::1")), ip6("ff02::1").multicast_mac());
  EXPECT_EQ(drops(t.st, "eth.not_for_us"), 0u);
  t.in(echo(ip6("ff02::1:2")), ip6("ff02::1:2").multicast_mac());
  EXPECT_EQ(drops(t.st, "eth.not_for_us"), 1u);
  // The right MAC but a group we did not join (same low 32 bits).
  t.in(echo(ip6("ff05::1")), ip6("ff05::1").multicast_mac());
  EXPECT_EQ(drops(t.st, "ipv6.not_for_us"), 1u);
  // Solicited-node groups of both our addresses are joined.
  t.dev.sent.clear();
  const Ipv6Addr g = ip6("2001:db8::1");
  t.in(ipv6_packet(kPeerLL, g.solicited_node(), wire::kIpProtoIcmpv6, ns_msg(kPeerLL, g.solicited_node(), g, kMacPeer), 255),
       g.solicited_node().multicast_mac());
  const auto na = icmp6_of_type(t.dev.sent, wire::kNdNeighborAdvert);
  ASSERT_EQ(na.size(), 1u);
  EXPECT_EQ(na[0].dst, kPeerLL);
  EXPECT_EQ(na[0].eth_dst, kMacPeer);  // learnt from the source LLA
  EXPECT_NE(na[0].rest & wire::kNaSolicited, 0u);
  EXPECT_EQ(wire::load_ipv6(na[0].body, 0), g);
  EXPECT_EQ(Bytes(na[0].body.begin() + 16, na[0].body.end()), lla_opt(2, kMacA));
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->state, NudState::Delay);  // stale, then used for the NA
}

TEST(Nd, InvalidNdMessagesDropped) {
  OneStack6 t;
  const Ipv6Addr g = ip6("2001:db8::1");
  const Bytes ns = ns_msg(kPeerLL, g.solicited_node(), g, kMacPeer);
  // Hop limit not 255: could come from off link.
  t.in(ipv6_packet(kPeerLL, g.solicited_node(), wire::kIpProtoIcmpv6, ns, 64), g.solicited_node().multicast_mac());
  EXPECT_EQ(drops(t.st, "nd.bad_hop_limit"), 1u);
  // An option of length 0.
  Bytes body;
  append_addr(body, g);
  append(body, Bytes{1, 0, 0, 0, 0, 0, 0, 0});
  t.in(ipv6_packet(kPeerLL, g.solicited_node(), wire::kIpProtoIcmpv6,
                   icmp6_msg(kPeerLL, g.solicited_node(), wire::kNdNeighborSolicit, 0, 0, body), 255),
       g.solicited_node().multicast_mac());
  EXPECT_EQ(drops(t.st, "nd.bad_option"), 1u);
  // Truncated fixed part.
  t.in(ipv6_packet(kPeerLL, g.solicited_node(), wire::kIpProtoIcmpv6,
                   icmp6_msg(kPeerLL, g.solicited_node(), wire::kNdNeighborSolicit, 0, 0, Bytes(8, 0)), 255),
       g.solicited_node().multicast_mac());
  EXPECT_EQ(drops(t.st, "nd.too_short"), 1u);
  // DAD probe carrying a source LLA is invalid.
  t.in(ipv6_packet(Ipv6Addr{}, g.solicited_node(), wire::kIpProtoIcmpv6, ns_msg(Ipv6Addr{}, g.solicited_node(), g, kMacPeer), 255),
       g.solicited_node().multicast_mac());
  EXPECT_EQ(drops(t.st, "nd.bad_dad_probe"), 1u);
  EXPECT_TRUE(icmp6_of_type(t.dev.sent, wire::kNdNeighborAdvert).empty());
}

TEST(Nd, NudStateMachine) {
  OneStack6 t;
  // Sending to an unknown neighbour: INCOMPLETE, a multicast NS, the packet queued.
  ASSERT_FALSE(t.st.send_echo6(kPeerLL, 1, 1));
  auto n = t.st.neighbor6(t.ifindex, kPeerLL);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->state, NudState::Incomplete);
  EXPECT_EQ(n->queued, 1u);
  auto ns = icmp6_of_type(t.dev.sent, wire::kNdNeighborSolicit);
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].dst, kPeerLL.solicited_node());
  EXPECT_EQ(ns[0].src, t.ll());
  EXPECT_EQ(Bytes(ns[0].body.begin() + 16, ns[0].body.end()), lla_opt(1, kMacA));
  // A second NS one retrans timer later.
  t.sched.run_for(ms_to_ps(1000));
  EXPECT_EQ(icmp6_of_type(t.dev.sent, wire::kNdNeighborSolicit).size(), 2u);
  // Solicited NA: REACHABLE, the queued echo goes out to the peer's MAC.
  t.dev.sent.clear();
  t.in(ipv6_packet(kPeerLL, t.ll(), wire::kIpProtoIcmpv6, na_msg(kPeerLL, t.ll(), kPeerLL, wire::kNaSolicited | wire::kNaOverride, kMacPeer), 255));
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->state, NudState::Reachable);
  auto echo = icmp6_of_type(t.dev.sent, wire::kIcmpv6EchoRequest);
  ASSERT_EQ(echo.size(), 1u);
  EXPECT_EQ(echo[0].eth_dst, kMacPeer);
  // ReachableTime (30 s) later: STALE; no traffic, no probes.
  t.dev.sent.clear();
  t.sched.run_for(s_to_ps(30));
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->state, NudState::Stale);
  EXPECT_TRUE(t.dev.sent.empty());
  // Used while STALE: sent at once, DELAY.
  ASSERT_FALSE(t.st.send_echo6(kPeerLL, 1, 2));
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->state, NudState::Delay);
  EXPECT_EQ(icmp6_of_type(t.dev.sent, wire::kIcmpv6EchoRequest).size(), 1u);
  // 5 s later: PROBE with a unicast NS to the cached MAC.
  t.sched.run_for(s_to_ps(5));
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->state, NudState::Probe);
  ns = icmp6_of_type(t.dev.sent, wire::kNdNeighborSolicit);
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].dst, kPeerLL);
  EXPECT_EQ(ns[0].eth_dst, kMacPeer);
  // An answer brings it back to REACHABLE.
  t.in(ipv6_packet(kPeerLL, t.ll(), wire::kIpProtoIcmpv6, na_msg(kPeerLL, t.ll(), kPeerLL, wire::kNaSolicited, std::nullopt), 255));
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->state, NudState::Reachable);
  // Again to PROBE, and this time no answer: three probes, then gone.
  t.sched.run_for(s_to_ps(30));
  ASSERT_FALSE(t.st.send_echo6(kPeerLL, 1, 3));
  t.dev.sent.clear();
  t.sched.run_for(s_to_ps(5));
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->state, NudState::Probe);
  t.sched.run_for(s_to_ps(2));
  EXPECT_EQ(icmp6_of_type(t.dev.sent, wire::kNdNeighborSolicit).size(), 3u);
  t.sched.run_for(s_to_ps(1));
  EXPECT_FALSE(t.st.neighbor6(t.ifindex, kPeerLL).has_value());
  EXPECT_EQ(events(t.st, "nd.unreachable"), 1u);
}

TEST(Nd, AdvertOverrideRules) {
  OneStack6 t;
  t.learn(kPeerLL);  // STALE with kMacPeer
  ASSERT_FALSE(t.st.send_echo6(kPeerLL, 1, 1));  // DELAY
  t.in(ipv6_packet(kPeerLL, t.ll(), wire::kIpProtoIcmpv6, na_msg(kPeerLL, t.ll(), kPeerLL, wire::kNaSolicited, kMacPeer), 255));
  ASSERT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->state, NudState::Reachable);
  // A different MAC without override: REACHABLE -> STALE, the MAC kept.
  t.in(ipv6_packet(kPeerLL, t.ll(), wire::kIpProtoIcmpv6, na_msg(kPeerLL, t.ll(), kPeerLL, wire::kNaSolicited, kMacB), 255));
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->state, NudState::Stale);
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->mac, kMacPeer);
  // With override: the MAC is replaced.
  t.in(ipv6_packet(kPeerLL, t.ll(), wire::kIpProtoIcmpv6, na_msg(kPeerLL, t.ll(), kPeerLL, wire::kNaOverride, kMacB), 255));
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->mac, kMacB);
  EXPECT_EQ(t.st.neighbor6(t.ifindex, kPeerLL)->state, NudState::Stale);
  // An unsolicited NA for an unknown address creates nothing.
  t.in(ipv6_packet(ip6("fe80::55"), ip6("ff02::1"), wire::kIpProtoIcmpv6,
                   na_msg(ip6("fe80::55"), ip6("ff02::1"), ip6("fe80::55"), wire::kNaOverride, kMacB), 255),
       ip6("ff02::1").multicast_mac());
  EXPECT_FALSE(t.st.neighbor6(t.ifindex, ip6("fe80::55")).has_value());
  // A solicited NA to a multicast address is invalid.
  t.in(ipv6_packet(kPeerLL, ip6("ff02::1"), wire::kIpProtoIcmpv6,
                   na_msg(kPeerLL, ip6("ff02::1"), kPeerLL, wire::kNaSolicited, kMacB), 255),
       ip6("ff02::1").multicast_mac());
  EXPECT_EQ(drops(t.st, "nd.solicited_to_multicast"), 1u);
}

TEST(Nd, ResolutionFailureQueueBoundAndUnreachable) {
  stack::StackConfig cfg = OneStack6::quiet();
  cfg.ipv6.nd_queue_limit = 4;
  OneStack6 t(cfg);
  for (std::uint16_t i = 0; i < 4; ++i) ASSERT_FALSE(t.st.send_echo6(kPeerLL, 1, i));
  // Beyond the limit the oldest waiting packet is discarded (unres_qlen).
  EXPECT_FALSE(t.st.send_echo6(kPeerLL, 1, 9));
  EXPECT_EQ(drops(t.st, "nd.unres_discards"), 1u);
  t.sched.run_for(s_to_ps(3));
  EXPECT_EQ(icmp6_of_type(t.dev.sent, wire::kNdNeighborSolicit).size(), 3u);
  t.sched.run_for(s_to_ps(1));
  EXPECT_FALSE(t.st.neighbor6(t.ifindex, kPeerLL).has_value());
  EXPECT_EQ(drops(t.st, "nd.resolution_failed"), 4u);
  // Our own packets: nobody to send an ICMPv6 error to but ourselves.
  EXPECT_EQ(events(t.st, "icmpv6.local_address_unreachable"), 4u);
  EXPECT_EQ(t.dev.pool().available(), t.dev.pool().capacity());
}

TEST(Nd, SlaacFromRouterAdvert) {
  OneStack6 t;
  const Ipv6Addr router = ip6("fe80::1");
  const Bytes opts = prefix_opt(ip6("2001:db8:1::"), 64, true, true, 86400, 14400);
  t.in(ipv6_packet(router, ip6("ff02::1"), wire::kIpProtoIcmpv6, ra_msg(router, ip6("ff02::1"), 1800, kMacRouter, opts), 255),
       ip6("ff02::1").multicast_mac());
  const Ipv6Addr slaac = Ipv6Addr::from_prefix_and_mac(ip6("2001:db8:1::"), kMacA);
  auto addrs = t.st.addresses6(t.ifindex);
  ASSERT_EQ(addrs.size(), 3u);
  EXPECT_EQ(addrs[2].addr, slaac);
  EXPECT_EQ(slaac.str(), "2001:db8:1::ff:fe00:a");
  EXPECT_TRUE(addrs[2].autoconf);
  EXPECT_EQ(addrs[2].state, Addr6State::tentative);
  EXPECT_EQ(t.st.default_router6(), router);
  EXPECT_TRUE(t.st.neighbor6(t.ifindex, router)->is_router);
  t.sched.run_for(s_to_ps(2));
  EXPECT_EQ(t.st.addresses6(t.ifindex)[2].state, Addr6State::preferred);
  // Off-link destinations now go through the router (MAC from the RA's SLLA).
  t.dev.sent.clear();
  ASSERT_FALSE(t.st.send_echo6(ip6("2001:db8:1:99::5"), 1, 1));
  const auto e = icmp6_of_type(t.dev.sent, wire::kIcmpv6EchoRequest);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].eth_dst, kMacRouter);
  EXPECT_EQ(e[0].src, slaac);  // longest common prefix with the destination
  // The prefix is on link: a neighbour there is resolved directly.
  t.dev.sent.clear();
  ASSERT_FALSE(t.st.send_echo6(ip6("2001:db8:1::77"), 1, 2));
  EXPECT_EQ(icmp6_of_type(t.dev.sent, wire::kNdNeighborSolicit).size(), 1u);
  // Router lifetime 0: no default router any more.
  t.in(ipv6_packet(router, ip6("ff02::1"), wire::kIpProtoIcmpv6, ra_msg(router, ip6("ff02::1"), 0, kMacRouter), 255),
       ip6("ff02::1").multicast_mac());
  EXPECT_FALSE(t.st.default_router6().has_value());
  EXPECT_EQ(t.st.send_echo6(ip6("2001:db8:99::5"), 1, 3), std::errc::network_unreachable);
}

TEST(Nd, RouterAdvertRulesAndExpiry) {
  OneStack6 t;
  // Not from a link-local source: ignored.
  const Ipv6Addr g = ip6("2001:db8::fe");
  t.in(ipv6_packet(g, ip6("ff02::1"), wire::kIpProtoIcmpv6, ra_msg(g, ip6("ff02::1"), 1800, kMacRouter), 255),
       ip6("ff02::1").multicast_mac());
  EXPECT_EQ(drops(t.st, "nd.ra_bad_source"), 1u);
  // Prefix with a length other than 64, and preferred > valid: no address.
  const Ipv6Addr r = ip6("fe80::1");
  Bytes opts = prefix_opt(ip6("2001:db8:2::"), 48, false, true, 100, 100);
  append(opts, prefix_opt(ip6("2001:db8:3::"), 64, false, true, 100, 200));
  t.in(ipv6_packet(r, ip6("ff02::1"), wire::kIpProtoIcmpv6, ra_msg(r, ip6("ff02::1"), 10, kMacRouter, opts), 255),
       ip6("ff02::1").multicast_mac());
  EXPECT_EQ(t.st.addresses6(t.ifindex).size(), 2u);
  EXPECT_EQ(events(t.st, "nd.slaac_bad_prefix_len"), 1u);
  // The router lifetime (10 s) runs out.
  EXPECT_EQ(t.st.default_router6(), r);
  t.sched.run_for(s_to_ps(11));
  EXPECT_FALSE(t.st.default_router6().has_value());
}

TEST(Nd, RouterAndHostStacks) {
  FakeScheduler sched;
  FakeDevice dr(kMacRouter), dh(kMacB);
  FakeDevice::connect(dr, dh, sched, us_to_ps(1));
  stack::Stack r(sched, "r"), h(sched, "h");
  const int ri = r.add_interface(dr);
  const int hi = h.add_interface(dh);
  stack::RouterAdvertConfig ra;
  ra.prefixes.push_back({ip6("2001:db8:7::"), 64});
  ra.interval = s_to_ps(100);
  r.add_address6(ri, ip6("2001:db8:7::1"), 64);
  r.set_router_advert(ri, ra);
  h.enable_ipv6(hi);  // solicits once its link-local address is usable
  sched.run_for(s_to_ps(5));
  const Ipv6Addr slaac = Ipv6Addr::from_prefix_and_mac(ip6("2001:db8:7::"), kMacB);
  bool found = false;
  for (const auto& a : h.addresses6(hi)) found = found || (a.addr == slaac && a.state == Addr6State::preferred);
  EXPECT_TRUE(found);
  EXPECT_EQ(h.default_router6(), Ipv6Addr::link_local_from_mac(kMacRouter));
  EXPECT_GE(events(h, "nd.tx_rs"), 1u);
  EXPECT_GE(events(r, "nd.rx_rs"), 1u);
  // Ping across with global addresses both ways.
  ASSERT_FALSE(h.send_echo6(ip6("2001:db8:7::1"), 5, 1));
  ASSERT_FALSE(r.send_echo6(slaac, 6, 1));
  sched.run_for(ms_to_ps(10));
  ASSERT_EQ(h.echo_replies6().size(), 1u);
  EXPECT_EQ(h.echo_replies6()[0].from, ip6("2001:db8:7::1"));
  ASSERT_EQ(r.echo_replies6().size(), 1u);
  EXPECT_EQ(r.echo_replies6()[0].from, slaac);
  // Periodic advertisements.
  const auto before = events(r, "nd.tx_ra");
  sched.run_for(s_to_ps(201));
  EXPECT_EQ(events(r, "nd.tx_ra"), before + 2);
  // The only drops: the router's two DAD probes, to solicited-node groups
  // the host has not joined, filtered by MAC.
  EXPECT_EQ(drops(h, "eth.not_for_us"), 2u);
  EXPECT_EQ(total_drops(h), 2u);
}

TEST(Nd, RedirectApplied) {
  OneStack6 t;
  const Ipv6Addr router = ip6("fe80::1"), better = ip6("fe80::2"), dest = ip6("2001:db8:5::5");
  t.in(ipv6_packet(router, ip6("ff02::1"), wire::kIpProtoIcmpv6, ra_msg(router, ip6("ff02::1"), 1800, kMacRouter), 255),
       ip6("ff02::1").multicast_mac());
  ASSERT_FALSE(t.st.send_echo6(dest, 1, 1));
  ASSERT_EQ(icmp6_of_type(t.dev.sent, wire::kIcmpv6EchoRequest).back().eth_dst, kMacRouter);
  auto redirect = [&](const Ipv6Addr& from) {
    Bytes body;
    append_addr(body, better);
    append_addr(body, dest);
    append(body, lla_opt(2, kMacB));
    return ipv6_packet(from, t.ll(), wire::kIpProtoIcmpv6, icmp6_msg(from, t.ll(), wire::kNdRedirect, 0, 0, body), 255);
  };
  // From someone who is not our first hop for dest: refused.
  t.in(redirect(ip6("fe80::3")));
  EXPECT_EQ(drops(t.st, "nd.redirect_not_from_first_hop"), 1u);
  t.in(redirect(router));
  EXPECT_EQ(events(t.st, "nd.redirect_applied"), 1u);
  t.dev.sent.clear();
  ASSERT_FALSE(t.st.send_echo6(dest, 1, 2));
  const auto e = icmp6_of_type(t.dev.sent, wire::kIcmpv6EchoRequest);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].eth_dst, kMacB);  // the better router, MAC from the redirect's TLLA
  // Other destinations still use the default router.
  t.dev.sent.clear();
  ASSERT_FALSE(t.st.send_echo6(ip6("2001:db8:6::6"), 1, 3));
  EXPECT_EQ(icmp6_of_type(t.dev.sent, wire::kIcmpv6EchoRequest).back().eth_dst, kMacRouter);
}

}  // namespace
}  // namespace vd::test

namespace vd::test {
namespace {

TEST(Nd, FloodsOfRouterAdvertsAreBounded) {
  OneStack6 t;
  // 40 routers, each advertising its own on-link, autonomous prefix.
  for (int i = 0; i < 40; ++i) {
    Ipv6Addr r = ip6("fe80::1000");
    r.b[15] = static_cast<std::uint8_t>(i);
    Ipv6Addr p = ip6("2001:db8:100::");
    p.b[5] = static_cast<std::uint8_t>(i);
    const Bytes opts = prefix_opt(p, 64, true, true, 1000, 1000);
    t.in(ipv6_packet(r, ip6("ff02::1"), wire::kIpProtoIcmpv6, ra_msg(r, ip6("ff02::1"), 600, kMacRouter, opts), 255),
         ip6("ff02::1").multicast_mac());
  }
  std::size_t slaac = 0;
  for (const auto& a : t.st.addresses6(t.ifindex)) slaac += a.autoconf && !a.addr.is_link_local();
  EXPECT_EQ(slaac, 16u);
  EXPECT_EQ(drops(t.st, "nd.slaac_limit"), 24u);
  EXPECT_EQ(drops(t.st, "nd.ra_prefix_limit"), 8u);
  EXPECT_EQ(drops(t.st, "nd.router_limit"), 32u);
  EXPECT_EQ(events(t.st, "nd.default_router_added"), 8u);
  // A prefix withdrawn (valid lifetime 0) frees its place.
  const Ipv6Addr r0 = ip6("fe80::1000");
  Ipv6Addr p0 = ip6("2001:db8:100::");
  const Bytes gone = prefix_opt(p0, 64, true, false, 0, 0);
  t.in(ipv6_packet(r0, ip6("ff02::1"), wire::kIpProtoIcmpv6, ra_msg(r0, ip6("ff02::1"), 600, kMacRouter, gone), 255),
       ip6("ff02::1").multicast_mac());
  Ipv6Addr p41 = ip6("2001:db8:1ff::");
  t.in(ipv6_packet(r0, ip6("ff02::1"), wire::kIpProtoIcmpv6,
                   ra_msg(r0, ip6("ff02::1"), 600, kMacRouter, prefix_opt(p41, 64, true, false, 10, 10)), 255),
       ip6("ff02::1").multicast_mac());
  EXPECT_EQ(drops(t.st, "nd.ra_prefix_limit"), 8u);
}

}  // namespace
}  // namespace vd::test
