// The in-host learning bridge: a host stack with br0 and three container
// stacks, each joined to a bridge port by a veth pair (the classic
// container host). Learning, forwarding, flooding, filtering, ageing and
// br0's own address are checked, and TCP through the bridge moves buffers
// without a copy.
#include "test_util.hpp"
#include "veridian/stack/bridge.hpp"
#include "veridian/stack/veth.hpp"

namespace vd::test {
namespace {

using stack::BridgeDevice;
using stack::VethDevice;

MacAddr mac_n(std::uint8_t n) { return MacAddr{0x02, 0x00, 0x00, 0x00, 0x01, n}; }

// host: br0 = 10.0.0.1/24 (MAC ..:01:00); container k (k = 0, 1, 2):
// eth0 = 10.0.0.(k+2)/24 with MAC ..:01:(2k+1), its peer on the bridge
// ..:01:(2k+2). Pool, devices and bridge before the stacks.
struct ContainerHost {
  explicit ContainerHost(stack::BridgeConfig cfg = {})
      : mem(64u << 20), pool(mem, VethDevice::kBufSize, 1024), br(sched, pool, mac_n(0), cfg), host(sched, "host") {
    for (std::uint8_t k = 0; k < 3; ++k) {
      veths.push_back(VethDevice::make_pair(sched, pool, mac_n(std::uint8_t(2 * k + 1)), mac_n(std::uint8_t(2 * k + 2))));
      br.add_port(*veths.back().second);
    }
    for (std::size_t k = 0; k < 3; ++k) {
      containers.push_back(std::make_unique<stack::Stack>(sched, "c" + std::to_string(k)));
      const int i = containers[k]->add_interface(*veths[k].first, "eth0");
      containers[k]->add_address(i, Ipv4Addr::from_u32(0x0a000002u + std::uint32_t(k)), 24);
    }
    const int b = host.add_interface(br, "br0");
    host.add_address(b, ip("10.0.0.1"), 24);
    sched.run_for(us_to_ps(10));  // gratuitous ARP from everyone
  }
  stack::Stack& c(std::size_t k) { return *containers[k]; }
  FakeScheduler sched;
  HostMemory mem;
  BufferPool pool;
  std::vector<std::pair<std::unique_ptr<VethDevice>, std::unique_ptr<VethDevice>>> veths;
  BridgeDevice br;
  stack::Stack host;
  std::vector<std::unique_ptr<stack::Stack>> containers;
};

bool ping(FakeScheduler& sched, stack::Stack& from, const char* dst) {
  const std::size_t seen = from.echo_replies().size();
  if (from.send_echo(ip(dst), 7, 1, 56, 0)) return false;
  sched.run_for(ms_to_ps(1));
  return from.echo_replies().size() > seen;
}

TEST(Bridge, ContainersReachEachOtherAndTheHostThroughIt) {
  ContainerHost t;
  EXPECT_EQ(t.host.interfaces()[1].kind, "bridge");
  EXPECT_TRUE(t.host.interfaces()[1].carrier);
  EXPECT_TRUE(ping(t.sched, t.c(0), "10.0.0.3"));  // container to container
  EXPECT_TRUE(ping(t.sched, t.c(2), "10.0.0.1"));  // container to br0's own address
  EXPECT_TRUE(ping(t.sched, t.host, "10.0.0.4"));  // host to container
  // Every station was learnt on its own port; br0's own MAC is not in the table.
  const auto fdb = t.br.fdb();
  ASSERT_EQ(fdb.size(), 3u);
  for (unsigned k = 0; k < 3; ++k) {
    EXPECT_EQ(fdb[k].mac, mac_n(std::uint8_t(2 * k + 1)));
    EXPECT_EQ(fdb[k].port, k);
  }
  EXPECT_GT(t.br.bridge_stats().forwarded, 0u);
  EXPECT_GT(t.br.bridge_stats().flooded, 0u);  // the ARP requests
}

TEST(Bridge, KnownUnicastGoesToOnePortOnly) {
  ContainerHost t;
  ASSERT_TRUE(ping(t.sched, t.c(0), "10.0.0.3"));  // learn 0 and 1
  const auto rx2 = t.veths[2].first->stats().at("rx_packets");
  const auto flooded = t.br.bridge_stats().flooded;
  auto rx = t.c(1).udp_socket();
  ASSERT_FALSE(rx->bind(Ipv4Addr{}, 9));
  auto tx = t.c(0).udp_socket();
  for (int i = 0; i < 10; ++i) ASSERT_FALSE(tx->sendto(to_bytes("hello"), ip("10.0.0.3"), 9));
  t.sched.run_for(us_to_ps(10));
  int got = 0;
  while (rx->recvfrom()) ++got;
  EXPECT_EQ(got, 10);
  EXPECT_EQ(t.veths[2].first->stats().at("rx_packets"), rx2);  // container 2 saw none of it
  EXPECT_EQ(t.br.bridge_stats().flooded, flooded);
}

TEST(Bridge, TcpThroughTheBridgeMovesBuffers) {
  ContainerHost t;
  auto l = t.c(1).tcp_socket();
  ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(l->listen());
  auto c = t.c(0).tcp_socket();
  ASSERT_FALSE(c->connect(ip("10.0.0.3"), 80));
  t.sched.run_for(us_to_ps(10));
  auto s = l->accept();
  ASSERT_TRUE(s);
  const std::uint64_t copied = t.pool.stats().bytes_copied_in;
  const std::uint64_t copies = t.br.bridge_stats().copies;  // the ARP floods made some
  const Bytes data = seeded_bytes(1 << 20, 9);
  EXPECT_EQ(tcp_transfer(t.sched, *c, *s, data), data);
  // Only the copy into the socket's send buffer: the bridge copied nothing.
  EXPECT_EQ(t.pool.stats().bytes_copied_in - copied, data.size());
  EXPECT_EQ(t.br.bridge_stats().copies, copies);
}

TEST(Bridge, StationsAgeOutAndAMovedStationIsRelearnt) {
  stack::BridgeConfig cfg;
  cfg.ageing = s_to_ps(10);
  ContainerHost t(cfg);
  ASSERT_TRUE(ping(t.sched, t.c(0), "10.0.0.3"));
  EXPECT_EQ(t.br.fdb().size(), 3u);  // everyone's gratuitous ARP taught it
  // ARP's unicast reachability probe 5 s after the ping refreshes two of
  // them; nothing is heard after that.
  t.sched.run_for(s_to_ps(16));
  EXPECT_TRUE(t.br.fdb().empty());
  EXPECT_EQ(t.br.fdb_stats().aged_out, 3u);
  // A port leaving forgets its stations.
  ASSERT_TRUE(ping(t.sched, t.c(0), "10.0.0.3"));
  t.br.remove_port(*t.veths[1].second);
  EXPECT_EQ(t.br.port_count(), 2u);
  for (const auto& e : t.br.fdb()) EXPECT_NE(e.port, 1u);
  EXPECT_FALSE(ping(t.sched, t.c(0), "10.0.0.3"));  // container 1 is cut off
  EXPECT_THROW(t.br.remove_port(*t.veths[1].second), std::invalid_argument);
  EXPECT_THROW(t.br.add_port(t.br), std::invalid_argument);
  EXPECT_THROW(t.br.add_port(*t.veths[0].second), std::invalid_argument);
}

TEST(Bridge, ADownBridgeForwardsNothingAndCarrierFollowsThePorts) {
  ContainerHost t;
  t.host.set_link_up(1, false);
  EXPECT_FALSE(ping(t.sched, t.c(0), "10.0.0.3"));
  EXPECT_GT(t.br.bridge_stats().drop_down, 0u);
  FakeScheduler sched;
  HostMemory mem(1u << 20);
  BufferPool pool(mem, VethDevice::kBufSize, 4);
  BridgeDevice lonely(sched, pool, mac_n(9));
  EXPECT_TRUE(lonely.carrier());  // no ports: LOWER_UP, as Linux shows it
  auto [x, y] = VethDevice::make_pair(sched, pool, mac_n(10), mac_n(11));
  lonely.add_port(*x);
  EXPECT_FALSE(lonely.carrier());  // one port, its peer down
  y->set_admin_up(true);
  EXPECT_TRUE(lonely.carrier());
  lonely.remove_port(*x);  // the ends go before the bridge
  EXPECT_THROW(BridgeDevice(sched, pool, mac_n(9), stack::BridgeConfig{s_to_ps(300), 4096, 20}), std::invalid_argument);
}

}  // namespace
}  // namespace vd::test
