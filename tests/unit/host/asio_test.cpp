// The Boost.Asio layer with plain callbacks: connect/accept, composed
// async_write/async_read, end of stream, connection refused, and timers on
// the simulation clock (expiry and cancel).
#include <utility>  // Boost 1.74 needs std::exchange declared first

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "asio_pair.hpp"
#include "veridian/net/asio.hpp"

namespace vd {
namespace {

namespace asio = boost::asio;

using Pair = test::AsioPair;

TEST(Asio, CallbacksConnectAcceptWriteReadEof) {
  Pair p;
  net::tcp_socket lst(p.io, p.b->stack());
  ASSERT_FALSE(lst.bind({}, 80));
  ASSERT_FALSE(lst.listen());
  std::optional<net::tcp_socket> server;
  net::tcp_socket client(p.io, p.a->stack());
  bool connected = false, accepted = false;
  lst.async_accept([&](net::error_code ec, net::tcp_socket s) {
    EXPECT_FALSE(ec);
    server.emplace(std::move(s));
    accepted = true;
  });
  client.async_connect(Pair::ip("10.0.0.2"), 80, [&](net::error_code ec) {
    EXPECT_FALSE(ec) << ec.message();
    connected = true;
  });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return connected && accepted; }, ms_to_ps(10)));
  std::vector<char> out(300000), in(300000);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(i * 7);
  bool wrote = false, read = false, eof = false;
  asio::async_write(client, asio::buffer(out), [&](net::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, out.size());
    client.shutdown_write();
    wrote = true;
  });
  asio::async_read(*server, asio::buffer(in), [&](net::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, in.size());
    read = true;
    static char one;
    server->async_read_some(asio::buffer(&one, 1), [&](net::error_code ec2, std::size_t m) {
      EXPECT_EQ(ec2, asio::error::eof);
      EXPECT_EQ(m, 0u);
      eof = true;
    });
  });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return wrote && read && eof; }, ms_to_ps(100)));
  EXPECT_EQ(in, out);
}

// IPv6: a listener on "::" accepts, async_connect takes an Ipv6Addr or an
// address string, endpoints come back as IPv6 strings; 300 kB each way goes
// through the SoftNic's TSO and checksum offload over IPv6.
TEST(Asio, TcpOverIpv6ConnectAcceptAndData) {
  Pair p;
  p.a->stack().add_address6(p.a->ifindex(), stack::Ipv6Addr::parse("2001:db8::a").value(), 64);
  p.b->stack().add_address6(p.b->ifindex(), stack::Ipv6Addr::parse("2001:db8::b").value(), 64);
  net::run(p.s, p.io, [] { return false; }, s_to_ps(2));  // DAD
  net::tcp_socket lst(p.io, p.b->stack());
  ASSERT_FALSE(lst.bind({"::", 80}));
  ASSERT_FALSE(lst.listen());
  std::vector<net::tcp_socket> servers;
  lst.async_accept([&](net::error_code ec, net::tcp_socket s) {
    EXPECT_FALSE(ec);
    servers.push_back(std::move(s));
    lst.async_accept([&](net::error_code ec2, net::tcp_socket s2) {
      EXPECT_FALSE(ec2);
      servers.push_back(std::move(s2));
    });
  });
  net::tcp_socket c1(p.io, p.a->stack()), c2(p.io, p.a->stack());
  int connected = 0;
  c1.async_connect(stack::Ipv6Addr::parse("2001:db8::b").value(), 80, [&](net::error_code ec) {
    EXPECT_FALSE(ec) << ec.message();
    ++connected;
  });
  c2.async_connect(net::tcp_socket::endpoint{"2001:db8::b", 80}, [&](net::error_code ec) {
    EXPECT_FALSE(ec) << ec.message();
    ++connected;
  });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return connected == 2 && servers.size() == 2; }, ms_to_ps(20)));
  EXPECT_TRUE(c1.native().is_v6());
  EXPECT_EQ(c1.remote_endpoint().addr, "2001:db8::b");
  EXPECT_EQ(c1.local_endpoint().addr, "2001:db8::a");
  EXPECT_EQ(servers[0].remote_endpoint().addr, "2001:db8::a");
  EXPECT_EQ(servers[0].local_endpoint().port, 80);
  std::vector<char> out(300000), in(300000), back(300000);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(i * 13 + 1);
  auto& srv = servers[0].remote_endpoint().port == c1.local_endpoint().port ? servers[0] : servers[1];
  bool wrote = false, read = false, echoed = false;
  asio::async_write(c1, asio::buffer(out), [&](net::error_code ec, std::size_t) { wrote = !ec; });
  asio::async_read(srv, asio::buffer(in), [&](net::error_code ec, std::size_t) {
    read = !ec;
    asio::async_write(srv, asio::buffer(in), [](net::error_code, std::size_t) {});
    asio::async_read(c1, asio::buffer(back), [&](net::error_code ec2, std::size_t) { echoed = !ec2; });
  });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return wrote && read && echoed; }, ms_to_ps(200)));
  EXPECT_EQ(in, out);
  EXPECT_EQ(back, out);
  EXPECT_GT(c1.native().info().tso_sends, 0u);  // TSO over IPv6 on the SoftNic
  // A v4 connect on the IPv6-bound socket, and a bad address string.
  net::tcp_socket v6only(p.io, p.a->stack());
  ASSERT_FALSE(v6only.bind({"::", 0}));
  net::error_code fam, bad;
  int done = 0;
  v6only.async_connect(Pair::ip("10.0.0.2"), 80, [&](net::error_code ec) { fam = ec, ++done; });
  net::tcp_socket other(p.io, p.a->stack());
  other.async_connect(net::tcp_socket::endpoint{"2001:db8::zz", 80}, [&](net::error_code ec) { bad = ec, ++done; });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return done == 2; }, ms_to_ps(1)));
  EXPECT_EQ(fam, boost::system::errc::address_family_not_supported);
  EXPECT_EQ(bad, boost::system::errc::invalid_argument);
}

TEST(Asio, ConnectRefusedAndTimers) {
  Pair p;
  net::tcp_socket client(p.io, p.a->stack());
  net::error_code got;
  bool done = false;
  client.async_connect(Pair::ip("10.0.0.2"), 81, [&](net::error_code ec) {
    got = ec;
    done = true;
  });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return done; }, ms_to_ps(10)));
  EXPECT_EQ(got.value(), static_cast<int>(std::errc::connection_refused));
  // A timer fires at its simulated time; a cancelled one reports operation_aborted.
  net::sim_timer t1(p.io, p.s.events()), t2(p.io, p.s.events());
  const TimePs start = p.s.now();
  TimePs fired_at = 0;
  net::error_code c2;
  bool f1 = false, f2 = false;
  t1.expires_after(std::chrono::milliseconds(3));
  t1.async_wait([&](net::error_code ec) {
    EXPECT_FALSE(ec);
    fired_at = p.s.now();
    f1 = true;
  });
  t2.expires_after(std::chrono::seconds(10));
  t2.async_wait([&](net::error_code ec) {
    c2 = ec;
    f2 = true;
  });
  t2.cancel();
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return f1 && f2; }, s_to_ps(1)));
  EXPECT_EQ(fired_at - start, ms_to_ps(3));
  EXPECT_EQ(c2, asio::error::operation_aborted);
}

}  // namespace
}  // namespace vd

namespace vd {
namespace {

TEST(Asio, UdpSendToReceiveFromBothFamilies) {
  asio::io_context io;
  sim::Simulation s{1};
  sim::NicSpec spec;
  auto& a = s.add_host("a", spec);
  auto& b = s.add_host("b", spec);
  s.connect(a, b, sim::LinkConfig{100.0, ns_to_ps(500)});
  a.stack().add_address(a.ifindex(), stack::Ipv4Addr::parse("10.0.0.1").value(), 24);
  b.stack().add_address(b.ifindex(), stack::Ipv4Addr::parse("10.0.0.2").value(), 24);
  net::udp_socket rx4(io, b.stack()), tx4(io, a.stack());
  ASSERT_FALSE(rx4.bind({"0.0.0.0", 9}));
  char buf[64] = {};
  net::udp_socket::endpoint from;
  std::size_t got = 0;
  bool sent = false;
  rx4.async_receive_from(asio::buffer(buf), from, [&](net::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    got = n;
  });
  tx4.async_send_to(asio::buffer("hello", 5), {"10.0.0.2", 9}, [&](net::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 5u);
    sent = true;
  });
  ASSERT_TRUE(net::run(s, io, [&] { return got > 0 && sent; }, ms_to_ps(10)));
  EXPECT_EQ(std::string(buf, got), "hello");
  EXPECT_EQ(from.addr, "10.0.0.1");
  // A bad address is an error, not a crash.
  net::error_code bad;
  bool done = false;
  tx4.async_send_to(asio::buffer("x", 1), {"not-an-address", 9}, [&](net::error_code ec, std::size_t) {
    bad = ec;
    done = true;
  });
  ASSERT_TRUE(net::run(s, io, [&] { return done; }, ms_to_ps(1)));
  EXPECT_TRUE(bad);
}

}  // namespace
}  // namespace vd
