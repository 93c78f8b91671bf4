// veth pairs between two stacks (two namespaces of a host): frames cross
// with the buffer moving, carrier follows the peer, MTU is enforced on the
// sending end as Linux's veth_xmit does, and either end may go first.
#include "test_util.hpp"
#include "test_util6.hpp"
#include "veridian/stack/veth.hpp"

namespace vd::test {
namespace {

using stack::TcpState;
using stack::VethDevice;

// Two stacks joined by a veth pair: A = 10.1.0.1/24 on "veth-a",
// B = 10.1.0.2/24 on "veth-b". The pool and the ends are declared before the
// stacks: they must outlive them.
struct VethPair {
  explicit VethPair(stack::StackConfig cfg = {})
      : mem(64u << 20), pool(mem, VethDevice::kBufSize, 1024), a(sched, "a", cfg), b(sched, "b", cfg) {
    ia = a.add_interface(*ends.first, "veth-a");
    ib = b.add_interface(*ends.second, "veth-b");
    a.add_address(ia, ip("10.1.0.1"), 24);
    b.add_address(ib, ip("10.1.0.2"), 24);
    sched.run_for(us_to_ps(10));  // gratuitous ARP each way
  }
  FakeScheduler sched;
  HostMemory mem;
  BufferPool pool;
  std::pair<std::unique_ptr<VethDevice>, std::unique_ptr<VethDevice>> ends =
      VethDevice::make_pair(sched, pool, kMacA, kMacB);
  stack::Stack a, b;
  int ia = -1, ib = -1;
};

std::uint64_t stat(const NetDevice& d, const std::string& k) { return d.stats().at(k); }

TEST(Veth, TcpAndUdpCrossWithOneCopyInAndOneOut) {
  VethPair t;
  EXPECT_EQ(t.a.interfaces()[1].kind, "veth");
  EXPECT_TRUE(t.a.interfaces()[1].carrier);
  const std::size_t free_before = t.pool.available();
  const std::uint64_t copied_before = t.pool.stats().bytes_copied_in;

  auto rx = t.b.udp_socket();
  ASSERT_FALSE(rx->bind(Ipv4Addr{}, 9));
  auto tx = t.a.udp_socket();
  ASSERT_FALSE(tx->sendto(to_bytes("over the veth"), ip("10.1.0.2"), 9));
  t.sched.run_for(us_to_ps(1));
  const auto d = rx->recvfrom();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data, to_bytes("over the veth"));
  EXPECT_EQ(d->src_addr, ip("10.1.0.1"));

  auto l = t.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(l->listen());
  auto c = t.a.tcp_socket();
  ASSERT_FALSE(c->connect(ip("10.1.0.2"), 80));
  t.sched.run_for(us_to_ps(1));
  ASSERT_EQ(c->state(), TcpState::Established);
  auto s = l->accept();
  ASSERT_TRUE(s);
  const Bytes data = seeded_bytes(2 << 20, 7);
  EXPECT_EQ(tcp_transfer(t.sched, *c, *s, data), data);
  EXPECT_EQ(tcp_transfer(t.sched, *s, *c, data), data);  // and back
  // The payload was copied into a pool buffer once, at send(); crossing the
  // pair copied nothing. Headers are written in place, not copied.
  EXPECT_EQ(t.pool.stats().bytes_copied_in - copied_before, 13u + 2u * data.size());
  c->close();
  s->close();
  l->close();
  t.sched.run_for(s_to_ps(130));
  EXPECT_EQ(t.pool.available(), free_before);  // every buffer came back
  // Each end counts what it sent and what it received, and the two agree.
  const auto& ea = *t.ends.first;
  const auto& eb = *t.ends.second;
  EXPECT_EQ(stat(ea, "tx_packets"), stat(eb, "rx_packets"));
  EXPECT_EQ(stat(ea, "tx_bytes"), stat(eb, "rx_bytes"));
  EXPECT_EQ(stat(eb, "tx_packets"), stat(ea, "rx_packets"));
  EXPECT_GT(stat(ea, "tx_packets"), data.size() / 1448u);
  EXPECT_EQ(t.a.interfaces()[1].counters.tx_packets, stat(ea, "tx_packets"));
  EXPECT_EQ(total_drops(t.a), 0u);
  EXPECT_EQ(total_drops(t.b), 0u);
}

TEST(Veth, Ipv6LinkLocalAndGlobalWorkAcrossThePair) {
  VethPair t(OneStack6::quiet());
  t.a.add_address6(t.ia, ip6("2001:db8:1::1"), 64);
  t.b.add_address6(t.ib, ip6("2001:db8:1::2"), 64);
  t.sched.run_for(s_to_ps(3));  // DAD
  ASSERT_FALSE(t.a.send_echo6(ip6("2001:db8:1::2"), 1, 1));
  t.sched.run_for(us_to_ps(10));
  ASSERT_EQ(t.a.echo_replies6().size(), 1u);
  EXPECT_EQ(t.a.echo_replies6()[0].from, ip6("2001:db8:1::2"));
}

TEST(Veth, CarrierFollowsThePeersAdminState) {
  VethPair t;
  t.b.set_link_up(t.ib, false);
  auto info = t.a.interfaces()[1];
  EXPECT_TRUE(info.up);
  EXPECT_FALSE(info.carrier);  // ip link shows NO-CARRIER
  EXPECT_FALSE(t.ends.first->carrier());
  // What A sends now is dropped by A's stack (the link is down) and counted
  // on A's interface; nothing reaches the device.
  ASSERT_FALSE(t.a.send_echo(ip("10.1.0.2"), 1, 1));
  t.sched.run_for(us_to_ps(10));
  EXPECT_TRUE(t.a.echo_replies().empty());
  EXPECT_GE(t.a.interfaces()[1].counters.tx_dropped, 1u);
  EXPECT_GE(drops(t.a, "eth.link_down"), 1u);
  EXPECT_EQ(stat(*t.ends.second, "rx_packets"), 1u);  // only A's gratuitous ARP at set-up
  t.b.set_link_up(t.ib, true);
  EXPECT_TRUE(t.a.interfaces()[1].carrier);
  ASSERT_FALSE(t.a.send_echo(ip("10.1.0.2"), 1, 2));
  t.sched.run_for(s_to_ps(2));  // behind the ARP retry the first echo started
  // Both echoes waited for ARP (the first one's request was dropped while the
  // link was down), and both went once the retry was answered.
  ASSERT_EQ(t.a.echo_replies().size(), 2u);
  EXPECT_EQ(t.a.echo_replies()[1].seq, 2);
}

TEST(Veth, AFrameOverThePeersMtuIsDroppedOnTheSender) {
  VethPair t;
  t.ends.first->set_mtu(9000);  // A may send jumbo frames; B still takes 1500
  EXPECT_EQ(t.a.interfaces()[1].mtu, 9000u);
  auto rx = t.b.udp_socket();
  ASSERT_FALSE(rx->bind(Ipv4Addr{}, 9));
  auto tx = t.a.udp_socket();
  ASSERT_FALSE(tx->sendto(Bytes(4000, 1), ip("10.1.0.2"), 9));  // one 4028-byte datagram, no fragments
  ASSERT_FALSE(tx->sendto(Bytes(1472, 2), ip("10.1.0.2"), 9));  // exactly 1500
  t.sched.run_for(us_to_ps(10));
  const auto d = rx->recvfrom();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data.size(), 1472u);
  EXPECT_FALSE(rx->recvfrom());
  EXPECT_EQ(stat(*t.ends.first, "tx_drop_peer_mtu"), 1u);
  EXPECT_THROW(t.ends.first->set_mtu(67), std::invalid_argument);
  EXPECT_THROW(t.ends.first->set_mtu(9001), std::invalid_argument);
}

TEST(Veth, DestroyingOneEndLeavesThePeerWithoutCarrier) {
  FakeScheduler sched;
  HostMemory mem(16u << 20);
  BufferPool pool(mem, VethDevice::kBufSize, 64);
  auto [x, y] = VethDevice::make_pair(sched, pool, kMacA, kMacB);
  stack::Stack a(sched, "a");
  const int ia = a.add_interface(*x, "veth0");
  a.add_address(ia, ip("10.1.0.1"), 24);
  {
    stack::Stack b(sched, "b");
    b.add_address(b.add_interface(*y, "veth1"), ip("10.1.0.2"), 24);
    // A frame in flight to B when B's end goes.
    ASSERT_FALSE(a.send_echo(ip("10.1.0.2"), 1, 1));
    b.remove_interface(1);
    y.reset();
  }
  EXPECT_EQ(x->peer(), nullptr);
  EXPECT_FALSE(a.interfaces()[1].carrier);
  ASSERT_FALSE(a.send_echo(ip("10.1.0.2"), 1, 2));  // queued behind ARP, which cannot go out
  sched.run_for(s_to_ps(5));
  EXPECT_TRUE(a.echo_replies().empty());
  EXPECT_GE(drops(a, "eth.link_down"), 1u);
  EXPECT_EQ(stat(*x, "tx_drop_no_carrier"), 0u);  // the stack did not hand it any
}

TEST(Veth, APoolWithSmallBuffersIsRefused) {
  FakeScheduler sched;
  HostMemory mem(1u << 20);
  BufferPool small(mem, 2048, 16);
  EXPECT_THROW(VethDevice::make_pair(sched, small, kMacA, kMacB), std::invalid_argument);
}

}  // namespace
}  // namespace vd::test
