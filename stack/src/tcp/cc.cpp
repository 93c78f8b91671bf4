// The congestion-control framework (RFC 5681): slow start by byte
// counting, the window cap and the bookkeeping here; the algorithm of the
// connection (cc.hpp: NewReno, CUBIC) decides congestion avoidance and the
// reaction to loss.
#include <algorithm>

#include "cc.hpp"
#include "layer.hpp"

namespace vd::stack {

void TcpLayer::cc_on_loss(Tcb& t, bool timeout) {
  congestion_ops(t.cc).on_loss(t);  // ssthresh
  t.cwnd = timeout ? std::uint64_t(t.mss) : t.ssthresh;
  t.bytes_acked_ca = 0;
  t.in_recovery = false;
  t.info.cwnd = t.cwnd;
  t.info.ssthresh = t.ssthresh;
}

void TcpLayer::cc_on_ack(Tcb& t, std::uint64_t acked) {
  if (t.cwnd < t.ssthresh) {
    // Byte counting (RFC 3465) without its per-ACK limit L, as Linux does:
    // stretch ACKs from receivers that coalesce (GRO, interrupt moderation)
    // would otherwise hold slow start back to 2 MSS per ACK.
    t.cwnd += acked;
  } else {
    congestion_ops(t.cc).on_ack(t, acked, impl.st.scheduler());
  }
  t.cwnd = std::min<std::uint64_t>(t.cwnd, std::uint64_t(1) << 30);
  t.info.cwnd = t.cwnd;
}

}  // namespace vd::stack
