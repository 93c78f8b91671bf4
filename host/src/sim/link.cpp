#include "veridian/sim/link.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace vd::sim {

Link::Link(Scheduler& sched, LinkConfig cfg) : sched_(sched), cfg_(cfg) {
  if (!(cfg.rate_gbps > 0)) throw std::invalid_argument("Link: rate_gbps must be positive");
}

void Link::attach(int side, FrameSink* sink) {
  if (side != 0 && side != 1) throw std::invalid_argument("Link: side must be 0 or 1");
  if (sinks_[side]) throw std::logic_error("Link: that end is already connected");
  sinks_[side] = sink;
}

TimePs Link::wire_time(std::size_t len) const {
  const double bytes = double(std::max<std::size_t>(len, 60) + 4 + 8 + 12);
  return static_cast<TimePs>(std::llround(bytes * 8.0 * 1000.0 / cfg_.rate_gbps));
}

TimePs Link::send(int side, std::vector<std::uint8_t> frame, TimePs at) {
  const TimePs start = std::max({at, sched_.now(), busy_until_[side]});
  const TimePs dur = wire_time(frame.size());
  busy_until_[side] = start + dur;
  auto& st = stats_[side];
  ++st.frames;
  st.bytes += frame.size();
  st.busy_ps += dur;
  if (pcap_) pcap_->write(start, frame);
  const TimePs arrival = start + dur + cfg_.latency;
  FrameSink* dst = sinks_[1 - side];
  if (dst) {
    sched_.schedule_at(arrival, [dst, f = std::move(frame)]() mutable { dst->frame_arrived(std::move(f), false); });
  }
  return arrival;
}

}  // namespace vd::sim
