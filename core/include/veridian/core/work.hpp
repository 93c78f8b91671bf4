// Counted host work: what the host CPU model (host/include/veridian/sim/cpus.hpp)
// charges time for. The stack and the driver count operations and bytes
// here as they do them; the model turns the counts of one piece of work
// (an interrupt's poll, a timer, a socket call) into cycles with a cost
// table. Counting is by work done, never by wall clock, so runs stay
// deterministic.
//
// The meter is per thread: a simulation runs on one thread and its work
// items never nest across hosts (frames between hosts travel by events),
// so the count between a work item's start and end is that item's work.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace vd {

enum class Work : std::uint8_t {
  irq,          // interrupt entry and one NAPI-style poll of one queue
  timer,        // a stack timer firing
  socket_call,  // an application's call into a socket
  rx_frame,     // one received frame: completion, buffer refill, Ethernet demux
  tx_frame,     // one frame to the device: descriptor post and reclaim, Ethernet header
  ipv4_rx,
  ipv4_tx,
  ipv6_rx,
  ipv6_tx,
  tcp_rx,       // one TCP segment through input (state machine, ACK processing, reassembly)
  tcp_tx,       // one TCP segment built with data or SYN/FIN/RST (a TSO send counts once)
  tcp_ack,      // one pure ACK built
  udp_rx,
  udp_tx,
  icmp,         // one ICMP/ICMPv6 message handled or built
  neigh,        // one ARP or neighbour-discovery message handled or built
  copy_bytes,   // bytes the CPU copied (socket send/receive, software segmentation, fragments)
  csum_bytes,   // bytes summed in software (a checksum the NIC did not do)
  kCount
};

inline constexpr std::size_t kWorkKinds = static_cast<std::size_t>(Work::kCount);

// Names as they appear in cost tables and statistics.
inline constexpr std::array<std::string_view, kWorkKinds> kWorkNames = {
    "irq",     "timer",   "socket_call", "rx_frame", "tx_frame", "ipv4_rx", "ipv4_tx", "ipv6_rx",   "ipv6_tx",
    "tcp_rx",  "tcp_tx",  "tcp_ack",     "udp_rx",   "udp_tx",   "icmp",    "neigh",   "copy_bytes", "csum_bytes"};

struct WorkCounts {
  std::array<std::uint64_t, kWorkKinds> n{};
  std::uint64_t operator[](Work w) const { return n[static_cast<std::size_t>(w)]; }
  WorkCounts operator-(const WorkCounts& o) const {
    WorkCounts d;
    for (std::size_t i = 0; i < kWorkKinds; ++i) d.n[i] = n[i] - o.n[i];
    return d;
  }
};

// This thread's running totals.
inline WorkCounts& work_meter() {
  thread_local WorkCounts m;
  return m;
}

inline void count_work(Work w, std::uint64_t k = 1) { work_meter().n[static_cast<std::size_t>(w)] += k; }

// How an application's call into the stack becomes work on a core: the
// stack calls app_begin/app_end around each socket call when a host CPU
// model is attached (Stack::set_work_hook). core < 0: the host's default.
class WorkHook {
 public:
  virtual void app_begin(int core) = 0;
  virtual void app_end() = 0;

 protected:
  ~WorkHook() = default;
};

// RAII for one socket call; a no-op without a hook.
class AppWork {
 public:
  AppWork(WorkHook* h, int core) : h_(h) {
    if (h_) h_->app_begin(core);
  }
  ~AppWork() {
    if (h_) h_->app_end();
  }
  AppWork(const AppWork&) = delete;
  AppWork& operator=(const AppWork&) = delete;

 private:
  WorkHook* h_;
};

}  // namespace vd
