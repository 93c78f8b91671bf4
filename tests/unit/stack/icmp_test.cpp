// ICMP echo: replies built by the stack, and round trips between two stacks
// wired back to back on virtual time.
#include "test_util.hpp"

namespace vd::test {
namespace {

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

TEST(IcmpEcho, RepliesWithSameIdSeqAndPayload) {
  OneStack t;
  t.learn_peer();
  const Bytes payload = pattern(100);
  t.dev.deliver(t.fb.echo(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), wire::kIcmpEchoRequest, 0xbeef, 42,
                          payload));
  ASSERT_EQ(t.dev.sent.size(), 1u);
  const SentFrame& f = t.dev.sent[0];
  EXPECT_EQ(eth_of(f).dst, kMacPeer);
  const auto v4 = wire::Ipv4View::parse(std::span(f.bytes).subspan(14));
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->checksum_ok());
  EXPECT_EQ(v4->src(), ip("10.0.0.1"));
  EXPECT_EQ(v4->dst(), ip("10.0.0.99"));
  EXPECT_EQ(v4->protocol(), wire::kIpProtoIcmp);
  const auto ic = wire::IcmpView::parse(v4->payload());
  ASSERT_TRUE(ic.ok());
  EXPECT_EQ(ic->type(), wire::kIcmpEchoReply);
  EXPECT_EQ(ic->echo_ident(), 0xbeef);
  EXPECT_EQ(ic->echo_seq(), 42);
  EXPECT_TRUE(ic->checksum_ok());
  EXPECT_EQ(Bytes(ic->payload().begin(), ic->payload().end()), payload);
  EXPECT_EQ(layer(t.st, "icmp").rx_packets, 1u);
  EXPECT_EQ(layer(t.st, "icmp").tx_packets, 1u);
  EXPECT_EQ(layer(t.st, "icmp").tx_bytes, 108u);
  // The reply reused the request's buffer: no copy was made.
  EXPECT_EQ(t.dev.pool().stats().bytes_copied_in, 0u);
}

TEST(IcmpEcho, TinyEchoReplyIsPadded) {
  OneStack t;
  t.learn_peer();
  t.dev.deliver(t.fb.echo(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), wire::kIcmpEchoRequest, 1, 1, {}));
  ASSERT_EQ(t.dev.sent.size(), 1u);
  EXPECT_EQ(t.dev.sent[0].bytes.size(), 60u);
  for (std::size_t i = 14 + 28; i < 60; ++i) EXPECT_EQ(t.dev.sent[0].bytes[i], 0) << i;
}

TEST(IcmpEcho, EthernetPaddingIsNotEchoed) {
  OneStack t;
  t.learn_peer();
  Bytes f = t.fb.echo(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), wire::kIcmpEchoRequest, 1, 1, Bytes{9, 8, 7, 6});
  ASSERT_EQ(f.size(), 60u);
  for (std::size_t i = 14 + 32; i < f.size(); ++i) f[i] = 0x5a;  // junk padding
  t.dev.deliver(f);
  ASSERT_EQ(t.dev.sent.size(), 1u);
  const auto v4 = wire::Ipv4View::parse(std::span(t.dev.sent[0].bytes).subspan(14));
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->total_length(), 32);
  const auto ic = wire::IcmpView::parse(v4->payload());
  ASSERT_TRUE(ic.ok());
  EXPECT_EQ(Bytes(ic->payload().begin(), ic->payload().end()), (Bytes{9, 8, 7, 6}));
  EXPECT_TRUE(ic->checksum_ok());
}

TEST(IcmpEcho, DropsBadChecksumBroadcastAndUnknownType) {
  OneStack t;
  t.learn_peer();
  Bytes bad = t.fb.echo(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), wire::kIcmpEchoRequest, 1, 1, pattern(8));
  bad[14 + 20 + 9] ^= 0xff;  // payload byte
  t.dev.deliver(bad);
  t.dev.deliver(t.fb.echo(wire::kBroadcastMac, kMacPeer, ip("10.0.0.99"), ip("10.0.0.255"),
                          wire::kIcmpEchoRequest, 1, 2, pattern(8)));
  t.dev.deliver(t.fb.echo(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 13 /* timestamp */, 1, 3, pattern(8)));
  t.dev.deliver(t.fb.echo(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), wire::kIcmpEchoReply, 1, 4, {}));
  Bytes short_icmp = t.fb.ipv4(kMacA, kMacPeer, {ip("10.0.0.99"), ip("10.0.0.1"), wire::kIpProtoIcmp, 64, 5},
                               Bytes{8, 0, 0xf7, 0xff});
  t.dev.deliver(short_icmp);
  EXPECT_EQ(drops(t.st, "icmp.bad_checksum"), 1u);
  EXPECT_EQ(drops(t.st, "icmp.broadcast_ignored"), 1u);
  EXPECT_EQ(drops(t.st, "icmp.unsupported_type"), 1u);
  EXPECT_EQ(drops(t.st, "icmp.unmatched_reply"), 1u);
  EXPECT_EQ(drops(t.st, "icmp.too_short"), 1u);
  EXPECT_TRUE(t.dev.sent.empty());
  EXPECT_TRUE(t.st.echo_replies().empty());
}

TEST(IcmpEcho, RoundTripBetweenTwoStacks) {
  TwoStacks n;
  constexpr TimePs L = TwoStacks::kLatency;
  n.sched.run_until(us_to_ps(10));
  ASSERT_FALSE(n.a.send_echo(ip("10.0.0.2"), 7, 1, 56));
  n.sched.run_for(ms_to_ps(10));
  ASSERT_EQ(n.a.echo_replies().size(), 1u);
  const stack::EchoReply& r = n.a.echo_replies()[0];
  EXPECT_EQ(r.from, ip("10.0.0.2"));
  EXPECT_EQ(r.id, 7);
  EXPECT_EQ(r.seq, 1);
  EXPECT_EQ(r.payload_len, 56u);
  EXPECT_EQ(r.sent_at, us_to_ps(10));
  // ARP request, ARP reply, echo request, echo reply: four link crossings.
  EXPECT_EQ(r.received_at - r.sent_at, 4 * L);

  // Both sides now know each other: the next ping is one round trip.
  n.sched.run_until(us_to_ps(100));
  ASSERT_FALSE(n.a.send_echo(ip("10.0.0.2"), 7, 2, 0));
  n.sched.run_for(ms_to_ps(10));
  ASSERT_EQ(n.a.echo_replies().size(), 2u);
  EXPECT_EQ(n.a.echo_replies()[1].seq, 2);
  EXPECT_EQ(n.a.echo_replies()[1].payload_len, 0u);
  EXPECT_EQ(n.a.echo_replies()[1].received_at - n.a.echo_replies()[1].sent_at, 2 * L);
  // The announcement, then one request: B learnt A from A's request.
  EXPECT_EQ(count_arp(n.da.sent), 2u);
  EXPECT_EQ(count_arp(n.db.sent), 2u);
  EXPECT_EQ(layer(n.b, "icmp").rx_packets, 2u);
  EXPECT_EQ(layer(n.b, "icmp").tx_packets, 2u);
  EXPECT_EQ(total_drops(n.a), 0u);
  EXPECT_EQ(total_drops(n.b), 0u);
  EXPECT_TRUE(n.b.echo_replies().empty());
}

TEST(IcmpEcho, DuplicateReplyIsUnmatched) {
  OneStack t;
  t.learn_peer();
  ASSERT_FALSE(t.st.send_echo(ip("10.0.0.99"), 3, 9, 8));
  const Bytes reply = t.fb.echo(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), wire::kIcmpEchoReply, 3, 9,
                                Bytes{0, 1, 2, 3, 4, 5, 6, 7});
  t.sched.run_until(us_to_ps(5));
  t.dev.deliver(reply);
  t.dev.deliver(reply);
  ASSERT_EQ(t.st.echo_replies().size(), 1u);
  EXPECT_EQ(t.st.echo_replies()[0].received_at, us_to_ps(5));
  EXPECT_EQ(t.st.echo_replies()[0].sent_at, 0u);
  EXPECT_EQ(drops(t.st, "icmp.unmatched_reply"), 1u);
}

TEST(IcmpEcho, SendEchoChecksSizes) {
  OneStack t;
  t.learn_peer();
  EXPECT_EQ(t.st.send_echo(ip("10.0.0.99"), 1, 1, 65508), std::errc::message_size);
  EXPECT_FALSE(t.st.send_echo(ip("10.0.0.99"), 1, 1, 1472));
  ASSERT_EQ(t.dev.sent.size(), 1u);  // exactly the MTU: not fragmented
  EXPECT_EQ(t.dev.sent[0].bytes.size(), 14u + 1500);
  const auto v4 = wire::Ipv4View::parse(std::span(t.dev.sent[0].bytes).subspan(14));
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(wire::IcmpView::parse(v4->payload())->checksum_ok());
}

}  // namespace
}  // namespace vd::test

namespace vd::test {
namespace {

// One byte over the MTU: two fragments, 1480 + 1 payload bytes (the first a
// multiple of 8), MF on the first only, one identification.
TEST(IcmpEcho, LargerThanMtuIsFragmented) {
  OneStack t;
  t.learn_peer();
  ASSERT_FALSE(t.st.send_echo(ip("10.0.0.99"), 1, 1, 1473));
  ASSERT_EQ(t.dev.sent.size(), 2u);
  const auto f0 = wire::Ipv4View::parse(std::span(t.dev.sent[0].bytes).subspan(14));
  const auto f1 = wire::Ipv4View::parse(std::span(t.dev.sent[1].bytes).subspan(14));
  ASSERT_TRUE(f0.ok() && f1.ok());
  EXPECT_EQ(f0->total_length(), 1500u);
  EXPECT_TRUE(f0->more_fragments());
  EXPECT_EQ(f0->frag_offset(), 0u);
  EXPECT_FALSE(f1->more_fragments());
  EXPECT_EQ(f1->frag_offset(), 1480u / 8);
  EXPECT_EQ(f1->total_length(), 20u + 1);
  EXPECT_EQ(f0->ident(), f1->ident());
  EXPECT_TRUE(f0->checksum_ok() && f1->checksum_ok());
  EXPECT_EQ(events(t.st, "ipv4.fragments_sent"), 2u);
}

}  // namespace
}  // namespace vd::test
