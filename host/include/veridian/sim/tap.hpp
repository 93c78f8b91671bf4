// A link end on a Linux TAP device: frames the simulated NIC sends come out
// of the TAP to the kernel, frames the kernel sends to the TAP go into the
// link. With a TAP attached the Simulation runs in real time (paced so that
// virtual time never runs ahead of the wall clock), see Simulation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "veridian/core/time.hpp"
#include "veridian/sim/link.hpp"

namespace vd::sim {

struct TapStats {
  std::uint64_t frames_to_kernel = 0, bytes_to_kernel = 0;
  std::uint64_t frames_from_kernel = 0, bytes_from_kernel = 0;
  std::uint64_t write_errors = 0;     // the kernel refused a frame (device down, ...)
  std::uint64_t dropped_fcs = 0;      // corrupted on the simulated link: a real MAC drops them
  std::uint64_t dropped_oversize = 0; // from the kernel, longer than the link's largest frame
};

class TapBridge final : public FrameSink {
 public:
  // Opens (creating if needed) TAP interface `ifname` in the calling
  // process's network namespace, without packet-information headers.
  // Throws std::system_error naming the cause (no /dev/net/tun, no
  // CAP_NET_ADMIN, a bad name).
  TapBridge(Scheduler& sched, Link& link, int side, const std::string& ifname, std::size_t max_frame = 9018);
  ~TapBridge() override;
  TapBridge(const TapBridge&) = delete;
  TapBridge& operator=(const TapBridge&) = delete;

  void frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) override;
  // Moves every frame the kernel has queued into the link (non-blocking).
  std::size_t poll_in();
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  const TapStats& stats() const { return stats_; }
  Link& link() { return link_; }  // side 0: the host's NIC, side 1: the TAP

 private:
  Scheduler& sched_;
  Link& link_;
  int side_;
  int fd_ = -1;
  std::string name_;
  std::size_t max_frame_;
  TapStats stats_;
  std::vector<std::uint8_t> buf_;
};

}  // namespace vd::sim
