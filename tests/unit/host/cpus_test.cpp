// Host CPUs in virtual time: the cost table's text form, charging work to
// cores, waiting for a busy core, the TX gate, IRQ affinity, and whole
// simulations that repeat exactly and slow down when the CPU is the limit.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "veridian/sim/cpus.hpp"
#include "veridian/sim/simulation.hpp"

using namespace vd;
using vd::sim::CostTable;
using vd::sim::CostTableError;
using vd::sim::CpuConfig;
using vd::sim::CpuUse;
using vd::sim::HostCpus;

namespace {

// Every kind of work free except the ones a test prices.
CostTable zero_table() {
  CostTable t;
  t.source = "test: zero\n";
  return t;
}

CpuConfig config(unsigned cores, CostTable t) {
  CpuConfig c;
  c.cores = cores;
  c.ghz = 2.0;  // 1 cycle = 500 ps
  c.table = std::move(t);
  return c;
}

// A whole table, every price 1; `irq_line` (line 4) replaces "irq = 1",
// `extra` is appended as line 22.
std::string full_table_text(const std::string& extra = "", const std::string& irq_line = "irq = 1") {
  std::string s = "[source]\nmethod = \"test\"\n[cycles]\n";
  for (auto n : kWorkNames) s += (n == "irq" ? irq_line : std::string(n) + " = 1") + "\n";
  return s + extra;
}

// A device that records when each frame reached it.
class RecordingDevice final : public NetDevice {
 public:
  RecordingDevice(Scheduler& s, HostMemory& mem) : sched_(s), pool_(mem, 2048, 16) {}
  std::string kind() const override { return "rec"; }
  const DeviceFeatures& features() const override { return f_; }
  MacAddr mac() const override { return {}; }
  BufferPool& pool() override { return pool_; }
  bool transmit(Packet&& p, std::uint16_t) override {
    at.push_back(sched_.now());
    sizes.push_back(p.size());
    return true;
  }
  void set_rx_handler(RxHandler) override {}
  Counters stats() const override { return {}; }
  std::vector<TimePs> at;
  std::vector<std::size_t> sizes;

 private:
  Scheduler& sched_;
  DeviceFeatures f_;
  BufferPool pool_;
};

}  // namespace

TEST(CostTable, DefaultsPriceEveryKindOfWorkAndSayWhereTheyCameFrom) {
  const CostTable t = CostTable::defaults();
  EXPECT_FALSE(t.source.empty());
  for (std::size_t i = 0; i < kWorkKinds; ++i) EXPECT_GT(t.cycles[i], 0) << kWorkNames[i];
}

TEST(CostTable, TextRoundTrips) {
  CostTable t = CostTable::parse(full_table_text(), "t");
  t[Work::copy_bytes] = 0.125;
  t[Work::tcp_rx] = 1234.5;
  const CostTable u = CostTable::parse(t.to_text(), "u");
  EXPECT_EQ(u.cycles, t.cycles);
  EXPECT_EQ(u.source, t.source);
}

TEST(CostTable, ErrorsNameLineAndColumn) {
  auto err = [](const std::string& text) -> std::string {
    try {
      (void)CostTable::parse(text, "f.toml");
    } catch (const CostTableError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(err(full_table_text("  tcp_rxx = 3\n")), "f.toml:22:3: unknown kind of work `tcp_rxx`");
  EXPECT_EQ(err(full_table_text("", "irq = fast")), "f.toml:4:7: `fast` is not a number of cycles >= 0");
  EXPECT_EQ(err(full_table_text("", "irq = -1")), "f.toml:4:7: `-1` is not a number of cycles >= 0");
  EXPECT_EQ(err(full_table_text("", "irq = 3 cycles")), "f.toml:4:7: `3 cycles` is not a number of cycles >= 0");
  EXPECT_EQ(err(full_table_text("", "irq")), "f.toml:4:1: expected `name = value`");
  EXPECT_EQ(err(full_table_text("irq = 2\n")), "f.toml:22:1: `irq` given twice");
  EXPECT_EQ(err("[cycles]\nirq = 1\n"), "f.toml:2:1: [cycles] has no `timer`");
  EXPECT_EQ(err("[cost]\n"), "f.toml:1:1: unknown section [cost] (expected [cycles] or [source])");
  EXPECT_EQ(err("irq = 1\n"), "f.toml:1:1: `irq` outside [cycles]");
  EXPECT_EQ(err("[source]\nmethod = test\n"), "f.toml:2:10: a [source] value is a \"quoted string\"");
}

TEST(HostCpus, WorkTakesWhatItsCountedOperationsCost) {
  sim::EventQueue ev;
  CostTable t = zero_table();
  t[Work::irq] = 1000;        // 500 ns at 2 GHz
  t[Work::copy_bytes] = 0.5;  // 4000 bytes: 2000 cycles = 1 us
  HostCpus cpus(ev, config(2, t));
  cpus.submit(1, CpuUse::irq, [] { count_work(Work::copy_bytes, 4000); });
  EXPECT_EQ(cpus.free_at(1), ns_to_ps(1500));
  EXPECT_EQ(cpus.free_at(0), 0u);
  const auto& s = cpus.stats(1);
  EXPECT_EQ(s.busy, ns_to_ps(1500));
  EXPECT_EQ(s.busy_by_use[0], ns_to_ps(1500));
  EXPECT_EQ(s.work_done[static_cast<std::size_t>(Work::copy_bytes)], 4000u);
  EXPECT_DOUBLE_EQ(s.cycles_by_work[static_cast<std::size_t>(Work::irq)], 1000);
  EXPECT_EQ(s.items, 1u);
  EXPECT_EQ(s.waited, 0u);
}

TEST(HostCpus, WorkThatFindsItsCoreBusyWaitsInOrder) {
  sim::EventQueue ev;
  CostTable t = zero_table();
  t[Work::irq] = 2000;  // 1 us each
  HostCpus cpus(ev, config(2, t));
  std::vector<std::pair<int, TimePs>> ran;
  for (int i = 0; i < 3; ++i) cpus.submit(0, CpuUse::irq, [&, i] { ran.emplace_back(i, ev.now()); });
  cpus.submit(1, CpuUse::irq, [&] { ran.emplace_back(9, ev.now()); });
  ev.run_until(us_to_ps(10));
  ASSERT_EQ(ran.size(), 4u);
  EXPECT_EQ(ran[0], (std::pair<int, TimePs>{0, 0}));
  EXPECT_EQ(ran[1], (std::pair<int, TimePs>{9, 0}));  // another core: no wait
  EXPECT_EQ(ran[2], (std::pair<int, TimePs>{1, us_to_ps(1)}));
  EXPECT_EQ(ran[3], (std::pair<int, TimePs>{2, us_to_ps(2)}));
  EXPECT_EQ(cpus.stats(0).waited, 2u);
  EXPECT_EQ(cpus.stats(0).wait_total, us_to_ps(3));
  EXPECT_EQ(cpus.stats(0).wait_max, us_to_ps(2));
  EXPECT_EQ(cpus.stats(1).waited, 0u);
}

TEST(HostCpus, CallsThatCannotWaitStartWhenTheCoreIsFree) {
  sim::EventQueue ev;
  CostTable t = zero_table();
  t[Work::irq] = 2000;         // 1 us
  t[Work::socket_call] = 200;  // 100 ns
  t[Work::tcp_tx] = 400;       // 200 ns
  HostCpus cpus(ev, config(1, t));
  cpus.submit(0, CpuUse::irq, [] {});
  TimePs emit_before = 0, emit_after = 0;
  cpus.run_now(0, CpuUse::app, [&] {
    emit_before = cpus.emit_time();
    count_work(Work::tcp_tx);
    emit_after = cpus.emit_time();
  });
  EXPECT_EQ(emit_before, ns_to_ps(1100));  // after the interrupt's 1 us, plus the call's entry
  EXPECT_EQ(emit_after, ns_to_ps(1300));
  EXPECT_EQ(cpus.free_at(0), ns_to_ps(1300));
  EXPECT_EQ(cpus.stats(0).busy_by_use[static_cast<std::size_t>(CpuUse::app)], ns_to_ps(300));
  // An interrupt submitted now waits for the first one, not for the call:
  // it preempts the call, which then ends 1 us later.
  TimePs ran = 0;
  cpus.submit(0, CpuUse::irq, [&] { ran = ev.now(); });
  ev.run_until(us_to_ps(2));
  EXPECT_EQ(ran, us_to_ps(1));
  EXPECT_EQ(cpus.free_at(0), ns_to_ps(2300));
  // A second call, at 2 us, waits for all of it.
  cpus.run_now(0, CpuUse::app, [&] { emit_before = cpus.emit_time(); });
  EXPECT_EQ(emit_before, ns_to_ps(2400));
}

TEST(HostCpus, NestedWorkIsPartOfTheOuterPiece) {
  sim::EventQueue ev;
  CostTable t = zero_table();
  t[Work::irq] = 1000;
  t[Work::socket_call] = 100;
  HostCpus cpus(ev, config(2, t));
  cpus.submit(0, CpuUse::irq, [&] {
    cpus.app_begin(1);  // a socket call made from a readiness callback
    count_work(Work::copy_bytes, 0);
    cpus.app_end();
  });
  // No second piece of work, no entry cost of its own, nothing on core 1.
  EXPECT_EQ(cpus.stats(0).items, 1u);
  EXPECT_EQ(cpus.stats(1).items, 0u);
  EXPECT_EQ(cpus.free_at(0), ns_to_ps(500));
}

TEST(HostCpus, TxGateReleasesFramesWhenTheCpuHasMadeThem) {
  sim::EventQueue ev;
  HostMemory mem(1 << 20);
  RecordingDevice dev(ev, mem);
  CostTable t = zero_table();
  t[Work::irq] = 200;      // 100 ns
  t[Work::tcp_tx] = 2000;  // 1 us per segment: software segmentation
  HostCpus cpus(ev, config(1, t));
  sim::CpuTxGate gate(ev, cpus, dev);
  cpus.submit(0, CpuUse::irq, [&] {
    for (int i = 0; i < 3; ++i) {
      count_work(Work::tcp_tx);
      Packet p = dev.pool().alloc();
      p.append(60 + static_cast<std::size_t>(i));
      EXPECT_TRUE(gate.transmit(std::move(p), 0));
    }
  });
  EXPECT_EQ(gate.held(), 3u);
  EXPECT_TRUE(dev.at.empty());
  ev.run_until(us_to_ps(10));
  EXPECT_EQ(dev.at, (std::vector<TimePs>{ns_to_ps(1100), ns_to_ps(2100), ns_to_ps(3100)}));
  EXPECT_EQ(dev.sizes, (std::vector<std::size_t>{60, 61, 62}));
  // Outside work a frame goes at once.
  Packet p = dev.pool().alloc();
  p.append(60);
  EXPECT_TRUE(gate.transmit(std::move(p), 0));
  EXPECT_EQ(dev.at.back(), us_to_ps(10));
}

TEST(HostCpus, IrqAffinitySpreadsQueuesOrFollowsTheMap) {
  sim::EventQueue ev;
  HostCpus spread(ev, config(4, zero_table()));
  EXPECT_EQ(spread.irq_core(0, 0, 0), 0u);
  EXPECT_EQ(spread.irq_core(0, 3, 0), 3u);
  EXPECT_EQ(spread.irq_core(1, 1, 4), 1u);  // NIC 1 after NIC 0's 4 queues: wraps
  EXPECT_EQ(spread.irq_core(1, 2, 3), 1u);
  CpuConfig c = config(4, zero_table());
  c.irq_affinity = {{2, 2}, {}};
  c.app_core = 3;
  HostCpus mapped(ev, c);
  EXPECT_EQ(mapped.irq_core(0, 1, 0), 2u);
  EXPECT_EQ(mapped.irq_core(1, 0, 2), 2u);  // NIC 1 has no map: spread
  EXPECT_EQ(mapped.app_core(-1), 3u);
  EXPECT_EQ(mapped.app_core(1), 1u);
  c.irq_affinity = {{4}};
  EXPECT_THROW(HostCpus(ev, c), std::invalid_argument);
  c = config(0, zero_table());
  EXPECT_THROW(HostCpus(ev, c), std::invalid_argument);
}

namespace {

struct BulkResult {
  TimePs done_at = 0;
  std::vector<sim::CoreStats> a_cores, b_cores;
  std::vector<std::uint8_t> pcap;
};

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A sends `bytes` to B over TCP; both hosts with CPUs (1 core, 3 GHz,
// the shipped table) unless `cpus` is false. Returns when B has read it all.
BulkResult bulk(bool offload, bool cpus, std::size_t bytes, const std::string& pcap = "") {
  sim::Simulation s(7);
  sim::NicSpec spec;
  spec.kind = sim::NicSpec::Kind::Soft;
  spec.tx_csum = spec.tso = spec.rx_csum = offload;
  spec.irq_frames = 64;
  spec.irq_delay_ns = 4000;
  std::optional<CpuConfig> cfg;
  if (cpus) {
    cfg = CpuConfig{};
    cfg->cores = 1;
  }
  auto& a = s.add_host("a", spec, cfg);
  auto& b = s.add_host("b", spec, cfg);
  auto& link = s.connect(a, b, sim::LinkConfig{100.0, ns_to_ps(500)});
  if (!pcap.empty()) s.capture(link, pcap);
  a.stack().add_address(a.ifindex(), stack::Ipv4Addr::from_u32(0x0a000001), 24);
  b.stack().add_address(b.ifindex(), stack::Ipv4Addr::from_u32(0x0a000002), 24);
  auto l = b.stack().tcp_socket();
  auto c = a.stack().tcp_socket();
  for (auto* k : {l.get(), c.get()}) {
    (void)k->set_sndbuf(1u << 20);
    (void)k->set_rcvbuf(1u << 20);
  }
  EXPECT_FALSE(l->bind({}, 5001));
  EXPECT_FALSE(l->listen());
  EXPECT_FALSE(c->connect(stack::Ipv4Addr::from_u32(0x0a000002), 5001));
  s.run_for(us_to_ps(200));
  auto srv = l->accept();
  EXPECT_TRUE(srv);
  BulkResult r;
  if (!srv) return r;
  std::vector<std::uint8_t> chunk(64 << 10, 0x5a), in(64 << 10);
  std::size_t sent = 0, got = 0;
  const TimePs start = s.now();
  for (int guard = 0; got < bytes && guard < 100000; ++guard) {
    std::error_code ec;
    while (sent < bytes) {
      const std::size_t n = c->send(std::span(chunk).first(std::min(chunk.size(), bytes - sent)), ec);
      if (ec || n == 0) break;
      sent += n;
    }
    s.run_for(us_to_ps(5));
    for (std::size_t n; (n = srv->recv(in, ec)) > 0;) got += n;
  }
  EXPECT_EQ(got, bytes);
  r.done_at = s.now() - start;
  if (cpus) {
    r.a_cores.push_back(a.cpus()->stats(0));
    r.b_cores.push_back(b.cpus()->stats(0));
  } else {
    EXPECT_EQ(a.cpus(), nullptr);
  }
  s.flush_captures();
  if (!pcap.empty()) r.pcap = slurp(pcap);
  return r;
}

}  // namespace

TEST(HostCpusSimulation, SameSeedAndTableGiveIdenticalPcapsAndCoreStats) {
  const std::string p1 = testing::TempDir() + "vd_cpus_1.pcap", p2 = testing::TempDir() + "vd_cpus_2.pcap";
  const BulkResult x = bulk(false, true, 2u << 20, p1), y = bulk(false, true, 2u << 20, p2);
  std::remove(p1.c_str());
  std::remove(p2.c_str());
  ASSERT_FALSE(x.pcap.empty());
  EXPECT_EQ(x.pcap, y.pcap);
  EXPECT_EQ(x.done_at, y.done_at);
  ASSERT_EQ(x.a_cores.size(), 1u);
  EXPECT_EQ(x.a_cores[0].busy, y.a_cores[0].busy);
  EXPECT_EQ(x.b_cores[0].busy, y.b_cores[0].busy);
  EXPECT_EQ(x.a_cores[0].work_done, y.a_cores[0].work_done);
  EXPECT_EQ(x.b_cores[0].wait_total, y.b_cores[0].wait_total);
}

TEST(HostCpusSimulation, ACpuBoundHostIsSlowerWithoutOffloadsAndFasterThanNone) {
  const std::size_t bytes = 4u << 20;
  const BulkResult none = bulk(false, false, bytes);
  const BulkResult soft = bulk(false, true, bytes);
  const BulkResult hw = bulk(true, true, bytes);
  // With no CPU model host work is free; with one, software checksums and
  // segmentation cost time the offloads save.
  EXPECT_GT(soft.done_at, none.done_at);
  EXPECT_GT(soft.done_at, hw.done_at);
  const auto csum = static_cast<std::size_t>(Work::csum_bytes);
  EXPECT_GT(soft.a_cores[0].work_done[csum], bytes);  // every byte summed by the sender
  EXPECT_LT(hw.a_cores[0].work_done[csum], bytes / 100);
  const auto tx = static_cast<std::size_t>(Work::tcp_tx);
  EXPECT_GT(soft.a_cores[0].work_done[tx], 10 * hw.a_cores[0].work_done[tx]);  // TSO: one per 64 KiB
  // The sender's core was busy most of the transfer without offloads.
  EXPECT_GT(double(soft.a_cores[0].busy) / double(soft.done_at), 0.5);
}
