// IPv4 receive checks and drops, transmit fields, routing; Ethernet filtering.
#include "test_util.hpp"

namespace vd::test {
namespace {

class Ipv4Rx : public ::testing::Test {
 protected:
  Ipv4Rx() : sock(t.st.udp_socket()) { EXPECT_FALSE(sock->bind(Ipv4Addr{}, 7)); }
  Bytes udp_to(Ipv4Addr dst, const Bytes& payload = to_bytes("ping")) {
    return t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), dst, 5000, 7, payload);
  }
  OneStack t;
  std::shared_ptr<stack::UdpSocket> sock;
};

TEST_F(Ipv4Rx, AcceptsUnicastToUs) {
  t.dev.deliver(udp_to(ip("10.0.0.1")));
  EXPECT_EQ(sock->pending(), 1u);
  EXPECT_EQ(total_drops(t.st), 0u);
  EXPECT_EQ(layer(t.st, "ipv4").rx_packets, 1u);
  EXPECT_EQ(layer(t.st, "ipv4").rx_bytes, 20u + 8 + 4);
}

TEST_F(Ipv4Rx, AcceptsLimitedAndSubnetBroadcast) {
  Bytes lim = t.fb.udp(wire::kBroadcastMac, kMacPeer, ip("10.0.0.99"), ip("255.255.255.255"), 5000, 7,
                       to_bytes("x"));
  t.dev.deliver(lim);
  t.dev.deliver(udp_to(ip("10.0.0.255")));
  EXPECT_EQ(sock->pending(), 2u);
  EXPECT_EQ(total_drops(t.st), 0u);
}

TEST_F(Ipv4Rx, DropsNotForUs) {
  t.dev.deliver(udp_to(ip("10.0.0.2")));
  t.dev.deliver(udp_to(ip("10.0.1.255")));  // another subnet's broadcast
  t.dev.deliver(udp_to(ip("224.0.0.1")));   // no multicast yet
  EXPECT_EQ(drops(t.st, "ipv4.not_for_us"), 3u);
  EXPECT_EQ(sock->pending(), 0u);
  EXPECT_EQ(layer(t.st, "ipv4").rx_packets, 0u);
}

TEST_F(Ipv4Rx, DropsBadHeaderChecksum) {
  Bytes f = udp_to(ip("10.0.0.1"));
  f[14 + 10] ^= 0x01;
  t.dev.deliver(f);
  EXPECT_EQ(drops(t.st, "ipv4.bad_checksum"), 1u);
  EXPECT_EQ(sock->pending(), 0u);
}

TEST_F(Ipv4Rx, TrustsDeviceChecksumVerdict) {
  Bytes bad = udp_to(ip("10.0.0.1"));
  bad[14 + 10] ^= 0x01;
  OffloadMeta good_meta;
  good_meta.rx_csum_ip = OffloadMeta::Csum::Good;
  t.dev.deliver(bad, good_meta);  // device says good: not re-checked
  EXPECT_EQ(sock->pending(), 1u);

  OffloadMeta bad_meta;
  bad_meta.rx_csum_ip = OffloadMeta::Csum::Bad;
  t.dev.deliver(udp_to(ip("10.0.0.1")), bad_meta);  // correct bytes, device says bad
  EXPECT_EQ(drops(t.st, "ipv4.bad_checksum"), 1u);
  EXPECT_EQ(sock->pending(), 1u);
}

// Fragments are held for reassembly, not delivered on their own (the
// reassembly rules have their own tests in reasm_test.cpp).
TEST_F(Ipv4Rx, FragmentsAreHeldNotDelivered) {
  Bytes mf = udp_to(ip("10.0.0.1"));
  mf[14 + 6] = 0x20;  // more fragments
  fix_ipv4_csum(mf);
  Bytes off = udp_to(ip("10.0.0.1"));
  off[14 + 7] = 0x03;  // offset 24 bytes
  fix_ipv4_csum(off);
  Bytes df = udp_to(ip("10.0.0.1"));
  df[14 + 6] = 0x40;  // DF alone is fine
  fix_ipv4_csum(df);
  t.dev.deliver(mf);
  t.dev.deliver(off);
  t.dev.deliver(df);
  EXPECT_EQ(events(t.st, "ipv4.fragments_received"), 2u);
  EXPECT_EQ(sock->pending(), 1u);
}

TEST_F(Ipv4Rx, DropsMalformedHeaders) {
  const Bytes good = udp_to(ip("10.0.0.1"));
  Bytes too_long = good;
  too_long[14 + 2] = 0x01;  // total length 256+ > frame
  fix_ipv4_csum(too_long);
  Bytes below_hdr = good;
  below_hdr[14 + 2] = 0;
  below_hdr[14 + 3] = 10;
  fix_ipv4_csum(below_hdr);
  Bytes v6 = good;
  v6[14] = 0x65;
  Bytes ihl = good;
  ihl[14] = 0x43;
  t.dev.deliver(too_long);
  t.dev.deliver(below_hdr);
  t.dev.deliver(v6);
  t.dev.deliver(ihl);
  t.dev.deliver(t.fb.ethernet(kMacA, kMacPeer, wire::kEthertypeIpv4, Bytes(19, 0x45)));
  EXPECT_EQ(drops(t.st, "ipv4.bad_length"), 2u);
  EXPECT_EQ(drops(t.st, "ipv4.bad_version"), 1u);
  EXPECT_EQ(drops(t.st, "ipv4.bad_ihl"), 1u);
  EXPECT_EQ(drops(t.st, "ipv4.too_short"), 1u);
  EXPECT_EQ(sock->pending(), 0u);
}

TEST_F(Ipv4Rx, DropsUnknownProtocolAndBadSource) {
  Bytes sctp = udp_to(ip("10.0.0.1"));
  sctp[14 + 9] = 132;
  fix_ipv4_csum(sctp);
  t.dev.deliver(sctp);
  EXPECT_EQ(drops(t.st, "ipv4.unknown_protocol"), 1u);
  Bytes bsrc = t.fb.udp(kMacA, kMacPeer, ip("10.0.0.255"), ip("10.0.0.1"), 5000, 7, to_bytes("x"));
  t.dev.deliver(bsrc);
  EXPECT_EQ(drops(t.st, "ipv4.bad_source"), 1u);
  EXPECT_EQ(sock->pending(), 0u);
}

TEST_F(Ipv4Rx, HeaderOptionsAreSkipped) {
  // Re-frame a datagram with a 4-byte option (IHL 6).
  const Bytes l4 = t.fb.udp_msg(ip("10.0.0.99"), ip("10.0.0.1"), 5000, 7, to_bytes("opt"));
  Bytes f = t.fb.ipv4(kMacA, kMacPeer, {ip("10.0.0.99"), ip("10.0.0.1"), wire::kIpProtoUdp, 64, 9}, l4);
  f.insert(f.begin() + 14 + 20, {0x01, 0x01, 0x01, 0x00});
  f[14] = 0x46;
  wire::store_be16(&f[14 + 2], static_cast<std::uint16_t>(24 + l4.size()));
  fix_ipv4_csum(f);
  t.dev.deliver(f);
  ASSERT_EQ(sock->pending(), 1u);
  EXPECT_EQ(sock->recvfrom()->data, to_bytes("opt"));
}

TEST_F(Ipv4Rx, EthernetPaddingIsTrimmed) {
  // One payload byte: the frame is padded to 60, the datagram is 29 bytes.
  Bytes f = udp_to(ip("10.0.0.1"), Bytes{0x42});
  ASSERT_EQ(f.size(), 60u);
  // Non-zero padding must not leak into the datagram either.
  for (std::size_t i = 14 + 29; i < f.size(); ++i) f[i] = 0xee;
  t.dev.deliver(f);
  ASSERT_EQ(sock->pending(), 1u);
  EXPECT_EQ(sock->recvfrom()->data, Bytes{0x42});
  EXPECT_EQ(layer(t.st, "ipv4").rx_bytes, 29u);
  EXPECT_EQ(layer(t.st, "eth").rx_bytes, 60u);
}

// ------------------------------------------------------------ Ethernet

TEST(Ethernet, FiltersAndCountsDrops) {
  OneStack t;
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->bind(Ipv4Addr{}, 7));
  const Bytes good = t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 5000, 7, to_bytes("x"));
  Bytes other_mac = good;
  other_mac[5] = 0x0b;
  t.dev.deliver(other_mac);
  t.dev.deliver(std::span(good).first(13));
  t.dev.deliver(Bytes{});
  t.dev.deliver(t.fb.ethernet(kMacA, kMacPeer, wire::kEthertypeIpv6, Bytes(40, 0x60)));
  Bytes tagged = t.fb.ethernet(kMacA, kMacPeer, wire::kEthertypeVlan, Bytes{0x00, 0x05, 0x08, 0x00});
  t.dev.deliver(tagged);
  EXPECT_EQ(drops(t.st, "eth.not_for_us"), 1u);
  EXPECT_EQ(drops(t.st, "eth.too_short"), 2u);
  EXPECT_EQ(drops(t.st, "eth.unsupported_ethertype"), 1u);
  EXPECT_EQ(drops(t.st, "eth.unknown_vlan"), 1u);  // VLAN 5: no such sub-interface
  EXPECT_EQ(layer(t.st, "eth").rx_packets, 0u);
  t.dev.deliver(good);
  EXPECT_EQ(layer(t.st, "eth").rx_packets, 1u);
  EXPECT_EQ(s->pending(), 1u);
}

TEST(Ethernet, RandomAndMutatedFramesNeverCrash) {
  OneStack t;
  t.learn_peer();
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->bind(Ipv4Addr{}, 7));
  const std::vector<Bytes> seeds = {
      t.fb.udp(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), 5000, 7, to_bytes("hello")),
      t.fb.echo(kMacA, kMacPeer, ip("10.0.0.99"), ip("10.0.0.1"), wire::kIcmpEchoRequest, 1, 1, Bytes(8, 1)),
      t.fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, kMacPeer, ip("10.0.0.99"), MacAddr{}, ip("10.0.0.1")),
  };
  std::uint64_t x = 0x9e3779b97f4a7c15ull;  // xorshift: deterministic
  auto rnd = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  std::uint64_t frames = 1;  // learn_peer's ARP request
  for (int i = 0; i < 20000; ++i) {
    Bytes f = seeds[rnd() % seeds.size()];
    const int flips = 1 + int(rnd() % 4);
    for (int k = 0; k < flips; ++k) f[rnd() % f.size()] = static_cast<std::uint8_t>(rnd());
    if (rnd() % 4 == 0) f.resize(rnd() % (f.size() + 1));
    t.dev.deliver(f);
    ++frames;
    (void)s->recvfrom();
  }
  // Every frame is accounted for: accepted by Ethernet or dropped there.
  std::uint64_t eth_drops = 0;
  for (const auto& [k, v] : t.st.stats().drops)
    if (k.rfind("eth.", 0) == 0) eth_drops += v;
  EXPECT_EQ(layer(t.st, "eth").rx_packets + eth_drops, frames);
  EXPECT_EQ(drops(t.st, "stack.internal_error"), 0u);
  // Buffers all went back to the pool once pending resolutions time out.
  t.sched.run_for(ms_to_ps(10));
  EXPECT_EQ(t.dev.pool().available(), t.dev.pool().capacity());
}

// ------------------------------------------------------------ transmit

TEST(Ipv4Tx, HeaderFieldsTtlIdAndMeta) {
  stack::StackConfig cfg;
  cfg.default_ttl = 17;
  OneStack t(cfg);
  t.learn_peer();
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->sendto(to_bytes("a"), ip("10.0.0.99"), 9));
  ASSERT_FALSE(s->sendto(to_bytes("b"), ip("10.0.0.99"), 9));
  ASSERT_EQ(t.dev.sent.size(), 2u);
  std::uint16_t ids[2];
  for (int i = 0; i < 2; ++i) {
    const SentFrame& f = t.dev.sent[i];
    const auto v = wire::Ipv4View::parse(std::span(f.bytes).subspan(14));
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->ttl(), 17);
    EXPECT_EQ(v->src(), ip("10.0.0.1"));
    EXPECT_EQ(v->dst(), ip("10.0.0.99"));
    EXPECT_EQ(v->protocol(), wire::kIpProtoUdp);
    EXPECT_EQ(v->total_length(), 29);
    EXPECT_TRUE(v->checksum_ok());
    EXPECT_FALSE(v->more_fragments());
    EXPECT_EQ(f.bytes.size(), 60u);
    EXPECT_EQ(f.meta.l3_offset, 14);
    EXPECT_EQ(f.meta.l4_offset, 34);
    EXPECT_FALSE(f.meta.tx_csum_ip);
    EXPECT_FALSE(f.meta.tx_csum_l4);
    ids[i] = v->ident();
  }
  EXPECT_EQ(ids[1], static_cast<std::uint16_t>(ids[0] + 1));
}

TEST(Routing, LongestPrefixPicksInterface) {
  FakeScheduler sched;
  FakeDevice d0(kMacA), d1(kMacB);
  stack::Stack st(sched, "r");
  const int i0 = st.add_interface(d0);
  const int i1 = st.add_interface(d1);
  EXPECT_EQ(i0, 1);  // lo is interface 0
  EXPECT_EQ(i1, 2);
  st.add_address(i0, ip("10.0.0.1"), 8);
  st.add_address(i1, ip("10.1.0.1"), 16);
  d0.sent.clear();  // the announcements
  d1.sent.clear();
  auto s = st.udp_socket();
  ASSERT_FALSE(s->sendto(to_bytes("x"), ip("10.1.2.3"), 9));
  ASSERT_EQ(d1.sent.size(), 1u);
  EXPECT_TRUE(d0.sent.empty());
  const auto a = wire::ArpView::parse(std::span(d1.sent[0].bytes).subspan(14));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->sender_ip(), ip("10.1.0.1"));  // source from the chosen subnet
  ASSERT_FALSE(s->sendto(to_bytes("x"), ip("10.2.0.1"), 9));
  EXPECT_EQ(d0.sent.size(), 1u);
  EXPECT_EQ(s->sendto(to_bytes("x"), ip("192.168.1.1"), 9), std::errc::network_unreachable);
  EXPECT_EQ(st.send_echo(ip("192.168.1.1"), 1, 1), std::errc::network_unreachable);
  // Our own address goes through lo, never out of a device.
  EXPECT_FALSE(s->sendto(to_bytes("x"), ip("10.1.0.1"), 9));
  EXPECT_EQ(st.send_echo(ip("224.0.0.1"), 1, 1), std::errc::network_unreachable);
  EXPECT_EQ(d0.sent.size() + d1.sent.size(), 2u);
}

TEST(Routing, SubnetBroadcastGoesToBroadcastMacWithoutArp) {
  OneStack t;
  auto s = t.st.udp_socket();
  ASSERT_FALSE(s->sendto(to_bytes("x"), ip("10.0.0.255"), 9));
  ASSERT_FALSE(s->sendto(to_bytes("x"), ip("255.255.255.255"), 9));
  ASSERT_EQ(t.dev.sent.size(), 2u);
  for (const auto& f : t.dev.sent) {
    EXPECT_TRUE(is_ipv4(f));
    EXPECT_EQ(eth_of(f).dst, wire::kBroadcastMac);
  }
}

TEST(Stack, AddAddressValidates) {
  OneStack t;
  EXPECT_THROW(t.st.add_address(5, ip("10.0.0.2"), 24), std::invalid_argument);
  EXPECT_THROW(t.st.add_address(-1, ip("10.0.0.2"), 24), std::invalid_argument);
  EXPECT_THROW(t.st.add_address(t.ifindex, ip("10.0.0.2"), 33), std::invalid_argument);
  EXPECT_THROW(t.st.add_address(t.ifindex, ip("10.0.0.2"), -1), std::invalid_argument);
  EXPECT_THROW(t.st.add_address(t.ifindex, ip("0.0.0.0"), 24), std::invalid_argument);
  EXPECT_NO_THROW(t.st.add_address(t.ifindex, ip("10.0.0.2"), 24));
  EXPECT_EQ(t.st.name(), "a");
  for (const char* l : {"eth", "arp", "ipv4", "icmp", "udp"}) EXPECT_EQ(t.st.stats().layers.count(l), 1u) << l;
}

TEST(Stack, DeviceRefusingTxIsCounted) {
  OneStack t;
  t.learn_peer();
  t.dev.refuse_tx(true);
  auto s = t.st.udp_socket();
  EXPECT_EQ(s->sendto(to_bytes("x"), ip("10.0.0.99"), 9), std::errc::no_buffer_space);
  EXPECT_EQ(drops(t.st, "eth.tx_queue_full"), 1u);
  EXPECT_EQ(layer(t.st, "udp").tx_packets, 0u);
  EXPECT_EQ(t.dev.pool().available(), t.dev.pool().capacity());
}

}  // namespace
}  // namespace vd::test
