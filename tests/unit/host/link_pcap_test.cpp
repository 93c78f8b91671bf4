// Link (line rate, latency, preamble/IFG, per-direction serialisation and
// stats) and PcapWriter (nanosecond pcap, parsed back byte by byte here).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "veridian/sim/event_queue.hpp"
#include "veridian/sim/link.hpp"
#include "veridian/sim/pcap.hpp"

using vd::TimePs;
using vd::sim::EventQueue;
using vd::sim::Link;
using vd::sim::LinkConfig;
using vd::sim::PcapWriter;

namespace {

struct Arrival {
  TimePs at;
  std::vector<std::uint8_t> frame;
  bool fcs_error;
};

class RecordingSink final : public vd::sim::FrameSink {
 public:
  explicit RecordingSink(EventQueue& q) : q_(q) {}
  void frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) override {
    got.push_back({q_.now(), std::move(frame), fcs_error});
  }
  std::vector<Arrival> got;

 private:
  EventQueue& q_;
};

std::vector<std::uint8_t> frame_of(std::size_t n, std::uint8_t tag) {
  std::vector<std::uint8_t> f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::uint8_t>(tag ^ (i * 13));
  return f;
}

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint32_t le32(const std::vector<std::uint8_t>& b, std::size_t off) {
  return std::uint32_t(b.at(off)) | (std::uint32_t(b.at(off + 1)) << 8) | (std::uint32_t(b.at(off + 2)) << 16) |
         (std::uint32_t(b.at(off + 3)) << 24);
}
std::uint16_t le16(const std::vector<std::uint8_t>& b, std::size_t off) {
  return static_cast<std::uint16_t>(b.at(off) | (b.at(off + 1) << 8));
}

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "vd_" + name; }

}  // namespace

// ---------------------------------------------------------------- wire time

TEST(Link, WireTimeCountsPreambleFcsAndGap) {
  EventQueue q;
  Link l(q, LinkConfig{100.0, 0});
  // (64 + 8 preamble/SFD + 4 FCS + 12 IFG) * 8 bits / 100 Gb/s = 7.04 ns
  EXPECT_EQ(l.wire_time(64), 7040u);
  EXPECT_EQ(l.wire_time(1514), 123040u);  // 1538 * 0.08 ns
  EXPECT_EQ(l.wire_time(9000), 721920u);  // 9024 * 0.08 ns
  Link slow(q, LinkConfig{10.0, 0});
  EXPECT_EQ(slow.wire_time(64), 70400u);
  Link gig(q, LinkConfig{1.0, 0});
  EXPECT_EQ(gig.wire_time(1514), 12'304'000u);
  Link odd(q, LinkConfig{25.0, 0});
  EXPECT_EQ(odd.wire_time(64), 28160u);
}

TEST(Link, RuntsArePaddedToSixtyBytes) {
  EventQueue q;
  Link l(q, LinkConfig{100.0, 0});
  const TimePs min = l.wire_time(60);
  EXPECT_EQ(min, 6720u);  // (60 + 24) * 8 / 100 ns
  EXPECT_EQ(l.wire_time(0), min);
  EXPECT_EQ(l.wire_time(1), min);
  EXPECT_EQ(l.wire_time(14), min);
  EXPECT_EQ(l.wire_time(59), min);
  EXPECT_GT(l.wire_time(61), min);
  EXPECT_EQ(l.wire_time(61), 6800u);
}

TEST(Link, RejectsANonPositiveRate) {
  EventQueue q;
  EXPECT_THROW(Link(q, LinkConfig{0.0, 0}), std::invalid_argument);
  EXPECT_THROW(Link(q, LinkConfig{-1.0, 0}), std::invalid_argument);
  EXPECT_THROW(Link(q, LinkConfig{std::nan(""), 0}), std::invalid_argument);
}

// ---------------------------------------------------------------- attach

TEST(Link, AttachingAnEndTwiceThrows) {
  EventQueue q;
  Link l(q, LinkConfig{});
  RecordingSink a(q), b(q);
  EXPECT_FALSE(l.attached(0));
  l.attach(0, &a);
  EXPECT_TRUE(l.attached(0));
  EXPECT_FALSE(l.attached(1));
  EXPECT_THROW(l.attach(0, &b), std::logic_error);
  EXPECT_THROW(l.attach(0, &a), std::logic_error);
  l.attach(1, &b);
  EXPECT_THROW(l.attach(1, &a), std::logic_error);
  EXPECT_THROW(l.attach(2, &a), std::invalid_argument);
  EXPECT_THROW(l.attach(-1, &a), std::invalid_argument);
}

// ---------------------------------------------------------------- send

TEST(Link, SingleFrameArrivesAfterWireTimePlusLatency) {
  EventQueue q;
  const TimePs lat = vd::ns_to_ps(500);
  Link l(q, LinkConfig{100.0, lat});
  RecordingSink a(q), b(q);
  l.attach(0, &a);
  l.attach(1, &b);
  const auto f = frame_of(64, 1);
  const TimePs arr = l.send(0, f, 0);
  EXPECT_EQ(arr, 7040u + lat);
  q.run_until(arr - 1);
  EXPECT_TRUE(b.got.empty()) << "delivered before the last bit arrived";
  q.run_until(arr);
  ASSERT_EQ(b.got.size(), 1u);
  EXPECT_EQ(b.got[0].at, arr);
  EXPECT_EQ(b.got[0].frame, f);
  EXPECT_FALSE(b.got[0].fcs_error);
  EXPECT_TRUE(a.got.empty()) << "a frame must not come back to its sender";
}

TEST(Link, BackToBackFramesAreSerialised) {
  EventQueue q;
  const TimePs lat = vd::ns_to_ps(250);
  Link l(q, LinkConfig{100.0, lat});
  RecordingSink a(q), b(q);
  l.attach(0, &a);
  l.attach(1, &b);
  const TimePs a1 = l.send(0, frame_of(64, 1), 0);
  const TimePs a2 = l.send(0, frame_of(1514, 2), 0);
  const TimePs a3 = l.send(0, frame_of(10, 3), 0);  // a runt still occupies 60 bytes' worth
  EXPECT_EQ(a1, l.wire_time(64) + lat);
  EXPECT_EQ(a2, a1 + l.wire_time(1514));
  EXPECT_EQ(a3, a2 + l.wire_time(60));
  // Asking for a start time inside the busy period does not overlap either.
  const TimePs a4 = l.send(0, frame_of(100, 4), a3 - lat - 1);
  EXPECT_EQ(a4, a3 + l.wire_time(100));
  // A start after the wire went idle begins at that time.
  const TimePs later = vd::us_to_ps(10);
  const TimePs a5 = l.send(0, frame_of(64, 5), later);
  EXPECT_EQ(a5, later + l.wire_time(64) + lat);
  q.run_until(vd::us_to_ps(100));
  ASSERT_EQ(b.got.size(), 5u);
  const TimePs expect[] = {a1, a2, a3, a4, a5};
  const std::size_t sizes[] = {64, 1514, 10, 100, 64};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(b.got[i].at, expect[i]) << "frame " << i;
    EXPECT_EQ(b.got[i].frame.size(), sizes[i]) << "frame " << i << " (no padding on the delivered bytes)";
  }
}

TEST(Link, SendNeverStartsInThePast) {
  EventQueue q;
  Link l(q, LinkConfig{100.0, 1000});
  RecordingSink b(q);
  l.attach(1, &b);
  q.run_until(vd::us_to_ps(5));
  const TimePs arr = l.send(0, frame_of(64, 1), 0);  // asks for t=0, now is 5 us
  EXPECT_EQ(arr, vd::us_to_ps(5) + l.wire_time(64) + 1000);
}

TEST(Link, DirectionsAreIndependent) {
  EventQueue q;
  const TimePs lat = 3000;
  Link l(q, LinkConfig{100.0, lat});
  RecordingSink a(q), b(q);
  l.attach(0, &a);
  l.attach(1, &b);
  const TimePs f1 = l.send(0, frame_of(9000, 1), 0);  // side 0 busy for a long time
  const TimePs r1 = l.send(1, frame_of(64, 2), 0);    // side 1 is not held up by it
  const TimePs r2 = l.send(1, frame_of(64, 3), 0);
  EXPECT_EQ(f1, l.wire_time(9000) + lat);
  EXPECT_EQ(r1, l.wire_time(64) + lat);
  EXPECT_EQ(r2, r1 + l.wire_time(64));
  q.run_until(vd::us_to_ps(10));
  ASSERT_EQ(a.got.size(), 2u);
  ASSERT_EQ(b.got.size(), 1u);
  EXPECT_EQ(a.got[0].frame, frame_of(64, 2));
  EXPECT_EQ(a.got[1].frame, frame_of(64, 3));
  EXPECT_EQ(a.got[0].at, r1);
  EXPECT_EQ(b.got[0].frame, frame_of(9000, 1));
  EXPECT_EQ(b.got[0].at, f1);
}

TEST(Link, PerDirectionStats) {
  EventQueue q;
  Link l(q, LinkConfig{100.0, 0});
  RecordingSink a(q), b(q);
  l.attach(0, &a);
  l.attach(1, &b);
  l.send(0, frame_of(64, 1), 0);
  l.send(0, frame_of(10, 2), 0);
  l.send(0, frame_of(1514, 3), 0);
  l.send(1, frame_of(200, 4), 0);
  EXPECT_EQ(l.stats(0).frames, 3u);
  EXPECT_EQ(l.stats(0).bytes, 64u + 10u + 1514u);  // bytes handed in, not padded
  EXPECT_EQ(l.stats(0).busy_ps, l.wire_time(64) + l.wire_time(10) + l.wire_time(1514));
  EXPECT_EQ(l.stats(1).frames, 1u);
  EXPECT_EQ(l.stats(1).bytes, 200u);
  EXPECT_EQ(l.stats(1).busy_ps, l.wire_time(200));
}

TEST(Link, UnattachedFarEndDropsButStillCountsTheWire) {
  EventQueue q;
  Link l(q, LinkConfig{100.0, 500});
  RecordingSink a(q);
  l.attach(0, &a);
  const TimePs arr = l.send(0, frame_of(64, 1), 0);
  EXPECT_EQ(arr, l.wire_time(64) + 500);
  EXPECT_EQ(q.pending(), 0u) << "nothing to deliver to";
  EXPECT_EQ(l.stats(0).frames, 1u);
  q.run_until(vd::us_to_ps(1));
  EXPECT_TRUE(a.got.empty());
}

// ---------------------------------------------------------------- pcap

namespace {
struct PcapRecord {
  std::uint32_t sec, nsec, caplen, len;
  std::vector<std::uint8_t> data;
};
struct PcapFile {
  std::uint32_t magic, thiszone, sigfigs, snaplen, linktype;
  std::uint16_t vmaj, vmin;
  std::vector<PcapRecord> records;
};
// A strict parser: fails the calling test on any inconsistency.
PcapFile parse_pcap(const std::vector<std::uint8_t>& b) {
  PcapFile f{};
  EXPECT_GE(b.size(), 24u);
  if (b.size() < 24) return f;
  f.magic = le32(b, 0);
  f.vmaj = le16(b, 4);
  f.vmin = le16(b, 6);
  f.thiszone = le32(b, 8);
  f.sigfigs = le32(b, 12);
  f.snaplen = le32(b, 16);
  f.linktype = le32(b, 20);
  std::size_t off = 24;
  while (off < b.size()) {
    EXPECT_LE(off + 16, b.size()) << "truncated record header";
    if (off + 16 > b.size()) break;
    PcapRecord r;
    r.sec = le32(b, off);
    r.nsec = le32(b, off + 4);
    r.caplen = le32(b, off + 8);
    r.len = le32(b, off + 12);
    off += 16;
    EXPECT_LE(off + r.caplen, b.size()) << "truncated record data";
    if (off + r.caplen > b.size()) break;
    r.data.assign(b.begin() + static_cast<std::ptrdiff_t>(off), b.begin() + static_cast<std::ptrdiff_t>(off + r.caplen));
    off += r.caplen;
    f.records.push_back(std::move(r));
  }
  return f;
}
}  // namespace

TEST(PcapWriter, HeaderAndRecordsParseBackByteByByte) {
  const std::string path = temp_path("pcap_basic.pcap");
  const auto f1 = frame_of(60, 0x11);
  const auto f2 = frame_of(1514, 0x22);
  const auto f3 = frame_of(14, 0x33);
  {
    PcapWriter w(path);
    EXPECT_EQ(w.path(), path);
    w.write(0, f1);
    w.write(1'234'567'890'123ull, f2);  // 1.234567890123 s -> 1 s, 234567890 ns (sub-ns dropped)
    w.write(vd::s_to_ps(5) + 999, f3);  // 999 ps is below nanosecond resolution
    EXPECT_EQ(w.frames(), 3u);
  }
  const auto bytes = slurp(path);
  ASSERT_EQ(bytes.size(), 24u + 3 * 16u + 60u + 1514u + 14u);
  // Raw little-endian bytes of the nanosecond magic 0xa1b23c4d.
  EXPECT_EQ(bytes[0], 0x4d);
  EXPECT_EQ(bytes[1], 0x3c);
  EXPECT_EQ(bytes[2], 0xb2);
  EXPECT_EQ(bytes[3], 0xa1);
  const PcapFile p = parse_pcap(bytes);
  EXPECT_EQ(p.magic, 0xa1b23c4du);
  EXPECT_EQ(p.vmaj, 2u);
  EXPECT_EQ(p.vmin, 4u);
  EXPECT_EQ(p.thiszone, 0u);
  EXPECT_EQ(p.sigfigs, 0u);
  EXPECT_EQ(p.snaplen, 65535u);
  EXPECT_EQ(p.linktype, 1u);  // LINKTYPE_ETHERNET
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(p.records[0].sec, 0u);
  EXPECT_EQ(p.records[0].nsec, 0u);
  EXPECT_EQ(p.records[0].caplen, 60u);
  EXPECT_EQ(p.records[0].len, 60u);
  EXPECT_EQ(p.records[0].data, f1);
  EXPECT_EQ(p.records[1].sec, 1u);
  EXPECT_EQ(p.records[1].nsec, 234'567'890u);
  EXPECT_EQ(p.records[1].caplen, 1514u);
  EXPECT_EQ(p.records[1].len, 1514u);
  EXPECT_EQ(p.records[1].data, f2);
  EXPECT_EQ(p.records[2].sec, 5u);
  EXPECT_EQ(p.records[2].nsec, 0u);
  EXPECT_EQ(p.records[2].data, f3);
}

TEST(PcapWriter, SnaplenTruncatesCaptureButKeepsOriginalLength) {
  const std::string path = temp_path("pcap_snap.pcap");
  const auto big = frame_of(100, 0x44);
  {
    PcapWriter w(path, 64);
    w.write(vd::ns_to_ps(1500), big);
    w.write(vd::ns_to_ps(1501), frame_of(64, 0x55));
    w.flush();
    // flush() makes the data visible while the writer is still open.
    EXPECT_EQ(slurp(path).size(), 24u + 16u + 64u + 16u + 64u);
  }
  const PcapFile p = parse_pcap(slurp(path));
  EXPECT_EQ(p.snaplen, 64u);
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.records[0].nsec, 1500u);
  EXPECT_EQ(p.records[0].caplen, 64u);
  EXPECT_EQ(p.records[0].len, 100u);
  EXPECT_EQ(p.records[0].data, std::vector<std::uint8_t>(big.begin(), big.begin() + 64));
  EXPECT_EQ(p.records[1].caplen, 64u);
  EXPECT_EQ(p.records[1].len, 64u);
}

TEST(PcapWriter, UncreatableFileThrows) {
  EXPECT_THROW(PcapWriter("/nonexistent-dir-vd/x/y.pcap"), std::runtime_error);
}

TEST(PcapWriter, LinkCaptureRecordsEveryFrameInTransmitOrder) {
  const std::string path = temp_path("pcap_link.pcap");
  {
    EventQueue q;
    Link l(q, LinkConfig{100.0, vd::ns_to_ps(100)});
    RecordingSink a(q), b(q);
    l.attach(0, &a);
    l.attach(1, &b);
    l.capture(std::make_shared<PcapWriter>(path));
    l.send(0, frame_of(64, 1), vd::us_to_ps(1));
    l.send(0, frame_of(1000, 2), vd::us_to_ps(1));  // queued behind the first
    l.send(1, frame_of(80, 3), vd::us_to_ps(3));
    q.run_until(vd::us_to_ps(10));
  }  // the writer is closed when the link drops its reference
  const PcapFile p = parse_pcap(slurp(path));
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(p.records[0].data, frame_of(64, 1));
  EXPECT_EQ(p.records[1].data, frame_of(1000, 2));
  EXPECT_EQ(p.records[2].data, frame_of(80, 3));
  // Timestamps are when each frame starts on the wire: the second one waits
  // for the first to finish serialising (7.04 ns at 100 Gb/s).
  EXPECT_EQ(p.records[0].sec, 0u);
  EXPECT_EQ(p.records[0].nsec, 1000u);
  EXPECT_EQ(p.records[1].nsec, 1007u);  // 1000 ns + 7.04 ns, truncated to ns
  EXPECT_EQ(p.records[2].nsec, 3000u);
}
