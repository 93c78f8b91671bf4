// TCP over IPv6: handshake, data, close, resets, MSS from the IPv6 path
// MTU, the IPv6 pseudo-header checksum (checked independently), checksum
// offload, SYN cookies, Packet Too Big, and the socket family rules.
#include <random>

#include "test_util6.hpp"
#include "veridian/offload/csum_offload.hpp"
#include "veridian/stack/wire/tcp.hpp"

namespace vd::test {
namespace {

using stack::TcpSocket;
using stack::TcpState;
namespace tf = wire::tcpf;

const Ipv6Addr kA = Ipv6Addr::parse("2001:db8::a").value();
const Ipv6Addr kB = Ipv6Addr::parse("2001:db8::b").value();

// Two stacks on one link with IPv6 (DAD done) and IPv4.
struct Pair6 {
  explicit Pair6(stack::StackConfig cfg = OneStack6::quiet()) : da(kMacA), db(kMacB), a(sched, "a", cfg), b(sched, "b", cfg) {
    FakeDevice::connect(da, db, sched, us_to_ps(1));
    ia = a.add_interface(da);
    ib = b.add_interface(db);
    a.add_address(ia, ip("10.0.0.1"), 24);
    b.add_address(ib, ip("10.0.0.2"), 24);
    a.add_address6(ia, kA, 64);
    b.add_address6(ib, kB, 64);
    sched.run_for(s_to_ps(2));
    da.sent.clear();
    db.sent.clear();
  }
  FakeScheduler sched;
  FakeDevice da, db;
  stack::Stack a, b;
  int ia = 0, ib = 0;
};

// A TCP segment in a sent frame, with its IPv6 addresses.
struct Seg6 {
  Ipv6Addr src, dst;
  Bytes tcp;  // the whole TCP segment
  wire::TcpView view() const { return *wire::TcpView::parse(tcp); }
};

std::vector<Seg6> tcp6_of(const std::vector<SentFrame>& frames) {
  std::vector<Seg6> r;
  for (const auto& f : frames) {
    const auto o = out6(f);
    if (!o || o->nh != wire::kIpProtoTcp) continue;
    r.push_back({o->src, o->dst, o->payload});
  }
  return r;
}

// The Internet checksum (RFC 1071) over the IPv6 pseudo-header (RFC 8200
// 8.1) and the segment, written out here byte by byte: independent of the
// stack's and the offload model's code.
std::uint16_t ref_tcp6_sum(const Ipv6Addr& src, const Ipv6Addr& dst, const Bytes& seg) {
  Bytes buf;
  buf.insert(buf.end(), src.b.begin(), src.b.end());
  buf.insert(buf.end(), dst.b.begin(), dst.b.end());
  const std::uint32_t len = static_cast<std::uint32_t>(seg.size());
  for (int s = 24; s >= 0; s -= 8) buf.push_back(static_cast<std::uint8_t>(len >> s));
  buf.insert(buf.end(), {0, 0, 0, 6});
  buf.insert(buf.end(), seg.begin(), seg.end());
  if (buf.size() % 2) buf.push_back(0);
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < buf.size(); i += 2) sum += std::uint32_t(buf[i]) << 8 | buf[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);  // 0 when the segment's checksum is right
}

Bytes transfer(Pair6& n, TcpSocket& from, TcpSocket& to, const Bytes& data, TimePs limit = s_to_ps(60)) {
  return tcp_transfer(n.sched, from, to, data, limit);
}

TEST(Tcp6, HandshakeDataBothWaysAndClose) {
  stack::StackConfig cfg = OneStack6::quiet();
  cfg.tcp.msl = ms_to_ps(100);
  Pair6 n(cfg);
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv6Addr{}, 80));
  ASSERT_FALSE(l->listen());
  EXPECT_TRUE(l->is_v6());
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(kB, 80));
  EXPECT_TRUE(c->is_v6());
  EXPECT_EQ(c->state(), TcpState::SynSent);
  n.sched.run_for(ms_to_ps(2));  // neighbour discovery, then the handshake
  ASSERT_EQ(c->state(), TcpState::Established);
  auto s = l->accept();
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->is_v6());
  EXPECT_EQ(s->state(), TcpState::Established);
  EXPECT_EQ(s->remote_addr6(), kA);
  EXPECT_EQ(s->local_addr6(), kB);
  EXPECT_EQ(s->remote_port(), c->local_port());
  EXPECT_EQ(c->local_addr6(), kA);
  EXPECT_EQ(c->remote_addr6(), kB);
  EXPECT_EQ(c->remote_addr(), Ipv4Addr{});  // no IPv4 view of an IPv6 socket
  EXPECT_GE(c->local_port(), 49152);
  // MSS 1500 - 40 - 20, less the timestamps.
  EXPECT_TRUE(c->info().timestamps);
  EXPECT_EQ(c->info().mss, 1440u - 12);
  EXPECT_EQ(s->info().mss, 1440u - 12);

  const Bytes up = seeded_bytes(200000, 1), down = seeded_bytes(90000, 2);
  EXPECT_EQ(transfer(n, *c, *s, up), up);
  EXPECT_EQ(transfer(n, *s, *c, down), down);
  // In-order payload stayed in the buffers it arrived in (zero-copy receive
  // over IPv6 too), the same bytes as the application read.
  EXPECT_GE(s->info().rx_zero_copy_bytes, up.size() * 9 / 10);
  EXPECT_LE(s->info().rx_zero_copy_bytes, up.size());
  EXPECT_GE(c->info().rx_zero_copy_bytes, down.size() * 9 / 10);
  // Every segment on the wire: IPv6 next header 6, a frame no larger than
  // the MTU, and a checksum right by the independent computation.
  const auto segs_a = tcp6_of(n.da.sent), segs_b = tcp6_of(n.db.sent);
  EXPECT_GT(segs_a.size(), 140u);
  EXPECT_GT(segs_b.size(), 60u);
  for (const auto* v : {&segs_a, &segs_b})
    for (const auto& g : *v) {
      EXPECT_EQ(ref_tcp6_sum(g.src, g.dst, g.tcp), 0) << "bad checksum";
      EXPECT_LE(40 + g.tcp.size(), 1500u);
    }
  for (const auto& f : n.da.sent) EXPECT_LE(f.bytes.size(), 1514u);

  // Active close by the client, half-close data, TIME-WAIT, closed.
  ASSERT_FALSE(c->shutdown_write());
  n.sched.run_for(us_to_ps(10));
  EXPECT_EQ(c->state(), TcpState::FinWait2);
  EXPECT_EQ(s->state(), TcpState::CloseWait);
  EXPECT_TRUE(s->eof());
  std::error_code ec;
  EXPECT_EQ(s->send(to_bytes("bye"), ec), 3u);
  n.sched.run_for(ms_to_ps(1));
  std::vector<std::uint8_t> buf(16);
  EXPECT_EQ(c->recv(buf, ec), 3u);
  s->close();
  n.sched.run_for(us_to_ps(10));
  EXPECT_EQ(c->state(), TcpState::TimeWait);
  EXPECT_TRUE(c->eof());
  n.sched.run_for(ms_to_ps(250));
  EXPECT_EQ(c->state(), TcpState::Closed);
  EXPECT_EQ(drops(n.a, "tcp.bad_checksum") + drops(n.b, "tcp.bad_checksum"), 0u);
  EXPECT_EQ(total_drops(n.a) + total_drops(n.b), drops(n.a, "eth.not_for_us") + drops(n.b, "eth.not_for_us"));
}

TEST(Tcp6, SynCarriesMssFromTheIpv6Mtu) {
  Pair6 n;
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(kB, 80));
  ASSERT_FALSE(l->listen());
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(kB, 80));
  n.sched.run_for(ms_to_ps(2));
  ASSERT_EQ(c->state(), TcpState::Established);
  const auto a = tcp6_of(n.da.sent), b = tcp6_of(n.db.sent);
  ASSERT_GE(a.size(), 2u);
  ASSERT_GE(b.size(), 1u);
  EXPECT_EQ(a[0].view().flags(), tf::SYN);
  EXPECT_EQ(a[0].src, kA);
  EXPECT_EQ(a[0].dst, kB);
  EXPECT_EQ(a[0].view().options()->mss, 1440);  // 1500 - 40 (IPv6) - 20 (TCP), not IPv4's 1460
  EXPECT_EQ(b[0].view().flags(), tf::SYN | tf::ACK);
  EXPECT_EQ(b[0].view().options()->mss, 1440);
  EXPECT_EQ(b[0].view().ack(), a[0].view().seq() + 1);
  // A peer announcing a larger MSS does not get segments beyond our path.
  EXPECT_EQ(c->info().mss, 1440u - 12);
}

TEST(Tcp6, RstToAClosedPort) {
  Pair6 n;
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(kB, 81));
  n.sched.run_for(ms_to_ps(2));
  EXPECT_EQ(c->state(), TcpState::Closed);
  EXPECT_EQ(c->error(), std::errc::connection_refused);
  EXPECT_EQ(drops(n.b, "tcp.no_socket"), 1u);
  EXPECT_EQ(events(n.b, "tcp.rst_sent"), 1u);
  const auto syn = tcp6_of(n.da.sent), rst = tcp6_of(n.db.sent);
  ASSERT_EQ(rst.size(), 1u);
  EXPECT_EQ(rst[0].src, kB);
  EXPECT_EQ(rst[0].dst, kA);
  EXPECT_EQ(rst[0].view().flags(), tf::RST | tf::ACK);
  EXPECT_EQ(rst[0].view().ack(), syn[0].view().seq() + 1);
  EXPECT_EQ(rst[0].view().src_port(), 81);
  EXPECT_EQ(rst[0].view().dst_port(), c->local_port());
  EXPECT_EQ(ref_tcp6_sum(rst[0].src, rst[0].dst, rst[0].tcp), 0);
  // An IPv4 listener on the port does not take IPv6 connections.
  auto l4 = n.b.tcp_socket();
  ASSERT_FALSE(l4->bind(Ipv4Addr{}, 82));
  ASSERT_FALSE(l4->listen());
  auto c2 = n.a.tcp_socket();
  ASSERT_FALSE(c2->connect(kB, 82));
  n.sched.run_for(ms_to_ps(1));
  EXPECT_EQ(c2->error(), std::errc::connection_refused);
  EXPECT_EQ(l4->pending_accepts(), 0u);
}

TEST(Tcp6, SegmentChecksumUsesTheIpv6PseudoHeader) {
  // emit_tcp over IPv6 against the independent sum, odd and even lengths;
  // the same bytes checked with IPv4 addresses, or other IPv6 ones, fail.
  for (std::size_t plen : {0u, 1u, 7u, 1000u}) {
    HostMemory mem(1u << 20);
    BufferPool pool(mem, 2048, 2);
    Packet p = pool.alloc();
    const Bytes data = seeded_bytes(plen, static_cast<unsigned>(plen));
    if (plen) std::copy(data.begin(), data.end(), p.append(plen));
    wire::TcpRepr r;
    r.src_port = 1234;
    r.dst_port = 80;
    r.seq = 0x01020304;
    r.ack = 0xa0b0c0d0;
    r.flags = tf::ACK | tf::PSH;
    r.window = 1000;
    r.opts.timestamps = std::pair{7u, 9u};
    wire::emit_tcp(p, r, kA, kB, false);
    const Bytes seg = to_bytes(p);
    EXPECT_EQ(ref_tcp6_sum(kA, kB, seg), 0) << plen;
    const auto v = wire::TcpView::parse(seg);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->checksum_ok(kA, kB));
    EXPECT_FALSE(v->checksum_ok(kA, ip6("2001:db8::c")));
    EXPECT_FALSE(v->checksum_ok(ip("10.0.0.1"), ip("10.0.0.2")));
  }
  // A segment with a wrong checksum is dropped by the receiver.
  Pair6 n;
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv6Addr{}, 80));
  ASSERT_FALSE(l->listen());
  wire::TcpRepr r;
  r.src_port = 4444;
  r.dst_port = 80;
  r.seq = 1;
  r.flags = tf::SYN;
  HostMemory mem(1u << 20);
  BufferPool pool(mem, 2048, 1);
  Packet p = pool.alloc();
  wire::emit_tcp(p, r, kA, kB, false);
  Bytes seg = to_bytes(p);
  seg[4] ^= 1;  // the sequence number changed after the sum
  n.db.deliver(eth_frame(kMacB, kMacA, ipv6_packet(kA, kB, wire::kIpProtoTcp, seg)));
  EXPECT_EQ(drops(n.b, "tcp.bad_checksum"), 1u);
  EXPECT_EQ(l->pending_accepts(), 0u);
}

// With checksum offload the IPv6 segment leaves the sum to the device:
// CHECKSUM_PARTIAL from 14 + 40, field at 16; finished as a NIC would (the
// offload reference model) it is right.
TEST(Tcp6, ChecksumOffloadStartsAfterTheIpv6Header) {
  Pair6 n;
  n.da.mutable_features().tx_csum_partial = true;
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv6Addr{}, 80));
  ASSERT_FALSE(l->listen());
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(kB, 80));
  n.sched.run_for(ms_to_ps(2));
  std::size_t checked = 0;
  for (const auto& f : n.da.sent) {
    const auto o = out6(f);
    if (!o || o->nh != wire::kIpProtoTcp) continue;
    EXPECT_TRUE(f.meta.tx_csum_partial);
    EXPECT_EQ(f.meta.csum_start, 54);
    EXPECT_EQ(f.meta.csum_offset, 16);
    Bytes fixed = f.bytes;
    ASSERT_TRUE(offload::insert_partial(fixed, f.meta.csum_start, f.meta.csum_offset));
    const auto o2 = out6(SentFrame{fixed, f.meta});
    EXPECT_EQ(ref_tcp6_sum(o2->src, o2->dst, o2->payload), 0);
    EXPECT_EQ(offload::verify(fixed).l4, offload::CsumStatus::good);
    ++checked;
  }
  EXPECT_GE(checked, 1u);  // the SYN (and its retransmissions)
  // This fake device does not finish it: B rightly drops the SYN.
  EXPECT_GE(drops(n.b, "tcp.bad_checksum"), 1u);
  EXPECT_NE(c->state(), TcpState::Established);
}

TEST(Tcp6, SocketFamilyIsFixedByTheFirstBindOrConnect) {
  Pair6 n;
  auto s = n.a.tcp_socket();
  ASSERT_FALSE(s->bind(kA, 5000));
  EXPECT_EQ(s->connect(ip("10.0.0.2"), 80), std::errc::address_family_not_supported);
  EXPECT_EQ(s->bind(Ipv4Addr{}, 5001), std::errc::address_family_not_supported);
  auto s4 = n.a.tcp_socket();
  ASSERT_FALSE(s4->bind(Ipv4Addr{}, 5000));  // separate port spaces (IPV6_V6ONLY)
  EXPECT_EQ(s4->connect(kB, 80), std::errc::address_family_not_supported);
  EXPECT_EQ(s4->bind(kA, 5002), std::errc::address_family_not_supported);
  auto dup = n.a.tcp_socket();
  EXPECT_EQ(dup->bind(Ipv6Addr{}, 5000), std::errc::address_in_use);
  EXPECT_EQ(dup->bind(ip6("2001:db8::77"), 5000), std::errc::address_not_available);
  EXPECT_EQ(dup->bind(ip6("ff02::1"), 5000), std::errc::invalid_argument);
  s->close();
  auto again = n.a.tcp_socket();
  EXPECT_FALSE(again->bind(kA, 5000));  // released on close
  auto e = n.a.tcp_socket();
  EXPECT_EQ(e->connect(Ipv6Addr{}, 80), std::errc::invalid_argument);
  EXPECT_EQ(e->connect(kB, 0), std::errc::invalid_argument);
  EXPECT_EQ(e->connect(ip6("2001:db9::1"), 80), std::errc::network_unreachable);
  EXPECT_EQ(e->connect(ip6("::ffff:10.0.0.2"), 80), std::errc::invalid_argument);
  // A v4 socket that connected stays v4.
  auto v4 = n.a.tcp_socket();
  ASSERT_FALSE(v4->connect(ip("10.0.0.2"), 80));
  EXPECT_FALSE(v4->is_v6());
  EXPECT_EQ(v4->local_addr6(), Ipv6Addr{});
  // IPV6_V6ONLY is always on: asking for dual-stack is refused, clearly.
  EXPECT_TRUE(s->v6only());
  EXPECT_FALSE(s->set_v6only(true));
  EXPECT_EQ(s->set_v6only(false), std::errc::operation_not_supported);
  auto u = n.a.udp_socket();
  EXPECT_TRUE(u->v6only());
  EXPECT_EQ(u->set_v6only(false), std::errc::operation_not_supported);
}

TEST(Tcp6, SynCookiesOverIpv6) {
  Pair6 n;
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv6Addr{}, 80));
  ASSERT_FALSE(l->listen(1));
  std::vector<std::shared_ptr<TcpSocket>> cs;
  for (int i = 0; i < 3; ++i) {
    cs.push_back(n.a.tcp_socket());
    ASSERT_FALSE(cs.back()->connect(kB, 80));
  }
  n.sched.run_for(ms_to_ps(2));
  EXPECT_EQ(events(n.b, "tcp.syncookies_sent"), 2u);
  for (auto& c : cs) EXPECT_EQ(c->state(), TcpState::Established);
  std::vector<std::shared_ptr<TcpSocket>> got;
  for (int round = 0; round < 40 && got.size() < 3; ++round) {
    std::error_code ec;
    for (auto& c : cs) (void)c->send(to_bytes("hi"), ec);
    n.sched.run_for(ms_to_ps(300));
    while (auto s = l->accept()) got.push_back(s);
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_GE(events(n.b, "tcp.syncookies_ok"), 1u);
  for (auto& s : got) {
    EXPECT_TRUE(s->is_v6());
    EXPECT_EQ(s->remote_addr6(), kA);
    EXPECT_GE(s->readable(), 2u);
  }
  // A cookie connection: no timestamps, the IPv6 MSS (1440 is in the cookie table).
  EXPECT_FALSE(cs[1]->info().timestamps);
  EXPECT_EQ(cs[1]->info().mss, 1440u);
}

// A Packet Too Big from a router lowers the path MTU: the connection's MSS
// follows (MTU - 60) and data keeps flowing in smaller segments.
TEST(Tcp6, PacketTooBigLowersTheMss) {
  Pair6 n;
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv6Addr{}, 80));
  ASSERT_FALSE(l->listen());
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(kB, 80));
  n.sched.run_for(ms_to_ps(2));
  auto s = l->accept();
  ASSERT_TRUE(s);
  const Bytes first = seeded_bytes(20000, 3);
  EXPECT_EQ(transfer(n, *c, *s, first), first);
  EXPECT_EQ(c->info().mss, 1440u - 12);
  // B "says" (as a router would) that 1300 is the most the path takes.
  const auto sent = tcp6_of(n.da.sent);
  ASSERT_FALSE(sent.empty());
  Bytes quote;
  const auto& last = n.da.sent.back();
  quote.assign(last.bytes.begin() + 14, last.bytes.end());
  quote.resize(std::min<std::size_t>(quote.size(), 1232));
  const Bytes ptb = icmp6_msg(kB, kA, wire::kIcmpv6PacketTooBig, 0, 1300, quote);
  n.da.deliver(eth_frame(kMacA, kMacB, ipv6_packet(kB, kA, wire::kIpProtoIcmpv6, ptb)));
  EXPECT_EQ(events(n.a, "icmpv6.pmtu_updated"), 1u);
  EXPECT_EQ(events(n.a, "tcp.pmtu_mss_lowered"), 1u);
  EXPECT_EQ(c->info().mss, 1300u - 60 - 12);
  n.da.sent.clear();
  const Bytes more = seeded_bytes(50000, 4);
  EXPECT_EQ(transfer(n, *c, *s, more), more);
  for (const auto& g : tcp6_of(n.da.sent)) EXPECT_LE(40 + g.tcp.size(), 1300u);
  // Never below the IPv6 minimum (RFC 8201: a PTB under 1280 means 1280).
  const Bytes ptb2 = icmp6_msg(kB, kA, wire::kIcmpv6PacketTooBig, 0, 1000, quote);
  n.da.deliver(eth_frame(kMacA, kMacB, ipv6_packet(kB, kA, wire::kIpProtoIcmpv6, ptb2)));
  EXPECT_EQ(c->info().mss, 1280u - 60 - 12);
}

}  // namespace
}  // namespace vd::test
