// One workload between two SoftNic hosts with host CPUs (sim/cpus.hpp):
// TCP bulk (one flow or several spread by RSS), TCP request/response, a UDP
// stream or pings. Prints one JSON line: the work both hosts did (counted
// operations, summed over their cores), throughput and each core's busy
// share in virtual time. `python -m veridian.tools.calibrate` runs it under
// callgrind to price each kind of work; `python -m veridian.tools.cpubench`
// runs it natively for throughput against cores and offloads.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "veridian/sim/simulation.hpp"

// Under callgrind (the calibration), only the measured phase is counted.
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define VD_CG_ZERO() CALLGRIND_ZERO_STATS
#define VD_CG_DUMP() CALLGRIND_DUMP_STATS_AT("measured")
#else
#define VD_CG_ZERO() ((void)0)
#define VD_CG_DUMP() ((void)0)
#endif

using namespace vd;

namespace {

struct Opts {
  std::string workload = "tcp";  // tcp | rr | udp | ping
  bool offload = true, v6 = false;
  unsigned mtu = 1500, cores = 1, flows = 1, queues = 1, irq_frames = 64;
  double irq_delay_ns = 4000, ghz = 3.0, rate_gbps = 100;
  std::size_t bytes = 8u << 20;   // tcp: per flow
  std::size_t size = 1400;        // udp datagram / rr message
  std::size_t count = 2000;       // udp datagrams / rr transactions / pings
  // tcp: socket buffers; 0 = 1 MiB shared by the flows, so what is in
  // flight fits the receiver's 1024 SoftNic buffers (beyond that an
  // overloaded receiver drops, and a lost tail waits for the RTO).
  std::size_t buf = 0;
  std::string table;              // cost table path (default: the shipped one)
};

bool parse(int argc, char** argv, Opts& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    auto num = [&] { return std::strtod(argv[++i], nullptr); };
    if (!v) return false;
    if (a == "--workload") o.workload = argv[++i];
    else if (a == "--offload") o.offload = std::strcmp(argv[++i], "off") != 0;
    else if (a == "--family") o.v6 = std::strcmp(argv[++i], "6") == 0;
    else if (a == "--mtu") o.mtu = unsigned(num());
    else if (a == "--cores") o.cores = unsigned(num());
    else if (a == "--flows") o.flows = unsigned(num());
    else if (a == "--queues") o.queues = unsigned(num());
    else if (a == "--irq-frames") o.irq_frames = unsigned(num());
    else if (a == "--irq-delay-ns") o.irq_delay_ns = num();
    else if (a == "--ghz") o.ghz = num();
    else if (a == "--rate-gbps") o.rate_gbps = num();
    else if (a == "--bytes") o.bytes = std::size_t(num());
    else if (a == "--size") o.size = std::size_t(num());
    else if (a == "--count") o.count = std::size_t(num());
    else if (a == "--buf") o.buf = std::size_t(num());
    else if (a == "--table") o.table = argv[++i];
    else return false;
  }
  return o.workload == "tcp" || o.workload == "rr" || o.workload == "udp" || o.workload == "ping";
}

struct Rig {
  sim::Simulation s{1};
  sim::Host* a = nullptr;
  sim::Host* b = nullptr;
  stack::Ipv4Addr a4 = stack::Ipv4Addr::from_u32(0x0a000001), b4 = stack::Ipv4Addr::from_u32(0x0a000002);
  stack::Ipv6Addr a6 = stack::Ipv6Addr::parse("2001:db8::1").value(), b6 = stack::Ipv6Addr::parse("2001:db8::2").value();
  bool v6 = false;

  explicit Rig(const Opts& o) : v6(o.v6) {
    sim::NicSpec spec;
    spec.kind = sim::NicSpec::Kind::Soft;
    spec.tx_csum = spec.tso = spec.rx_csum = o.offload;
    spec.mtu = static_cast<std::uint16_t>(o.mtu);
    spec.queues = static_cast<std::uint16_t>(o.queues);
    spec.irq_frames = static_cast<std::uint16_t>(o.irq_frames);
    spec.irq_delay_ns = o.irq_delay_ns;
    sim::CpuConfig c;
    c.cores = o.cores;
    c.ghz = o.ghz;
    if (!o.table.empty()) c.table = sim::CostTable::load(o.table);
    a = &s.add_host("a", spec, c);
    b = &s.add_host("b", spec, c);
    s.connect(*a, *b, sim::LinkConfig{o.rate_gbps, ns_to_ps(500)});
    a->stack().add_address(a->ifindex(), a4, 24);
    b->stack().add_address(b->ifindex(), b4, 24);
    if (v6) {
      a->stack().add_address6(a->ifindex(), a6, 64);
      b->stack().add_address6(b->ifindex(), b6, 64);
      s.run_for(s_to_ps(2));  // duplicate address detection
    }
  }
  std::error_code connect(stack::TcpSocket& c, std::uint16_t port) {
    return v6 ? c.connect(b6, port) : c.connect(b4, port);
  }
  std::error_code bind(stack::TcpSocket& l, std::uint16_t port) {
    return v6 ? l.bind(stack::Ipv6Addr{}, port) : l.bind(stack::Ipv4Addr{}, port);
  }
};

// A blocking call returns when its core has done it: the application's next
// call waits for that, as a thread in a system call does.
void wait_core(Rig& r, sim::Host& h, unsigned core) {
  const TimePs t = h.cpus()->free_at(core);
  if (t > r.s.now()) r.s.run_until(t);
}

struct Flow {
  std::shared_ptr<stack::TcpSocket> c, srv;
  std::size_t sent = 0, got = 0;
};

// `flows` connections from a to b, each application on its own core
// (round-robin) on both hosts.
std::vector<Flow> open_flows(Rig& r, unsigned flows, unsigned cores, std::size_t buf) {
  auto l = r.b->stack().tcp_socket();
  (void)l->set_rcvbuf(buf);
  (void)l->set_sndbuf(buf);
  if (r.bind(*l, 5001) || l->listen(static_cast<int>(flows) + 8)) return {};
  std::vector<Flow> fs(flows);
  for (unsigned k = 0; k < flows; ++k) {
    fs[k].c = r.a->stack().tcp_socket();
    fs[k].c->set_cpu(static_cast<int>(k % cores));
    (void)fs[k].c->set_sndbuf(buf);
    (void)fs[k].c->set_rcvbuf(buf);
    if (r.connect(*fs[k].c, 5001)) return {};
  }
  r.s.run_for(ms_to_ps(1));
  for (unsigned k = 0; k < flows; ++k) {
    fs[k].srv = l->accept();
    if (!fs[k].srv) return {};
    fs[k].srv->set_cpu(static_cast<int>(k % cores));
  }
  return fs;
}

// Bulk: the applications write and read 64 KiB at a time, every 5 us.
bool tcp_bulk(Rig& r, const Opts& o, std::size_t& moved) {
  auto fs = open_flows(r, o.flows, o.cores, o.buf ? o.buf : (1u << 20) / o.flows);
  if (fs.empty()) return false;
  std::vector<std::uint8_t> chunk(64u << 10, 0x5a), in(64u << 10);
  for (bool left = true; left;) {
    left = false;
    std::error_code ec;
    // As an event-driven application: calls only when the socket is ready
    // (a call that would block costs nothing here, unlike a real syscall).
    for (auto& f : fs) {
      while (f.sent < o.bytes && f.c->writable() > 0) {
        const std::size_t n = f.c->send(std::span(chunk).first(std::min(chunk.size(), o.bytes - f.sent)), ec);
        if (ec || n == 0) break;
        f.sent += n;
      }
    }
    r.s.run_for(us_to_ps(5));
    for (auto& f : fs) {
      for (std::size_t n; f.srv->readable() > 0 && (n = f.srv->recv(in, ec)) > 0;) f.got += n;
      if (ec) return false;
      left = left || f.got < o.bytes;
    }
    if (r.s.now() > s_to_ps(20)) return false;
  }
  moved = o.bytes * o.flows;
  return true;
}

// Request/response (netperf TCP_RR): `size` bytes each way, one at a time.
bool tcp_rr(Rig& r, const Opts& o, std::size_t& moved) {
  auto fs = open_flows(r, 1, o.cores, 256u << 10);
  if (fs.empty()) return false;
  fs[0].c->set_nodelay(true);
  fs[0].srv->set_nodelay(true);
  std::vector<std::uint8_t> msg(o.size, 0x42), in(o.size);
  std::error_code ec;
  for (std::size_t i = 0; i < o.count; ++i) {
    if (fs[0].c->send(msg, ec) != msg.size()) return false;
    std::size_t got = 0;
    if (!r.s.run_until([&] { return fs[0].srv->readable() >= o.size; }, ms_to_ps(100))) return false;
    while (got < o.size) got += fs[0].srv->recv(std::span(in).subspan(got), ec);
    if (fs[0].srv->send(msg, ec) != msg.size()) return false;
    if (!r.s.run_until([&] { return fs[0].c->readable() >= o.size; }, ms_to_ps(100))) return false;
    got = 0;
    while (got < o.size) got += fs[0].c->recv(std::span(in).subspan(got), ec);
  }
  moved = 2 * o.size * o.count;
  return true;
}

bool udp_stream(Rig& r, const Opts& o, std::size_t& moved) {
  auto rx = r.b->stack().udp_socket();
  auto tx = r.a->stack().udp_socket();
  rx->set_rx_queue_limit(1u << 16);
  if (r.v6 ? rx->bind(stack::Ipv6Addr{}, 7000) : rx->bind(stack::Ipv4Addr{}, 7000)) return false;
  std::vector<std::uint8_t> d(o.size, 0x33);
  std::size_t got = 0;
  for (std::size_t i = 0; i < o.count; ++i) {
    const auto ec = r.v6 ? tx->sendto(d, r.b6, 7000) : tx->sendto(d, r.b4, 7000);
    if (ec) {
      std::fprintf(stderr, "cpu_workload: sendto: %s\n", ec.message().c_str());
      return false;
    }
    wait_core(r, *r.a, 0);
    while (auto g = rx->recvfrom()) got += g->data.size();
  }
  r.s.run_for(ms_to_ps(1));
  while (auto g = rx->recvfrom()) got += g->data.size();
  moved = got;
  return true;
}

bool ping(Rig& r, const Opts& o, std::size_t& moved) {
  for (std::size_t i = 0; i < o.count; ++i) {
    const auto ec = r.v6 ? r.a->stack().send_echo6(r.b6, 1, static_cast<std::uint16_t>(i), o.size)
                         : r.a->stack().send_echo(r.b4, 1, static_cast<std::uint16_t>(i), o.size);
    if (ec) return false;
    r.s.run_for(us_to_ps(20));
  }
  moved = o.count * o.size;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Opts o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: %s --workload tcp|rr|udp|ping [--offload on|off] [--family 4|6] [--mtu M] [--cores N]\n"
                 "          [--flows N] [--queues N] [--irq-frames N] [--irq-delay-ns T] [--ghz G] [--rate-gbps R]\n"
                 "          [--bytes N] [--size N] [--count N] [--buf B] [--table cost_table.toml]\n",
                 argv[0]);
    return 2;
  }
  Rig r(o);
  const TimePs t0 = r.s.now();
  std::vector<sim::CoreStats> before;
  for (auto* h : {r.a, r.b})
    for (unsigned k = 0; k < h->cpus()->cores(); ++k) before.push_back(h->cpus()->stats(k));
  std::size_t moved = 0;
  bool ok = false;
  VD_CG_ZERO();
  if (o.workload == "tcp") ok = tcp_bulk(r, o, moved);
  else if (o.workload == "rr") ok = tcp_rr(r, o, moved);
  else if (o.workload == "udp") ok = udp_stream(r, o, moved);
  else ok = ping(r, o, moved);
  VD_CG_DUMP();
  if (!ok) {
    std::fprintf(stderr, "cpu_workload: %s did not complete\n", o.workload.c_str());
    return 1;
  }
  const double dt_ns = double(r.s.now() - t0) / 1e3;
  // Work and busy time of the measured phase only (set-up excluded).
  std::array<std::uint64_t, kWorkKinds> work{};
  std::string util;
  std::size_t i = 0;
  for (auto* h : {r.a, r.b}) {
    util += std::string(util.empty() ? "" : ", ") + "\"" + h->name() + "\": [";
    for (unsigned k = 0; k < h->cpus()->cores(); ++k, ++i) {
      const auto& s = h->cpus()->stats(k);
      for (std::size_t w = 0; w < kWorkKinds; ++w) work[w] += s.work_done[w] - before[i].work_done[w];
      util += (k ? ", " : "") + std::to_string(double(s.busy - before[i].busy) / 1e3 / dt_ns);
    }
    util += "]";
  }
  std::string ws;
  for (std::size_t w = 0; w < kWorkKinds; ++w)
    ws += std::string(w ? ", " : "") + "\"" + std::string(kWorkNames[w]) + "\": " + std::to_string(work[w]);
  std::printf("{\"workload\": \"%s\", \"offload\": %s, \"mtu\": %u, \"cores\": %u, \"flows\": %u, \"bytes\": %zu, "
              "\"virtual_ns\": %.1f, \"gbps\": %.3f, \"utilisation\": {%s}, \"work\": {%s}}\n",
              o.workload.c_str(), o.offload ? "true" : "false", o.mtu, o.cores, o.flows, moved, dt_ns,
              double(moved) * 8 / dt_ns, util.c_str(), ws.c_str());
  return 0;
}
