// TCP bulk transfer between two SoftNic hosts in one process, one thread:
// A sends `bytes` to B. Prints wall-clock throughput (one core: both hosts,
// both stacks and the "NICs" share it) and the segment counts. Run under
// callgrind by `python -m veridian.tools.tcpbench` to count host instructions
// per byte with the offloads on and off.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "veridian/sim/simulation.hpp"

using namespace vd;

int main(int argc, char** argv) {
  std::size_t bytes = 64u << 20;
  bool offload = true;
  unsigned irq_frames = 1, mtu = 1500;
  double irq_delay_ns = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--bytes") && i + 1 < argc) bytes = std::strtoull(argv[++i], nullptr, 0);
    else if (!std::strcmp(argv[i], "--offload") && i + 1 < argc) offload = std::strcmp(argv[++i], "off") != 0;
    else if (!std::strcmp(argv[i], "--irq-frames") && i + 1 < argc) irq_frames = unsigned(std::strtoul(argv[++i], nullptr, 0));
    else if (!std::strcmp(argv[i], "--irq-delay-ns") && i + 1 < argc) irq_delay_ns = std::strtod(argv[++i], nullptr);
    else if (!std::strcmp(argv[i], "--mtu") && i + 1 < argc) mtu = unsigned(std::strtoul(argv[++i], nullptr, 0));
    else {
      std::fprintf(stderr, "usage: %s [--bytes N] [--offload on|off] [--irq-frames N] [--irq-delay-ns T] [--mtu M]\n",
                   argv[0]);
      return 2;
    }
  }
  sim::Simulation s(1);
  sim::NicSpec spec;
  spec.kind = sim::NicSpec::Kind::Soft;
  spec.tx_csum = offload;
  spec.tso = offload;
  spec.rx_csum = offload;
  spec.irq_frames = static_cast<std::uint16_t>(irq_frames);
  spec.irq_delay_ns = irq_delay_ns;
  spec.mtu = static_cast<std::uint16_t>(mtu);
  auto& a = s.add_host("a", spec);
  auto& b = s.add_host("b", spec);
  s.connect(a, b, sim::LinkConfig{400.0, ns_to_ps(500)});  // fast wire: the CPU is the limit
  a.stack().add_address(a.ifindex(), stack::Ipv4Addr::parse("10.0.0.1").value(), 24);
  b.stack().add_address(b.ifindex(), stack::Ipv4Addr::parse("10.0.0.2").value(), 24);
  auto l = b.stack().tcp_socket();
  auto c = a.stack().tcp_socket();
  for (auto* sk : {l.get(), c.get()}) {
    (void)sk->set_sndbuf(4u << 20);
    (void)sk->set_rcvbuf(4u << 20);
  }
  if (l->bind({}, 5001) || l->listen() || c->connect(stack::Ipv4Addr::parse("10.0.0.2").value(), 5001)) {
    std::fprintf(stderr, "tcp_bench: set-up failed\n");
    return 1;
  }
  s.run_for(ms_to_ps(1));
  auto srv = l->accept();
  if (!srv) {
    std::fprintf(stderr, "tcp_bench: no connection\n");
    return 1;
  }
  std::vector<std::uint8_t> chunk(1u << 20), in(1u << 20);
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<std::uint8_t>(i * 31 + 7);
  std::size_t sent = 0, got = 0;
  std::uint64_t sum = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (got < bytes) {
    std::error_code ec;
    while (sent < bytes) {
      const std::size_t n = c->send(std::span(chunk).first(std::min(chunk.size(), bytes - sent)), ec);
      if (ec || n == 0) break;
      sent += n;
    }
    s.run_for(us_to_ps(20));
    for (std::size_t n; (n = srv->recv(in, ec)) > 0;) {
      got += n;
      sum += in[0];
    }
    if (ec) {
      std::fprintf(stderr, "tcp_bench: %s\n", ec.message().c_str());
      return 1;
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto i = c->info();
  std::printf("{\"offload\": %s, \"bytes\": %zu, \"wall_s\": %.4f, \"gbps_wall\": %.2f, \"virtual_us\": %.1f, "
              "\"segs_out\": %llu, \"tso_sends\": %llu, \"retransmits\": %llu, \"acks_in\": %llu, \"zero_copy_bytes\": %llu, \"tx_copy_bytes\": %llu, \"check\": %llu}\n",
              offload ? "true" : "false", got, wall, double(got) * 8 / wall / 1e9, double(s.now()) / 1e6,
              static_cast<unsigned long long>(i.segs_out), static_cast<unsigned long long>(i.tso_sends),
              static_cast<unsigned long long>(i.retransmits), static_cast<unsigned long long>(i.segs_in),
              static_cast<unsigned long long>(i.zero_copy_bytes), static_cast<unsigned long long>(i.tx_copy_bytes),
              static_cast<unsigned long long>(sum));
  return 0;
}
