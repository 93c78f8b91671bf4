// ARP: replies, cache learning and ageing, queueing while resolving,
// retries and failure on virtual time.
#include "test_util.hpp"

namespace vd::test {
namespace {

const Bytes kPayload = to_bytes("data");

wire::Parsed<wire::ArpView> arp_of(const SentFrame& f) {
  const auto e = wire::EthernetView::parse(f.bytes);
  EXPECT_TRUE(e.ok());
  return wire::ArpView::parse(e->payload());
}

TEST(Arp, RepliesToRequestForOurAddress) {
  OneStack t;
  t.dev.deliver(t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, kMacPeer, ip("10.0.0.99"), MacAddr{},
                         ip("10.0.0.1")));
  ASSERT_EQ(t.dev.sent.size(), 1u);
  const TxFrame eth = eth_of(t.dev.sent[0]);
  EXPECT_EQ(eth.dst, kMacPeer);
  EXPECT_EQ(eth.src, kMacA);
  EXPECT_EQ(eth.size, 60u);  // padded to the minimum frame
  const auto a = arp_of(t.dev.sent[0]);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->oper(), wire::kArpOpReply);
  EXPECT_EQ(a->sender_mac(), kMacA);
  EXPECT_EQ(a->sender_ip(), ip("10.0.0.1"));
  EXPECT_EQ(a->target_mac(), kMacPeer);
  EXPECT_EQ(a->target_ip(), ip("10.0.0.99"));
  EXPECT_EQ(layer(t.st, "arp").rx_packets, 1u);
  // The reply and, earlier, the gratuitous announcement of 10.0.0.1.
  EXPECT_EQ(layer(t.st, "arp").tx_packets, 2u);
  EXPECT_EQ(layer(t.st, "arp").tx_bytes, 56u);
  EXPECT_EQ(layer(t.st, "eth").tx_bytes, 120u);
  EXPECT_EQ(events(t.st, "arp.gratuitous_sent"), 1u);
}

TEST(Arp, RequestLearnsSenderSoNoRequestIsNeeded) {
  OneStack t;
  t.learn_peer();
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->sendto(kPayload, ip("10.0.0.99"), 9));
  ASSERT_EQ(t.dev.sent.size(), 1u);
  EXPECT_TRUE(is_ipv4(t.dev.sent[0]));
  EXPECT_EQ(eth_of(t.dev.sent[0]).dst, kMacPeer);
}

TEST(Arp, IgnoresRequestForOtherAddress) {
  OneStack t;
  t.dev.deliver(t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, kMacPeer, ip("10.0.0.99"), MacAddr{},
                         ip("10.0.0.7")));
  EXPECT_TRUE(t.dev.sent.empty());
  EXPECT_EQ(drops(t.st, "arp.not_for_us"), 1u);
  // And did not learn the sender: a send now has to ask.
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->sendto(kPayload, ip("10.0.0.99"), 9));
  ASSERT_EQ(t.dev.sent.size(), 1u);
  EXPECT_TRUE(is_arp(t.dev.sent[0]));
}

TEST(Arp, MalformedAndBogusArpAreCountedDrops) {
  OneStack t;
  Bytes f = t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, kMacPeer, ip("10.0.0.99"), MacAddr{},
                     ip("10.0.0.1"));
  Bytes bad_op = f;
  bad_op[14 + 7] = 9;
  t.dev.deliver(bad_op);
  Bytes bad_hw = f;
  bad_hw[14 + 1] = 6;
  t.dev.deliver(bad_hw);
  t.dev.deliver(std::span(f).first(14 + 27));
  // A sender claiming a multicast MAC must not poison the cache.
  t.dev.deliver(t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, MacAddr{0x01, 0, 0x5e, 0, 0, 1},
                         ip("10.0.0.99"), MacAddr{}, ip("10.0.0.1")));
  EXPECT_EQ(drops(t.st, "arp.bad_opcode"), 1u);
  EXPECT_EQ(drops(t.st, "arp.unsupported"), 1u);
  EXPECT_EQ(drops(t.st, "arp.too_short"), 1u);
  EXPECT_EQ(drops(t.st, "arp.bad_sender"), 1u);
  EXPECT_TRUE(t.dev.sent.empty());
  EXPECT_EQ(layer(t.st, "arp").rx_packets, 0u);
}

TEST(Arp, ProbeIsAnsweredButNotLearned) {
  OneStack t;
  t.dev.deliver(t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, kMacPeer, ip("0.0.0.0"), MacAddr{},
                         ip("10.0.0.1")));
  ASSERT_EQ(t.dev.sent.size(), 1u);
  EXPECT_EQ(arp_of(t.dev.sent[0])->oper(), wire::kArpOpReply);
}

class ArpResolve : public ::testing::Test {
 protected:
  static stack::StackConfig cfg() {
    stack::StackConfig c;
    c.arp.queue_limit = 3;
    c.arp.retrans_timer = ms_to_ps(100);
    c.arp.max_multicast_solicit = 3;
    c.arp.reachable_time = s_to_ps(10);
    return c;
  }
  ArpResolve() : t(cfg()), sock(t.st.udp_socket()) {}
  void reply_from_peer() {
    t.dev.deliver(t.fb.arp(kMacA, wire::kArpOpReply, kMacPeer, ip("10.0.0.99"), kMacA, ip("10.0.0.1")));
  }
  OneStack t;
  std::shared_ptr<stack::UdpSocket> sock;
};

TEST_F(ArpResolve, QueuesUntilReplyThenFlushesInOrder) {
  for (std::uint8_t i = 0; i < 3; ++i) ASSERT_FALSE(sock->sendto(Bytes{i}, ip("10.0.0.99"), 9));
  ASSERT_EQ(t.dev.sent.size(), 1u);  // one request for three packets
  const auto req = arp_of(t.dev.sent[0]);
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->oper(), wire::kArpOpRequest);
  EXPECT_EQ(req->sender_ip(), ip("10.0.0.1"));
  EXPECT_EQ(req->target_ip(), ip("10.0.0.99"));
  EXPECT_EQ(eth_of(t.dev.sent[0]).dst, wire::kBroadcastMac);

  reply_from_peer();
  ASSERT_EQ(t.dev.sent.size(), 4u);
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(eth_of(t.dev.sent[i]).dst, kMacPeer);
    // The payload byte is the last UDP byte before padding: 14 + 20 + 8.
    EXPECT_EQ(t.dev.sent[i].bytes[42], i - 1);
  }
  // The retry timer was cancelled: no more requests; what is left is the
  // entry's reachability timer.
  t.sched.run_for(s_to_ps(5));
  EXPECT_EQ(t.dev.sent.size(), 4u);
  EXPECT_EQ(t.sched.pending(), 1u);
  ASSERT_EQ(t.st.neighbors().size(), 1u);
  EXPECT_EQ(t.st.neighbors()[0].state, stack::NudState::Reachable);
}

// As Linux's unres_qlen: beyond the limit the oldest waiting packet is
// discarded and counted; the send itself succeeds.
TEST_F(ArpResolve, QueueIsBoundedAndKeepsTheNewest) {
  for (std::uint8_t i = 0; i < 5; ++i) ASSERT_FALSE(sock->sendto(Bytes{i}, ip("10.0.0.99"), 9));
  EXPECT_EQ(drops(t.st, "arp.unres_discards"), 2u);
  reply_from_peer();
  ASSERT_EQ(count_ipv4(t.dev.sent), 3u);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(t.dev.sent[i].bytes[42], i + 1);  // 2, 3, 4 waited
}

// The byte limit (unres_qlen_bytes) discards the oldest too.
TEST(ArpQueue, ByteLimitDiscardsTheOldest) {
  stack::StackConfig c;
  c.arp.queue_bytes = 3 * (20 + 8 + 400);  // three 400-byte datagrams (IP and UDP headers included)
  OneStack t(c);
  auto sock = t.st.udp_socket();
  for (std::uint8_t i = 0; i < 4; ++i) ASSERT_FALSE(sock->sendto(Bytes(400, i), ip("10.0.0.99"), 9));
  EXPECT_EQ(drops(t.st, "arp.unres_discards"), 1u);
  t.dev.deliver(t.fb.arp(kMacA, wire::kArpOpReply, kMacPeer, ip("10.0.0.99"), kMacA, ip("10.0.0.1")));
  ASSERT_EQ(count_ipv4(t.dev.sent), 3u);
  EXPECT_EQ(t.dev.sent[1].bytes[42], 1u);  // the first one was discarded
}

// A 65,507-byte datagram to a neighbour not resolved yet: its 45 fragments
// wait for the ARP reply and then all go, as on Linux (the default limits
// hold 101 packets and 212,992 bytes).
TEST(ArpQueue, LargestDatagramWaitsForResolution) {
  OneStack t;
  auto sock = t.st.udp_socket();
  const Bytes big = seeded_bytes(65507, 7);
  ASSERT_FALSE(sock->sendto(big, ip("10.0.0.99"), 9));
  EXPECT_EQ(count_ipv4(t.dev.sent), 0u);
  t.dev.deliver(t.fb.arp(kMacA, wire::kArpOpReply, kMacPeer, ip("10.0.0.99"), kMacA, ip("10.0.0.1")));
  EXPECT_EQ(count_ipv4(t.dev.sent), 45u);  // ceil((65507 + 8) / 1480)
  EXPECT_EQ(drops(t.st, "arp.unres_discards"), 0u);
}

TEST_F(ArpResolve, RetriesThenFailsAndDropsQueue) {
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  EXPECT_EQ(count_arp(t.dev.sent), 1u);
  t.sched.run_until(ms_to_ps(99));
  EXPECT_EQ(count_arp(t.dev.sent), 1u);
  t.sched.run_until(ms_to_ps(100));
  EXPECT_EQ(count_arp(t.dev.sent), 2u);
  t.sched.run_until(ms_to_ps(200));
  EXPECT_EQ(count_arp(t.dev.sent), 3u);  // 1 + arp_max_retries
  EXPECT_EQ(drops(t.st, "arp.resolution_failed"), 0u);
  t.sched.run_until(ms_to_ps(300));
  EXPECT_EQ(count_arp(t.dev.sent), 3u);
  EXPECT_EQ(drops(t.st, "arp.resolution_failed"), 2u);
  EXPECT_EQ(t.sched.pending(), 0u);
  EXPECT_EQ(count_ipv4(t.dev.sent), 0u);
  // A late reply finds nothing queued; a new send starts a new resolution.
  reply_from_peer();
  EXPECT_EQ(count_ipv4(t.dev.sent), 0u);
}

TEST_F(ArpResolve, ReplyDuringRetriesStillDelivers) {
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  t.sched.run_until(ms_to_ps(150));
  EXPECT_EQ(count_arp(t.dev.sent), 2u);
  reply_from_peer();
  EXPECT_EQ(count_ipv4(t.dev.sent), 1u);
  t.sched.run_for(s_to_ps(1));
  EXPECT_EQ(count_arp(t.dev.sent), 2u);
  EXPECT_EQ(drops(t.st, "arp.resolution_failed"), 0u);
}

// RFC 4861 7.3 applied to ARP: REACHABLE for reachable_time, then STALE
// (still used), DELAY on first use, then unicast probes; no answer deletes.
TEST_F(ArpResolve, ReachableStaleDelayProbeThenGone) {
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  reply_from_peer();
  t.dev.sent.clear();
  auto state = [&] { return t.st.neighbors().at(0).state; };
  EXPECT_EQ(state(), stack::NudState::Reachable);
  t.sched.run_until(s_to_ps(10) + 1);  // reachable_time is 10 s here
  EXPECT_EQ(state(), stack::NudState::Stale);
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  ASSERT_EQ(t.dev.sent.size(), 1u);
  EXPECT_TRUE(is_ipv4(t.dev.sent[0]));  // a stale entry is still used...
  EXPECT_EQ(state(), stack::NudState::Delay);
  t.sched.run_for(s_to_ps(5));          // ...and probed after delay_first_probe
  EXPECT_EQ(state(), stack::NudState::Probe);
  ASSERT_EQ(t.dev.sent.size(), 2u);
  ASSERT_TRUE(is_arp(t.dev.sent[1]));
  EXPECT_EQ(eth_of(t.dev.sent[1]).dst, kMacPeer);  // unicast probe
  t.sched.run_for(ms_to_ps(350));
  EXPECT_EQ(count_arp(t.dev.sent), 3u);  // max_unicast_solicit probes, then deleted
  EXPECT_TRUE(t.st.neighbors().empty());
}

TEST_F(ArpResolve, ProbeAnsweredMakesReachableAgain) {
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  reply_from_peer();
  t.sched.run_until(s_to_ps(10) + 1);
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  t.sched.run_for(s_to_ps(5));
  EXPECT_EQ(t.st.neighbors().at(0).state, stack::NudState::Probe);
  reply_from_peer();
  EXPECT_EQ(t.st.neighbors().at(0).state, stack::NudState::Reachable);
}

TEST_F(ArpResolve, GratuitousReplyUpdatesEntry) {
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  reply_from_peer();
  t.sched.run_for(s_to_ps(2));  // past the 1 s locktime
  const MacAddr moved{0x02, 0, 0, 0, 0, 0x77};
  t.dev.deliver(t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, moved, ip("10.0.0.99"), MacAddr{},
                         ip("10.0.0.99")));  // announcement: not for us, but merges
  EXPECT_EQ(drops(t.st, "arp.not_for_us"), 0u);
  EXPECT_EQ(drops(t.st, "arp.update_locked"), 0u);
  t.dev.sent.clear();
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  ASSERT_EQ(t.dev.sent.size(), 1u);
  EXPECT_EQ(eth_of(t.dev.sent[0]).dst, moved);
}

// Spoofing: an unsolicited claim right after a genuine answer is refused;
// a claim to one of our own addresses is never learnt; an unknown address
// is not added by an ARP that was not for us.
TEST_F(ArpResolve, SpoofAttemptsAreRefusedAndCounted) {
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  reply_from_peer();
  const MacAddr evil{0x02, 0, 0, 0, 0, 0x66};
  t.dev.deliver(t.fb.arp(kMacA, wire::kArpOpReply, evil, ip("10.0.0.99"), kMacA, ip("10.0.0.1")));
  t.dev.deliver(t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, evil, ip("10.0.0.99"), MacAddr{},
                         ip("10.0.0.99")));
  EXPECT_EQ(drops(t.st, "arp.update_locked"), 2u);
  t.dev.deliver(t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, evil, ip("10.0.0.1"), MacAddr{},
                         ip("10.0.0.1")));
  EXPECT_EQ(drops(t.st, "arp.address_conflict"), 1u);
  t.dev.deliver(t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, evil, ip("10.0.0.50"), MacAddr{},
                         ip("10.0.0.77")));
  EXPECT_EQ(drops(t.st, "arp.not_for_us"), 1u);
  const auto n = t.st.neighbors();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].mac, kMacPeer);
  t.dev.sent.clear();
  ASSERT_FALSE(sock->sendto(kPayload, ip("10.0.0.99"), 9));
  EXPECT_EQ(eth_of(t.dev.sent.at(0)).dst, kMacPeer);
}

TEST_F(ArpResolve, DestroyingStackCancelsTimers) {
  {
    FakeDevice dev(kMacB);
    {
      stack::Stack st(t.sched, "tmp", cfg());
      st.add_address(st.add_interface(dev), ip("10.0.1.1"), 24);
      auto s = st.udp_socket();
      ASSERT_FALSE(s->sendto(kPayload, ip("10.0.1.2"), 9));
      EXPECT_EQ(t.sched.pending(), 1u);
      EXPECT_TRUE(dev.has_rx_handler());
    }
    EXPECT_EQ(t.sched.pending(), 0u);
    EXPECT_FALSE(dev.has_rx_handler());
  }
  t.sched.run_for(s_to_ps(5));  // nothing left to fire into freed memory
}

}  // namespace
}  // namespace vd::test
