// NewReno (RFC 5681 3.1, RFC 6582): one MSS per window of acknowledged
// bytes in congestion avoidance, half the flight on loss.
#include <algorithm>

#include "cc.hpp"
#include "tcb.hpp"

namespace vd::stack {

namespace {

class NewReno final : public CongestionOps {
 public:
  void on_ack(Tcb& t, std::uint64_t acked, const Scheduler&) const override {
    t.bytes_acked_ca += acked;
    if (t.bytes_acked_ca >= t.cwnd) {
      t.bytes_acked_ca -= t.cwnd;
      t.cwnd += t.mss;
    }
  }
  void on_loss(Tcb& t) const override {
    const std::uint64_t flight = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
    t.ssthresh = std::max<std::uint64_t>(flight / 2, 2 * std::uint64_t(t.mss));
  }
};

}  // namespace

const CongestionOps& newreno_ops() {
  static const NewReno ops;
  return ops;
}

}  // namespace vd::stack
