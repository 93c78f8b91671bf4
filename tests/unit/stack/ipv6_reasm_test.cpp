// IPv6 reassembly (RFC 8200 4.5): random fragment orders, overlaps (RFC
// 5722), inconsistent last fragments, the timeout and its time-exceeded
// error, memory and count limits, atomic fragments, the unfragmentable part.
#include <algorithm>
#include <random>

#include "ipv6_rig.hpp"

namespace vd::test {
namespace {

// ------------------------------------------------------------ reassembly

class Reassembly : public ::testing::TestWithParam<unsigned> {};

TEST_P(Reassembly, RandomOrderReassembles) {
  Udp6Rig t;
  const Bytes data = pattern(9000 + GetParam() * 13, static_cast<std::uint8_t>(GetParam()));
  auto frags = fragments(kPeerG, t.me, wire::kIpProtoUdp, t.udp(data), 1232, 0x1000 + GetParam());
  std::mt19937 rng(GetParam());
  std::shuffle(frags.begin(), frags.end(), rng);
  // An exact duplicate of one fragment (before the datagram completes) is harmless.
  frags.insert(frags.begin() + 1, frags[0]);
  for (const auto& f : frags) {
    EXPECT_EQ(t.sock->pending(), 0u);
    t.in(f);
  }
  ASSERT_EQ(t.sock->pending(), 1u);
  EXPECT_EQ(t.sock->recvfrom()->data, data);
  EXPECT_EQ(events(t.st, "ipv6.reassembled"), 1u);
  EXPECT_EQ(drops(t.st, "ipv6.frag_duplicate"), 1u);
  EXPECT_EQ(total_drops(t.st), 1u);
  t.sched.run_for(s_to_ps(61));
  EXPECT_EQ(t.dev.pool().available(), t.dev.pool().capacity());
}

INSTANTIATE_TEST_SUITE_P(Seeds, Reassembly, ::testing::Range(1u, 9u));

TEST(Ipv6Frag, OverlapDropsWholeDatagram) {
  Udp6Rig t;
  const Bytes msg = t.udp(pattern(4000, 3));
  auto frags = fragments(kPeerG, t.me, wire::kIpProtoUdp, msg, 1000, 77);
  // A fragment at offset 992 with 16 bytes: overlaps the first one's tail.
  Bytes ov = frag_hdr(wire::kIpProtoUdp, 992, true, 77);
  append(ov, Bytes(16, 0xee));
  t.in(frags[0]);
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6Fragment, ov));
  EXPECT_EQ(drops(t.st, "ipv6.frag_overlap"), 1u);
  for (std::size_t i = 1; i < frags.size(); ++i) t.in(frags[i]);
  EXPECT_EQ(t.sock->pending(), 0u);
  EXPECT_EQ(drops(t.st, "ipv6.frag_of_dropped_datagram"), frags.size() - 1);
  // No time exceeded for a dropped datagram.
  t.sched.run_for(s_to_ps(61));
  EXPECT_TRUE(icmp6_of_type(t.dev.sent, wire::kIcmpv6TimeExceeded).empty());
  // After the timeout the same id may be used again.
  for (const auto& f : frags) t.in(f);
  EXPECT_EQ(t.sock->pending(), 1u);
}

TEST(Ipv6Frag, InconsistentLastFragmentIsOverlap) {
  Udp6Rig t;
  auto frags = fragments(kPeerG, t.me, wire::kIpProtoUdp, t.udp(pattern(3000, 1)), 1000, 5);
  t.in(frags.back());
  // A second "last" fragment ending elsewhere.
  Bytes other = frag_hdr(wire::kIpProtoUdp, 1000, false, 5);
  append(other, Bytes(8, 1));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6Fragment, other));
  EXPECT_EQ(drops(t.st, "ipv6.frag_overlap"), 1u);
}

TEST(Ipv6Frag, TimeoutSendsTimeExceededOnlyWithFirstFragment) {
  Udp6Rig t;
  auto frags = fragments(kPeerG, t.me, wire::kIpProtoUdp, t.udp(pattern(3000, 1)), 1000, 9);
  t.in(frags[0]);
  t.in(frags[2]);
  auto later = fragments(kPeerG, t.me, wire::kIpProtoUdp, t.udp(pattern(3000, 2)), 1000, 10);
  t.in(later[1]);  // no first fragment for id 10
  t.sched.run_for(s_to_ps(59));
  EXPECT_EQ(drops(t.st, "ipv6.reasm_timeout"), 0u);
  t.sched.run_for(s_to_ps(2));
  EXPECT_EQ(drops(t.st, "ipv6.reasm_timeout"), 2u);
  EXPECT_EQ(events(t.st, "icmpv6.tx_time_exceeded"), 1u);
  // The peer's cache entry aged out meanwhile: the error waits for ND.
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpProtoIcmpv6, na_msg(kPeerG, t.me, kPeerG, wire::kNaSolicited, kMacPeer), 255));
  const auto te = icmp6_of_type(t.dev.sent, wire::kIcmpv6TimeExceeded);
  ASSERT_EQ(te.size(), 1u);
  EXPECT_EQ(te[0].code, wire::kTimeExceededReassembly);
  EXPECT_EQ(te[0].dst, kPeerG);
  EXPECT_TRUE(te[0].csum_ok);
  EXPECT_LE(te[0].packet.size(), 1280u);
  t.in(frags[1]);  // too late: starts over
  EXPECT_EQ(t.sock->pending(), 0u);
}

TEST(Ipv6Frag, Limits) {
  stack::StackConfig cfg = OneStack6::quiet();
  cfg.ipv6.reassembly_max_fragments = 4;
  cfg.ipv6.reassembly_max_datagrams = 2;
  cfg.ipv6.reassembly_mem_limit = 3000;
  Udp6Rig t;
  (void)cfg;
  // Default limits first: a 65,535-byte payload in 1232-byte pieces is fine.
  const Bytes big = pattern(65535 - 8 - 40, 9);  // leaves room in the 16-bit payload length after reassembly
  auto fr = fragments(kPeerG, t.me, wire::kIpProtoUdp, t.udp(big), 1232, 1);
  for (const auto& f : fr) t.in(f);
  ASSERT_EQ(t.sock->pending(), 1u);
  EXPECT_EQ(t.sock->recvfrom()->data, big);
  // Offset + length past 65535: parameter problem at the fragment offset.
  Bytes over = frag_hdr(wire::kIpProtoUdp, 65528, false, 2);
  append(over, Bytes(16, 0));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6Fragment, over));
  EXPECT_EQ(drops(t.st, "ipv6.frag_too_big"), 1u);
  auto pp = icmp6_of_type(t.dev.sent, wire::kIcmpv6ParamProblem);
  ASSERT_EQ(pp.size(), 1u);
  EXPECT_EQ(pp[0].rest, 42u);
  // A non-last fragment whose length is not a multiple of 8: pointer 4.
  Bytes odd = frag_hdr(wire::kIpProtoUdp, 0, true, 3);
  append(odd, Bytes(13, 0));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6Fragment, odd));
  EXPECT_EQ(drops(t.st, "ipv6.frag_bad_length"), 1u);
  pp = icmp6_of_type(t.dev.sent, wire::kIcmpv6ParamProblem);
  ASSERT_EQ(pp.size(), 2u);
  EXPECT_EQ(pp[1].rest, 4u);

  // Tight limits.
  OneStack6 s(cfg);
  auto sock = s.st.udp_socket();
  ASSERT_FALSE(sock->bind(Ipv6Addr{}, 7));
  const Ipv6Addr me = ip6("2001:db8::1");
  auto many = fragments(kPeerG, me, wire::kIpProtoUdp, udp6_msg(kPeerG, me, 1, 7, pattern(4000, 1)), 160, 50);
  ASSERT_GT(many.size(), 4u);
  for (const auto& f : many) s.in(f);
  EXPECT_EQ(drops(s.st, "ipv6.reasm_too_many_fragments"), 1u);
  EXPECT_EQ(sock->pending(), 0u);
  // Datagrams in progress: at most 2 (the dead one above counts until it times out).
  auto d1 = fragments(kPeerG, me, wire::kIpProtoUdp, udp6_msg(kPeerG, me, 1, 7, pattern(100, 1)), 64, 60);
  auto d2 = fragments(kPeerG, me, wire::kIpProtoUdp, udp6_msg(kPeerG, me, 1, 7, pattern(100, 1)), 64, 61);
  s.in(d1[0]);
  s.in(d2[0]);
  EXPECT_EQ(drops(s.st, "ipv6.reasm_too_many_datagrams"), 1u);
  s.sched.run_for(s_to_ps(61));
  // Memory: 3000 bytes over all datagrams.
  auto m1 = fragments(kPeerG, me, wire::kIpProtoUdp, udp6_msg(kPeerG, me, 1, 7, pattern(8000, 1)), 1232, 70);
  s.in(m1[0]);
  s.in(m1[1]);  // 2464 held
  s.in(m1[2]);  // 3696 > 3000
  EXPECT_EQ(drops(s.st, "ipv6.reasm_mem_limit"), 1u);
  // Timeout; the time-exceeded error waits for ND of a peer that never answers.
  s.sched.run_for(s_to_ps(61));
  EXPECT_EQ(events(s.st, "icmpv6.tx_time_exceeded"), 2u);  // m1 and d1 had their first fragments
  s.sched.run_for(s_to_ps(5));
  EXPECT_EQ(s.dev.pool().available(), s.dev.pool().capacity());
}

TEST(Ipv6Frag, AtomicFragmentProcessedAlone) {
  Udp6Rig t;
  // An atomic fragment (offset 0, M=0) with the same id as a pending
  // datagram: delivered at once, the pending one is untouched (RFC 6946).
  auto frags = fragments(kPeerG, t.me, wire::kIpProtoUdp, t.udp(pattern(2000, 1)), 1000, 33);
  t.in(frags[0]);
  Bytes atomic = frag_hdr(wire::kIpProtoUdp, 0, false, 33);
  append(atomic, t.udp(to_bytes("atomic")));
  t.in(ipv6_packet(kPeerG, t.me, wire::kIpv6Fragment, atomic));
  ASSERT_EQ(t.sock->pending(), 1u);
  EXPECT_EQ(t.sock->recvfrom()->data, to_bytes("atomic"));
  EXPECT_EQ(events(t.st, "ipv6.atomic_fragment"), 1u);
  t.in(frags[1]);
  t.in(frags[2]);
  ASSERT_EQ(t.sock->pending(), 1u);
  EXPECT_EQ(t.sock->recvfrom()->data, pattern(2000, 1));
}

TEST(Ipv6Frag, UnfragmentablePartKept) {
  Udp6Rig t;
  // Hop-by-hop before the fragment header in every fragment.
  const Bytes msg = t.udp(pattern(2500, 4));
  std::vector<Bytes> frags;
  for (std::size_t off = 0; off < msg.size(); off += 1024) {
    const std::size_t n = std::min<std::size_t>(1024, msg.size() - off);
    Bytes pl = opts_hdr(wire::kIpv6Fragment, {});
    append(pl, frag_hdr(wire::kIpProtoUdp, off, off + n < msg.size(), 44));
    pl.insert(pl.end(), msg.begin() + static_cast<std::ptrdiff_t>(off), msg.begin() + static_cast<std::ptrdiff_t>(off + n));
    frags.push_back(ipv6_packet(kPeerG, t.me, wire::kIpv6HopByHop, pl));
  }
  std::reverse(frags.begin(), frags.end());
  for (const auto& f : frags) t.in(f);
  ASSERT_EQ(t.sock->pending(), 1u);
  EXPECT_EQ(t.sock->recvfrom()->data, pattern(2500, 4));
}

}  // namespace
}  // namespace vd::test
