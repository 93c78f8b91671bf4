// IPv4 reassembly: any order, duplicates, overlaps, timeouts, limits, and
// hostile fragments (ping of death, tiny fragments).
#include <algorithm>
#include <random>

#include "test_util.hpp"

namespace vd::test {
namespace {

// A UDP message (header + payload) of any size, checksum included.
Bytes udp_l4(Ipv4Addr src, Ipv4Addr dst, std::uint16_t sport, std::uint16_t dport, const Bytes& payload) {
  Bytes b(8 + payload.size());
  wire::store_be16(&b[0], sport);
  wire::store_be16(&b[2], dport);
  wire::store_be16(&b[4], static_cast<std::uint16_t>(b.size()));
  std::copy(payload.begin(), payload.end(), b.begin() + 8);
  const std::uint32_t ph = offload::pseudo_header_v4(src.b, dst.b, wire::kIpProtoUdp, static_cast<std::uint16_t>(b.size()));
  std::uint16_t c = offload::internet_checksum(b, ph);
  wire::store_be16(&b[6], c == 0 ? 0xffff : c);
  return b;
}

// One fragment of the UDP datagram `l4` (UDP header + payload), as a frame.
Bytes fragment(FrameBuilder& fb, std::span<const std::uint8_t> l4, std::size_t off, std::size_t len, bool mf,
               std::uint16_t id, std::uint8_t proto = wire::kIpProtoUdp) {
  Bytes f = fb.ipv4(kMacA, kMacPeer, {ip("10.0.0.99"), ip("10.0.0.1"), proto, 64, id}, l4.subspan(off, len));
  const std::uint16_t field = static_cast<std::uint16_t>((mf ? wire::kIpv4FlagMf : 0) | (off / 8));
  wire::store_be16(&f[14 + 6], field);
  fix_ipv4_csum(f);
  return f;
}

struct Reasm : ::testing::Test {
  Reasm() {
    t.learn_peer();
    sock = t.st.udp_socket();
    EXPECT_FALSE(sock->bind(Ipv4Addr{}, 7));
    payload = pattern(3000, 3);
    l4 = udp_l4(ip("10.0.0.99"), ip("10.0.0.1"), 5000, 7, payload);
  }
  static Bytes pattern(std::size_t n, unsigned seed) {
    Bytes b(n);
    std::mt19937 g(seed);
    for (auto& x : b) x = static_cast<std::uint8_t>(g());
    return b;
  }
  // 3008 bytes of UDP in fragments of 1000, 1000, 1008.
  std::vector<Bytes> frags(std::uint16_t id) {
    return {fragment(t.fb, l4, 0, 1000, true, id), fragment(t.fb, l4, 1000, 1000, true, id),
            fragment(t.fb, l4, 2000, 1008, false, id)};
  }
  OneStack t;
  std::shared_ptr<stack::UdpSocket> sock;
  Bytes payload, l4;
};

TEST_F(Reasm, AnyOrderGivesTheDatagram) {
  std::mt19937 g(42);
  for (std::uint16_t id = 1; id <= 12; ++id) {
    auto f = frags(id);
    std::shuffle(f.begin(), f.end(), g);
    for (const auto& x : f) t.dev.deliver(x);
    ASSERT_EQ(sock->pending(), 1u) << "id " << id;
    EXPECT_EQ(sock->recvfrom()->data, payload);
  }
  EXPECT_EQ(events(t.st, "ipv4.reassembled"), 12u);
  EXPECT_EQ(total_drops(t.st), 0u);
}

TEST_F(Reasm, ExactDuplicateIsIgnored) {
  auto f = frags(9);
  for (const auto& x : {f[1], f[0], f[1], f[2]}) t.dev.deliver(x);
  ASSERT_EQ(sock->pending(), 1u);
  EXPECT_EQ(sock->recvfrom()->data, payload);
  EXPECT_EQ(drops(t.st, "ipv4.frag_duplicate"), 1u);
}

TEST_F(Reasm, OverlapDropsTheWholeDatagram) {
  auto f = frags(9);
  t.dev.deliver(f[0]);
  t.dev.deliver(fragment(t.fb, l4, 992, 16, true, 9));  // overlaps the first by 8 bytes
  t.dev.deliver(f[1]);
  t.dev.deliver(f[2]);
  EXPECT_EQ(sock->pending(), 0u);
  EXPECT_EQ(drops(t.st, "ipv4.frag_overlap"), 2u);  // the two fragments held so far
  // A same-offset fragment with other bytes is an overlap too, not a duplicate.
  const auto g = frags(10);
  Bytes evil = g[0];
  evil.back() ^= 0xff;
  fix_ipv4_csum(evil);
  t.dev.deliver(g[0]);
  t.dev.deliver(evil);
  EXPECT_EQ(drops(t.st, "ipv4.frag_overlap"), 4u);
}

TEST_F(Reasm, TimeoutSendsTimeExceededOnlyWithFirstFragment) {
  auto f = frags(5);
  t.dev.deliver(f[0]);
  t.dev.deliver(f[2]);
  t.sched.run_for(s_to_ps(29));
  EXPECT_TRUE(t.dev.sent.empty());
  t.sched.run_for(s_to_ps(2));
  EXPECT_EQ(drops(t.st, "ipv4.reasm_timeout"), 2u);
  ASSERT_EQ(t.dev.sent.size(), 1u);
  const auto ip4 = wire::Ipv4View::parse(std::span(t.dev.sent[0].bytes).subspan(14));
  const auto icmp = wire::IcmpView::parse(ip4->payload());
  EXPECT_EQ(icmp->type(), wire::kIcmpTimeExceeded);
  EXPECT_EQ(icmp->code(), wire::kIcmpCodeReassembly);
  // Without the first fragment: silence (RFC 792).
  t.dev.sent.clear();
  t.dev.deliver(frags(6)[1]);
  t.sched.run_for(s_to_ps(31));
  EXPECT_EQ(count_ipv4(t.dev.sent), 0u);
  EXPECT_EQ(drops(t.st, "ipv4.reasm_timeout"), 3u);
}

TEST_F(Reasm, HostileFragmentsAreCountedDrops) {
  Bytes big(70000 - 28, 0);
  // Ping of death: a fragment that ends past 65535.
  Bytes pod = fragment(t.fb, l4, 0, 1000, false, 77);
  wire::store_be16(&pod[14 + 6], static_cast<std::uint16_t>(65000 / 8));
  fix_ipv4_csum(pod);
  t.dev.deliver(pod);
  EXPECT_EQ(drops(t.st, "ipv4.frag_too_big"), 1u);
  // A non-last fragment whose length is not a multiple of 8.
  t.dev.deliver(fragment(t.fb, l4, 0, 1001, true, 78));
  EXPECT_EQ(drops(t.st, "ipv4.frag_bad_length"), 1u);
  // A first TCP fragment too short for the TCP header (RFC 1858).
  t.dev.deliver(fragment(t.fb, l4, 0, 8, true, 79, 6));
  EXPECT_EQ(drops(t.st, "ipv4.frag_tiny"), 1u);
  // Two different ends.
  t.dev.deliver(fragment(t.fb, l4, 1000, 1008, false, 80));
  t.dev.deliver(fragment(t.fb, l4, 1000, 16, false, 80));
  EXPECT_EQ(drops(t.st, "ipv4.frag_inconsistent"), 2u);
  EXPECT_EQ(sock->pending(), 0u);
}

TEST(ReasmLimits, OldestEvictedAndFragmentsPerDatagramBounded) {
  stack::StackConfig c;
  c.reasm_max_datagrams = 4;
  c.reasm_max_frags = 3;
  OneStack t(c);
  t.learn_peer();
  auto sock = t.st.udp_socket();
  ASSERT_FALSE(sock->bind(Ipv4Addr{}, 7));
  const Bytes l4 = udp_l4(ip("10.0.0.99"), ip("10.0.0.1"), 5000, 7, Bytes(4000, 1));
  for (std::uint16_t id = 1; id <= 6; ++id) {
    t.sched.run_for(ms_to_ps(1));
    t.dev.deliver(fragment(t.fb, l4, 0, 8, true, id));
  }
  EXPECT_EQ(drops(t.st, "ipv4.reasm_evicted"), 2u);
  // A fourth fragment for one datagram exceeds reasm_max_frags.
  for (std::size_t off : {8u, 16u, 24u}) t.dev.deliver(fragment(t.fb, l4, off, 8, true, 6));
  EXPECT_EQ(drops(t.st, "ipv4.frag_too_many"), 4u);  // its three and itself
}

// Fragments flood in from many "datagrams": memory stays bounded and a
// later honest datagram still gets through.
TEST(ReasmLimits, FloodThenHonestDatagram) {
  stack::StackConfig c;
  c.reasm_max_bytes = 64 * 1024;
  OneStack t(c);
  t.learn_peer();
  auto sock = t.st.udp_socket();
  ASSERT_FALSE(sock->bind(Ipv4Addr{}, 7));
  const Bytes l4 = udp_l4(ip("10.0.0.99"), ip("10.0.0.1"), 5000, 7, Bytes(1400, 2));
  for (std::uint16_t id = 1; id <= 2000; ++id) t.dev.deliver(fragment(t.fb, l4, 0, 1400, true, id));
  EXPECT_GT(drops(t.st, "ipv4.reasm_evicted") + drops(t.st, "ipv4.reasm_memory"), 0u);
  t.dev.deliver(fragment(t.fb, l4, 0, 800, true, 4000));
  t.dev.deliver(fragment(t.fb, l4, 800, l4.size() - 800, false, 4000));
  EXPECT_EQ(sock->pending(), 1u);
}

}  // namespace
}  // namespace vd::test
