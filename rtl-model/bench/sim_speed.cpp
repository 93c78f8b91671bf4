// Simulation-speed benchmark (prints numbers; not a test):
//  1. busy: the driver keeps the TX ring full, every frame the NIC sends is
//     looped back into its MAC RX, and the RX path writes it to host memory.
//     Reports evaluated NIC cycles per wall second per data width.
//  2. idle: two RtlNic hosts on a link with nothing to do for one simulated
//     second; reports the wall time that second costs.
#include <chrono>
#include <cstdio>
#include <vector>

#include "veridian/dev/nic_driver.hpp"
#include "veridian/rtl/nic_model.hpp"
#include "veridian/sim/simulation.hpp"

using namespace vd;
using Clock = std::chrono::steady_clock;

static double busy(unsigned width, std::size_t frame_len, std::uint64_t cycles, double* gbps) {
  HostMemory mem(std::size_t(64) << 20);
  BufferPool pool(mem, 10240, 2048);
  rtl::NicModelConfig cfg;
  cfg.data_width = width;
  auto nic = rtl::NicModel::create(cfg, mem);
  dev::NicDriver drv(*nic, mem, pool, dev::DriverConfig{1, 8, std::nullopt});
  drv.init();
  std::uint64_t rx_bytes = 0;
  std::uint32_t pending_irq = 0;
  drv.set_rx_handler([&](Packet&& p) { rx_bytes += p.size(); });
  nic->on_tx([&](std::vector<std::uint8_t>&& f, std::uint64_t c) { nic->rx_frame(std::move(f), c + 1); });
  nic->on_irq([&](std::uint32_t m, std::uint64_t) { pending_irq |= m; });
  auto fill = [&] {
    while (drv.tx_in_flight(0) < 200) {
      Packet p = pool.alloc(0);
      if (!p) break;
      std::uint8_t* d = p.append(frame_len);
      for (std::size_t i = 0; i < frame_len; ++i) d[i] = static_cast<std::uint8_t>(i);
      if (!drv.transmit(std::move(p), 0)) break;
    }
  };
  fill();
  const auto t0 = Clock::now();
  const std::uint64_t c0 = nic->stats().cycles;
  while (nic->stats().cycles - c0 < cycles) {
    nic->tick(64);
    if (pending_irq) {
      const std::uint32_t m = pending_irq;
      pending_irq = 0;
      drv.handle_irq(m);
      fill();
    }
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double sim_s = double(nic->stats().cycles - c0) / (cfg.clock_mhz * 1e6);
  *gbps = double(rx_bytes) * 8 / sim_s / 1e9;
  return double(nic->stats().cycles - c0) / wall / 1e6;
}

static double idle_second(unsigned width) {
  sim::Simulation s(1);
  sim::NicSpec spec;
  spec.kind = sim::NicSpec::Kind::Rtl;
  spec.data_width = width;
  auto& a = s.add_host("a", spec);
  auto& b = s.add_host("b", spec);
  s.connect(a, b, sim::LinkConfig{});
  s.run_for(us_to_ps(10));  // let init settle
  const auto t0 = Clock::now();
  s.run_for(s_to_ps(1));
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int main(int argc, char** argv) {
  const std::uint64_t cycles = argc > 1 ? std::stoull(argv[1]) : 2'000'000;
  std::printf("%-8s %-10s %-14s %-22s\n", "width", "frame", "Mcycles/s", "NIC throughput (sim)");
  for (unsigned w : rtl::NicModel::available_widths()) {
    for (std::size_t len : {64, 1514}) {
      double gbps = 0;
      const double mcps = busy(w, len, cycles, &gbps);
      std::printf("%-8u %-10zu %-14.2f %.1f Gb/s TX+RX loopback\n", w, len, mcps, gbps);
    }
  }
  for (unsigned w : rtl::NicModel::available_widths())
    std::printf("idle: one simulated second with two %u-bit RtlNics costs %.1f us of wall time\n", w,
                idle_second(w) * 1e6);
  return 0;
}
