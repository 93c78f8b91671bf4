// A full-duplex point-to-point Ethernet link with latency and line rate.
// Serialisation counts preamble+SFD (8 bytes), FCS (4) and the inter-frame
// gap (12), and pads runts to the 60-byte minimum, as a real wire does.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "veridian/core/time.hpp"
#include "veridian/sim/pcap.hpp"

namespace vd::sim {

// Whatever sits at a link end (a NIC's MAC) receives frames through this.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // The last bit of the frame arrived at time `at` (== scheduler now()).
  virtual void frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) = 0;
};

struct LinkConfig {
  double rate_gbps = 100.0;
  TimePs latency = ns_to_ps(500);
};

struct LinkDirStats {
  std::uint64_t frames = 0, bytes = 0;
  TimePs busy_ps = 0;  // time the wire spent serialising
};

class Link {
 public:
  Link(Scheduler& sched, LinkConfig cfg);
  void attach(int side, FrameSink* sink);
  bool attached(int side) const { return sinks_[side] != nullptr; }

  // Transmit from `side` starting no earlier than `at` (>= now). Frames from
  // one side are serialised one after another. Returns the arrival time.
  TimePs send(int side, std::vector<std::uint8_t> frame, TimePs at);
  // Time a frame of `len` bytes (without FCS) occupies the wire.
  TimePs wire_time(std::size_t len) const;

  void capture(std::shared_ptr<PcapWriter> w) { pcap_ = std::move(w); }
  const LinkConfig& config() const { return cfg_; }
  const LinkDirStats& stats(int side) const { return stats_[side]; }

 private:
  Scheduler& sched_;
  LinkConfig cfg_;
  std::array<FrameSink*, 2> sinks_{nullptr, nullptr};
  std::array<TimePs, 2> busy_until_{0, 0};
  std::array<LinkDirStats, 2> stats_{};
  std::shared_ptr<PcapWriter> pcap_;
};

}  // namespace vd::sim
