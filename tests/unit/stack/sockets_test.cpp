// The rest of the socket API: raw IP sockets (v4 and v6), local
// (Unix-domain style) stream and datagram sockets, and SO_REUSEADDR.
#include "test_util6.hpp"

namespace vd::test {
namespace {

using stack::LocalSocket;
using stack::TcpState;

// Two stacks on one wire with IPv4 and IPv6 addresses.
struct Dual : TwoStacks {
  Dual() : TwoStacks(OneStack6::quiet()) {
    a.enable_ipv6(ia);
    b.enable_ipv6(ib);
    a.add_address6(ia, ip6("2001:db8::a"), 64);
    b.add_address6(ib, ip6("2001:db8::b"), 64);
    sched.run_for(s_to_ps(2));  // DAD done
  }
};

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}

// ------------------------------------------------------------ raw sockets

TEST(RawSocket, V4GetsACopyOfAnIcmpEchoWithItsHeader) {
  TwoStacks n;
  auto raw = n.b.raw_socket(4, wire::kIpProtoIcmp);
  int woken = 0;
  raw->set_notify([&] { ++woken; });
  ASSERT_FALSE(n.a.send_echo(ip("10.0.0.2"), 77, 1, 100));
  n.sched.run_for(ms_to_ps(10));
  // The stack still answered the echo itself.
  ASSERT_EQ(n.a.echo_replies().size(), 1u);
  ASSERT_EQ(raw->pending(), 1u);
  EXPECT_EQ(woken, 1);
  const auto d = raw->recvfrom();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->src_addr, ip("10.0.0.1"));
  EXPECT_FALSE(d->v6);
  ASSERT_EQ(d->data.size(), 20u + 8u + 100u);
  const auto v = wire::Ipv4View::parse(d->data);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->protocol(), wire::kIpProtoIcmp);
  EXPECT_EQ(v->src(), ip("10.0.0.1"));
  EXPECT_EQ(v->dst(), ip("10.0.0.2"));
  EXPECT_EQ(d->data[20], 8);  // echo request
  EXPECT_EQ(wire::load_be16(d->data, 24), 77);
  // Its own reply going out is not copied (only datagrams delivered to the host).
  EXPECT_FALSE(raw->recvfrom().has_value());
  EXPECT_EQ(events(n.b, "raw.delivered"), 1u);
}

TEST(RawSocket, V4CustomProtocolBothWaysAndFragmented) {
  TwoStacks n;
  auto ra = n.a.raw_socket(4, 253);
  auto rb = n.b.raw_socket(4, 253);
  const Bytes small = to_bytes("custom protocol 253");
  const Bytes big = pattern(3000, 3);  // fragmented and reassembled
  ASSERT_FALSE(ra->sendto(small, ip("10.0.0.2")));
  ASSERT_FALSE(ra->sendto(big, ip("10.0.0.2")));
  n.sched.run_for(ms_to_ps(10));
  ASSERT_EQ(rb->pending(), 2u);
  for (const Bytes* want : {&small, &big}) {
    const auto d = rb->recvfrom();
    ASSERT_TRUE(d.has_value());
    const auto v = wire::Ipv4View::parse(d->data);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->protocol(), 253);
    EXPECT_EQ(v->total_length(), d->data.size());
    EXPECT_EQ(Bytes(v->payload().begin(), v->payload().end()), *want);
    EXPECT_EQ(d->src_addr, ip("10.0.0.1"));
  }
  ASSERT_FALSE(rb->sendto(to_bytes("back"), ip("10.0.0.1")));
  n.sched.run_for(ms_to_ps(10));
  const auto r = ra->recvfrom();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Bytes(r->data.begin() + 20, r->data.end()), to_bytes("back"));
  EXPECT_EQ(drops(n.b, "ipv4.unknown_protocol"), 0u);
  EXPECT_TRUE(n.a.icmp_errors().empty());
  EXPECT_TRUE(n.b.icmp_errors().empty());
}

TEST(RawSocket, NoProtocolUnreachableWhileARawSocketIsOpen) {
  TwoStacks n;  // (payloads of 8+ bytes: an ICMP error must quote 8 bytes)
  auto ra = n.a.raw_socket(4, 253);
  // No raw socket on b: the protocol is refused (the control case).
  ASSERT_FALSE(ra->sendto(to_bytes("x-payload"), ip("10.0.0.2")));
  n.sched.run_for(ms_to_ps(10));
  ASSERT_EQ(n.a.icmp_errors().size(), 1u);
  EXPECT_EQ(n.a.icmp_errors()[0].type, wire::kIcmpDestUnreachable);
  EXPECT_EQ(n.a.icmp_errors()[0].code, wire::kIcmpCodeProtocol);
  EXPECT_EQ(drops(n.b, "ipv4.unknown_protocol"), 1u);
  // A raw socket for another protocol changes nothing; one for 253 does.
  auto other = n.b.raw_socket(4, 254);
  ASSERT_FALSE(ra->sendto(to_bytes("y-payload"), ip("10.0.0.2")));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(n.a.icmp_errors().size(), 2u);
  auto rb = n.b.raw_socket(4, 253);
  ASSERT_FALSE(ra->sendto(to_bytes("z-payload"), ip("10.0.0.2")));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(n.a.icmp_errors().size(), 2u);
  EXPECT_EQ(drops(n.b, "ipv4.unknown_protocol"), 2u);
  EXPECT_EQ(rb->pending(), 1u);
  EXPECT_EQ(other->pending(), 0u);
  // Closed again: refused again.
  rb->close();
  ASSERT_FALSE(ra->sendto(to_bytes("w-payload"), ip("10.0.0.2")));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(n.a.icmp_errors().size(), 3u);
}

TEST(RawSocket, V6CustomProtocolPayloadOnlyAndNoParameterProblem) {
  Dual n;
  auto ra = n.a.raw_socket(6, 253);
  auto rb = n.b.raw_socket(6, 253);
  const Bytes big = pattern(4000, 9);  // fragmented at 1500
  ASSERT_FALSE(ra->sendto(to_bytes("six"), ip6("2001:db8::b")));
  ASSERT_FALSE(ra->sendto(big, ip6("2001:db8::b")));
  n.sched.run_for(ms_to_ps(10));
  ASSERT_EQ(rb->pending(), 2u);
  auto d = rb->recvfrom();
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->v6);
  EXPECT_EQ(d->src_addr6, ip6("2001:db8::a"));
  EXPECT_EQ(d->data, to_bytes("six"));  // no IPv6 header
  d = rb->recvfrom();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->data, big);
  EXPECT_EQ(drops(n.b, "ipv6.unknown_protocol"), 0u);
  // Without the raw socket, b answers with a parameter problem.
  rb.reset();
  ASSERT_FALSE(ra->sendto(to_bytes("again"), ip6("2001:db8::b")));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(drops(n.b, "ipv6.unknown_protocol"), 1u);
  // The error comes back to a as ICMPv6 type 4 (a raw ICMPv6 socket sees it).
}

TEST(RawSocket, V6IcmpCopyAndErrors) {
  Dual n;
  auto rb = n.b.raw_socket(6, wire::kIpProtoIcmpv6);
  ASSERT_FALSE(n.a.send_echo6(ip6("2001:db8::b"), 5, 1));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(n.a.echo_replies6().size(), 1u);
  bool saw_echo = false;
  while (auto d = rb->recvfrom()) saw_echo |= !d->data.empty() && d->data[0] == 128;  // among ND messages
  EXPECT_TRUE(saw_echo);
  auto r4 = n.a.raw_socket(4, 253);
  EXPECT_EQ(r4->sendto(to_bytes("x"), ip6("2001:db8::b")), std::errc::address_family_not_supported);
  EXPECT_EQ(r4->bind(ip6("2001:db8::a")), std::errc::address_family_not_supported);
  EXPECT_EQ(r4->sendto(to_bytes("x"), Ipv4Addr{}), std::errc::invalid_argument);
  EXPECT_EQ(r4->sendto(to_bytes("x"), ip("192.168.9.9")), std::errc::network_unreachable);
  EXPECT_EQ(r4->bind(ip("10.0.0.9")), std::errc::address_not_available);
  EXPECT_EQ(r4->sendto(Bytes(70000), ip("10.0.0.2")), std::errc::message_size);
  EXPECT_THROW(n.a.raw_socket(5, 1), std::invalid_argument);
  r4->close();
  EXPECT_EQ(r4->sendto(to_bytes("x"), ip("10.0.0.2")), std::errc::bad_file_descriptor);
}

TEST(RawSocket, BoundAddressFiltersAndQueueLimitDropsAreCounted) {
  TwoStacks n;
  auto ra = n.a.raw_socket(4, 253);
  auto rb = n.b.raw_socket(4, 253);
  rb->set_rx_queue_limit(2);
  auto elsewhere = n.b.raw_socket(4, 253);
  n.b.add_address(n.ib, ip("10.0.0.3"), 24);
  ASSERT_FALSE(elsewhere->bind(ip("10.0.0.3")));
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(ra->sendto(to_bytes("d"), ip("10.0.0.2")));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(rb->pending(), 2u);
  EXPECT_EQ(drops(n.b, "raw.rx_queue_full"), 3u);
  EXPECT_EQ(elsewhere->pending(), 0u);  // bound to another address
  ASSERT_FALSE(ra->sendto(to_bytes("e"), ip("10.0.0.3")));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(elsewhere->pending(), 1u);
  EXPECT_EQ(drops(n.b, "raw.rx_queue_full"), 4u);  // rb is still full
}

TEST(RawSocket, OutlivesItsStack) {
  std::shared_ptr<stack::RawSocket> r;
  {
    TwoStacks n;
    r = n.a.raw_socket(4, 253);
  }
  EXPECT_FALSE(r->is_open());
  EXPECT_EQ(r->sendto(to_bytes("x"), ip("10.0.0.2")), std::errc::bad_file_descriptor);
  EXPECT_EQ(r->scheduler(), nullptr);
}

// ------------------------------------------------------------ local sockets

std::string recv_str(LocalSocket& s, std::size_t max = 4096) {
  std::string out(max, '\0');
  std::error_code ec;
  const std::size_t n = s.recv({reinterpret_cast<std::uint8_t*>(out.data()), out.size()}, ec);
  EXPECT_FALSE(ec) << ec.message();
  out.resize(n);
  return out;
}

std::size_t send_str(LocalSocket& s, std::string_view v, std::error_code& ec) {
  return s.send({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()}, ec);
}

TEST(LocalSocket, StreamEchoAndEndOfStream) {
  TwoStacks n;
  const std::size_t frames_before = n.da.sent.size();
  auto lst = n.a.local_socket(LocalSocket::Kind::Stream);
  ASSERT_FALSE(lst->bind("/run/echo"));
  ASSERT_FALSE(lst->listen(4));
  int lst_woken = 0;
  lst->set_notify([&] { ++lst_woken; });
  auto cli = n.a.local_socket(LocalSocket::Kind::Stream);
  ASSERT_FALSE(cli->connect("/run/echo"));
  EXPECT_TRUE(cli->connected());
  EXPECT_EQ(lst_woken, 1);
  ASSERT_EQ(lst->pending_accepts(), 1u);
  auto srv = lst->accept();
  ASSERT_TRUE(srv);
  EXPECT_EQ(srv->local_path(), "/run/echo");
  EXPECT_EQ(cli->peer_path(), "/run/echo");
  std::error_code ec;
  EXPECT_EQ(send_str(*cli, "ping", ec), 4u);
  EXPECT_FALSE(ec);
  EXPECT_EQ(srv->readable(), 4u);
  const std::string got = recv_str(*srv);
  EXPECT_EQ(got, "ping");
  EXPECT_EQ(send_str(*srv, got, ec), 4u);
  EXPECT_EQ(recv_str(*cli), "ping");
  EXPECT_EQ(recv_str(*cli), "");  // nothing yet: 0, no error
  EXPECT_FALSE(cli->eof());
  // The client shuts down its side: the server reads EOF after the data.
  EXPECT_EQ(send_str(*cli, "last", ec), 4u);
  ASSERT_FALSE(cli->shutdown_write());
  EXPECT_EQ(send_str(*cli, "more", ec), 0u);
  EXPECT_EQ(ec, std::errc::broken_pipe);
  EXPECT_FALSE(srv->eof());
  EXPECT_EQ(recv_str(*srv), "last");
  EXPECT_TRUE(srv->eof());
  // The server can still answer, then closes: EOF at the client.
  EXPECT_EQ(send_str(*srv, "bye", ec), 3u);
  srv->close();
  EXPECT_EQ(recv_str(*cli), "bye");
  EXPECT_TRUE(cli->eof());
  EXPECT_EQ(n.da.sent.size(), frames_before);  // never touched the network
}

TEST(LocalSocket, ConnectionRefusedAndOtherErrors) {
  TwoStacks n;
  auto cli = n.a.local_socket(LocalSocket::Kind::Stream);
  EXPECT_EQ(cli->connect("/nobody"), std::errc::connection_refused);
  auto bound = n.a.local_socket(LocalSocket::Kind::Stream);
  ASSERT_FALSE(bound->bind("/bound"));
  EXPECT_EQ(cli->connect("/bound"), std::errc::connection_refused);  // bound, not listening
  auto dup = n.a.local_socket(LocalSocket::Kind::Datagram);
  EXPECT_EQ(dup->bind("/bound"), std::errc::address_in_use);
  EXPECT_EQ(dup->bind(""), std::errc::invalid_argument);
  EXPECT_EQ(dup->bind(std::string(200, 'x')), std::errc::invalid_argument);
  EXPECT_EQ(dup->listen(), std::errc::operation_not_supported);
  EXPECT_EQ(dup->connect("/bound"), std::errc::wrong_protocol_type);
  EXPECT_EQ(dup->connect("/nobody"), std::errc::connection_refused);
  std::error_code ec;
  EXPECT_EQ(send_str(*cli, "x", ec), 0u);
  EXPECT_EQ(ec, std::errc::not_connected);
  // Names are per stack: b does not see a's.
  ASSERT_FALSE(bound->listen());
  auto other = n.b.local_socket(LocalSocket::Kind::Stream);
  EXPECT_EQ(other->connect("/bound"), std::errc::connection_refused);
  // Backlog full.
  ASSERT_FALSE(bound->listen(1));
  ASSERT_FALSE(cli->connect("/bound"));
  auto c2 = n.a.local_socket(LocalSocket::Kind::Stream);
  EXPECT_EQ(c2->connect("/bound"), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(cli->connect("/bound"), std::errc::already_connected);
  // Closing the listener frees the name and ends the unaccepted connection.
  bound->close();
  EXPECT_TRUE(cli->eof());
  EXPECT_EQ(send_str(*cli, "x", ec), 0u);
  EXPECT_EQ(ec, std::errc::broken_pipe);
  EXPECT_EQ(c2->connect("/bound"), std::errc::connection_refused);
  auto again = n.a.local_socket(LocalSocket::Kind::Stream);
  EXPECT_FALSE(again->bind("/bound"));
}

TEST(LocalSocket, WouldBlockAtTheBufferLimit) {
  TwoStacks n;
  auto lst = n.a.local_socket(LocalSocket::Kind::Stream);
  ASSERT_FALSE(lst->set_rcvbuf(4096));  // inherited by accepted connections
  EXPECT_EQ(lst->set_rcvbuf(100), std::errc::invalid_argument);
  ASSERT_FALSE(lst->bind("s"));
  ASSERT_FALSE(lst->listen());
  auto cli = n.a.local_socket(LocalSocket::Kind::Stream);
  ASSERT_FALSE(cli->connect("s"));
  auto srv = lst->accept();
  ASSERT_TRUE(srv);
  int cli_woken = 0;
  cli->set_notify([&] { ++cli_woken; });
  const Bytes big = pattern(10000, 1);
  std::error_code ec;
  EXPECT_EQ(cli->send(big, ec), 4096u);
  EXPECT_FALSE(ec);
  EXPECT_EQ(cli->writable(), 0u);
  EXPECT_EQ(cli->send(big, ec), 0u);  // would block
  EXPECT_FALSE(ec);
  Bytes in(1000);
  EXPECT_EQ(srv->recv(in, ec), 1000u);
  EXPECT_EQ(in, Bytes(big.begin(), big.begin() + 1000));
  EXPECT_EQ(cli_woken, 1);
  EXPECT_EQ(cli->writable(), 1000u);
  EXPECT_EQ(cli->send(std::span(big).subspan(4096), ec), 1000u);
  Bytes rest(10000);
  EXPECT_EQ(srv->recv(rest, ec), 4096u);
  EXPECT_EQ(Bytes(rest.begin(), rest.begin() + 4096), Bytes(big.begin() + 1000, big.begin() + 5096));
}

TEST(LocalSocket, Datagrams) {
  TwoStacks n;
  auto a = n.a.local_socket(LocalSocket::Kind::Datagram);
  auto b = n.a.local_socket(LocalSocket::Kind::Datagram);
  ASSERT_FALSE(a->bind("/a"));
  ASSERT_FALSE(b->bind("/b"));
  int woken = 0;
  b->set_notify([&] { ++woken; });
  ASSERT_FALSE(a->sendto(to_bytes("one"), "/b"));
  ASSERT_FALSE(a->sendto(to_bytes("two"), "/b"));
  EXPECT_EQ(woken, 2);
  EXPECT_EQ(b->pending(), 2u);
  auto d = b->recvfrom();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->data, to_bytes("one"));
  EXPECT_EQ(d->from, "/a");
  // recv cuts a datagram to the buffer; the rest of it is gone.
  std::error_code ec;
  Bytes two(2);
  EXPECT_EQ(b->recv(two, ec), 2u);
  EXPECT_EQ(two, to_bytes("tw"));
  EXPECT_FALSE(b->recvfrom().has_value());
  // Connected: send/recv with the default destination.
  ASSERT_FALSE(b->connect("/a"));
  EXPECT_EQ(b->send(to_bytes("reply"), ec), 5u);
  EXPECT_EQ(a->recvfrom()->from, "/b");
  // Errors and the queue limit.
  EXPECT_EQ(a->sendto(to_bytes("x"), "/nobody"), std::errc::connection_refused);
  b->set_rx_queue_limit(1);
  ASSERT_FALSE(a->sendto(to_bytes("x"), "/b"));
  EXPECT_EQ(a->sendto(to_bytes("y"), "/b"), std::errc::resource_unavailable_try_again);
  ASSERT_FALSE(b->set_rcvbuf(2048));
  EXPECT_EQ(a->sendto(Bytes(3000), "/b"), std::errc::message_size);
  auto s = n.a.local_socket(LocalSocket::Kind::Stream);
  ASSERT_FALSE(s->bind("/s"));
  EXPECT_EQ(a->sendto(to_bytes("x"), "/s"), std::errc::wrong_protocol_type);
  EXPECT_EQ(s->sendto(to_bytes("x"), "/a"), std::errc::operation_not_supported);
  b->close();
  EXPECT_EQ(a->sendto(to_bytes("x"), "/b"), std::errc::connection_refused);
}

TEST(LocalSocket, OutlivesItsStack) {
  std::shared_ptr<LocalSocket> cli, lst;
  {
    TwoStacks n;
    lst = n.a.local_socket(LocalSocket::Kind::Stream);
    ASSERT_FALSE(lst->bind("x"));
    ASSERT_FALSE(lst->listen());
    cli = n.a.local_socket(LocalSocket::Kind::Stream);
    ASSERT_FALSE(cli->connect("x"));  // unaccepted when the stack goes
  }
  std::error_code ec;
  EXPECT_FALSE(cli->is_open());
  EXPECT_EQ(send_str(*cli, "x", ec), 0u);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
  EXPECT_EQ(lst->accept(), nullptr);
}

// ------------------------------------------------------------ SO_REUSEADDR

TEST(ReuseAddr, TcpBindOverTimeWait) {
  TwoStacks n;
  auto lst = n.b.tcp_socket();
  ASSERT_FALSE(lst->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(lst->listen());
  auto cli = n.a.tcp_socket();
  ASSERT_FALSE(cli->bind(ip("10.0.0.1"), 5000));
  ASSERT_FALSE(cli->connect(ip("10.0.0.2"), 80));
  n.sched.run_for(ms_to_ps(10));
  auto srv = lst->accept();
  ASSERT_TRUE(srv);
  // The client closes first, so its end waits in TIME-WAIT holding port 5000.
  ASSERT_FALSE(cli->shutdown_write());
  n.sched.run_for(ms_to_ps(10));
  srv->close();
  n.sched.run_for(ms_to_ps(10));
  ASSERT_EQ(cli->state(), TcpState::TimeWait);
  auto plain = n.a.tcp_socket();
  EXPECT_EQ(plain->bind(ip("10.0.0.1"), 5000), std::errc::address_in_use);
  EXPECT_EQ(plain->bind(Ipv4Addr{}, 5000), std::errc::address_in_use);
  auto reuse = n.a.tcp_socket();
  reuse->set_reuse_addr(true);
  EXPECT_FALSE(reuse->bind(ip("10.0.0.1"), 5000));
  // The TIME-WAIT end going away does not free the new binding.
  n.sched.run_for(s_to_ps(61));
  EXPECT_EQ(cli->state(), TcpState::Closed);
  auto third = n.a.tcp_socket();
  third->set_reuse_addr(true);
  EXPECT_EQ(third->bind(ip("10.0.0.1"), 5000), std::errc::address_in_use);
  // The new socket connects from that port.
  ASSERT_FALSE(reuse->connect(ip("10.0.0.2"), 80));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(reuse->state(), TcpState::Established);
  EXPECT_EQ(reuse->local_port(), 5000);
  // A listener's port is not taken over, reuse or not.
  auto steal = n.b.tcp_socket();
  steal->set_reuse_addr(true);
  EXPECT_EQ(steal->bind(Ipv4Addr{}, 80), std::errc::address_in_use);
}

TEST(ReuseAddr, UdpNewestReceivesThenThePreviousOne) {
  TwoStacks n;
  auto plain = n.b.udp_socket();
  ASSERT_FALSE(plain->bind(Ipv4Addr{}, 5353));
  auto r0 = n.b.udp_socket();
  r0->set_reuse_addr(true);
  EXPECT_EQ(r0->bind(Ipv4Addr{}, 5353), std::errc::address_in_use);  // the holder did not set it
  auto r1 = n.b.udp_socket();
  auto r2 = n.b.udp_socket();
  r1->set_reuse_addr(true);
  r2->set_reuse_addr(true);
  ASSERT_FALSE(r1->bind(Ipv4Addr{}, 6000));
  ASSERT_FALSE(r2->bind(Ipv4Addr{}, 6000));
  auto late = n.b.udp_socket();
  EXPECT_EQ(late->bind(ip("10.0.0.2"), 6000), std::errc::address_in_use);  // no SO_REUSEADDR
  auto tx = n.a.udp_socket();
  ASSERT_FALSE(tx->sendto(to_bytes("1"), ip("10.0.0.2"), 6000));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(r2->pending(), 1u);
  EXPECT_EQ(r1->pending(), 0u);
  r2->close();
  ASSERT_FALSE(tx->sendto(to_bytes("2"), ip("10.0.0.2"), 6000));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(r1->pending(), 1u);
  r1.reset();
  ASSERT_FALSE(tx->sendto(to_bytes("3"), ip("10.0.0.2"), 6000));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(drops(n.b, "udp.no_socket"), 1u);
  auto fresh = n.b.udp_socket();
  EXPECT_FALSE(fresh->bind(Ipv4Addr{}, 6000));
}

TEST(ReuseAddr, UdpOverIpv6) {
  Dual n;
  auto plain = n.b.udp_socket();
  ASSERT_FALSE(plain->bind(Ipv6Addr{}, 5353));
  auto r0 = n.b.udp_socket();
  r0->set_reuse_addr(true);
  EXPECT_EQ(r0->bind(ip6("2001:db8::b"), 5353), std::errc::address_in_use);
  auto r1 = n.b.udp_socket();
  auto r2 = n.b.udp_socket();
  r1->set_reuse_addr(true);
  r2->set_reuse_addr(true);
  ASSERT_FALSE(r1->bind(ip6("2001:db8::b"), 6000));
  ASSERT_FALSE(r2->bind(ip6("2001:db8::b"), 6000));
  auto tx = n.a.udp_socket();
  ASSERT_FALSE(tx->sendto(to_bytes("1"), ip6("2001:db8::b"), 6000));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(r2->pending(), 1u);
  EXPECT_EQ(r1->pending(), 0u);
  r2.reset();
  ASSERT_FALSE(tx->sendto(to_bytes("2"), ip6("2001:db8::b"), 6000));
  n.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(r1->pending(), 1u);
}

}  // namespace
}  // namespace vd::test
