// The loopback interface every stack has (lo, ifindex 0): 127/8, ::1 and the
// stack's own addresses reach the stack's own sockets through it, by every
// protocol, and never through a device; 127/8 and ::1 never come in from one.
#include "test_util.hpp"
#include "test_util6.hpp"

namespace vd::test {
namespace {

using stack::TcpState;

// One stack on a fake device with 10.0.0.1/24 and 2001:db8::1/64 (DAD done).
struct Lo : OneStack {
  Lo() : OneStack(OneStack6::quiet()) {
    st.add_address6(ifindex, ip6("2001:db8::1"), 64);
    sched.run_for(s_to_ps(2));
    dev.sent.clear();
  }
};

TEST(Loopback, IsInterfaceZeroWithTheLoopbackAddresses) {
  Lo t;
  EXPECT_EQ(stack::Stack::kLoopbackIfindex, 0);
  EXPECT_EQ(t.ifindex, 1);  // the first device comes after lo
  const auto a6 = t.st.addresses6(0);
  ASSERT_EQ(a6.size(), 1u);
  EXPECT_EQ(a6[0].addr, stack::Ipv6Addr::loopback());
  EXPECT_EQ(a6[0].prefix_len, 128);
  EXPECT_EQ(a6[0].state, stack::Addr6State::preferred);  // no DAD on lo
  // 127.0.0.0/8 is a connected route on lo.
  bool lo_route = false;
  for (const auto& r : t.st.routes().entries())
    lo_route |= r.ifindex == 0 && r.prefix == ip("127.0.0.0") && r.len == 8 && r.connected;
  EXPECT_TRUE(lo_route);
  EXPECT_THROW(t.st.add_vlan(0, 5), std::invalid_argument);
}

TEST(Loopback, UdpToEveryLocalAddressNeverTouchesTheDevice) {
  Lo t;
  auto rx = t.st.udp_socket();
  ASSERT_FALSE(rx->bind(Ipv4Addr{}, 7));
  auto tx = t.st.udp_socket();
  for (const char* dst : {"127.0.0.1", "127.1.2.3", "10.0.0.1"}) {
    ASSERT_FALSE(tx->sendto(to_bytes(dst), ip(dst), 7)) << dst;
    t.sched.run_for(us_to_ps(1));
    const auto d = rx->recvfrom();
    ASSERT_TRUE(d) << dst;
    EXPECT_EQ(d->data, to_bytes(dst));
    // The source is the destination itself, or 127.0.0.1 for the rest of 127/8.
    EXPECT_EQ(d->src_addr, std::string(dst) == "127.1.2.3" ? ip("127.0.0.1") : ip(dst));
    EXPECT_EQ(d->src_port, tx->local_port());
  }
  auto rx6 = t.st.udp_socket();
  ASSERT_FALSE(rx6->bind(stack::Ipv6Addr{}, 7));
  auto tx6 = t.st.udp_socket();
  for (const char* dst : {"::1", "2001:db8::1"}) {
    ASSERT_FALSE(tx6->sendto(to_bytes(dst), ip6(dst), 7)) << dst;
    t.sched.run_for(us_to_ps(1));
    const auto d = rx6->recvfrom();
    ASSERT_TRUE(d) << dst;
    EXPECT_TRUE(d->v6);
    EXPECT_EQ(d->src_addr6, ip6(dst));
  }
  EXPECT_TRUE(t.dev.sent.empty());
  EXPECT_EQ(total_drops(t.st), 0u);
}

TEST(Loopback, PingOwnAddressesOverBothFamilies) {
  Lo t;
  ASSERT_FALSE(t.st.send_echo(ip("127.0.0.1"), 1, 1));
  ASSERT_FALSE(t.st.send_echo(ip("10.0.0.1"), 1, 2, 4000));  // bigger than the NIC's MTU: no fragments on lo
  ASSERT_FALSE(t.st.send_echo6(stack::Ipv6Addr::loopback(), 2, 1));
  ASSERT_FALSE(t.st.send_echo6(ip6("2001:db8::1"), 2, 2));
  t.sched.run_for(us_to_ps(10));
  ASSERT_EQ(t.st.echo_replies().size(), 2u);
  EXPECT_EQ(t.st.echo_replies()[0].from, ip("127.0.0.1"));
  EXPECT_EQ(t.st.echo_replies()[1].from, ip("10.0.0.1"));
  EXPECT_EQ(t.st.echo_replies()[1].payload_len, 4000u);
  ASSERT_EQ(t.st.echo_replies6().size(), 2u);
  EXPECT_EQ(t.st.echo_replies6()[0].from, stack::Ipv6Addr::loopback());
  EXPECT_EQ(t.st.echo_replies6()[1].from, ip6("2001:db8::1"));
  EXPECT_EQ(t.st.echo_replies()[0].received_at, t.st.echo_replies()[0].sent_at);  // lo takes no time
  EXPECT_TRUE(t.dev.sent.empty());
}

TEST(Loopback, TcpToOwnAddressCarriesBulkDataAndReturnsEveryBuffer) {
  Lo t;
  BufferPool& lo_pool = t.st.loopback().pool();
  const std::size_t free_before = lo_pool.available();
  for (const char* addr : {"127.0.0.1", "10.0.0.1"}) {
    auto l = t.st.tcp_socket();
    ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
    ASSERT_FALSE(l->listen());
    auto c = t.st.tcp_socket();
    ASSERT_FALSE(c->connect(ip(addr), 80));
    t.sched.run_for(us_to_ps(1));
    ASSERT_EQ(c->state(), TcpState::Established) << addr;
    auto s = l->accept();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->remote_addr(), ip(addr));
    const Bytes data = seeded_bytes(3 << 20, 5);
    EXPECT_EQ(tcp_transfer(t.sched, *c, *s, data), data) << addr;
    c->close();
    s->close();
    l->close();
    t.sched.run_for(s_to_ps(130));  // past TIME-WAIT
  }
  EXPECT_TRUE(t.dev.sent.empty());
  EXPECT_EQ(lo_pool.available(), free_before);  // nothing leaked
  // One copy in at send() and one out at recv(), nothing in between.
  EXPECT_EQ(lo_pool.stats().bytes_copied_in, 2u * (3u << 20));
  EXPECT_EQ(total_drops(t.st), 0u);
}

TEST(Loopback, RawSocketsSeeLoopbackDatagrams) {
  Lo t;
  auto rx = t.st.raw_socket(4, 253);
  auto tx = t.st.raw_socket(4, 253);
  ASSERT_FALSE(tx->sendto(to_bytes("raw"), ip("127.0.0.1")));
  t.sched.run_for(us_to_ps(1));
  const auto d = rx->recvfrom();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->src_addr, ip("127.0.0.1"));
  EXPECT_TRUE(t.dev.sent.empty());
}

TEST(Loopback, MartianSourcesAndDestinationsFromADeviceAreDropped) {
  Lo t;
  auto rx = t.st.udp_socket();
  ASSERT_FALSE(rx->bind(Ipv4Addr{}, 7));
  t.learn_peer();
  const Bytes udp = t.fb.udp_msg(ip("127.0.0.1"), ip("10.0.0.1"), 1, 7, to_bytes("x"));
  t.dev.deliver(t.fb.ipv4(kMacA, kMacPeer, {ip("127.0.0.1"), ip("10.0.0.1"), wire::kIpProtoUdp, 64, 1}, udp));
  t.dev.deliver(t.fb.ipv4(kMacA, kMacPeer, {ip("10.0.0.99"), ip("127.0.0.1"), wire::kIpProtoUdp, 64, 2},
                          t.fb.udp_msg(ip("10.0.0.99"), ip("127.0.0.1"), 1, 7, to_bytes("x"))));
  EXPECT_EQ(drops(t.st, "ipv4.martian"), 2u);
  // ::1 from a wire is dropped too (RFC 4291 2.5.3).
  auto rx6 = t.st.udp_socket();
  ASSERT_FALSE(rx6->bind(stack::Ipv6Addr{}, 7));
  const auto lo6 = stack::Ipv6Addr::loopback();
  t.dev.deliver(eth_frame(kMacA, kMacPeer,
                          ipv6_packet(lo6, ip6("2001:db8::1"), wire::kIpProtoUdp,
                                      udp6_msg(lo6, ip6("2001:db8::1"), 1, 7, to_bytes("x")))));
  t.sched.run_for(us_to_ps(1));
  EXPECT_FALSE(rx->recvfrom());
  EXPECT_FALSE(rx6->recvfrom());
  EXPECT_EQ(drops(t.st, "ipv6.bad_address"), 1u);
}

}  // namespace
}  // namespace vd::test
