// TCP zero-copy transmit: send() copies the application's bytes once, into
// send-buffer chunks carved from the device's TSO pool; a segment that
// starts a chunk leaves from there with its headers in the chunk's headroom
// (no second copy). Checked by the copy counters, byte for byte at the
// receiver, under loss, under pool pressure, and while the NIC still holds
// a buffer.
#include <random>

#include "test_util.hpp"
#include "veridian/stack/wire/tcp.hpp"

namespace vd::test {
namespace {

using stack::TcpSocket;

// A connected pair A (client) -> B (server); A's device offers TSO with a
// pool of `tso_buffers` (0: no TSO).
struct Conn {
  explicit Conn(std::size_t tso_buffers) {
    if (tso_buffers) n.da.enable_tso(tso_buffers);
    n.da.record_sent = false;
    lst = n.b.tcp_socket();
    EXPECT_FALSE(lst->bind(Ipv4Addr{}, 80));
    EXPECT_FALSE(lst->listen(8));
    cli = n.a.tcp_socket();
    EXPECT_FALSE(cli->connect(ip("10.0.0.2"), 80));
    run(ms_to_ps(1));
    srv = lst->accept();
    EXPECT_TRUE(srv);
  }
  void run(TimePs d) { n.sched.run_for(d); }
  void drain(Bytes& got) {
    std::error_code ec;
    std::vector<std::uint8_t> buf(64 * 1024);
    for (std::size_t k; (k = srv->recv(buf, ec)) > 0;)
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
    EXPECT_FALSE(ec) << ec.message();
  }
  Bytes transfer(const Bytes& data, TimePs limit = s_to_ps(60)) {
    Bytes got;
    std::size_t off = 0;
    const TimePs end = n.sched.now() + limit;
    while (got.size() < data.size() && n.sched.now() < end) {
      std::error_code ec;
      if (off < data.size()) off += cli->send(std::span(data).subspan(off), ec);
      EXPECT_FALSE(ec) << ec.message();
      run(us_to_ps(20));
      drain(got);
    }
    run(ms_to_ps(300));  // the last (delayed) ACKs
    return got;
  }
  TwoStacks n;
  std::shared_ptr<TcpSocket> lst, cli, srv;
};

TEST(TcpZeroCopy, BulkTransferWithTsoSendsFromTheSendBuffer) {
  Conn c(64);
  BufferPool& tso = *c.n.da.tso_pool();
  const auto copied0 = tso.stats().bytes_copied_in;
  const Bytes data = seeded_bytes(4'000'000, 1);
  ASSERT_EQ(c.transfer(data), data);
  const auto i = c.cli->info();
  EXPECT_GT(i.tso_sends, 10u);
  EXPECT_GT(i.zero_copy_sends, 10u);
  // Most bytes left from where send() put it. Copied: sends during slow
  // start (cwnd smaller than a chunk) and the small sends that follow B's
  // window open after its reader (every 20 us here) fills the 256 KiB buffer.
  EXPECT_GE(i.zero_copy_bytes, data.size() * 8 / 10);
  EXPECT_EQ(i.retransmits, 0u);
  EXPECT_EQ(i.zero_copy_bytes + i.tx_copy_bytes, data.size());  // each byte left once, one way or the other
  EXPECT_LE(i.tx_copy_bytes, data.size() * 2 / 10);
  // The pool saw the application's copy into the send buffer and the few
  // copies out of it, nothing more.
  EXPECT_LE(tso.stats().bytes_copied_in - copied0, data.size() + i.tx_copy_bytes);
  EXPECT_GE(tso.stats().bytes_copied_in - copied0, data.size());  // every chunk from the pool
  // Everything acknowledged: the send buffer holds no pool buffer.
  EXPECT_EQ(c.cli->unacked(), 0u);
  EXPECT_EQ(tso.available(), tso.capacity());
  // The receiver kept the in-order payload in the DMA buffers it arrived in
  // (zero-copy receive): the pool was never under pressure here.
  EXPECT_GE(c.srv->info().rx_zero_copy_bytes, data.size() * 9 / 10);
  EXPECT_LE(c.srv->info().rx_zero_copy_bytes, data.size());
}

TEST(TcpZeroCopy, WithoutTsoEverySentByteIsCopiedOnce) {
  Conn c(0);
  const Bytes data = seeded_bytes(1'000'000, 2);
  ASSERT_EQ(c.transfer(data), data);
  const auto i = c.cli->info();
  EXPECT_EQ(i.zero_copy_bytes, 0u);
  EXPECT_EQ(i.zero_copy_sends, 0u);
  EXPECT_EQ(i.retransmits, 0u);
  EXPECT_EQ(i.tx_copy_bytes, data.size());
}

TEST(TcpZeroCopy, RetransmissionsAfterLossCarryTheRightBytes) {
  Conn c(64);
  int k = 0;
  std::set<std::uint32_t> lost;
  c.n.da.drop_filter = [&](const SentFrame& f) {
    auto t = tcp_of(f);
    if (!t || t->payload().empty()) return false;
    if (++k % 25 == 0 && !lost.count(t->seq())) {
      lost.insert(t->seq());
      return true;
    }
    return false;
  };
  const Bytes data = seeded_bytes(3'000'000, 3);
  ASSERT_EQ(c.transfer(data), data);
  const auto i = c.cli->info();
  EXPECT_GT(lost.size(), 20u);
  EXPECT_GE(i.retransmits, lost.size());
  EXPECT_GE(i.zero_copy_bytes, data.size() / 4);
  EXPECT_GT(i.tx_copy_bytes, 0u);  // resends from the middle of a chunk copy
  EXPECT_EQ(c.n.da.tso_pool()->available(), c.n.da.tso_pool()->capacity());
}

TEST(TcpZeroCopy, UnderPoolPressureFallsBackToCopies) {
  Conn c(8);
  BufferPool& tso = *c.n.da.tso_pool();
  // Hold 5 of the 8 buffers: less than half free, so the send buffer takes
  // heap chunks and every send is copied into one of the 3 left.
  std::vector<Packet> hold;
  for (int j = 0; j < 5; ++j) hold.push_back(tso.alloc());
  const Bytes data = seeded_bytes(2'000'000, 4);
  ASSERT_EQ(c.transfer(data), data);
  const auto i = c.cli->info();
  EXPECT_EQ(i.zero_copy_bytes, 0u);
  EXPECT_GE(i.tx_copy_bytes, data.size());
  EXPECT_GT(i.tso_sends, 10u);
  EXPECT_EQ(tso.available(), 3u);
  hold.clear();
  // With the pool free again, later sends go without copies.
  const auto before = i.zero_copy_bytes;
  const Bytes more = seeded_bytes(1'000'000, 5);
  ASSERT_EQ(c.transfer(more), more);
  EXPECT_GE(c.cli->info().zero_copy_bytes - before, more.size() / 2);
  EXPECT_EQ(tso.available(), tso.capacity());
}

TEST(TcpZeroCopy, ABufferTheNicStillHoldsIsNeverRewritten) {
  Conn c(64);
  c.n.da.hold_tx = true;  // the NIC keeps every buffer it was given
  bool lose = true;
  c.n.da.drop_filter = [&](const SentFrame& f) {
    auto t = tcp_of(f);
    return lose && t && !t->payload().empty();
  };
  const Bytes data = seeded_bytes(100'000, 6);
  std::error_code ec;
  ASSERT_EQ(c.cli->send(data, ec), data.size());
  c.run(us_to_ps(100));
  const auto i0 = c.cli->info();
  ASSERT_GT(i0.zero_copy_sends, 0u);
  std::vector<Bytes> snap;
  for (const Packet& p : c.n.da.held) snap.push_back(to_bytes(p));
  lose = false;
  Bytes got;
  for (TimePs end = c.n.sched.now() + s_to_ps(10); got.size() < data.size() && c.n.sched.now() < end;) {
    c.run(us_to_ps(50));
    c.drain(got);
  }
  EXPECT_EQ(got, data);
  const auto i1 = c.cli->info();
  EXPECT_GT(i1.timeouts, 0u);
  // The resend from the start of the held chunk had to copy ...
  EXPECT_GT(i1.tx_copy_bytes, i0.tx_copy_bytes);
  // ... and left the frames the NIC holds as they were.
  ASSERT_GE(c.n.da.held.size(), snap.size());
  for (std::size_t j = 0; j < snap.size(); ++j) EXPECT_EQ(to_bytes(c.n.da.held[j]), snap[j]) << "held frame " << j;
  c.n.da.held.clear();
}

}  // namespace
}  // namespace vd::test
