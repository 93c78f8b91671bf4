// A NetDevice with a MAC that can be cabled to a simulated link.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "veridian/core/netdev.hpp"
#include "veridian/sim/link.hpp"

namespace vd::dev {

class WiredDevice : public NetDevice, public sim::FrameSink {
 public:
  void attach_link(sim::Link* link, int side) {
    link->attach(side, this);
    link_ = link;
    side_ = side;
  }
  bool cabled() const { return link_ != nullptr; }
  // A frame "from the wire" that bypasses any link (tests inject malformed
  // frames this way).
  virtual void inject(std::vector<std::uint8_t> frame, bool fcs_error) { frame_arrived(std::move(frame), fcs_error); }

 protected:
  sim::Link* link_ = nullptr;
  int side_ = 0;
};

}  // namespace vd::dev
