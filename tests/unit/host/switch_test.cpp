// The learning L2 switch (flooding, learning, filtering, ageing on virtual
// time, FCS drops, table limit) and hosts with several NICs: three hosts on
// one switch, a host with two NICs on two links.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "veridian/sim/event_queue.hpp"
#include "veridian/sim/link.hpp"
#include "veridian/sim/simulation.hpp"
#include "veridian/sim/switch.hpp"

using vd::MacAddr;
using vd::TimePs;
using vd::sim::EventQueue;
using vd::sim::Link;
using vd::sim::LinkConfig;
using vd::sim::Switch;
using vd::sim::SwitchConfig;
using vd::stack::Ipv4Addr;

namespace {

class Station final : public vd::sim::FrameSink {
 public:
  void frame_arrived(std::vector<std::uint8_t>&& frame, bool) override { got.push_back(std::move(frame)); }
  std::vector<std::vector<std::uint8_t>> got;
};

MacAddr mac(std::uint8_t n) { return MacAddr{0x02, 0, 0, 0, 0, n}; }
const MacAddr kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const MacAddr kMulticast{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

std::vector<std::uint8_t> frame(const MacAddr& dst, const MacAddr& src, std::size_t len = 64) {
  std::vector<std::uint8_t> f(len, 0xab);
  std::copy(dst.begin(), dst.end(), f.begin());
  std::copy(src.begin(), src.end(), f.begin() + 6);
  f[12] = 0x88;
  f[13] = 0xb5;  // local experimental ethertype
  return f;
}

// A switch with `n` ports, station i on port i over a 100 Gb/s, 100 ns link.
struct Lan {
  EventQueue q;
  Switch sw;
  std::vector<std::unique_ptr<Link>> links;
  std::vector<std::unique_ptr<Station>> st;
  explicit Lan(unsigned n, SwitchConfig cfg = {}) : sw(q, "sw", with_ports(cfg, n)) {
    for (unsigned i = 0; i < n; ++i) {
      links.push_back(std::make_unique<Link>(q, LinkConfig{100.0, vd::ns_to_ps(100)}));
      st.push_back(std::make_unique<Station>());
      links[i]->attach(0, st[i].get());
      sw.attach(i, *links[i], 1);
    }
  }
  static SwitchConfig with_ports(SwitchConfig c, unsigned n) {
    c.ports = n;
    return c;
  }
  void send(unsigned from, const std::vector<std::uint8_t>& f) {
    links[from]->send(0, f, q.now());
    q.run_until(q.now() + vd::us_to_ps(10));
  }
  std::vector<std::size_t> counts() const {
    std::vector<std::size_t> c;
    for (auto& s : st) c.push_back(s->got.size());
    return c;
  }
  void clear() {
    for (auto& s : st) s->got.clear();
  }
};

using Counts = std::vector<std::size_t>;

}  // namespace

TEST(Switch, UnknownDestinationsAreFloodedButNeverBackToTheIngressPort) {
  Lan lan(4);
  const auto f = frame(mac(9), mac(1));
  lan.send(0, f);
  EXPECT_EQ(lan.counts(), (Counts{0, 1, 1, 1}));
  EXPECT_EQ(lan.st[2]->got[0], f) << "forwarded byte for byte";
  EXPECT_EQ(lan.sw.stats().flooded, 1u);
  EXPECT_EQ(lan.sw.stats().learned, 1u);
  EXPECT_EQ(lan.sw.lookup(mac(1)), std::optional<unsigned>(0));
  EXPECT_EQ(lan.sw.port_stats(0).rx_frames, 1u);
  EXPECT_EQ(lan.sw.port_stats(3).tx_frames, 1u);
  EXPECT_EQ(lan.sw.port_stats(0).tx_frames, 0u);
}

TEST(Switch, LearntDestinationsGetUnicastOnly) {
  Lan lan(4);
  lan.send(1, frame(mac(3), mac(2)));  // station 2 on port 1, floods
  lan.send(3, frame(mac(3), mac(4)));  // station 4 on port 3, floods
  lan.clear();
  lan.send(0, frame(mac(2), mac(1)));
  EXPECT_EQ(lan.counts(), (Counts{0, 1, 0, 0}));
  lan.send(1, frame(mac(1), mac(2)));
  EXPECT_EQ(lan.counts(), (Counts{1, 1, 0, 0}));
  lan.send(2, frame(mac(4), mac(5)));
  EXPECT_EQ(lan.counts(), (Counts{1, 1, 0, 1}));
  EXPECT_EQ(lan.sw.stats().forwarded, 3u);
  EXPECT_EQ(lan.sw.stats().flooded, 2u);
  const auto t = lan.sw.mac_table();
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].mac, mac(1));
  EXPECT_EQ(t[0].port, 0u);
  EXPECT_EQ(t[3].mac, mac(5));
  EXPECT_EQ(t[3].port, 2u);
}

TEST(Switch, BroadcastAndMulticastAreAlwaysFloodedAndGroupSourcesNotLearnt) {
  Lan lan(3);
  lan.send(0, frame(mac(2), mac(2)));  // learn mac 2 on port 0 (unusual, but a valid source)
  lan.clear();
  lan.send(1, frame(kBroadcast, mac(1)));
  EXPECT_EQ(lan.counts(), (Counts{1, 0, 1}));
  lan.send(2, frame(kMulticast, mac(3)));
  EXPECT_EQ(lan.counts(), (Counts{2, 1, 1}));
  lan.send(0, frame(mac(7), kMulticast));  // a group source is not learnt
  EXPECT_FALSE(lan.sw.lookup(kMulticast).has_value());
  EXPECT_EQ(lan.sw.stats().flooded, 3u);
  EXPECT_EQ(lan.sw.stats().filtered, 1u);  // the first frame: mac 2 was learnt on its own ingress port
}

TEST(Switch, DestinationOnTheIngressPortIsFiltered) {
  Lan lan(3);
  lan.send(0, frame(mac(9), mac(1)));
  lan.send(0, frame(mac(9), mac(2)));  // mac 1 and 2 both behind port 0
  lan.clear();
  lan.send(0, frame(mac(2), mac(1)));
  EXPECT_EQ(lan.counts(), (Counts{0, 0, 0}));
  EXPECT_EQ(lan.sw.stats().filtered, 1u);
}

TEST(Switch, EntriesAgeOutOnVirtualTime) {
  SwitchConfig cfg;
  cfg.ageing = vd::ms_to_ps(1);
  Lan lan(3, cfg);
  lan.send(1, frame(mac(9), mac(2)));
  lan.clear();
  lan.q.run_until(lan.q.now() + vd::us_to_ps(900));
  lan.send(0, frame(mac(2), mac(1)));  // 0.91 ms after it was heard: still known
  EXPECT_EQ(lan.counts(), (Counts{0, 1, 0}));
  lan.q.run_until(lan.q.now() + vd::us_to_ps(100));
  lan.send(0, frame(mac(2), mac(1)));  // 1.02 ms: aged out, flooded
  EXPECT_EQ(lan.counts(), (Counts{0, 2, 1}));
  EXPECT_EQ(lan.sw.stats().aged_out, 1u);
  EXPECT_FALSE(lan.sw.lookup(mac(2)).has_value());
  // Hearing a station refreshes it.
  lan.send(1, frame(mac(1), mac(2)));
  for (int i = 0; i < 5; ++i) {
    lan.q.run_until(lan.q.now() + vd::us_to_ps(500));
    lan.send(1, frame(mac(1), mac(2)));
  }
  EXPECT_EQ(lan.sw.lookup(mac(2)), std::optional<unsigned>(1));
  // An idle switch schedules nothing: ageing is checked lazily.
  EXPECT_TRUE(lan.q.empty());
  lan.q.run_until(lan.q.now() + vd::s_to_ps(1));
  EXPECT_TRUE(lan.sw.mac_table().empty());
  EXPECT_EQ(lan.sw.stats().aged_out, 3u);  // mac 2 above, mac 1 in the loop, mac 2 again now
}

TEST(Switch, AStationThatMovesIsFollowed) {
  Lan lan(3);
  lan.send(0, frame(kBroadcast, mac(1)));
  lan.send(2, frame(kBroadcast, mac(1)));
  EXPECT_EQ(lan.sw.lookup(mac(1)), std::optional<unsigned>(2));
  EXPECT_EQ(lan.sw.stats().moved, 1u);
  lan.clear();
  lan.send(1, frame(mac(1), mac(5)));
  EXPECT_EQ(lan.counts(), (Counts{0, 0, 1}));
}

TEST(Switch, FramesWithABadFcsAndRuntsAreDropped) {
  Lan lan(3);
  vd::sim::LinkFaults f;
  f.corrupt = 1.0;
  lan.links[0]->set_faults(0, f);
  lan.send(0, frame(kBroadcast, mac(1)));
  EXPECT_EQ(lan.counts(), (Counts{0, 0, 0}));
  EXPECT_EQ(lan.sw.stats().fcs_drops, 1u);
  EXPECT_EQ(lan.sw.port_stats(0).rx_fcs_errors, 1u);
  EXPECT_FALSE(lan.sw.lookup(mac(1)).has_value()) << "nothing is learnt from a bad frame";
  lan.send(1, std::vector<std::uint8_t>(10, 0xff));
  EXPECT_EQ(lan.sw.stats().runts, 1u);
  EXPECT_EQ(lan.counts(), (Counts{0, 0, 0}));
}

TEST(Switch, AFullTableFloodsNewStations) {
  SwitchConfig cfg;
  cfg.table_size = 2;
  Lan lan(3, cfg);
  lan.send(0, frame(kBroadcast, mac(1)));
  lan.send(1, frame(kBroadcast, mac(2)));
  lan.send(2, frame(kBroadcast, mac(3)));
  EXPECT_EQ(lan.sw.stats().table_full, 1u);
  EXPECT_FALSE(lan.sw.lookup(mac(3)).has_value());
  lan.clear();
  lan.send(0, frame(mac(3), mac(1)));
  EXPECT_EQ(lan.counts(), (Counts{0, 1, 1}));
}

TEST(Switch, PortsAreChecked) {
  EventQueue q;
  Switch sw(q, "s", SwitchConfig{2});
  Link a(q, LinkConfig{}), b(q, LinkConfig{}), c(q, LinkConfig{});
  EXPECT_EQ(sw.free_port(), std::optional<unsigned>(0));
  sw.attach(0, a, 1);
  EXPECT_THROW(sw.attach(0, b, 1), std::logic_error);
  EXPECT_THROW(sw.attach(2, b, 1), std::out_of_range);
  EXPECT_EQ(sw.free_port(), std::optional<unsigned>(1));
  sw.attach(1, b, 1);
  EXPECT_FALSE(sw.free_port().has_value());
  EXPECT_THROW(Switch(q, "z", SwitchConfig{0}), std::invalid_argument);
}

TEST(Switch, ForwardingWaitsForTheEgressWireAndTheConfiguredLatency) {
  SwitchConfig cfg;
  cfg.latency = vd::ns_to_ps(300);
  std::vector<TimePs> at;
  struct Clock final : vd::sim::FrameSink {
    EventQueue* q;
    std::vector<TimePs>* at;
    void frame_arrived(std::vector<std::uint8_t>&&, bool) override { at->push_back(q->now()); }
  };
  EventQueue q;
  Switch sw(q, "s", cfg);
  Link in(q, LinkConfig{100.0, vd::ns_to_ps(100)}), out(q, LinkConfig{100.0, vd::ns_to_ps(100)});
  Station src;
  Clock dst;
  dst.q = &q;
  dst.at = &at;
  in.attach(0, &src);
  out.attach(0, &dst);
  sw.attach(0, in, 1);
  sw.attach(1, out, 1);
  in.send(0, frame(kBroadcast, mac(1), 1514), 0);
  in.send(0, frame(kBroadcast, mac(1), 1514), 0);
  q.run_until(vd::us_to_ps(10));
  ASSERT_EQ(at.size(), 2u);
  const TimePs w = in.wire_time(1514);
  // In: w + 100 ns; switch: 300 ns; out: w + 100 ns.
  EXPECT_EQ(at[0], 2 * w + vd::ns_to_ps(500));
  EXPECT_EQ(at[1], 3 * w + vd::ns_to_ps(500));
}

// ---------------------------------------------------------------- in a Simulation

namespace {
vd::sim::NicSpec soft() { return vd::sim::NicSpec{}; }
vd::sim::NicSpec rtl64() {
  vd::sim::NicSpec s;
  s.kind = vd::sim::NicSpec::Kind::Rtl;
  s.data_width = 64;
  return s;
}
Ipv4Addr ip(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return Ipv4Addr::from_u32((a << 24) | (b << 16) | (c << 8) | d);
}
bool all_replied(const std::vector<std::optional<TimePs>>& r) {
  return !r.empty() && std::all_of(r.begin(), r.end(), [](auto& x) { return x.has_value(); });
}
}  // namespace

TEST(SimulationTopology, ThreeHostsOnOneSwitchPingEachOther) {
  vd::sim::Simulation s(3);
  auto& sw = s.add_switch("sw", SwitchConfig{4});
  vd::sim::Host* h[3] = {&s.add_host("a", soft()), &s.add_host("b", rtl64()), &s.add_host("c", soft())};
  for (std::uint32_t i = 0; i < 3; ++i) {
    h[i]->stack().add_address(h[i]->ifindex(), ip(10, 0, 0, i + 1), 24);
    s.connect(*h[i], sw, LinkConfig{});
  }
  EXPECT_THROW(s.add_switch("a"), std::invalid_argument) << "names are shared with hosts";
  EXPECT_THROW(s.add_host("sw", soft()), std::invalid_argument);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      if (i == j) continue;
      EXPECT_TRUE(all_replied(s.ping(*h[i], ip(10, 0, 0, std::uint32_t(j) + 1), 2, vd::ms_to_ps(1))))
          << i << " -> " << j;
    }
  EXPECT_EQ(sw.mac_table().size(), 3u);
  EXPECT_EQ(sw.lookup(h[1]->nic().mac()), std::optional<unsigned>(1));
  EXPECT_GT(sw.stats().forwarded, 0u);
  EXPECT_EQ(sw.stats().fcs_drops, 0u);
}

TEST(SimulationTopology, AHostWithTwoNicsReachesPeersOnTwoSubnets) {
  vd::sim::Simulation s(1);
  auto& r = s.add_host("r", soft());
  EXPECT_EQ(r.add_nic(rtl64()), 2);  // lo is 0, NIC 0 is 1
  EXPECT_EQ(r.nic_count(), 2u);
  EXPECT_NE(r.nic(0).mac(), r.nic(1).mac());
  EXPECT_EQ(r.nic(1).mac(), (MacAddr{0x02, 0x56, 0x45, 0, 0, 1}));
  EXPECT_EQ(r.nic(0).mac(), (MacAddr{0x02, 0x56, 0x44, 0, 0, 1}));
  EXPECT_NE(r.rtl_nic(1), nullptr);
  EXPECT_EQ(r.rtl_nic(0), nullptr);
  EXPECT_THROW(r.nic(2), std::out_of_range);
  auto& p = s.add_host("p", rtl64());
  auto& q = s.add_host("q", soft());
  r.stack().add_address(r.ifindex(0), ip(10, 0, 1, 1), 24);
  r.stack().add_address(r.ifindex(1), ip(10, 0, 2, 1), 24);
  p.stack().add_address(p.ifindex(), ip(10, 0, 1, 2), 24);
  q.stack().add_address(q.ifindex(), ip(10, 0, 2, 2), 24);
  auto& l1 = s.connect(r, p, LinkConfig{}, 0, 0);
  auto& l2 = s.connect(q, r, LinkConfig{}, 0, 1);
  EXPECT_THROW(s.connect(r, q, LinkConfig{}, 1, 0), std::logic_error);
  EXPECT_THROW(s.connect(r, q, LinkConfig{}, 5, 0), std::out_of_range);
  EXPECT_TRUE(all_replied(s.ping(r, ip(10, 0, 1, 2), 3, vd::ms_to_ps(1))));
  EXPECT_TRUE(all_replied(s.ping(r, ip(10, 0, 2, 2), 3, vd::ms_to_ps(1))));
  EXPECT_TRUE(all_replied(s.ping(q, ip(10, 0, 2, 1), 1, vd::ms_to_ps(1))));
  // Each peer's traffic used its own link.
  EXPECT_GE(l1.stats(0).frames, 4u);  // r -> p: an ARP request and 3 echo requests
  EXPECT_GE(l2.stats(1).frames, 4u);  // r -> q: the same (q is side 0 of its link)
  EXPECT_THROW(s.connect(p, q, LinkConfig{}), std::logic_error);
}

TEST(SimulationTopology, HostsBehindTwoSwitches) {
  vd::sim::Simulation s(2);
  auto& s1 = s.add_switch("s1", SwitchConfig{3});
  auto& s2 = s.add_switch("s2", SwitchConfig{3});
  s.connect(s1, s2, LinkConfig{}, 2u, std::nullopt);
  auto& a = s.add_host("a", soft());
  auto& b = s.add_host("b", soft());
  a.stack().add_address(a.ifindex(), ip(10, 0, 0, 1), 24);
  b.stack().add_address(b.ifindex(), ip(10, 0, 0, 2), 24);
  s.connect(a, s1, LinkConfig{});
  s.connect(b, s2, LinkConfig{});
  EXPECT_TRUE(all_replied(s.ping(a, ip(10, 0, 0, 2), 2, vd::ms_to_ps(1))));
  EXPECT_EQ(s1.lookup(b.nic().mac()), std::optional<unsigned>(2));
  EXPECT_EQ(s2.lookup(a.nic().mac()), std::optional<unsigned>(0));
  EXPECT_THROW(s.connect(s1, s1, LinkConfig{}), std::invalid_argument);
  EXPECT_THROW(s.connect(a, s1, LinkConfig{}), std::logic_error);  // a is cabled
}
