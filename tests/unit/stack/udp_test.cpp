// UDP sockets: datagrams across two stacks, binding rules, ephemeral ports,
// checksums, receive limits, size limits, copies and socket lifetime.
#include "test_util.hpp"

namespace vd::test {
namespace {

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 13);
  return b;
}

class UdpPair : public ::testing::TestWithParam<std::size_t> {};

TEST_P(UdpPair, DatagramCrossesIntact) {
  TwoStacks n;
  auto rx = n.b.udp_socket();
  ASSERT_FALSE(rx->bind(ip("10.0.0.2"), 5353));
  auto tx = n.a.udp_socket();
  ASSERT_FALSE(tx->bind(Ipv4Addr{}, 4000));
  const Bytes data = pattern(GetParam(), 5);
  ASSERT_FALSE(tx->sendto(data, ip("10.0.0.2"), 5353));
  n.sched.run_for(ms_to_ps(10));
  ASSERT_EQ(rx->pending(), 1u);
  const auto d = rx->recvfrom();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->data, data);
  EXPECT_EQ(d->src_addr, ip("10.0.0.1"));
  EXPECT_EQ(d->src_port, 4000);
  EXPECT_FALSE(rx->recvfrom().has_value());
  EXPECT_EQ(layer(n.a, "udp").tx_bytes, 8 + data.size());
  EXPECT_EQ(layer(n.b, "udp").rx_bytes, 8 + data.size());
  EXPECT_EQ(layer(n.b, "ipv4").rx_bytes, 28 + data.size());
  // B also received A's 60-byte announcement and ARP request.
  EXPECT_EQ(layer(n.b, "eth").rx_packets, 3u);
  EXPECT_EQ(layer(n.b, "eth").rx_bytes, 120 + std::max<std::size_t>(60, 42 + data.size()));
  EXPECT_EQ(total_drops(n.b), 0u);
  // Exactly one copy in on the sender and one copy out on the receiver.
  EXPECT_EQ(n.da.pool().stats().bytes_copied_in, data.size());
  EXPECT_EQ(n.db.pool().stats().bytes_copied_out, data.size());
  EXPECT_EQ(n.db.pool().stats().bytes_copied_in, 0u);
  // The checksum on the wire verifies with the pseudo-header.
  const SentFrame& f = n.da.sent.back();
  const auto v4 = wire::Ipv4View::parse(std::span(f.bytes).subspan(14));
  ASSERT_TRUE(v4.ok());
  const auto u = wire::UdpView::parse(v4->payload());
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->has_checksum());
  EXPECT_TRUE(u->checksum_ok(ip("10.0.0.1"), ip("10.0.0.2")));
}

INSTANTIATE_TEST_SUITE_P(Sizes, UdpPair, ::testing::Values(0u, 1u, 100u, 1472u));

TEST(Udp, ReplyComesBackToEphemeralPort) {
  TwoStacks n;
  auto srv = n.b.udp_socket();
  ASSERT_FALSE(srv->bind(Ipv4Addr{}, 7));
  auto cli = n.a.udp_socket();
  ASSERT_FALSE(cli->sendto(to_bytes("question"), ip("10.0.0.2"), 7));
  EXPECT_EQ(cli->local_port(), 49152);
  n.sched.run_for(ms_to_ps(10));
  const auto q = srv->recvfrom();
  ASSERT_TRUE(q.has_value());
  ASSERT_FALSE(srv->sendto(to_bytes("answer"), q->src_addr, q->src_port));
  n.sched.run_for(ms_to_ps(10));
  const auto a = cli->recvfrom();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->data, to_bytes("answer"));
  EXPECT_EQ(a->src_port, 7);
}

TEST(Udp, SynchronousLinkReentrancy) {
  // Frames cross inside transmit(): B answers A's ARP request while A is
  // still sending it, and A flushes its queue from inside that call chain.
  FakeScheduler sched;
  FakeDevice da(kMacA), db(kMacB);
  stack::Stack a(sched, "a"), b(sched, "b");
  FakeDevice::connect(da, db, sched, 0, true);
  a.add_address(a.add_interface(da), ip("10.0.0.1"), 24);
  b.add_address(b.add_interface(db), ip("10.0.0.2"), 24);
  auto rx = b.udp_socket();
  ASSERT_FALSE(rx->bind(Ipv4Addr{}, 9));
  auto tx = a.udp_socket();
  for (std::uint8_t i = 0; i < 3; ++i) ASSERT_FALSE(tx->sendto(Bytes{i}, ip("10.0.0.2"), 9));
  ASSERT_EQ(rx->pending(), 3u);
  for (std::uint8_t i = 0; i < 3; ++i) EXPECT_EQ(rx->recvfrom()->data, Bytes{i});
  ASSERT_FALSE(a.send_echo(ip("10.0.0.2"), 1, 1));
  ASSERT_EQ(a.echo_replies().size(), 1u);
  EXPECT_EQ(a.echo_replies()[0].received_at, a.echo_replies()[0].sent_at);
  EXPECT_EQ(count_arp(da.sent), 2u);  // the announcement and one request: no retries
  EXPECT_EQ(sched.pending(), 2u);     // only the two neighbour entries' reachability timers
  EXPECT_EQ(total_drops(a) + total_drops(b), 0u);
}

TEST(Udp, MessageSizeLimits) {
  OneStack t;
  t.learn_peer();
  auto s = t.st.udp_socket();
  EXPECT_EQ(s->sendto(Bytes(65508), ip("10.0.0.99"), 9), std::errc::message_size);
  EXPECT_TRUE(t.dev.sent.empty());
  EXPECT_FALSE(s->sendto(Bytes(1473), ip("10.0.0.99"), 9));  // > MTU: two fragments
  EXPECT_EQ(t.dev.sent.size(), 2u);
  t.dev.mutable_features().mtu = 9000;
  EXPECT_FALSE(s->sendto(Bytes(1473), ip("10.0.0.99"), 9));  // the MTU is read from the device
  // A 9000-byte MTU but 2 KiB buffers: the datagram cannot fit a buffer.
  EXPECT_EQ(s->sendto(Bytes(4000), ip("10.0.0.99"), 9), std::errc::message_size);
  EXPECT_EQ(t.dev.pool().available(), t.dev.pool().capacity());
}

TEST(Udp, PoolExhaustedIsNoBufferSpace) {
  OneStack t;
  t.learn_peer();
  auto s = t.st.udp_socket();
  std::vector<Packet> hog;
  while (Packet p = t.dev.pool().alloc()) hog.push_back(std::move(p));
  EXPECT_EQ(s->sendto(to_bytes("x"), ip("10.0.0.99"), 9), std::errc::no_buffer_space);
  EXPECT_EQ(t.st.send_echo(ip("10.0.0.99"), 1, 1), std::errc::no_buffer_space);
  hog.clear();
  EXPECT_FALSE(s->sendto(to_bytes("x"), ip("10.0.0.99"), 9));
}

TEST(Udp, BindErrors) {
  OneStack t;
  auto a = t.st.udp_socket();
  auto b = t.st.udp_socket();
  auto c = t.st.udp_socket();
  EXPECT_EQ(a->bind(ip("10.0.0.77"), 53), std::errc::address_not_available);
  ASSERT_FALSE(a->bind(ip("10.0.0.1"), 53));
  EXPECT_EQ(a->local_addr(), ip("10.0.0.1"));
  EXPECT_EQ(a->local_port(), 53);
  EXPECT_EQ(a->bind(ip("10.0.0.1"), 54), std::errc::invalid_argument);  // already bound
  EXPECT_EQ(b->bind(ip("10.0.0.1"), 53), std::errc::address_in_use);
  EXPECT_EQ(b->bind(Ipv4Addr{}, 53), std::errc::address_in_use);  // wildcard overlaps
  ASSERT_FALSE(b->bind(Ipv4Addr{}, 54));
  EXPECT_EQ(c->bind(ip("10.0.0.1"), 54), std::errc::address_in_use);  // specific under wildcard
  EXPECT_EQ(c->sendto(to_bytes("x"), ip("10.0.0.99"), 0), std::errc::invalid_argument);
}

TEST(Udp, EphemeralPortsAreDeterministicAndSkipUsed) {
  OneStack t;
  auto fixed = t.st.udp_socket();
  ASSERT_FALSE(fixed->bind(Ipv4Addr{}, 49153));
  std::vector<std::shared_ptr<stack::UdpSocket>> socks;
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < 3; ++i) {
    socks.push_back(t.st.udp_socket());
    ASSERT_FALSE(socks.back()->bind(Ipv4Addr{}, 0));
    ports.push_back(socks.back()->local_port());
  }
  EXPECT_EQ(ports, (std::vector<std::uint16_t>{49152, 49154, 49155}));
  // Another stack makes the same choices: nothing depends on globals.
  OneStack u;
  auto s2 = u.st.udp_socket();
  ASSERT_FALSE(s2->bind(Ipv4Addr{}, 0));
  EXPECT_EQ(s2->local_port(), 49152);
}

TEST(Udp, EphemeralRangeExhaustion) {
  OneStack t;
  std::vector<std::shared_ptr<stack::UdpSocket>> socks;
  for (unsigned p = 49152; p <= 65535; ++p) {
    socks.push_back(t.st.udp_socket());
    ASSERT_FALSE(socks.back()->bind(Ipv4Addr{}, static_cast<std::uint16_t>(p)));
  }
  auto extra = t.st.udp_socket();
  EXPECT_EQ(extra->bind(Ipv4Addr{}, 0), std::errc::address_in_use);
  socks[100].reset();  // frees 49252
  ASSERT_FALSE(extra->bind(Ipv4Addr{}, 0));
  EXPECT_EQ(extra->local_port(), 49252);
}

TEST(Udp, NoSocketIsCountedDrop) {
  OneStack t;
  t.learn_peer();
  t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 5000, 9999, to_bytes("x")));
  EXPECT_EQ(drops(t.st, "udp.no_socket"), 1u);
  EXPECT_EQ(layer(t.st, "udp").rx_packets, 0u);
  // ICMP port unreachable quoting the datagram (RFC 1122 4.1.3.1).
  ASSERT_EQ(t.dev.sent.size(), 1u);
  const auto ip4 = wire::Ipv4View::parse(std::span(t.dev.sent[0].bytes).subspan(14));
  ASSERT_TRUE(ip4.ok());
  EXPECT_EQ(ip4->dst(), ip("10.0.0.99"));
  const auto icmp = wire::IcmpView::parse(ip4->payload());
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type(), wire::kIcmpDestUnreachable);
  EXPECT_EQ(icmp->code(), wire::kIcmpCodePort);
  EXPECT_TRUE(icmp->checksum_ok());
  const auto quoted = wire::Ipv4View::parse(icmp->payload());
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ(quoted->src(), ip("10.0.0.99"));
  EXPECT_EQ(wire::load_be16(quoted->payload(), 2), 9999);
  // A broadcast to a closed port earns nothing (RFC 1122 4.1.3.1).
  t.dev.sent.clear();
  t.dev.deliver(t.fb.udp(wire::kBroadcastMac, kMacPeer, ip("10.0.0.99"), ip("10.0.0.255"), 5000, 9999, to_bytes("x")));
  EXPECT_EQ(drops(t.st, "udp.no_socket"), 2u);
  EXPECT_TRUE(t.dev.sent.empty());
}

TEST(Udp, LookupIsExactThenWildcardAndBroadcastOnlyWildcard) {
  OneStack t;
  t.st.add_address(t.ifindex, ip("10.0.0.5"), 24);
  auto wild = t.st.udp_socket();
  auto spec = t.st.udp_socket();
  ASSERT_FALSE(spec->bind(ip("10.0.0.5"), 700));
  // Binding the wildcard after a specific one is refused, so use another port
  // for the wildcard and check delivery on both.
  ASSERT_FALSE(wild->bind(Ipv4Addr{}, 701));
  t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.5"), 1, 700, to_bytes("s")));
  t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 1, 700, to_bytes("s")));
  t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.5"), 1, 701, to_bytes("w")));
  t.dev.deliver(t.fb.udp(wire::kBroadcastMac, kMacPeer, ip("10.0.0.99"), ip("10.0.0.255"), 1, 701, to_bytes("b")));
  t.dev.deliver(t.fb.udp(wire::kBroadcastMac, kMacPeer, ip("10.0.0.99"), ip("10.0.0.255"), 1, 700, to_bytes("b")));
  EXPECT_EQ(spec->pending(), 1u);
  EXPECT_EQ(wild->pending(), 2u);
  EXPECT_EQ(drops(t.st, "udp.no_socket"), 2u);  // 10.0.0.1:700, broadcast to :700
}

TEST(Udp, ReceiveQueueIsBounded) {
  OneStack t;
  auto s = t.st.udp_socket();
  EXPECT_EQ(s->rx_queue_limit(), 1024u);
  s->set_rx_queue_limit(2);
  ASSERT_FALSE(s->bind(Ipv4Addr{}, 7));
  for (std::uint8_t i = 0; i < 3; ++i)
    t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 1, 7, Bytes{i}));
  EXPECT_EQ(s->pending(), 2u);
  EXPECT_EQ(drops(t.st, "udp.rx_queue_full"), 1u);
  EXPECT_EQ(s->recvfrom()->data, Bytes{0});  // FIFO, the newest was dropped
  EXPECT_EQ(s->recvfrom()->data, Bytes{1});
  t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 1, 7, Bytes{3}));
  EXPECT_EQ(s->pending(), 1u);
  // Queued datagrams do not hold device buffers.
  EXPECT_EQ(t.dev.pool().available(), t.dev.pool().capacity());
}

TEST(Udp, ChecksumVerification) {
  OneStack t;
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->bind(Ipv4Addr{}, 7));
  const Bytes good = t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 1, 7, to_bytes("abc"));
  constexpr std::size_t kCsum = 14 + 20 + 6;
  Bytes bad = good;
  bad[kCsum + 1] ^= 0x10;
  t.dev.deliver(bad);
  EXPECT_EQ(drops(t.st, "udp.bad_checksum"), 1u);
  EXPECT_EQ(s->pending(), 0u);

  Bytes none = good;  // checksum 0 over IPv4: not present, accepted
  none[kCsum] = none[kCsum + 1] = 0;
  t.dev.deliver(none);
  EXPECT_EQ(s->pending(), 1u);

  OffloadMeta dev_good;
  dev_good.rx_csum_l4 = OffloadMeta::Csum::Good;
  t.dev.deliver(bad, dev_good);  // device verdict is trusted
  EXPECT_EQ(s->pending(), 2u);
  OffloadMeta dev_bad;
  dev_bad.rx_csum_l4 = OffloadMeta::Csum::Bad;
  t.dev.deliver(good, dev_bad);
  EXPECT_EQ(drops(t.st, "udp.bad_checksum"), 2u);
  EXPECT_EQ(s->pending(), 2u);
}

TEST(Udp, MalformedLengthsAreDropped) {
  OneStack t;
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->bind(Ipv4Addr{}, 7));
  Bytes longer = t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 1, 7, to_bytes("abc"));
  wire::store_be16(&longer[14 + 20 + 4], 12);  // says 12, IP carries 11
  t.dev.deliver(longer);
  EXPECT_EQ(drops(t.st, "udp.bad_length"), 1u);
  const Bytes stub = t.fb.ipv4(kMacA, kMacPeer, {ip("10.0.0.99"), ip("10.0.0.1"), wire::kIpProtoUdp, 64, 1},
                               Bytes{0, 1, 0, 7});
  t.dev.deliver(stub);
  EXPECT_EQ(drops(t.st, "udp.too_short"), 1u);
  // A UDP length shorter than the IP payload: the tail is not data.
  Bytes shorter = t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 1, 7, to_bytes("abc"));
  wire::store_be16(&shorter[14 + 20 + 4], 10);
  wire::store_be16(&shorter[14 + 20 + 6], 0);  // no checksum
  t.dev.deliver(shorter);
  ASSERT_EQ(s->pending(), 1u);
  EXPECT_EQ(s->recvfrom()->data, to_bytes("ab"));
}

TEST(Udp, CloseUnbindsAndMakesSocketInert) {
  OneStack t;
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->bind(Ipv4Addr{}, 7));
  t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 1, 7, to_bytes("x")));
  EXPECT_EQ(s->pending(), 1u);
  s->close();
  EXPECT_FALSE(s->is_open());
  EXPECT_EQ(s->pending(), 0u);
  EXPECT_EQ(s->bind(Ipv4Addr{}, 8), std::errc::bad_file_descriptor);
  EXPECT_EQ(s->sendto(to_bytes("x"), ip("10.0.0.99"), 7), std::errc::bad_file_descriptor);
  EXPECT_FALSE(s->recvfrom().has_value());
  s->close();  // twice is harmless
  auto s2 = t.st.udp_socket();
  EXPECT_FALSE(s2->bind(Ipv4Addr{}, 7));  // port is free again
  t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 1, 7, to_bytes("y")));
  EXPECT_EQ(s2->pending(), 1u);
}

TEST(Udp, DroppingSocketUnbinds) {
  OneStack t;
  {
    auto s = t.st.udp_socket();
    ASSERT_FALSE(s->bind(Ipv4Addr{}, 7));
  }
  t.dev.deliver(t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 1, 7, to_bytes("x")));
  EXPECT_EQ(drops(t.st, "udp.no_socket"), 1u);
  auto s2 = t.st.udp_socket();
  EXPECT_FALSE(s2->bind(Ipv4Addr{}, 7));
}

TEST(Udp, SocketOutlivingStackIsInert) {
  FakeScheduler sched;
  FakeDevice dev(kMacA);
  std::shared_ptr<stack::UdpSocket> s;
  {
    stack::Stack st(sched, "gone");
    st.add_address(st.add_interface(dev), ip("10.0.0.1"), 24);
    s = st.udp_socket();
    ASSERT_FALSE(s->bind(Ipv4Addr{}, 7));
    EXPECT_TRUE(s->is_open());
  }
  EXPECT_FALSE(s->is_open());
  EXPECT_EQ(s->sendto(to_bytes("x"), ip("10.0.0.2"), 7), std::errc::bad_file_descriptor);
  EXPECT_EQ(s->bind(Ipv4Addr{}, 9), std::errc::bad_file_descriptor);
  EXPECT_FALSE(s->recvfrom().has_value());
  s->close();
  s.reset();  // destructor must not touch the dead stack
  // Frames arriving after the stack died reach no handler.
  FrameBuilder fb;
  dev.deliver(fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 1, 7, to_bytes("x")));
  EXPECT_FALSE(dev.has_rx_handler());
}

}  // namespace
}  // namespace vd::test
