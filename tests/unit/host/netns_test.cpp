// A host's network namespaces: each a stack of its own (addresses, port
// spaces, settings), veth pairs between them, interfaces moving between
// them, and deletion that closes sockets, returns NICs and leaks no buffer.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "veridian/sim/simulation.hpp"

using vd::TimePs;
using vd::sim::Host;
using vd::sim::NetNamespace;
using vd::sim::NicSpec;
using vd::sim::Simulation;
using vd::stack::Ipv4Addr;
using vd::stack::TcpSocket;
using Bytes = std::vector<std::uint8_t>;

namespace {

Ipv4Addr ip(const char* s) { return Ipv4Addr::parse(s).value(); }

Bytes seeded(std::size_t n, unsigned seed) {
  Bytes b(n);
  std::mt19937 g(seed);
  for (auto& x : b) x = static_cast<std::uint8_t>(g());
  return b;
}

// Sends `data` from one connected socket to the other, running the
// simulation in 20 us steps; returns what arrived within a simulated minute.
Bytes transfer(Simulation& sim, TcpSocket& from, TcpSocket& to, const Bytes& data) {
  Bytes got;
  std::size_t off = 0;
  std::vector<std::uint8_t> buf(64 * 1024);
  const TimePs end = sim.now() + vd::s_to_ps(60);
  while (got.size() < data.size() && sim.now() < end) {
    std::error_code ec;
    if (off < data.size()) off += from.send(std::span(data).subspan(off), ec);
    EXPECT_FALSE(ec) << ec.message();
    sim.run_for(vd::us_to_ps(20));
    for (std::size_t k; (k = to.recv(buf, ec)) > 0;) got.insert(got.end(), buf.begin(), buf.begin() + std::ptrdiff_t(k));
  }
  return got;
}

// A connection from `client_ns` to dst:port, accepted in `server_ns`.
struct Conn {
  std::shared_ptr<TcpSocket> listener, client, server;
};
Conn connect(Simulation& sim, NetNamespace& client_ns, NetNamespace& server_ns, Ipv4Addr dst, std::uint16_t port) {
  Conn c;
  c.listener = server_ns.stack().tcp_socket();
  EXPECT_FALSE(c.listener->bind(Ipv4Addr{}, port));
  EXPECT_FALSE(c.listener->listen());
  c.client = client_ns.stack().tcp_socket();
  EXPECT_FALSE(c.client->connect(dst, port));
  sim.run_until([&] { return c.listener->pending_accepts() > 0; }, vd::ms_to_ps(100));
  c.server = c.listener->accept();
  EXPECT_NE(c.server, nullptr) << "no connection to " << dst.str() << ":" << port;
  return c;
}

// One host, namespace "blue" joined to the root by veth vb0 (root,
// 10.1.0.1/24) and eth0 (blue, 10.1.0.2/24).
struct BlueHost {
  Simulation sim;
  Host& h = sim.add_host("h", NicSpec{});
  std::shared_ptr<NetNamespace> blue = h.add_namespace("blue");
  BlueHost() {
    const auto [root_if, blue_if] = h.add_veth("vb0", "", "eth0", "blue");
    h.stack().add_address(root_if, ip("10.1.0.1"), 24);
    blue->stack().add_address(blue_if, ip("10.1.0.2"), 24);
  }
};

TEST(Namespaces, ANewNamespaceHasOnlyLoopback) {
  Simulation sim;
  Host& h = sim.add_host("h", NicSpec{});
  auto ns = h.add_namespace("blue");
  const auto ifs = ns->stack().interfaces();
  ASSERT_EQ(ifs.size(), 1u);
  EXPECT_EQ(ifs[0].name, "lo");
  EXPECT_EQ(ns->default_ifindex(), vd::stack::Stack::kLoopbackIfindex);
  EXPECT_EQ(h.namespace_names(), std::vector<std::string>{"blue"});
  // Its own loopback answers; the root namespace's NIC is not its own.
  EXPECT_TRUE(sim.ping(*ns, ip("127.0.0.1"), 1, vd::ms_to_ps(10))[0].has_value());
  EXPECT_EQ(h.root().default_ifindex(), h.ifindex(0));
}

TEST(Namespaces, TcpAcrossAVethBetweenRootAndANamespace) {
  BlueHost t;
  Conn c = connect(t.sim, t.h.root(), *t.blue, ip("10.1.0.2"), 80);
  ASSERT_TRUE(c.server);
  const Bytes data = seeded(1 << 20, 7);
  EXPECT_EQ(transfer(t.sim, *c.client, *c.server, data), data);
  // Each side's counters are its own: blue received on its eth0.
  const auto blue_eth0 = t.blue->stack().interfaces()[1];
  EXPECT_EQ(blue_eth0.name, "eth0");
  EXPECT_GT(blue_eth0.counters.rx_bytes, data.size());
  EXPECT_EQ(t.h.stack().interfaces()[1].name, "eth0");  // the root's NIC keeps its own eth0
}

TEST(Namespaces, PortSpacesAndLoopbacksAreSeparate) {
  Simulation sim;
  Host& h = sim.add_host("h", NicSpec{});
  auto blue = h.add_namespace("blue");
  auto red = h.add_namespace("red");
  // The same address and port in both: no conflict.
  Conn b = connect(sim, *blue, *blue, ip("127.0.0.1"), 80);
  auto red_listener = red->stack().tcp_socket();
  ASSERT_FALSE(red_listener->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(red_listener->listen());
  ASSERT_TRUE(b.server);
  sim.run_for(vd::ms_to_ps(10));
  EXPECT_EQ(red_listener->pending_accepts(), 0u);  // blue's connection never reached red
  const Bytes data = seeded(100000, 3);
  EXPECT_EQ(transfer(sim, *b.client, *b.server, data), data);
  EXPECT_EQ(red->stack().interfaces()[0].counters.tx_packets, 0u);
  EXPECT_GT(blue->stack().interfaces()[0].counters.tx_packets, 0u);
}

TEST(Namespaces, SettingsArePerNamespace) {
  Simulation sim;
  Host& h = sim.add_host("h", NicSpec{});
  vd::stack::StackConfig cfg;
  cfg.default_ttl = 17;
  cfg.ip_forward = true;
  auto router = h.add_namespace("router", cfg);
  EXPECT_TRUE(router->stack().config().ip_forward);
  EXPECT_FALSE(h.stack().config().ip_forward);
  EXPECT_EQ(router->stack().config().default_ttl, 17);
  EXPECT_EQ(h.stack().config().default_ttl, 64);
}

TEST(Namespaces, DeletingANamespaceClosesItsSocketsAndFreesItsBuffers) {
  BlueHost t;
  Conn c = connect(t.sim, t.h.root(), *t.blue, ip("10.1.0.2"), 80);
  ASSERT_TRUE(c.server);
  const auto* pool = t.h.veth_pool();
  ASSERT_NE(pool, nullptr);
  const std::size_t free_before = pool->available();
  // Mid-transfer: data queued in blue's receive buffer and in flight.
  std::error_code ec;
  const Bytes data = seeded(200000, 5);
  c.client->send(data, ec);
  t.sim.run_for(vd::us_to_ps(30));
  ASSERT_LT(pool->available(), free_before);
  t.h.delete_namespace("blue");
  EXPECT_TRUE(t.blue->deleted());
  EXPECT_THROW(t.blue->stack(), std::logic_error);
  EXPECT_TRUE(t.h.namespace_names().empty());
  // The veth went with it, both ends: the root has lo and eth0 again.
  ASSERT_EQ(t.h.stack().interfaces().size(), 2u);
  // Blue's socket is closed: its user gets an error, not a crash.
  std::vector<std::uint8_t> buf(100);
  EXPECT_EQ(c.server->recv(buf, ec), 0u);
  EXPECT_TRUE(ec);
  // The root's end finds its route gone and gives up; nothing is held.
  t.sim.run_for(vd::s_to_ps(2));
  c.client->abort();
  t.sim.run_for(vd::ms_to_ps(1));
  EXPECT_EQ(pool->available(), pool->capacity());
}

TEST(Namespaces, MovingANicAndDeletingItsNamespaceReturnsIt) {
  Simulation sim;
  Host& a = sim.add_host("a", NicSpec{});
  Host& b = sim.add_host("b", NicSpec{});
  sim.connect(a, b, vd::sim::LinkConfig{});
  b.stack().add_address(b.ifindex(), ip("10.0.0.2"), 24);
  auto blue = a.add_namespace("blue");
  const int idx = a.move_interface("", "eth0", "blue");
  EXPECT_EQ(&a.nic_namespace(0), blue.get());
  EXPECT_EQ(a.ifindex(0), idx);
  EXPECT_FALSE(a.stack().ifindex_of("eth0"));
  blue->stack().add_address(idx, ip("10.0.0.1"), 24);
  EXPECT_TRUE(sim.ping(*blue, ip("10.0.0.2"), 1, vd::ms_to_ps(10))[0].has_value());
  EXPECT_THROW((void)sim.ping(a, ip("10.0.0.2"), 1, vd::ms_to_ps(10)), std::system_error);  // root has no route now
  a.delete_namespace("blue");
  EXPECT_EQ(&a.nic_namespace(0), &a.root());
  const auto back = a.stack().ifindex_of("eth0");
  ASSERT_TRUE(back);
  EXPECT_EQ(a.ifindex(0), *back);
  for (const auto& i : a.stack().interfaces())
    if (i.ifindex == *back) {
      EXPECT_TRUE(i.addrs.empty()) << "a NIC comes home with no addresses";
    }
  a.stack().add_address(*back, ip("10.0.0.1"), 24);
  EXPECT_TRUE(sim.ping(a, ip("10.0.0.2"), 1, vd::ms_to_ps(10))[0].has_value());
}

TEST(Namespaces, AVethEndMovesAndDeletingOneEndDeletesBoth) {
  Simulation sim;
  Host& h = sim.add_host("h", NicSpec{});
  auto blue = h.add_namespace("blue");
  auto red = h.add_namespace("red");
  h.add_veth("x", "blue", "y", "blue");  // both ends in one namespace
  const int y = h.move_interface("blue", "y", "red");
  EXPECT_FALSE(blue->stack().ifindex_of("y"));
  EXPECT_EQ(red->stack().ifindex_of("y"), y);
  ASSERT_NE(h.veth("red", "y"), nullptr);
  EXPECT_EQ(h.veth("red", "y")->peer(), h.veth("blue", "x"));
  blue->stack().add_address(*blue->stack().ifindex_of("x"), ip("10.3.0.1"), 24);
  red->stack().add_address(y, ip("10.3.0.2"), 24);
  EXPECT_TRUE(sim.ping(*blue, ip("10.3.0.2"), 1, vd::ms_to_ps(10))[0].has_value());
  h.delete_interface("red", "y");
  EXPECT_FALSE(red->stack().ifindex_of("y"));
  EXPECT_FALSE(blue->stack().ifindex_of("x"));
}

TEST(Namespaces, BadRequestsAreRefusedAndChangeNothing) {
  Simulation sim;
  Host& h = sim.add_host("h", NicSpec{});
  auto blue = h.add_namespace("blue");
  EXPECT_THROW(h.add_namespace("blue"), std::invalid_argument);
  EXPECT_THROW(h.add_namespace(""), std::invalid_argument);
  EXPECT_THROW(h.add_namespace("a/b"), std::invalid_argument);
  EXPECT_THROW(h.add_namespace(std::string(65, 'n')), std::invalid_argument);
  EXPECT_THROW(h.delete_namespace(""), std::invalid_argument);
  EXPECT_THROW(h.delete_namespace("green"), std::out_of_range);
  EXPECT_THROW(h.find_namespace("green"), std::out_of_range);
  // A veth to itself, a taken name, a bad name, a missing namespace.
  EXPECT_THROW(h.add_veth("v", "blue", "v", "blue"), std::invalid_argument);
  EXPECT_THROW(h.add_veth("eth0", "", "v1", "blue"), std::invalid_argument);
  EXPECT_THROW(h.add_veth("v0", "", "way-too-long-name", "blue"), std::invalid_argument);
  EXPECT_THROW(h.add_veth("v0", "", "v1", "green"), std::out_of_range);
  EXPECT_EQ(h.veth_pool(), nullptr);  // nothing was made
  EXPECT_EQ(blue->stack().interfaces().size(), 1u);
  // Moving lo, a VLAN, a NIC with a VLAN, an interface that is not there.
  EXPECT_THROW(h.move_interface("", "lo", "blue"), std::invalid_argument);
  const int vlan = h.stack().add_vlan(h.ifindex(), 10);
  EXPECT_THROW(h.move_interface("", "eth0.10", "blue"), std::invalid_argument);
  EXPECT_THROW(h.move_interface("", "eth0", "blue"), std::invalid_argument);
  EXPECT_THROW(h.move_interface("", "eth9", "blue"), std::out_of_range);
  // Deleting a NIC or lo.
  EXPECT_THROW(h.delete_interface("", "eth0"), std::invalid_argument);
  EXPECT_THROW(h.delete_interface("blue", "lo"), std::invalid_argument);
  h.delete_interface("", "eth0.10");  // a VLAN may go
  EXPECT_FALSE(h.stack().ifindex_of("eth0.10"));
  EXPECT_THROW(h.stack().add_address(vlan, ip("10.9.0.1"), 24), std::invalid_argument);  // a deleted interface
  // A name taken where it would arrive.
  h.add_veth("eth0", "blue", "pb", "");
  EXPECT_THROW(h.move_interface("", "eth0", "blue"), std::invalid_argument);
  EXPECT_EQ(h.stack().ifindex_of("eth0"), h.ifindex(0));
}

TEST(Namespaces, ManyNamespacesComeAndGo) {
  Simulation sim;
  Host& h = sim.add_host("h", NicSpec{});
  for (int i = 0; i < 200; ++i) {
    auto ns = h.add_namespace("c" + std::to_string(i));
    h.add_veth("v" + std::to_string(i), "", "eth0", ns->name());
  }
  EXPECT_EQ(h.namespace_names().size(), 200u);
  EXPECT_EQ(h.stack().interfaces().size(), 202u);  // lo, eth0 and 200 veth ends
  for (int i = 0; i < 200; i += 2) h.delete_namespace("c" + std::to_string(i));
  EXPECT_EQ(h.namespace_names().size(), 100u);
  EXPECT_EQ(h.stack().interfaces().size(), 102u);
}

}  // namespace

namespace {

// The classic container host: NIC eth0 and one veth per container on
// bridge br0 (10.0.0.1/24); containers c0..c2 at 10.0.0.10-12; a peer host
// on the NIC's cable at 10.0.0.2.
struct ContainerHost {
  Simulation sim;
  Host& h = sim.add_host("h", NicSpec{});
  Host& peer = sim.add_host("peer", NicSpec{});
  std::vector<std::shared_ptr<NetNamespace>> c;
  ContainerHost() {
    sim.connect(h, peer, vd::sim::LinkConfig{});
    peer.stack().add_address(peer.ifindex(), ip("10.0.0.2"), 24);
    const int br = h.add_bridge("", "br0");
    h.set_master("", "eth0", "br0");
    for (int k = 0; k < 3; ++k) {
      const std::string name = "c" + std::to_string(k);
      c.push_back(h.add_namespace(name));
      const auto [root_if, ns_if] = h.add_veth("veth" + std::to_string(k), "", "eth0", name);
      (void)root_if;
      h.set_master("", "veth" + std::to_string(k), "br0");
      c.back()->stack().add_address(ns_if, Ipv4Addr::from_u32(0x0a00000au + std::uint32_t(k)), 24);
    }
    h.stack().add_address(br, ip("10.0.0.1"), 24);
  }
};

TEST(Bridges, AContainerHostReachesTheWireAndItsContainers) {
  ContainerHost t;
  EXPECT_EQ(t.h.bridge_ports("", "br0"), (std::vector<std::string>{"eth0", "veth0", "veth1", "veth2"}));
  // Ports are not interfaces of the stack any more: lo and br0 are.
  ASSERT_EQ(t.h.stack().interfaces().size(), 2u);
  EXPECT_EQ(t.h.stack().interfaces()[1].kind, "bridge");
  EXPECT_TRUE(t.h.stack().interfaces()[1].carrier);
  EXPECT_TRUE(t.sim.ping(*t.c[0], ip("10.0.0.2"), 1, vd::ms_to_ps(10))[0].has_value());  // out the NIC
  EXPECT_TRUE(t.sim.ping(t.peer, ip("10.0.0.12"), 1, vd::ms_to_ps(10))[0].has_value());  // in from the wire
  EXPECT_TRUE(t.sim.ping(*t.c[1], ip("10.0.0.10"), 1, vd::ms_to_ps(10))[0].has_value());  // container to container
  EXPECT_TRUE(t.sim.ping(t.h, ip("10.0.0.11"), 1, vd::ms_to_ps(10))[0].has_value());     // br0 to a container
  // TCP from a container to the peer across the bridge and the NIC.
  Conn conn = connect(t.sim, *t.c[2], t.peer.root(), ip("10.0.0.2"), 80);
  ASSERT_TRUE(conn.server);
  const Bytes data = seeded(1 << 20, 11);
  EXPECT_EQ(transfer(t.sim, *conn.client, *conn.server, data), data);
  EXPECT_GE(t.h.bridge("", "br0")->fdb().size(), 4u);  // three containers and the peer
}

TEST(Bridges, DeletingAContainerRemovesItsPortAndReleasingGivesTheNicBack) {
  ContainerHost t;
  t.h.delete_namespace("c1");
  EXPECT_EQ(t.h.bridge_ports("", "br0"), (std::vector<std::string>{"eth0", "veth0", "veth2"}));
  EXPECT_TRUE(t.sim.ping(*t.c[0], ip("10.0.0.12"), 1, vd::ms_to_ps(10))[0].has_value());
  const int eth0 = t.h.set_nomaster("", "eth0");
  EXPECT_EQ(t.h.ifindex(0), eth0);
  EXPECT_EQ(t.h.stack().ifindex_of("eth0"), eth0);
  EXPECT_FALSE(t.sim.ping(*t.c[0], ip("10.0.0.2"), 1, vd::ms_to_ps(10))[0].has_value());  // the wire is gone from br0
  // Bad requests.
  EXPECT_THROW(t.h.set_master("", "lo", "br0"), std::invalid_argument);
  EXPECT_THROW(t.h.set_master("", "br0", "br0"), std::invalid_argument);
  EXPECT_THROW(t.h.set_master("", "eth0", "br9"), std::out_of_range);
  EXPECT_THROW(t.h.set_master("", "veth0", "br0"), std::invalid_argument);  // a port already
  EXPECT_THROW(t.h.set_nomaster("", "eth0"), std::out_of_range);           // not a port now
  EXPECT_THROW(t.h.add_bridge("", "br0"), std::invalid_argument);
  EXPECT_THROW(t.h.move_interface("", "br0", "c0"), std::invalid_argument);
  // Deleting br0 gives its ports back as interfaces.
  t.h.delete_interface("", "br0");
  EXPECT_TRUE(t.h.stack().ifindex_of("veth0"));
  EXPECT_TRUE(t.h.stack().ifindex_of("veth2"));
  EXPECT_FALSE(t.h.stack().ifindex_of("br0"));
}

}  // namespace
