// Simulation: hosts with SoftNic / RtlNic on one virtual clock, ping between
// them, idle RtlNics cost no evaluated cycles, and runs are repeatable.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "veridian/abi.hpp"
#include "veridian/rtl/nic_model.hpp"
#include "veridian/sim/simulation.hpp"

using vd::TimePs;
using vd::sim::Host;
using vd::sim::LinkConfig;
using vd::sim::NicSpec;
using vd::sim::Simulation;
using vd::stack::Ipv4Addr;

namespace {

const Ipv4Addr kA = Ipv4Addr::from_u32(0x0a000001);  // 10.0.0.1
const Ipv4Addr kB = Ipv4Addr::from_u32(0x0a000002);  // 10.0.0.2

NicSpec soft() {
  NicSpec s;
  s.kind = NicSpec::Kind::Soft;
  return s;
}
NicSpec rtl(unsigned width) {
  NicSpec s;
  s.kind = NicSpec::Kind::Rtl;
  s.data_width = width;  // queues, rings and clock: the defaults users get
  return s;
}

struct Pair {
  Simulation sim;
  Host* a = nullptr;
  Host* b = nullptr;
  vd::sim::Link* link = nullptr;
  Pair(const NicSpec& sa, const NicSpec& sb, LinkConfig lc = LinkConfig{}, std::uint64_t seed = 1) : sim(seed) {
    a = &sim.add_host("a", sa);
    b = &sim.add_host("b", sb);
    a->stack().add_address(a->ifindex(), kA, 24);
    b->stack().add_address(b->ifindex(), kB, 24);
    link = &sim.connect(*a, *b, lc);
  }
};

void expect_all_replied(const std::vector<std::optional<TimePs>>& rtts, std::size_t n, TimePs min_rtt) {
  ASSERT_EQ(rtts.size(), n);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(rtts[i].has_value()) << "echo " << i << " got no reply";
    EXPECT_GE(*rtts[i], min_rtt) << "echo " << i << " came back faster than the wire allows";
  }
}

std::uint64_t evaluated(Host& h) { return h.rtl_nic()->model().stats().cycles; }

}  // namespace

// ---------------------------------------------------------------- topology basics

TEST(Simulation, HostNamesAndCablingAreChecked) {
  Simulation s;
  Host& a = s.add_host("a", soft());
  Host& b = s.add_host("b", soft());
  Host& c = s.add_host("c", soft());
  EXPECT_THROW(s.add_host("a", soft()), std::invalid_argument);
  EXPECT_EQ(&s.host("b"), &b);
  EXPECT_THROW(s.host("nope"), std::out_of_range);
  EXPECT_THROW(s.connect(a, a, LinkConfig{}), std::invalid_argument);
  s.connect(a, b, LinkConfig{});
  EXPECT_THROW(s.connect(a, c, LinkConfig{}), std::logic_error);
  EXPECT_THROW(s.connect(c, b, LinkConfig{}), std::logic_error);
  EXPECT_EQ(s.links().size(), 1u);
  EXPECT_EQ(a.nic().kind(), "soft");
}

TEST(Simulation, RtlNicWithAWrongAbiIdIsRefused) {
  Simulation s;
  NicSpec spec = rtl(vd::rtl::NicModel::available_widths().front());
  spec.expect_abi_id = vd::abi::ABI_ID_VALUE + 1;
  EXPECT_THROW(s.add_host("x", spec), vd::dev::AbiMismatch);
  EXPECT_TRUE(s.hosts().empty());
}

// ---------------------------------------------------------------- ping

TEST(Simulation, PingBetweenSoftNicAndRtlNic512) {
  const LinkConfig lc{100.0, vd::ns_to_ps(500)};
  Pair p(soft(), rtl(512), lc);
  ASSERT_EQ(p.b->nic().kind(), "rtl");
  ASSERT_NE(p.b->rtl_nic(), nullptr);
  EXPECT_EQ(p.a->rtl_nic(), nullptr);
  const TimePs min_rtt = 2 * lc.latency;
  expect_all_replied(p.sim.ping(*p.a, kB, 4, vd::ms_to_ps(5)), 4, min_rtt);
  expect_all_replied(p.sim.ping(*p.b, kA, 4, vd::ms_to_ps(5)), 4, min_rtt);
  // Both directions carried ARP + 8 requests/replies each way.
  EXPECT_GE(p.link->stats(0).frames, 8u);
  EXPECT_GE(p.link->stats(1).frames, 8u);
  const auto st = p.b->nic().stats();
  EXPECT_GE(st.at("tx_packets"), 8u);
  EXPECT_GE(st.at("rx_packets"), 8u);
  EXPECT_EQ(st.at("tx_errors"), 0u);
  EXPECT_EQ(st.at("rx_errors"), 0u);
  EXPECT_EQ(p.b->rtl_nic()->nic_registers().at("nic_tx_packets"), st.at("tx_packets"));
  EXPECT_EQ(p.a->stack().echo_replies().size(), 4u);
  EXPECT_EQ(p.b->stack().echo_replies().size(), 4u);
}

TEST(Simulation, PingBetweenTwoRtlNic64) {
  Pair p(rtl(64), rtl(64));
  const TimePs min_rtt = 2 * LinkConfig{}.latency;
  expect_all_replied(p.sim.ping(*p.a, kB, 3, vd::ms_to_ps(5)), 3, min_rtt);
  expect_all_replied(p.sim.ping(*p.b, kA, 3, vd::ms_to_ps(5), 1400), 3, min_rtt);
  EXPECT_EQ(p.a->rtl_nic()->model().config().data_width, 64u);
  EXPECT_EQ(p.a->rtl_nic()->read_reg(vd::abi::REG_DATA_WIDTH), 64u);
}

TEST(Simulation, PingToAnAbsentAddressTimesOut) {
  Pair p(soft(), rtl(512));
  const auto r = p.sim.ping(*p.a, Ipv4Addr::from_u32(0x0a000063), 1, vd::ms_to_ps(2));  // 10.0.0.99
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].has_value());
  EXPECT_GE(p.sim.now(), vd::ms_to_ps(2));
}

TEST(Simulation, CaptureWritesEveryFrameOnTheLink) {
  const std::string path = ::testing::TempDir() + "vd_sim_capture.pcap";
  std::uint64_t frames = 0;
  {
    Pair p(soft(), rtl(512));
    p.sim.capture(*p.link, path);
    expect_all_replied(p.sim.ping(*p.a, kB, 2, vd::ms_to_ps(5)), 2, 0);
    frames = p.link->stats(0).frames + p.link->stats(1).frames;
  }
  // Count records by walking the file (24-byte header, 16-byte record headers).
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::vector<std::uint8_t> b;
  for (int c; (c = std::fgetc(f)) != EOF;) b.push_back(static_cast<std::uint8_t>(c));
  std::fclose(f);
  std::size_t off = 24, records = 0;
  while (off + 16 <= b.size()) {
    const std::size_t cap = std::size_t(b[off + 8]) | (std::size_t(b[off + 9]) << 8) |
                            (std::size_t(b[off + 10]) << 16) | (std::size_t(b[off + 11]) << 24);
    off += 16 + cap;
    ++records;
  }
  EXPECT_EQ(off, b.size());
  EXPECT_EQ(records, frames);
  EXPECT_GE(records, 6u);  // ARP request/reply + 2 echo request/reply
}

// ---------------------------------------------------------------- idle costs nothing

class SimIdle : public ::testing::TestWithParam<unsigned> {};

// One simulated second with nothing to do: the NIC is not clocked. When a
// frame finally arrives the whole second is skipped, not evaluated.
TEST_P(SimIdle, IdleRtlNicCostsNoEvaluatedCyclesOverOneSecond) {
  Pair p(soft(), rtl(GetParam()));
  expect_all_replied(p.sim.ping(*p.a, kB, 1, vd::ms_to_ps(5)), 1, 0);  // ARP resolved, NIC warmed up
  p.sim.run_for(vd::us_to_ps(10));
  vd::dev::RtlNic& nic = *p.b->rtl_nic();
  const std::uint64_t e0 = evaluated(*p.b), s0 = nic.run_stats().cycles_skipped;
  const std::uint64_t ev0 = p.sim.events().events_run();
  p.sim.run_for(vd::s_to_ps(1));
  EXPECT_LE(evaluated(*p.b) - e0, 4u) << "an idle NIC was clocked";
  EXPECT_LE(p.sim.events().events_run() - ev0, 16u) << "an idle second should need (almost) no events";
  // Wake it with a frame from the wire: the idle second is skipped in one jump.
  expect_all_replied(p.sim.ping(*p.a, kB, 1, vd::ms_to_ps(5)), 1, 0);
  const std::uint64_t cycles_per_second = 250'000'000;  // 250 MHz default clock
  EXPECT_GE(nic.run_stats().cycles_skipped - s0, cycles_per_second - cycles_per_second / 100);
  EXPECT_LE(evaluated(*p.b) - e0, 20'000u) << "one ping should cost a few thousand cycles, not the idle second";
  EXPECT_GE(nic.model().cycle(), (p.sim.now() - vd::us_to_ps(100)) / 4000) << "model clock lags the simulation";
}

// The same, but the first thing after the idle stretch is a transmit from the
// RtlNic host: the doorbell's MMIO write is queued, so the model is not idle()
// when RtlNic::run() catches up, and run() ticks every idle cycle since the
// last activity instead of skipping them (host/src/dev/rtl_nic.cpp, run():
// "if (model_->idle()) skip_to else tick(now_cycle - model_->cycle())").
TEST_P(SimIdle, TransmitAfterIdleDoesNotEvaluateTheIdleStretch) {
  Pair p(rtl(GetParam()), soft());
  expect_all_replied(p.sim.ping(*p.a, kB, 1, vd::ms_to_ps(5)), 1, 0);
  p.sim.run_for(vd::us_to_ps(10));
  const std::uint64_t e0 = evaluated(*p.a);
  p.sim.run_for(vd::ms_to_ps(10));  // 2.5 M cycles of nothing at 250 MHz
  EXPECT_LE(evaluated(*p.a) - e0, 4u);
  expect_all_replied(p.sim.ping(*p.a, kB, 1, vd::ms_to_ps(5)), 1, 0);
  EXPECT_LE(evaluated(*p.a) - e0, 20'000u) << "the idle stretch before the transmit was clocked cycle by cycle";
}

INSTANTIATE_TEST_SUITE_P(Widths, SimIdle, ::testing::ValuesIn(vd::rtl::NicModel::available_widths()),
                         [](const ::testing::TestParamInfo<unsigned>& i) { return "w" + std::to_string(i.param); });

// ---------------------------------------------------------------- determinism

namespace {
struct RunRecord {
  std::vector<std::optional<TimePs>> rtts;
  std::uint64_t frames[2], bytes[2];
  TimePs busy[2];
  std::uint64_t events;
  TimePs end;
  vd::Counters nic_a, nic_b;
  std::size_t pending;
};

RunRecord run_scenario(std::uint64_t seed) {
  Pair p(rtl(64), rtl(512), LinkConfig{40.0, vd::ns_to_ps(300)}, seed);
  RunRecord r;
  auto x = p.sim.ping(*p.a, kB, 5, vd::ms_to_ps(5), 200);
  auto y = p.sim.ping(*p.b, kA, 5, vd::ms_to_ps(5), 1000);
  r.rtts = x;
  r.rtts.insert(r.rtts.end(), y.begin(), y.end());
  p.sim.run_for(vd::ms_to_ps(1));
  for (int s = 0; s < 2; ++s) {
    r.frames[s] = p.link->stats(s).frames;
    r.bytes[s] = p.link->stats(s).bytes;
    r.busy[s] = p.link->stats(s).busy_ps;
  }
  r.events = p.sim.events().events_run();
  r.end = p.sim.now();
  r.nic_a = p.a->nic().stats();
  r.nic_b = p.b->nic().stats();
  r.pending = p.sim.events().pending();
  return r;
}
}  // namespace

TEST(Simulation, IdenticalRunsAreIdentical) {
  const RunRecord r1 = run_scenario(7);
  const RunRecord r2 = run_scenario(7);
  ASSERT_EQ(r1.rtts.size(), 10u);
  for (const auto& t : r1.rtts) EXPECT_TRUE(t.has_value());
  EXPECT_EQ(r1.rtts, r2.rtts);
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(r1.frames[s], r2.frames[s]) << "side " << s;
    EXPECT_EQ(r1.bytes[s], r2.bytes[s]) << "side " << s;
    EXPECT_EQ(r1.busy[s], r2.busy[s]) << "side " << s;
    EXPECT_GT(r1.frames[s], 0u);
  }
  EXPECT_EQ(r1.events, r2.events);
  EXPECT_GT(r1.events, 0u);
  EXPECT_EQ(r1.end, r2.end);
  EXPECT_EQ(r1.pending, r2.pending);
  EXPECT_EQ(r1.nic_a, r2.nic_a);  // includes cycles evaluated/skipped, DMA and IRQ counts
  EXPECT_EQ(r1.nic_b, r2.nic_b);
}

namespace {

// SoftNic interrupt moderation: frames go up in bursts of irq_frames, or
// irq_delay after the first frame of a burst, each burst followed by the
// burst-end call; with the defaults every frame goes up at once.
TEST(SoftNic, InterruptModerationDeliversBursts) {
  for (const bool moderated : {false, true}) {
    vd::sim::EventQueue ev;
    vd::HostMemory mem(64u << 20);  // room for the RX and TSO pools
    vd::dev::SoftNicConfig cfg;
    if (moderated) {
      cfg.irq_frames = 4;
      cfg.irq_delay = vd::us_to_ps(2);
    }
    vd::dev::SoftNic nic(ev, mem, vd::MacAddr{2, 0, 0, 0, 0, 1}, cfg);
    std::vector<TimePs> rx_at;
    std::vector<std::size_t> bursts;  // frames delivered when each burst ended
    nic.set_rx_handler([&](vd::Packet&& p) {
      EXPECT_EQ(p.size(), 60u);
      rx_at.push_back(ev.now());
    });
    ASSERT_TRUE(nic.set_rx_burst_end([&] { bursts.push_back(rx_at.size()); }));
    for (int i = 0; i < 6; ++i) nic.frame_arrived(std::vector<std::uint8_t>(60, std::uint8_t(i)), false);
    if (!moderated) {
      EXPECT_EQ(rx_at.size(), 6u);
      EXPECT_EQ(bursts, (std::vector<std::size_t>{1, 2, 3, 4, 5, 6}));
      continue;
    }
    EXPECT_EQ(bursts, (std::vector<std::size_t>{4})) << "a full burst goes up at once";
    ev.run_until(vd::us_to_ps(1));
    EXPECT_EQ(rx_at.size(), 4u) << "the rest waits for the moderation timer";
    ev.run_until(vd::us_to_ps(3));
    EXPECT_EQ(bursts, (std::vector<std::size_t>{4, 6}));
    EXPECT_EQ(rx_at.back(), vd::us_to_ps(2));
    EXPECT_EQ(nic.stats().at("rx_packets"), 6u);
  }
}

}  // namespace
