// The Boost.Asio layer for raw and local sockets, and receive timeouts
// (SO_RCVTIMEO) completing with timed_out at the right simulated time.
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

TEST(AsioTimeout, UdpReceiveTimesOutAtTheSimulatedDeadline) {
  Pair p;
  net::udp_socket rx(p.io, p.b->stack());
  ASSERT_FALSE(rx.bind({"10.0.0.2", 7000}));
  rx.native().set_recv_timeout(ms_to_ps(5));
  std::array<char, 64> buf{};
  net::udp_socket::endpoint from;
  net::error_code got;
  TimePs at = 0;
  int calls = 0;
  const TimePs t0 = p.s.now();
  rx.async_receive_from(asio::buffer(buf), from, [&](net::error_code ec, std::size_t n) {
    got = ec;
    at = p.s.now();
    ++calls;
    EXPECT_EQ(n, 0u);
  });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return calls > 0; }, ms_to_ps(50)));
  EXPECT_EQ(got, asio::error::timed_out);
  EXPECT_EQ(at, t0 + ms_to_ps(5));

  // A datagram in time completes normally and the deadline does nothing later.
  net::udp_socket tx(p.io, p.a->stack());
  calls = 0;
  rx.async_receive_from(asio::buffer(buf), from, [&](net::error_code ec, std::size_t n) {
    got = ec;
    ++calls;
    EXPECT_EQ(n, 5u);
  });
  tx.async_send_to(asio::buffer("hello", 5), {"10.0.0.2", 7000}, [](net::error_code ec, std::size_t) { EXPECT_FALSE(ec); });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return calls > 0; }, ms_to_ps(50)));
  EXPECT_FALSE(got);
  EXPECT_EQ(from.addr, "10.0.0.1");
  net::run(p.s, p.io, [] { return false; }, ms_to_ps(20));
  EXPECT_EQ(calls, 1);
}

TEST(AsioTimeout, TcpReadSomeTimesOut) {
  Pair p;
  net::tcp_socket lst(p.io, p.b->stack());
  ASSERT_FALSE(lst.bind({}, 80));
  ASSERT_FALSE(lst.listen());
  std::optional<net::tcp_socket> server;
  net::tcp_socket client(p.io, p.a->stack());
  bool connected = false;
  lst.async_accept([&](net::error_code ec, net::tcp_socket s) {
    EXPECT_FALSE(ec);
    server.emplace(std::move(s));
  });
  client.async_connect(Pair::ip("10.0.0.2"), 80, [&](net::error_code ec) { connected = !ec; });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return connected && server; }, ms_to_ps(10)));
  server->native().set_recv_timeout(ms_to_ps(3));
  EXPECT_EQ(server->native().recv_timeout(), ms_to_ps(3));
  char c = 0;
  net::error_code got;
  TimePs at = 0;
  bool done = false;
  const TimePs t0 = p.s.now();
  server->async_read_some(asio::buffer(&c, 1), [&](net::error_code ec, std::size_t) {
    got = ec;
    at = p.s.now();
    done = true;
  });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return done; }, ms_to_ps(50)));
  EXPECT_EQ(got, asio::error::timed_out);
  EXPECT_EQ(at, t0 + ms_to_ps(3));
  // Without a timeout it waits for the data.
  server->native().set_recv_timeout(0);
  done = false;
  server->async_read_some(asio::buffer(&c, 1), [&](net::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 1u);
    done = true;
  });
  net::run(p.s, p.io, [&] { return done; }, ms_to_ps(20));
  EXPECT_FALSE(done);
  asio::async_write(client, asio::buffer("z", 1), [](net::error_code, std::size_t) {});
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return done; }, ms_to_ps(20)));
  EXPECT_EQ(c, 'z');
}

TEST(AsioRaw, CustomProtocolBetweenHosts) {
  Pair p;
  net::raw_socket rb(p.io, p.b->stack(), 4, 253);
  net::raw_socket ra(p.io, p.a->stack(), 4, 253);
  std::array<std::uint8_t, 256> buf{};
  std::string from;
  std::size_t got = 0;
  rb.async_receive_from(asio::buffer(buf), from, [&](net::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    got = n;
  });
  bool sent = false;
  ra.async_send_to(asio::buffer("raw!", 4), "10.0.0.2", [&](net::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 4u);
    sent = true;
  });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return got > 0 && sent; }, ms_to_ps(10)));
  ASSERT_EQ(got, 24u);  // IPv4 header + payload
  EXPECT_EQ(buf[9], 253);
  EXPECT_EQ(std::string(buf.begin() + 20, buf.begin() + 24), "raw!");
  EXPECT_EQ(from, "10.0.0.1");
  net::error_code err;
  ra.async_send_to(asio::buffer("x", 1), "2001:db8::1", [&](net::error_code ec, std::size_t) { err = ec; });
  net::run(p.s, p.io, [&] { return bool(err); }, ms_to_ps(1));
  EXPECT_EQ(err.value(), static_cast<int>(std::errc::address_family_not_supported));
  // Close ends a waiting receive with bad_descriptor.
  bool closed = false;
  rb.async_receive_from(asio::buffer(buf), from, [&](net::error_code ec, std::size_t) {
    EXPECT_EQ(ec, asio::error::bad_descriptor);
    closed = true;
  });
  rb.close();
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return closed; }, ms_to_ps(1)));
}

TEST(AsioLocal, StreamEchoWithComposedOperations) {
  Pair p;
  net::local_stream_socket lst(p.io, p.a->stack());
  ASSERT_FALSE(lst.bind("/run/echo"));
  ASSERT_FALSE(lst.listen());
  std::optional<net::local_stream_socket> server;
  lst.async_accept([&](net::error_code ec, net::local_stream_socket s) {
    EXPECT_FALSE(ec);
    server.emplace(std::move(s));
  });
  net::local_stream_socket client(p.io, p.a->stack());
  client.native().set_rcvbuf(4096);
  bool connected = false;
  client.async_connect("/run/echo", [&](net::error_code ec) {
    EXPECT_FALSE(ec);
    connected = true;
  });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return connected && server; }, ms_to_ps(1)));
  // More than the default buffer: the writer waits for the reader.
  std::vector<char> out(1 << 20), in(1 << 20);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(i * 13);
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
    server->async_read_some(asio::buffer(&one, 1), [&](net::error_code ec2, std::size_t) {
      EXPECT_EQ(ec2, asio::error::eof);
      eof = true;
    });
  });
  const TimePs t0 = p.s.now();
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return wrote && read && eof; }, ms_to_ps(1)));
  EXPECT_EQ(in, out);
  EXPECT_EQ(p.s.now(), t0);  // pure memory: no simulated time passes
  net::local_stream_socket nobody(p.io, p.a->stack());
  net::error_code refused;
  nobody.async_connect("/nothing", [&](net::error_code ec) { refused = ec; });
  net::run(p.s, p.io, [&] { return bool(refused); }, ms_to_ps(1));
  EXPECT_EQ(refused.value(), ECONNREFUSED);
}

TEST(AsioLocal, DatagramsAndTimeout) {
  Pair p;
  net::local_datagram_socket a(p.io, p.b->stack()), b(p.io, p.b->stack());
  ASSERT_FALSE(a.bind("/a"));
  ASSERT_FALSE(b.bind("/b"));
  b.native().set_recv_timeout(us_to_ps(250));
  std::array<char, 16> buf{};
  std::string from;
  net::error_code got;
  std::size_t n_got = 0;
  bool done = false;
  b.async_receive_from(asio::buffer(buf), from, [&](net::error_code ec, std::size_t n) {
    got = ec;
    n_got = n;
    done = true;
  });
  a.async_send_to(asio::buffer("dgram", 5), "/b", [](net::error_code ec, std::size_t) { EXPECT_FALSE(ec); });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return done; }, ms_to_ps(1)));
  EXPECT_FALSE(got);
  EXPECT_EQ(n_got, 5u);
  EXPECT_EQ(from, "/a");
  done = false;
  const TimePs t0 = p.s.now();
  TimePs at = 0;
  b.async_receive_from(asio::buffer(buf), from, [&](net::error_code ec, std::size_t) {
    got = ec;
    at = p.s.now();
    done = true;
  });
  ASSERT_TRUE(net::run(p.s, p.io, [&] { return done; }, ms_to_ps(5)));
  EXPECT_EQ(got, asio::error::timed_out);
  EXPECT_EQ(at, t0 + us_to_ps(250));
}

}  // namespace
}  // namespace vd
