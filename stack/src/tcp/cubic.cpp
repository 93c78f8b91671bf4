// CUBIC (RFC 9438): the window follows a cubic function of the time since
// the last loss, with the Reno-friendly region as its floor.
#include <algorithm>
#include <cmath>

#include "cc.hpp"
#include "tcb.hpp"

namespace vd::stack {

namespace {

class Cubic final : public CongestionOps {
 public:
  void on_ack(Tcb& t, std::uint64_t acked, const Scheduler& clock) const override {
    const std::uint64_t mss = t.mss;
    CubicState& c = t.cubic;
    const TimePs now = clock.now();
    if (c.epoch_start == 0) {
      c.epoch_start = now;
      const double w_max_seg = std::max(c.w_max, double(t.cwnd)) / double(mss);
      const double cw_seg = double(t.cwnd) / double(mss);
      c.cubic_k = std::cbrt(std::max(0.0, (w_max_seg - cw_seg) / 0.4));
      if (c.w_max < double(t.cwnd)) c.w_max = double(t.cwnd);
      c.w_est = t.cwnd;
    }
    const double rtt = t.rtt_valid ? double(t.srtt) / 1e12 : 0.0;
    const double tt = double(now - c.epoch_start) / 1e12 + rtt - c.cubic_k;
    const double target_seg = 0.4 * tt * tt * tt + c.w_max / double(mss);
    const double cw_seg = double(t.cwnd) / double(mss);
    // Reno-friendly region (RFC 9438 4.3), alpha = 3 (1 - beta) / (1 + beta).
    c.w_est += static_cast<std::uint64_t>(double(mss) * (3.0 * 0.3 / 1.7) * double(acked) / double(t.cwnd));
    std::uint64_t inc = 0;
    if (target_seg > cw_seg)
      inc = static_cast<std::uint64_t>(double(mss) * (target_seg - cw_seg) / cw_seg * double(acked) / double(mss));
    t.cwnd = std::max(t.cwnd + std::min<std::uint64_t>(inc, acked), c.w_est);
  }
  void on_loss(Tcb& t) const override {
    // RFC 9438 4.6/4.7: beta 0.7 and fast convergence.
    CubicState& c = t.cubic;
    const double cw = double(t.cwnd);
    c.w_max = (cw < c.w_max) ? cw * (1.0 + 0.7) / 2.0 : cw;
    t.ssthresh = std::max<std::uint64_t>(static_cast<std::uint64_t>(cw * 0.7), 2 * std::uint64_t(t.mss));
    c.epoch_start = 0;
  }
};

}  // namespace

const CongestionOps& cubic_ops() {
  static const Cubic ops;
  return ops;
}

}  // namespace vd::stack
