// TCP: handshakes, data, every close path, resets, retransmission and
// recovery, windows, Nagle, keepalive, PAWS, checked packet by packet.
#include <random>

#include "test_util.hpp"
#include "veridian/offload/csum_offload.hpp"
#include "veridian/stack/wire/tcp.hpp"

namespace vd::test {
namespace {

using stack::TcpSocket;
using stack::TcpState;
namespace tf = wire::tcpf;

// A connected pair on TwoStacks: A (client) -> B (server, port 80).
struct Conn {
  explicit Conn(stack::StackConfig cfg = {}) : n(cfg) {
    lst = n.b.tcp_socket();
    EXPECT_FALSE(lst->bind(Ipv4Addr{}, 80));
    EXPECT_FALSE(lst->listen(8));
    cli = n.a.tcp_socket();
    EXPECT_FALSE(cli->connect(ip("10.0.0.2"), 80));
    run(ms_to_ps(1));
    srv = lst->accept();
  }
  void run(TimePs d) { n.sched.run_for(d); }
  // Moves `data` from `from` to `to` (sending as buffers allow) and returns
  // what arrived.
  Bytes transfer(TcpSocket& from, TcpSocket& to, const Bytes& data, TimePs limit = s_to_ps(60)) {
    return tcp_transfer(n.sched, from, to, data, limit);
  }
  TwoStacks n;
  std::shared_ptr<TcpSocket> lst, cli, srv;
};

TEST(Tcp, ThreeWayHandshakeWithOptions) {
  TwoStacks n;
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(l->listen());
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(ip("10.0.0.2"), 80));
  EXPECT_EQ(c->state(), TcpState::SynSent);
  n.sched.run_for(ms_to_ps(1));
  EXPECT_EQ(c->state(), TcpState::Established);
  ASSERT_EQ(l->pending_accepts(), 1u);
  auto s = l->accept();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state(), TcpState::Established);
  EXPECT_EQ(s->remote_addr(), ip("10.0.0.1"));
  EXPECT_EQ(s->remote_port(), c->local_port());
  EXPECT_GE(c->local_port(), 49152);
  // SYN: MSS 1460, window scale, timestamps; SYN-ACK answers in kind.
  std::vector<wire::TcpView> segs;
  for (const auto& f : n.da.sent)
    if (auto t = tcp_of(f)) segs.push_back(*t);
  ASSERT_GE(segs.size(), 2u);
  EXPECT_EQ(segs[0].flags(), tf::SYN);
  const auto o = segs[0].options();
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->mss, 1460);
  EXPECT_TRUE(o->wscale.has_value());
  EXPECT_TRUE(o->timestamps.has_value());
  EXPECT_EQ(segs[1].flags(), tf::ACK);
  EXPECT_EQ(segs[1].seq(), segs[0].seq() + 1);
  const auto ci = c->info();
  EXPECT_TRUE(ci.timestamps);
  EXPECT_EQ(ci.mss, 1460u - 12);  // timestamps take 12 bytes of every segment
  EXPECT_GT(ci.srtt, 0u);
}

TEST(Tcp, DataBothWaysAndGracefulCloseWalksEveryState) {
  stack::StackConfig cfg;
  cfg.tcp.msl = ms_to_ps(100);
  Conn c(cfg);
  ASSERT_TRUE(c.srv);
  const Bytes up = seeded_bytes(100000, 1), down = seeded_bytes(70000, 2);
  EXPECT_EQ(c.transfer(*c.cli, *c.srv, up), up);
  EXPECT_EQ(c.transfer(*c.srv, *c.cli, down), down);
  // Active close by the client.
  ASSERT_FALSE(c.cli->shutdown_write());
  c.run(us_to_ps(5));
  EXPECT_EQ(c.cli->state(), TcpState::FinWait2);
  EXPECT_EQ(c.srv->state(), TcpState::CloseWait);
  EXPECT_TRUE(c.srv->eof());
  std::error_code ec;
  EXPECT_EQ(c.srv->send(to_bytes("bye"), ec), 3u);  // half-close: the server may still talk
  c.run(ms_to_ps(1));
  std::vector<std::uint8_t> buf(16);
  EXPECT_EQ(c.cli->recv(buf, ec), 3u);
  c.srv->close();
  EXPECT_EQ(c.srv->state(), TcpState::Closed);  // the socket let go; LAST-ACK goes on inside
  c.run(us_to_ps(5));
  EXPECT_EQ(c.cli->state(), TcpState::TimeWait);
  EXPECT_TRUE(c.cli->eof());
  c.run(ms_to_ps(250));  // 2 MSL
  EXPECT_EQ(c.cli->state(), TcpState::Closed);
  EXPECT_EQ(total_drops(c.n.a), 0u);
  EXPECT_EQ(total_drops(c.n.b), 0u);
}

TEST(Tcp, SimultaneousCloseGoesThroughClosing) {
  stack::StackConfig cfg;
  cfg.tcp.msl = ms_to_ps(100);
  Conn c(cfg);
  ASSERT_FALSE(c.cli->shutdown_write());
  ASSERT_FALSE(c.srv->shutdown_write());
  EXPECT_EQ(c.cli->state(), TcpState::FinWait1);
  EXPECT_EQ(c.srv->state(), TcpState::FinWait1);
  c.run(TwoStacks::kLatency);  // both FINs cross
  EXPECT_EQ(c.cli->state(), TcpState::Closing);
  EXPECT_EQ(c.srv->state(), TcpState::Closing);
  c.run(us_to_ps(5));
  EXPECT_EQ(c.cli->state(), TcpState::TimeWait);
  EXPECT_EQ(c.srv->state(), TcpState::TimeWait);
}

TEST(Tcp, SimultaneousOpen) {
  TwoStacks n;
  auto a = n.a.tcp_socket(), b = n.b.tcp_socket();
  ASSERT_FALSE(a->bind(Ipv4Addr{}, 5000));
  ASSERT_FALSE(b->bind(Ipv4Addr{}, 6000));
  // Teach both sides each other's MAC first so the SYNs really cross.
  ASSERT_FALSE(n.a.send_echo(ip("10.0.0.2"), 1, 1));
  n.sched.run_for(ms_to_ps(1));
  ASSERT_FALSE(a->connect(ip("10.0.0.2"), 6000));
  ASSERT_FALSE(b->connect(ip("10.0.0.1"), 5000));
  n.sched.run_for(TwoStacks::kLatency);
  EXPECT_EQ(a->state(), TcpState::SynReceived);
  n.sched.run_for(ms_to_ps(1));
  EXPECT_EQ(a->state(), TcpState::Established);
  EXPECT_EQ(b->state(), TcpState::Established);
}

TEST(Tcp, ConnectToClosedPortIsRefused) {
  TwoStacks n;
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(ip("10.0.0.2"), 81));
  n.sched.run_for(ms_to_ps(1));
  EXPECT_EQ(c->state(), TcpState::Closed);
  EXPECT_EQ(c->error(), std::errc::connection_refused);
  std::error_code ec;
  std::uint8_t x = 0;
  EXPECT_EQ(c->send(std::span(&x, 1), ec), 0u);
  EXPECT_EQ(ec, std::errc::connection_refused);
  EXPECT_EQ(drops(n.b, "tcp.no_socket"), 1u);
  EXPECT_EQ(events(n.b, "tcp.rst_sent"), 1u);
}

TEST(Tcp, SynRetransmitsWithBackoffThenTimesOut) {
  stack::StackConfig cfg;
  cfg.tcp.syn_retries = 3;
  TwoStacks n(cfg);
  n.db.drop_filter = [](const SentFrame& f) { return tcp_of(f).has_value(); };  // B's answers are lost
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(l->listen());
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(ip("10.0.0.2"), 80));
  n.sched.run_for(s_to_ps(30));
  std::vector<TimePs> syn_at;
  // Only A's SYNs: their count and spacing tell the backoff (1, 2, 4 s).
  std::size_t syns = 0;
  for (const auto& f : n.da.sent)
    if (auto t = tcp_of(f); t && t->flags() == tf::SYN) ++syns;
  EXPECT_EQ(syns, 4u);  // the first and three retries
  EXPECT_EQ(c->state(), TcpState::Closed);
  EXPECT_EQ(c->error(), std::errc::timed_out);
}

TEST(Tcp, LossIsRepairedByFastRetransmitAndTimeouts) {
  Conn c;
  // Lose every 20th data segment from A once.
  int k = 0;
  std::set<std::uint32_t> lost;
  c.n.da.record_sent = false;
  c.n.da.drop_filter = [&](const SentFrame& f) {
    auto t = tcp_of(f);
    if (!t || t->payload().empty()) return false;
    if (++k % 20 == 0 && !lost.count(t->seq())) {
      lost.insert(t->seq());
      return true;
    }
    return false;
  };
  const Bytes data = seeded_bytes(2'000'000, 3);
  EXPECT_EQ(c.transfer(*c.cli, *c.srv, data), data);
  const auto i = c.cli->info();
  EXPECT_GT(lost.size(), 10u);
  EXPECT_GE(i.fast_retransmits, 1u);
  EXPECT_GE(i.retransmits, lost.size());
  EXPECT_GT(c.srv->info().ooo_segments, 0u);
}

// RFC 2018 / RFC 6675: three segments lost in one window are reported in
// SACK blocks and resent from the scoreboard in one recovery, without a
// timeout and without resending what arrived. Without SACK, NewReno needs
// a partial ACK per hole.
TEST(Tcp, SackRepairsSeveralLossesInOneWindow) {
  for (bool sack : {true, false}) {
    stack::StackConfig cfg;
    cfg.tcp.sack = sack;
    Conn c(cfg);
    ASSERT_EQ(c.cli->info().sack_ok, sack);
    // Warm up so the window is large, then lose the 5th, 9th and 13th
    // data segments of the next burst, once each.
    const Bytes warm = seeded_bytes(300000, 6);
    ASSERT_EQ(c.transfer(*c.cli, *c.srv, warm), warm);
    int k = 0;
    std::set<std::uint32_t> lost;
    c.n.da.drop_filter = [&](const SentFrame& f) {
      auto t = tcp_of(f);
      if (!t || t->payload().empty()) return false;
      ++k;
      if ((k == 5 || k == 9 || k == 13) && !lost.count(t->seq())) {
        lost.insert(t->seq());
        return true;
      }
      return false;
    };
    c.n.db.sent.clear();
    const auto before = c.cli->info();
    const Bytes data = seeded_bytes(200000, 7);
    ASSERT_EQ(c.transfer(*c.cli, *c.srv, data), data);
    const auto after = c.cli->info();
    ASSERT_EQ(lost.size(), 3u);
    EXPECT_EQ(after.timeouts, before.timeouts) << "sack " << sack;
    if (sack) {
      EXPECT_EQ(after.retransmits - before.retransmits, 3u);  // exactly the holes
      EXPECT_GE(after.sack_blocks_received, 3u);
      std::size_t acks_with_blocks = 0;
      for (const auto& f : c.n.db.sent)
        if (auto t = tcp_of(f); t && t->options() && t->options()->sack_count > 0) ++acks_with_blocks;
      EXPECT_GT(acks_with_blocks, 0u);
    }
  }
}

// Both directions lose a segment at once, so each side sends data while it
// also has SACK blocks to report. t.mss leaves room for timestamps only:
// the blocks must not push a full-sized data segment past the MTU (with DF
// it could never leave, and the connection would stall on RTOs).
TEST(Tcp, SackBlocksNeverPushADataSegmentPastTheMtu) {
  Conn c;
  ASSERT_TRUE(c.cli->info().sack_ok);
  int ka = 0, kb = 0;
  auto lose_once = [](int& k) {
    return [&k](const SentFrame& f) {
      auto t = tcp_of(f);
      return t && !t->payload().empty() && ++k == 6;
    };
  };
  c.n.da.drop_filter = lose_once(ka);
  c.n.db.drop_filter = lose_once(kb);
  const Bytes up = seeded_bytes(150000, 11), down = seeded_bytes(150000, 12);
  Bytes got_up, got_down;
  std::size_t off_up = 0, off_down = 0;
  std::vector<std::uint8_t> buf(64 * 1024);
  std::error_code ec;
  const TimePs end = c.n.sched.now() + s_to_ps(5);
  while ((got_up.size() < up.size() || got_down.size() < down.size()) && c.n.sched.now() < end) {
    if (off_up < up.size()) off_up += c.cli->send(std::span(up).subspan(off_up), ec);
    if (off_down < down.size()) off_down += c.srv->send(std::span(down).subspan(off_down), ec);
    c.run(us_to_ps(20));
    for (std::size_t k; (k = c.srv->recv(buf, ec)) > 0;) got_up.insert(got_up.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
    for (std::size_t k; (k = c.cli->recv(buf, ec)) > 0;) got_down.insert(got_down.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
  }
  EXPECT_EQ(got_up, up);
  EXPECT_EQ(got_down, down);
  EXPECT_EQ(drops(c.n.a, "tcp.output_failed") + drops(c.n.b, "tcp.output_failed"), 0u);
  EXPECT_EQ(c.cli->info().timeouts + c.srv->info().timeouts, 0u);  // repaired by SACK, not RTOs
  // Blocks went out, and every segment fits the 1500-byte MTU.
  std::size_t with_blocks = 0;
  for (const auto* dev : {&c.n.da, &c.n.db})
    for (const auto& f : dev->sent) {
      EXPECT_LE(f.bytes.size(), 14u + 1500u);
      if (auto t = tcp_of(f); t && t->options() && t->options()->sack_count > 0) ++with_blocks;
    }
  EXPECT_GT(with_blocks, 0u);
}

TEST(Tcp, RstInWindowButNotExactGetsChallengeAck) {
  Conn c;
  const auto before = c.n.db.sent.size();
  // Craft an RST from "A" with a sequence number inside B's window but not
  // rcv_nxt (RFC 5961 3.2): B must answer with an ACK and stay connected.
  std::vector<wire::TcpView> from_a;
  for (const auto& f : c.n.da.sent)
    if (auto t = tcp_of(f)) from_a.push_back(*t);
  const std::uint32_t next = from_a.back().seq();
  FrameBuilder fb;
  Packet p = c.n.da.pool().alloc();
  wire::TcpRepr r;
  r.src_port = c.cli->local_port();
  r.dst_port = 80;
  r.seq = next + 1000;
  r.flags = tf::RST;
  wire::emit_tcp(p, r, ip("10.0.0.1"), ip("10.0.0.2"), false);
  const Bytes rst = fb.ipv4(kMacB, kMacA, {ip("10.0.0.1"), ip("10.0.0.2"), wire::kIpProtoTcp, 64, 1}, to_bytes(p));
  c.n.db.deliver(rst);
  EXPECT_EQ(c.srv->state(), TcpState::Established);
  EXPECT_EQ(events(c.n.b, "tcp.challenge_ack"), 1u);
  ASSERT_GT(c.n.db.sent.size(), before);
  // The exact sequence number resets.
  Packet q = c.n.da.pool().alloc();
  r.seq = next;
  wire::emit_tcp(q, r, ip("10.0.0.1"), ip("10.0.0.2"), false);
  c.n.db.deliver(fb.ipv4(kMacB, kMacA, {ip("10.0.0.1"), ip("10.0.0.2"), wire::kIpProtoTcp, 64, 2}, to_bytes(q)));
  EXPECT_EQ(c.srv->state(), TcpState::Closed);
  EXPECT_EQ(c.srv->error(), std::errc::connection_reset);
}

// RFC 7323 5.3: a segment whose TSval is older than TS.Recent is a wrapped
// old duplicate: dropped, answered with an ACK, its data never delivered.
// A receiver behind a device with interrupt moderation answers a burst of
// in-order segments with one ACK at the burst's end (a stretch ACK, as from
// a GRO receiver); without bursts it ACKs every second segment; segments
// that arrive out of order inside a burst still get their duplicate ACKs at
// once, so the sender's loss recovery is unchanged.
TEST(Tcp, OneAckPerReceiveBurstForInOrderData) {
  FakeScheduler sched;
  FakeDevice da(kMacA), db(kMacB);
  db.bursty = true;
  FakeDevice::connect(da, db, sched, us_to_ps(1));
  stack::Stack a(sched, "a"), b(sched, "b");
  a.add_address(a.add_interface(da), ip("10.0.0.1"), 24);
  b.add_address(b.add_interface(db), ip("10.0.0.2"), 24);
  auto l = b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(l->listen());
  auto c = a.tcp_socket();
  c->set_nodelay(true);
  ASSERT_FALSE(c->connect(ip("10.0.0.2"), 80));
  sched.run_for(ms_to_ps(1));
  auto s = l->accept();
  ASSERT_TRUE(s);
  const std::size_t mss = c->info().mss;
  auto pure_acks = [&] {
    std::vector<std::uint32_t> acks;
    for (const auto& f : db.sent)
      if (auto t = tcp_of(f); t && t->payload().empty() && (t->flags() & tf::ACK)) acks.push_back(t->ack());
    return acks;
  };
  std::vector<std::uint8_t> sink(1 << 20);
  std::error_code ec;

  // 1. Eight segments in one burst: one ACK, for all of them, at the end.
  db.sent.clear();
  db.hold_rx = true;
  ASSERT_EQ(c->send(seeded_bytes(8 * mss, 1), ec), 8 * mss);
  sched.run_for(us_to_ps(50));
  EXPECT_TRUE(pure_acks().empty()) << "nothing is ACKed before the burst ends";
  db.end_burst();
  auto acks = pure_acks();
  ASSERT_EQ(acks.size(), 1u);
  const std::uint32_t first_ack = acks[0];
  EXPECT_EQ(s->recv(sink, ec), 8 * mss);

  // 2. The same without bursts: an ACK every second segment.
  db.sent.clear();
  db.hold_rx = false;
  ASSERT_EQ(c->send(seeded_bytes(8 * mss, 2), ec), 8 * mss);
  sched.run_for(us_to_ps(50));
  acks = pure_acks();
  ASSERT_EQ(acks.size(), 4u);
  EXPECT_EQ(acks.back() - first_ack, 8 * mss);
  EXPECT_EQ(s->recv(sink, ec), 8 * mss);

  // 3. The first segment of a burst lost: the seven after it arrive out of
  // order and each is answered at once with a duplicate ACK.
  db.sent.clear();
  db.hold_rx = true;
  bool dropped = false;
  da.drop_filter = [&](const SentFrame& f) {
    auto t = tcp_of(f);
    if (dropped || !t || t->payload().empty()) return false;
    return dropped = true;
  };
  ASSERT_EQ(c->send(seeded_bytes(8 * mss, 3), ec), 8 * mss);
  sched.run_for(us_to_ps(50));
  db.end_burst();
  acks = pure_acks();
  ASSERT_EQ(acks.size(), 7u);
  for (auto a7 : acks) EXPECT_EQ(a7, first_ack + 8 * mss) << "duplicate ACKs for the hole";
}

TEST(Tcp, PawsDropsSegmentsWithAnOldTimestamp) {
  Conn c;
  const Bytes first = seeded_bytes(100, 7);
  ASSERT_EQ(c.transfer(*c.cli, *c.srv, first), first);
  // A's latest segment gives the next sequence number, the ACK, and the
  // TSval B now holds as TS.Recent.
  std::optional<wire::TcpView> last;
  for (const auto& f : c.n.da.sent)
    if (auto t = tcp_of(f)) last = t;
  ASSERT_TRUE(last);
  const auto lo = last->options();
  ASSERT_TRUE(lo && lo->timestamps);
  const std::uint32_t seq = last->seq() + static_cast<std::uint32_t>(last->payload().size());
  const std::uint32_t ts_recent = lo->timestamps->first;
  const std::uint32_t ts_ecr = lo->timestamps->second;
  FrameBuilder fb;
  std::uint16_t ip_id = 100;
  auto inject = [&](std::uint32_t tsval, const Bytes& payload) {
    Packet p = c.n.da.pool().alloc();
    std::memcpy(p.append(payload.size()), payload.data(), payload.size());
    wire::TcpRepr r;
    r.src_port = c.cli->local_port();
    r.dst_port = 80;
    r.seq = seq;
    r.ack = last->ack();
    r.flags = tf::ACK | tf::PSH;
    r.window = last->window();
    r.opts.timestamps = std::make_pair(tsval, ts_ecr);
    wire::emit_tcp(p, r, ip("10.0.0.1"), ip("10.0.0.2"), false);
    c.n.db.deliver(fb.ipv4(kMacB, kMacA, {ip("10.0.0.1"), ip("10.0.0.2"), wire::kIpProtoTcp, 64, ip_id++}, to_bytes(p)));
  };
  const Bytes stale = to_bytes("stale duplicate");
  const auto acks_before = c.n.db.sent.size();
  inject(ts_recent - 1000, stale);
  EXPECT_EQ(drops(c.n.b, "tcp.paws"), 1u);
  EXPECT_EQ(c.srv->readable(), 0u);  // the data was not taken
  ASSERT_GT(c.n.db.sent.size(), acks_before);  // but it was acknowledged (ACK of rcv_nxt)
  auto ack = tcp_of(c.n.db.sent.back());
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack(), seq);
  EXPECT_TRUE(ack->payload().empty());
  // Wrap-around: TS.Recent + 2^31 - 1 is still "newer" and is accepted.
  const Bytes fresh = to_bytes("fresh segment");
  inject(ts_recent + 0x7fff'ffffu, fresh);
  EXPECT_EQ(drops(c.n.b, "tcp.paws"), 1u);
  std::vector<std::uint8_t> buf(64);
  std::error_code ec;
  const std::size_t k = c.srv->recv(buf, ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k)), fresh);
  // And now the old TSval (relative to the new TS.Recent) is stale too.
  inject(ts_recent, stale);
  EXPECT_EQ(drops(c.n.b, "tcp.paws"), 2u);
  EXPECT_EQ(c.srv->state(), TcpState::Established);
}

TEST(Tcp, ZeroWindowIsProbedAndRecovers) {
  TwoStacks n;
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->set_rcvbuf(16 * 1024));
  ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(l->listen());
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(ip("10.0.0.2"), 80));
  n.sched.run_for(ms_to_ps(1));
  auto s = l->accept();
  ASSERT_TRUE(s);
  const Bytes data = seeded_bytes(100000, 4);
  std::error_code ec;
  std::size_t off = c->send(data, ec);
  n.sched.run_for(s_to_ps(10));  // nobody reads: the window closes
  EXPECT_EQ(s->readable(), 16u * 1024);
  EXPECT_GE(c->info().zero_window_probes, 2u);
  EXPECT_EQ(c->state(), TcpState::Established);
  Bytes got;
  std::vector<std::uint8_t> buf(8192);
  for (int i = 0; i < 20000 && got.size() < data.size(); ++i) {
    if (off < data.size()) off += c->send(std::span(data).subspan(off), ec);
    for (std::size_t k; (k = s->recv(buf, ec)) > 0;) got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
    n.sched.run_for(ms_to_ps(1));
  }
  EXPECT_EQ(got, data);
}

TEST(Tcp, NagleCoalescesSmallWritesNodelayDoesNot) {
  for (bool nodelay : {false, true}) {
    Conn c;
    c.cli->set_nodelay(nodelay);
    c.n.da.sent.clear();
    std::error_code ec;
    for (int i = 0; i < 10; ++i) ASSERT_EQ(c.cli->send(to_bytes("x"), ec), 1u);
    std::size_t data_segs = 0;
    for (const auto& f : c.n.da.sent)
      if (auto t = tcp_of(f); t && !t->payload().empty()) ++data_segs;
    EXPECT_EQ(data_segs, nodelay ? 10u : 1u) << "nodelay " << nodelay;
    c.run(ms_to_ps(100));
    EXPECT_EQ(c.srv->readable(), 10u);
  }
}

TEST(Tcp, DelayedAckWaitsThenAcks) {
  Conn c;
  c.n.db.sent.clear();
  std::error_code ec;
  c.cli->send(to_bytes("one segment"), ec);
  c.run(us_to_ps(10));
  std::size_t acks = 0;
  for (const auto& f : c.n.db.sent) acks += tcp_of(f).has_value();
  EXPECT_EQ(acks, 0u);  // held back
  c.run(ms_to_ps(40));
  acks = 0;
  for (const auto& f : c.n.db.sent) acks += tcp_of(f).has_value();
  EXPECT_EQ(acks, 1u);
}

TEST(Tcp, KeepaliveDetectsADeadPeer) {
  stack::StackConfig cfg;
  cfg.tcp.keepalive_idle = s_to_ps(10);
  cfg.tcp.keepalive_interval = s_to_ps(1);
  cfg.tcp.keepalive_probes = 3;
  Conn c(cfg);
  c.cli->set_keepalive(true);
  c.srv->set_keepalive(true);
  c.run(s_to_ps(30));
  EXPECT_EQ(c.srv->state(), TcpState::Established);  // answered probes keep it up
  c.n.da.drop_filter = [](const SentFrame&) { return true; };  // A goes silent
  c.run(s_to_ps(30));
  EXPECT_EQ(c.srv->state(), TcpState::Closed);
  EXPECT_EQ(c.srv->error(), std::errc::timed_out);
}

TEST(Tcp, ListenBacklogBoundsHalfOpenAndUnaccepted) {
  stack::StackConfig cfg;
  cfg.tcp.syncookies = false;
  TwoStacks n(cfg);
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(l->listen(2));
  std::vector<std::shared_ptr<TcpSocket>> cs;
  for (int i = 0; i < 4; ++i) {
    cs.push_back(n.a.tcp_socket());
    ASSERT_FALSE(cs.back()->connect(ip("10.0.0.2"), 80));
  }
  n.sched.run_for(ms_to_ps(1));
  EXPECT_EQ(l->pending_accepts(), 2u);
  EXPECT_EQ(drops(n.b, "tcp.listen_overflow"), 2u);
  // Accepting makes room: the others get in on their SYN retransmission.
  while (l->accept()) {
  }
  n.sched.run_for(s_to_ps(2));
  EXPECT_EQ(l->pending_accepts(), 2u);
}

// RFC 4987: with the queue full, SYNs are answered statelessly and the
// completing ACK (here carrying data) rebuilds the connection; a forged ACK
// with a wrong cookie gets a reset.
TEST(Tcp, SynCookiesWhenTheListenQueueIsFull) {
  TwoStacks n;
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(l->listen(1));
  std::vector<std::shared_ptr<TcpSocket>> cs;
  for (int i = 0; i < 3; ++i) {
    cs.push_back(n.a.tcp_socket());
    ASSERT_FALSE(cs.back()->connect(ip("10.0.0.2"), 80));
  }
  n.sched.run_for(ms_to_ps(1));
  EXPECT_EQ(events(n.b, "tcp.syncookies_sent"), 2u);
  for (auto& c : cs) EXPECT_EQ(c->state(), TcpState::Established);
  EXPECT_EQ(cs[1]->info().timestamps, false);  // not offered with a cookie
  std::vector<std::shared_ptr<TcpSocket>> got;
  for (int round = 0; round < 40 && got.size() < 3; ++round) {
    std::error_code ec;
    for (auto& c : cs) (void)c->send(to_bytes("hi"), ec);  // data on the ACK path rebuilds cookie connections
    n.sched.run_for(ms_to_ps(300));
    while (auto s = l->accept()) got.push_back(s);
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_GE(events(n.b, "tcp.syncookies_ok"), 1u);
  for (auto& s : got) EXPECT_GE(s->readable(), 2u);
  // A made-up ACK to the listener: no cookie, a reset.
  Packet p = n.da.pool().alloc();
  wire::TcpRepr r;
  r.src_port = 4444;
  r.dst_port = 80;
  r.seq = 1000;
  r.ack = 0xdeadbeef;
  r.flags = tf::ACK;
  wire::emit_tcp(p, r, ip("10.0.0.1"), ip("10.0.0.2"), false);
  FrameBuilder fb;
  n.db.deliver(fb.ipv4(kMacB, kMacA, {ip("10.0.0.1"), ip("10.0.0.2"), wire::kIpProtoTcp, 64, 3}, to_bytes(p)));
  EXPECT_EQ(drops(n.b, "tcp.ack_to_listener"), 1u);
}

TEST(Tcp, CloseWithUnreadDataResets) {
  Conn c;
  std::error_code ec;
  c.cli->send(to_bytes("unread"), ec);
  c.run(ms_to_ps(1));
  c.srv->close();
  c.run(ms_to_ps(1));
  EXPECT_EQ(c.cli->state(), TcpState::Closed);
  EXPECT_EQ(c.cli->error(), std::errc::connection_reset);
}

// With checksum offload the stack leaves the TCP checksum to the device
// (CHECKSUM_PARTIAL at 14 + 20, offset 16); finishing it as a NIC would
// gives a valid segment.
TEST(Tcp, ChecksumOffloadLeavesTheSumToTheDevice) {
  TwoStacks n;
  n.da.mutable_features().tx_csum_partial = true;
  auto l = n.b.tcp_socket();
  ASSERT_FALSE(l->bind(Ipv4Addr{}, 80));
  ASSERT_FALSE(l->listen());
  auto c = n.a.tcp_socket();
  ASSERT_FALSE(c->connect(ip("10.0.0.2"), 80));
  n.sched.run_for(ms_to_ps(1));
  std::size_t checked = 0;
  for (const auto& f : n.da.sent) {
    if (!tcp_of(f)) continue;
    EXPECT_TRUE(f.meta.tx_csum_partial);
    EXPECT_EQ(f.meta.csum_start, 34);
    EXPECT_EQ(f.meta.csum_offset, 16);
    Bytes fixed = f.bytes;
    ASSERT_TRUE(offload::insert_partial(fixed, f.meta.csum_start, f.meta.csum_offset));
    const auto v4 = wire::Ipv4View::parse(std::span(fixed).subspan(14));
    EXPECT_TRUE(wire::TcpView::parse(v4->payload())->checksum_ok(v4->src(), v4->dst()));
    ++checked;
  }
  EXPECT_EQ(checked, 1u);  // the SYN
  // This fake device does not finish it: B rightly drops the SYN.
  EXPECT_EQ(drops(n.b, "tcp.bad_checksum"), 1u);
}

}  // namespace
}  // namespace vd::test
