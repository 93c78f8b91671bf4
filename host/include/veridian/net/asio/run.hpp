// vd::net::run: drives an io_context and the Simulation together
// (veridian/net/asio.hpp).
#pragma once

#include "veridian/net/asio/common.hpp"

namespace vd::net {

// Drives the io_context and the Simulation together until `done()` holds,
// the io_context runs out of work and the simulation of events, or
// `timeout` of simulated time passed. Returns done().
inline bool run(sim::Simulation& sim, asio::io_context& io, const std::function<bool()>& done,
                TimePs timeout = s_to_ps(60)) {
  const TimePs end = sim.now() + timeout;
  for (;;) {
    io.restart();
    io.poll();
    if (done()) return true;
    if (sim.now() >= end) return false;
    TimePs next = sim.events().horizon();
    if (next == std::numeric_limits<TimePs>::max()) {
      if (!sim.realtime()) return done();  // nothing can happen any more
      next = sim.now() + ms_to_ps(10);     // real time: wait for the kernel
    }
    // In real time the Simulation paces this; in co-simulation it jumps.
    sim.run_until(std::min(std::max(next, sim.now()), end));
  }
}

}  // namespace vd::net
