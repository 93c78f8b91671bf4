// The interface table: names as `ip link` shows them, per-interface
// counters, and administrative up/down.
#include "test_util.hpp"
#include "test_util6.hpp"

namespace vd::test {
namespace {

using stack::TcpState;

const stack::InterfaceInfo& by_name(const std::vector<stack::InterfaceInfo>& v, const std::string& n) {
  for (const auto& i : v)
    if (i.name == n) return i;
  throw std::runtime_error("no interface " + n);
}

TEST(Interfaces, NamesFollowLinuxConventions) {
  // Declared before the stack: a device must outlive the stack it is attached to.
  FakeDevice second(kMacB), third(kMacPeer);
  OneStack t;
  const int i2 = t.st.add_interface(second);
  const int v10 = t.st.add_vlan(t.ifindex, 10);
  const auto list = t.st.interfaces();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].name, "lo");
  EXPECT_EQ(list[0].kind, "loopback");
  EXPECT_EQ(list[0].mtu, 65535u);
  EXPECT_EQ(list[1].name, "eth0");
  EXPECT_EQ(list[1].kind, "fake");
  EXPECT_EQ(list[1].mac, kMacA);
  ASSERT_EQ(list[1].addrs.size(), 1u);
  EXPECT_EQ(list[1].addrs[0].first, ip("10.0.0.1"));
  EXPECT_EQ(list[1].addrs[0].second, 24);
  EXPECT_EQ(list[2].name, "eth1");
  EXPECT_EQ(list[3].name, "eth0.10");
  EXPECT_EQ(list[3].kind, "vlan");
  EXPECT_EQ(list[3].parent, t.ifindex);
  EXPECT_EQ(list[3].vid, 10);
  EXPECT_EQ(t.st.ifindex_of("eth1"), i2);
  EXPECT_EQ(t.st.ifindex_of("eth0.10"), v10);
  EXPECT_EQ(t.st.ifindex_of("lo"), stack::Stack::kLoopbackIfindex);
  EXPECT_FALSE(t.st.ifindex_of("eth7"));

  // A custom name; a taken or malformed one is refused and attaches nothing.
  EXPECT_THROW(t.st.add_interface(third, "eth1"), std::invalid_argument);
  EXPECT_THROW(t.st.add_interface(third, "a name"), std::invalid_argument);
  EXPECT_THROW(t.st.add_interface(third, "sixteen-chars-xx"), std::invalid_argument);
  EXPECT_THROW(t.st.add_interface(third, ".."), std::invalid_argument);
  EXPECT_EQ(t.st.interfaces().size(), 4u);
  const int up0 = t.st.add_interface(third, "uplink0");
  EXPECT_EQ(t.st.ifindex_of("uplink0"), up0);
  EXPECT_EQ(up0, 4);
}

TEST(Interfaces, LoopbackCountsBothDirectionsOfAPing) {
  OneStack t;
  ASSERT_FALSE(t.st.send_echo(ip("127.0.0.1"), 1, 1, 100));
  t.sched.run_for(us_to_ps(10));
  ASSERT_EQ(t.st.echo_replies().size(), 1u);
  const auto lo = by_name(t.st.interfaces(), "lo");
  // Request and reply each go out of lo and come back in: 20 IP + 8 ICMP +
  // 100 payload, and the 14-byte Ethernet header lo frames carry.
  EXPECT_EQ(lo.counters.tx_packets, 2u);
  EXPECT_EQ(lo.counters.rx_packets, 2u);
  EXPECT_EQ(lo.counters.tx_bytes, 2u * (14 + 20 + 8 + 100));
  EXPECT_EQ(lo.counters.rx_bytes, lo.counters.tx_bytes);
  EXPECT_EQ(lo.counters.tx_dropped + lo.counters.rx_dropped, 0u);
  const auto eth = by_name(t.st.interfaces(), "eth0");
  EXPECT_EQ(eth.counters.tx_packets, 1u);  // only the gratuitous ARP add_address sent
  EXPECT_TRUE(t.dev.sent.empty());
}

TEST(Interfaces, DeviceCountersMatchTheFramesOnTheWire) {
  OneStack t;
  t.learn_peer();
  const auto before = by_name(t.st.interfaces(), "eth0").counters;
  EXPECT_EQ(before.rx_packets, 1u);  // the ARP request, padded to the 60-byte minimum
  EXPECT_EQ(before.rx_bytes, 60u);
  auto s = t.st.udp_socket();
  for (int n = 0; n < 3; ++n) ASSERT_FALSE(s->sendto(std::vector<std::uint8_t>(50, 1), ip("10.0.0.99"), 9));
  t.sched.run_for(us_to_ps(10));
  ASSERT_EQ(t.dev.sent.size(), 3u);
  std::uint64_t wire_bytes = 0;
  for (const auto& f : t.dev.sent) wire_bytes += f.bytes.size();
  const auto after = by_name(t.st.interfaces(), "eth0").counters;
  EXPECT_EQ(after.tx_packets - before.tx_packets, 3u);
  EXPECT_EQ(after.tx_bytes - before.tx_bytes, wire_bytes);
  EXPECT_EQ(wire_bytes, 3u * (14 + 20 + 8 + 50));
}

TEST(Interfaces, ADownInterfaceSendsAndReceivesNothingAndCountsIt) {
  OneStack t;
  t.learn_peer();
  auto rx = t.st.udp_socket();
  ASSERT_FALSE(rx->bind(Ipv4Addr{}, 7));
  auto tx = t.st.udp_socket();

  t.st.set_link_up(t.ifindex, false);
  EXPECT_FALSE(by_name(t.st.interfaces(), "eth0").up);
  // No route: the only way to 10.0.0.0/24 is down.
  EXPECT_EQ(tx->sendto(to_bytes("x"), ip("10.0.0.99"), 9), std::errc::network_unreachable);
  EXPECT_TRUE(t.dev.sent.empty());
  // A frame that arrives anyway is dropped, and counted on the interface.
  t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 5000, 7, to_bytes("in")));
  t.sched.run_for(us_to_ps(1));
  EXPECT_FALSE(rx->recvfrom());
  EXPECT_EQ(drops(t.st, "eth.link_down"), 1u);
  EXPECT_EQ(by_name(t.st.interfaces(), "eth0").counters.rx_dropped, 1u);
  // The host's own address still answers through lo, as on Linux.
  ASSERT_FALSE(tx->sendto(to_bytes("self"), ip("10.0.0.1"), 7));
  t.sched.run_for(us_to_ps(1));
  ASSERT_TRUE(rx->recvfrom());

  t.st.set_link_up(t.ifindex, true);
  ASSERT_FALSE(tx->sendto(to_bytes("x"), ip("10.0.0.99"), 9));
  t.sched.run_for(us_to_ps(1));
  EXPECT_EQ(t.dev.sent.size(), 1u);
  t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 5000, 7, to_bytes("in")));
  t.sched.run_for(us_to_ps(1));
  const auto d = rx->recvfrom();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data, to_bytes("in"));

  EXPECT_THROW(t.st.set_link_up(stack::Stack::kLoopbackIfindex, false), std::invalid_argument);
  EXPECT_THROW(t.st.set_link_up(42, false), std::invalid_argument);
}

TEST(Interfaces, AVlanIsDownWhenItsParentIs) {
  OneStack t;
  const int v = t.st.add_vlan(t.ifindex, 20);
  t.st.add_address(v, ip("10.20.0.1"), 24);
  t.dev.sent.clear();
  auto tx = t.st.udp_socket();
  t.st.set_link_up(t.ifindex, false);
  EXPECT_EQ(tx->sendto(to_bytes("x"), ip("10.20.0.9"), 9), std::errc::network_unreachable);
  t.st.set_link_up(t.ifindex, true);
  t.st.set_link_up(v, false);
  EXPECT_EQ(tx->sendto(to_bytes("x"), ip("10.20.0.9"), 9), std::errc::network_unreachable);
  // The parent itself is unaffected by its VLAN going down.
  ASSERT_FALSE(tx->sendto(to_bytes("x"), ip("10.0.0.9"), 9));
  t.sched.run_for(us_to_ps(1));
  EXPECT_FALSE(t.dev.sent.empty());  // the ARP request for 10.0.0.9
}

TEST(Interfaces, Ipv6RoutesAvoidADownInterface) {
  OneStack t(OneStack6::quiet());
  t.st.add_address6(t.ifindex, ip6("2001:db8::1"), 64);
  t.sched.run_for(s_to_ps(2));
  t.dev.sent.clear();
  auto tx = t.st.udp_socket();
  t.st.set_link_up(t.ifindex, false);
  EXPECT_EQ(tx->sendto(to_bytes("x"), ip6("2001:db8::9"), 9), std::errc::network_unreachable);
  EXPECT_EQ(tx->sendto(to_bytes("x"), ip6("ff02::1"), 9), std::errc::network_unreachable);
  EXPECT_TRUE(t.dev.sent.empty());
  t.st.set_link_up(t.ifindex, true);
  ASSERT_FALSE(tx->sendto(to_bytes("x"), ip6("ff02::1"), 9));
  t.sched.run_for(us_to_ps(1));
  EXPECT_EQ(t.dev.sent.size(), 1u);
}

TEST(Interfaces, RemovingAnInterfaceTakesItsStateWithIt) {
  FakeDevice second(kMacB);  // outlives the stack
  OneStack t(OneStack6::quiet());
  const int i2 = t.st.add_interface(second);
  t.st.add_address(i2, ip("10.9.0.1"), 24);
  t.st.add_route(ip("192.168.0.0"), 16, ip("10.9.0.254"));
  t.st.add_address6(i2, ip6("2001:db8:9::1"), 64);
  const int v = t.st.add_vlan(i2, 30);
  t.st.add_address(v, ip("10.30.0.1"), 24);
  // A neighbour on it.
  second.deliver(t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, kMacPeer, ip("10.9.0.99"), MacAddr{},
                          ip("10.9.0.1")));
  t.sched.run_for(s_to_ps(2));
  ASSERT_EQ(t.st.neighbors().size(), 1u);
  ASSERT_EQ(t.st.interfaces().size(), 4u);

  t.st.remove_interface(i2);
  const auto list = t.st.interfaces();
  ASSERT_EQ(list.size(), 2u);  // lo and eth0; the VLAN went with its parent
  EXPECT_EQ(list[1].name, "eth0");
  EXPECT_FALSE(t.st.ifindex_of("eth1"));
  EXPECT_FALSE(t.st.ifindex_of("eth1.30"));
  EXPECT_TRUE(t.st.neighbors().empty());
  for (const auto& r : t.st.routes().entries()) EXPECT_TRUE(r.ifindex != i2 && r.ifindex != v);
  for (const auto& r : t.st.routes6().entries()) EXPECT_NE(r.ifindex, i2);
  EXPECT_TRUE(t.st.addresses6(i2).empty());
  EXPECT_THROW(t.st.add_address(i2, ip("10.9.0.1"), 24), std::invalid_argument);
  EXPECT_THROW(t.st.set_link_up(i2, true), std::invalid_argument);
  EXPECT_THROW(t.st.remove_interface(i2), std::invalid_argument);  // twice
  EXPECT_THROW(t.st.remove_interface(stack::Stack::kLoopbackIfindex), std::invalid_argument);
  EXPECT_THROW(t.st.remove_interface(99), std::invalid_argument);

  // Its addresses are no longer the host's; the device gets no more calls.
  auto tx = t.st.udp_socket();
  EXPECT_EQ(tx->bind(ip("10.9.0.1"), 5), std::errc::address_not_available);
  EXPECT_EQ(tx->sendto(to_bytes("x"), ip("10.9.0.99"), 9), std::errc::network_unreachable);
  second.sent.clear();
  second.deliver(t.fb.udp(kMacB, kMacPeer, ip("10.9.0.99"), ip("10.9.0.1"), 1, 7, to_bytes("late")));
  t.sched.run_for(s_to_ps(5));  // no DAD, RS or ND timer left to fire on it
  EXPECT_TRUE(second.sent.empty());

  // The name is free again; the ifindex is not reused.
  const int again = t.st.add_interface(second);
  EXPECT_GT(again, v);
  EXPECT_EQ(t.st.interfaces()[2].name, "eth1");
  EXPECT_EQ(events(t.st, "eth.interfaces_removed"), 2u);  // eth1 and its VLAN
}

TEST(Interfaces, ADeviceMayBeDestroyedOnceRemoved) {
  OneStack t;
  auto dev = std::make_unique<FakeDevice>(kMacB);
  const int i = t.st.add_interface(*dev);
  t.st.add_address(i, ip("10.9.0.1"), 24);
  auto c = t.st.tcp_socket();
  ASSERT_FALSE(c->connect(ip("10.9.0.2"), 80));  // waiting for ARP on it
  t.st.remove_interface(i);
  dev.reset();
  t.sched.run_for(s_to_ps(10));  // ARP retries, the SYN timer: none may touch the device
  EXPECT_NE(c->state(), TcpState::Established);
  EXPECT_EQ(t.st.interfaces().size(), 2u);
}

TEST(Interfaces, AConnectionThroughARemovedInterfaceFailsQuietly) {
  TwoStacks n;
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(l->listen());
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(ip("10.0.0.2"), 80));
  n.sched.run_for(ms_to_ps(1));
  ASSERT_EQ(c->state(), TcpState::Established);
  n.a.remove_interface(n.ia);
  const std::size_t sent_before = n.da.sent.size();
  std::error_code ec;
  c->send(to_bytes("after removal"), ec);  // queued; every retransmission finds no route
  n.sched.run_for(s_to_ps(20));
  EXPECT_EQ(n.da.sent.size(), sent_before);  // the removed device was never called again
  EXPECT_NE(c->state(), TcpState::Closed);   // still retrying, as Linux does until its timeout
}

}  // namespace
}  // namespace vd::test
