// Link faults: loss, duplication, reordering, corruption, jitter and the
// bandwidth cap, each checked against its statistics and its effect on the
// frames; the Rng they draw from; and repeatability (same seed, same run).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "veridian/sim/event_queue.hpp"
#include "veridian/sim/link.hpp"
#include "veridian/sim/pcap.hpp"
#include "veridian/sim/rng.hpp"
#include "veridian/sim/simulation.hpp"

using vd::TimePs;
using vd::sim::EventQueue;
using vd::sim::Link;
using vd::sim::LinkConfig;
using vd::sim::LinkFaults;
using vd::sim::LinkFaultStats;
using vd::sim::Rng;

namespace {

struct Arrival {
  TimePs at;
  std::vector<std::uint8_t> frame;
  bool fcs_error;
};

class Sink final : public vd::sim::FrameSink {
 public:
  explicit Sink(EventQueue& q) : q_(q) {}
  void frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) override {
    got.push_back({q_.now(), std::move(frame), fcs_error});
  }
  std::vector<Arrival> got;

 private:
  EventQueue& q_;
};

// A 100-byte frame carrying its sequence number in bytes 14..17.
std::vector<std::uint8_t> tagged(std::uint32_t seq, std::size_t len = 100) {
  std::vector<std::uint8_t> f(len);
  for (std::size_t i = 0; i < len; ++i) f[i] = static_cast<std::uint8_t>(i * 7 + 3);
  for (int k = 0; k < 4; ++k) f[14 + std::size_t(k)] = static_cast<std::uint8_t>(seq >> (8 * k));
  return f;
}
std::uint32_t seq_of(const std::vector<std::uint8_t>& f) {
  std::uint32_t s = 0;
  for (int k = 0; k < 4; ++k) s |= std::uint32_t(f.at(14 + std::size_t(k))) << (8 * k);
  return s;
}

// Side 0 -> side 1 with `faults`, `n` frames handed to the link one frame
// time apart (back to back); returns what side 1 received.
struct Bench {
  EventQueue q;
  Link link;
  Sink a{q}, b{q};
  Bench(LinkFaults f, std::uint64_t seed = 1, LinkConfig cfg = LinkConfig{100.0, vd::ns_to_ps(500)})
      : link(q, cfg, seed) {
    link.attach(0, &a);
    link.attach(1, &b);
    link.set_faults(0, f);
  }
  void send_all(std::uint32_t n, std::size_t len = 100) {
    for (std::uint32_t i = 0; i < n; ++i) link.send(0, tagged(i, len), q.now());
    q.run_until(q.now() + vd::s_to_ps(1));
  }
  const LinkFaultStats& st() const { return link.fault_stats(0); }
};

// |x - n p| within k standard deviations of a binomial(n, p).
void expect_binomial(std::uint64_t x, std::uint64_t n, double p, double k = 6.0) {
  const double mean = double(n) * p, sd = std::sqrt(double(n) * p * (1 - p));
  EXPECT_GE(double(x), mean - k * sd) << "n=" << n << " p=" << p;
  EXPECT_LE(double(x), mean + k * sd) << "n=" << n << " p=" << p;
}

void expect_books_balance(const LinkFaultStats& s) {
  EXPECT_EQ(s.sent + s.duplicated, s.delivered + s.dropped + s.queue_drops);
}

std::vector<std::uint32_t> seqs(const Sink& s) {
  std::vector<std::uint32_t> v;
  for (const auto& a : s.got) v.push_back(seq_of(a.frame));
  return v;
}

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

// ---------------------------------------------------------------- Rng

TEST(Rng, SplitMix64MatchesTheReferenceOutput) {
  std::uint64_t x = 0;
  EXPECT_EQ(vd::sim::splitmix64(x), 0xe220a8397b1dcdafull);  // Vigna's splitmix64.c, seed 0
  EXPECT_EQ(vd::sim::splitmix64(x), 0x6e789e6aa1b965f4ull);
}

TEST(Rng, SameSeedSameStreamOtherSeedOtherStream) {
  Rng a(42), b(42), c(43);
  int same_c = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    same_c += x == c.next();
  }
  EXPECT_EQ(same_c, 0);
  EXPECT_NE(vd::sim::derive_seed(1, {3, 0}), vd::sim::derive_seed(1, {0, 3}));
  EXPECT_NE(vd::sim::derive_seed(1, {0}), vd::sim::derive_seed(2, {0}));
  EXPECT_EQ(vd::sim::derive_seed(7, {1, 2}), vd::sim::derive_seed(7, {1, 2}));
}

TEST(Rng, UniformAndBelowStayInRangeAndAreRoughlyFlat) {
  Rng r(5);
  std::vector<int> bins(10);
  for (int i = 0; i < 100000; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    const auto k = r.below(10);
    ASSERT_LT(k, 10u);
    ++bins[k];
  }
  for (int b : bins) expect_binomial(std::uint64_t(b), 100000, 0.1);
  EXPECT_EQ(r.below(1), 0u);
  EXPECT_FALSE(r.chance(0.0));
  EXPECT_TRUE(r.chance(1.0));
}

// ---------------------------------------------------------------- no faults

TEST(LinkFaults, NoFaultsIsAPerfectWireAndCountsEveryFrame) {
  Bench b(LinkFaults{});
  b.send_all(100);
  ASSERT_EQ(b.b.got.size(), 100u);
  for (std::uint32_t i = 0; i < 100; ++i) {
    EXPECT_EQ(seq_of(b.b.got[i].frame), i);
    EXPECT_EQ(b.b.got[i].frame, tagged(i));
    EXPECT_FALSE(b.b.got[i].fcs_error);
  }
  EXPECT_EQ(b.st().sent, 100u);
  EXPECT_EQ(b.st().delivered, 100u);
  EXPECT_EQ(b.st().dropped + b.st().duplicated + b.st().reordered + b.st().corrupted + b.st().delayed, 0u);
}

TEST(LinkFaults, BadSettingsAreRefused) {
  EventQueue q;
  Link l(q, LinkConfig{});
  for (double p : {-0.1, 1.5, std::nan("")}) {
    LinkFaults f;
    f.loss = p;
    EXPECT_THROW(l.set_faults(0, f), std::invalid_argument);
    f = {};
    f.duplicate = p;
    EXPECT_THROW(l.set_faults(0, f), std::invalid_argument);
    f = {};
    f.reorder = p;
    EXPECT_THROW(l.set_faults(1, f), std::invalid_argument);
    f = {};
    f.corrupt = p;
    EXPECT_THROW(l.set_faults(1, f), std::invalid_argument);
  }
  LinkFaults f;
  f.cap_gbps = -1;
  EXPECT_THROW(l.set_faults(0, f), std::invalid_argument);
  EXPECT_THROW(l.set_faults(2, LinkFaults{}), std::invalid_argument);
  EXPECT_FALSE(l.faults(0).active());
}

// ---------------------------------------------------------------- loss

TEST(LinkFaults, LossDropCountLiesInTheBinomialBound) {
  LinkFaults f;
  f.loss = 0.1;
  Bench b(f);
  b.send_all(10000);
  expect_binomial(b.st().dropped, 10000, 0.1);
  EXPECT_EQ(b.b.got.size(), 10000 - b.st().dropped);
  EXPECT_EQ(b.st().delivered, b.b.got.size());
  expect_books_balance(b.st());
  // Survivors arrive intact and in order.
  auto s = seqs(b.b);
  EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
  EXPECT_EQ(std::set<std::uint32_t>(s.begin(), s.end()).size(), s.size());
}

TEST(LinkFaults, SameSeedSameLossesOtherSeedOtherLosses) {
  LinkFaults f;
  f.loss = 0.3;
  Bench x(f, 11), y(f, 11), z(f, 12);
  x.send_all(2000);
  y.send_all(2000);
  z.send_all(2000);
  EXPECT_EQ(seqs(x.b), seqs(y.b));
  EXPECT_NE(seqs(x.b), seqs(z.b));
}

TEST(LinkFaults, DirectionsDrawFromDifferentStreams) {
  EventQueue q;
  Link l(q, LinkConfig{}, 9);
  Sink a(q), b(q);
  l.attach(0, &a);
  l.attach(1, &b);
  LinkFaults f;
  f.loss = 0.5;
  l.set_faults(0, f);
  l.set_faults(1, f);
  for (std::uint32_t i = 0; i < 500; ++i) {
    l.send(0, tagged(i), q.now());
    l.send(1, tagged(i), q.now());
  }
  q.run_until(vd::ms_to_ps(10));
  EXPECT_NE(seqs(a), seqs(b));
  expect_binomial(l.fault_stats(0).dropped, 500, 0.5);
  expect_binomial(l.fault_stats(1).dropped, 500, 0.5);
}

TEST(LinkFaults, FaultsChangeAtRunTime) {
  Bench b(LinkFaults{});
  b.send_all(50);
  LinkFaults all;
  all.loss = 1.0;
  b.link.set_faults(0, all);
  b.send_all(50);
  b.link.set_faults(0, LinkFaults{});
  b.send_all(50);
  EXPECT_EQ(b.b.got.size(), 100u);
  EXPECT_EQ(b.st().dropped, 50u);
  EXPECT_EQ(b.st().sent, 150u);
  expect_books_balance(b.st());
  // The other direction was never touched.
  EXPECT_FALSE(b.link.faults(1).active());
}

// ---------------------------------------------------------------- duplication

TEST(LinkFaults, DuplicatesAreExactCopiesOneFrameTimeBehind) {
  LinkFaults f;
  f.duplicate = 0.2;
  Bench b(f);
  b.send_all(5000);
  expect_binomial(b.st().duplicated, 5000, 0.2);
  EXPECT_EQ(b.b.got.size(), 5000 + b.st().duplicated);
  expect_books_balance(b.st());
  std::uint64_t pairs = 0;
  for (std::size_t i = 1; i < b.b.got.size(); ++i) {
    if (seq_of(b.b.got[i].frame) != seq_of(b.b.got[i - 1].frame)) continue;
    ++pairs;
    EXPECT_EQ(b.b.got[i].frame, b.b.got[i - 1].frame);
    EXPECT_GE(b.b.got[i].at, b.b.got[i - 1].at);
  }
  EXPECT_EQ(pairs, b.st().duplicated);
}

// ---------------------------------------------------------------- reordering

TEST(LinkFaults, ReorderHoldsFramesBackSoLaterOnesOvertake) {
  LinkFaults f;
  f.reorder = 0.1;
  f.reorder_delay = vd::us_to_ps(5);  // ~ 50 frames of 100 bytes at 100 Gb/s
  Bench b(f);
  b.send_all(3000);
  expect_binomial(b.st().reordered, 3000, 0.1);
  ASSERT_EQ(b.b.got.size(), 3000u) << "reordering loses nothing";
  auto s = seqs(b.b);
  EXPECT_FALSE(std::is_sorted(s.begin(), s.end()));
  std::uint64_t overtaken = 0;  // frames that arrive after a higher sequence number
  std::uint32_t hi = 0;
  for (auto x : s) {
    if (x < hi) ++overtaken;
    hi = std::max(hi, x);
  }
  EXPECT_GE(overtaken, b.st().reordered * 9 / 10);
  EXPECT_LE(overtaken, b.st().reordered);
  std::sort(s.begin(), s.end());
  for (std::uint32_t i = 0; i < 3000; ++i) ASSERT_EQ(s[i], i);
  // A held-back frame arrives reorder_delay after a perfect wire would bring it.
  const TimePs dur = b.link.wire_time(100);
  for (const auto& a : b.b.got) {
    const TimePs nominal = TimePs(seq_of(a.frame) + 1) * dur + vd::ns_to_ps(500);
    EXPECT_TRUE(a.at == nominal || a.at == nominal + f.reorder_delay) << a.at << " vs " << nominal;
  }
}

// ---------------------------------------------------------------- jitter

TEST(LinkFaults, JitterDelaysWithinBoundsAndKeepsOrder) {
  LinkFaults f;
  f.jitter = vd::us_to_ps(2);
  Bench b(f);
  b.send_all(2000);
  ASSERT_EQ(b.b.got.size(), 2000u);
  const auto s = seqs(b.b);
  for (std::uint32_t i = 0; i < 2000; ++i) ASSERT_EQ(s[i], i) << "jitter alone must not reorder";
  const TimePs dur = b.link.wire_time(100);
  TimePs max_nominal = 0;
  for (const auto& a : b.b.got) {
    const TimePs nominal = TimePs(seq_of(a.frame) + 1) * dur + vd::ns_to_ps(500);
    max_nominal = std::max(max_nominal, nominal);
    EXPECT_GE(a.at, nominal);
    EXPECT_LE(a.at, max_nominal + f.jitter);  // its own draw, or clamped to a predecessor's
  }
  EXPECT_GT(b.st().delayed, 1900u);
  EXPECT_EQ(b.st().reordered, 0u);
  // Mean extra delay: at least the mean draw (1 us), clamping only adds.
  EXPECT_GE(b.st().delay_added_ps / b.st().delayed, vd::ns_to_ps(900));
}

TEST(LinkFaults, JitterWithReorderReorders) {
  LinkFaults f;
  f.jitter = vd::us_to_ps(1);
  f.reorder = 0.05;
  f.reorder_delay = vd::us_to_ps(3);
  Bench b(f);
  b.send_all(2000);
  ASSERT_EQ(b.b.got.size(), 2000u);
  auto s = seqs(b.b);
  EXPECT_FALSE(std::is_sorted(s.begin(), s.end()));
  EXPECT_GT(b.st().reordered, 0u);
}

// ---------------------------------------------------------------- corruption

TEST(LinkFaults, CorruptionFlipsExactlyTheAskedBitsAndSetsFcsError) {
  LinkFaults f;
  f.corrupt = 1.0;
  f.corrupt_bits = 3;
  Bench b(f);
  b.send_all(500);
  ASSERT_EQ(b.b.got.size(), 500u);
  EXPECT_EQ(b.st().corrupted, 500u);
  EXPECT_EQ(b.st().bits_flipped, 1500u);
  std::set<std::size_t> bytes_hit;
  for (const auto& a : b.b.got) {
    EXPECT_TRUE(a.fcs_error);
    // The sequence number may be among the damaged bytes: compare with the
    // sent frame by position in the arrival order (no reordering here).
    const auto orig = tagged(std::uint32_t(&a - b.b.got.data()));
    ASSERT_EQ(a.frame.size(), orig.size());
    int diff = 0;
    for (std::size_t i = 0; i < orig.size(); ++i) {
      diff += std::popcount(static_cast<unsigned>(a.frame[i] ^ orig[i]));
      if (a.frame[i] != orig[i]) bytes_hit.insert(i);
    }
    EXPECT_EQ(diff, 3);
  }
  EXPECT_GT(bytes_hit.size(), 90u) << "bit positions should spread over the whole frame";
}

TEST(LinkFaults, CorruptionWithKeptFcsSparesTheHeaderWhenAsked) {
  LinkFaults f;
  f.corrupt = 0.5;
  f.corrupt_keep_fcs = true;
  f.corrupt_from = 14;
  Bench b(f, 3);
  b.send_all(2000);
  ASSERT_EQ(b.b.got.size(), 2000u);
  expect_binomial(b.st().corrupted, 2000, 0.5);
  std::uint64_t changed = 0;
  for (std::size_t k = 0; k < b.b.got.size(); ++k) {
    const auto& a = b.b.got[k];
    EXPECT_FALSE(a.fcs_error);
    const auto orig = tagged(std::uint32_t(k));
    EXPECT_TRUE(std::equal(orig.begin(), orig.begin() + 14, a.frame.begin())) << "Ethernet header touched";
    changed += a.frame != orig;
  }
  EXPECT_EQ(changed, b.st().corrupted);
}

TEST(LinkFaults, FramesShorterThanCorruptFromAreUnharmed) {
  LinkFaults f;
  f.corrupt = 1.0;
  f.corrupt_from = 200;
  Bench b(f);
  b.send_all(10, 100);
  EXPECT_EQ(b.st().corrupted, 0u);
  for (const auto& a : b.b.got) EXPECT_FALSE(a.fcs_error);
}

// ---------------------------------------------------------------- bandwidth cap

TEST(LinkFaults, BandwidthCapSpacesFramesAtTheCappedRate) {
  LinkFaults f;
  f.cap_gbps = 1.0;
  Bench b(f, 1, LinkConfig{100.0, vd::ns_to_ps(500)});
  b.send_all(20, 1514);
  ASSERT_EQ(b.b.got.size(), 20u);
  const TimePs cap = Link::wire_time(1514, 1.0);
  EXPECT_EQ(cap, 12'304'000u);
  EXPECT_EQ(b.b.got[0].at, cap + vd::ns_to_ps(500)) << "one frame alone: as on a 1 Gb/s wire";
  for (std::size_t i = 1; i < 20; ++i) EXPECT_EQ(b.b.got[i].at - b.b.got[i - 1].at, cap);
  // The wire itself was busy only for the 100 Gb/s serialisation.
  EXPECT_EQ(b.link.stats(0).busy_ps, 20 * b.link.wire_time(1514));
  EXPECT_EQ(b.st().delayed, 20u);
}

TEST(LinkFaults, BandwidthCapQueueTailDrops) {
  LinkFaults f;
  f.cap_gbps = 1.0;
  f.cap_queue = 2;
  Bench b(f);
  b.send_all(10, 1514);  // all ten on the wire before the first leaves the cap
  EXPECT_EQ(b.b.got.size(), 3u) << "one in service plus two queued";
  EXPECT_EQ(b.st().queue_drops, 7u);
  expect_books_balance(b.st());
  // Once the queue drains, frames get through again.
  b.send_all(1, 1514);
  EXPECT_EQ(b.b.got.size(), 4u);
}

TEST(LinkFaults, CapAboveTheLineRateChangesNothing) {
  LinkFaults f;
  f.cap_gbps = 400.0;
  Bench x(f), y(LinkFaults{});
  x.send_all(50, 700);
  y.send_all(50, 700);
  ASSERT_EQ(x.b.got.size(), y.b.got.size());
  for (std::size_t i = 0; i < x.b.got.size(); ++i) EXPECT_EQ(x.b.got[i].at, y.b.got[i].at);
}

// ---------------------------------------------------------------- pcap taps

TEST(LinkFaults, SentTapShowsEveryFrameDeliveredTapShowsSurvivors) {
  const std::string sent = ::testing::TempDir() + "vd_faults_sent.pcap";
  const std::string got = ::testing::TempDir() + "vd_faults_delivered.pcap";
  LinkFaults f;
  f.loss = 0.25;
  f.duplicate = 0.1;
  std::uint64_t delivered = 0;
  {
    Bench b(f);
    auto ws = std::make_shared<vd::sim::PcapWriter>(sent);
    auto wd = std::make_shared<vd::sim::PcapWriter>(got);
    b.link.capture(ws);
    b.link.capture_delivered(wd);
    b.send_all(400);
    EXPECT_EQ(ws->frames(), 400u);
    EXPECT_EQ(wd->frames(), b.st().delivered);
    delivered = b.st().delivered;
    EXPECT_EQ(delivered, b.b.got.size());
  }
  // 24-byte header, then 16 bytes + 100 per record.
  EXPECT_EQ(slurp(sent).size(), 24u + 400u * 116u);
  EXPECT_EQ(slurp(got).size(), 24u + delivered * 116u);
}

// ---------------------------------------------------------------- whole simulation

namespace {
std::vector<std::uint8_t> faulty_ping_run(std::uint64_t seed, const std::string& pcap, std::uint64_t* lost) {
  vd::sim::Simulation s(seed);
  vd::sim::NicSpec soft;
  auto& a = s.add_host("a", soft);
  auto& b = s.add_host("b", soft);
  a.stack().add_address(a.ifindex(), vd::stack::Ipv4Addr::from_u32(0x0a000001), 24);
  b.stack().add_address(b.ifindex(), vd::stack::Ipv4Addr::from_u32(0x0a000002), 24);
  auto& l = s.connect(a, b, LinkConfig{});
  s.capture_delivered(l, pcap);
  if (s.ping(a, vd::stack::Ipv4Addr::from_u32(0x0a000002), 1, vd::ms_to_ps(1)).at(0) == std::nullopt)
    ADD_FAILURE() << "no reply on a perfect wire";  // ARP is resolved before the faults start
  LinkFaults f;
  f.loss = 0.2;
  f.jitter = vd::ns_to_ps(300);
  f.corrupt = 0.05;
  l.set_faults(0, f);
  l.set_faults(1, f);
  auto r = s.ping(a, vd::stack::Ipv4Addr::from_u32(0x0a000002), 200, vd::ms_to_ps(1));
  *lost = std::uint64_t(std::count(r.begin(), r.end(), std::nullopt));
  s.flush_captures();
  return slurp(pcap);
}
}  // namespace

TEST(LinkFaults, SimulationSeedMakesFaultyRunsRepeatable) {
  std::uint64_t l1 = 0, l2 = 0, l3 = 0;
  const auto r1 = faulty_ping_run(5, ::testing::TempDir() + "vd_f1.pcap", &l1);
  const auto r2 = faulty_ping_run(5, ::testing::TempDir() + "vd_f2.pcap", &l2);
  const auto r3 = faulty_ping_run(6, ::testing::TempDir() + "vd_f3.pcap", &l3);
  EXPECT_EQ(r1, r2) << "same seed, same bytes";
  EXPECT_EQ(l1, l2);
  EXPECT_NE(r1, r3) << "another seed, other faults";
  EXPECT_GT(l1, 0u);
  EXPECT_LT(l1, 200u);
}
