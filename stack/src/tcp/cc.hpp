// Congestion control behind a small interface (RFC 5681 framework): the
// TCP layer does slow start, fast recovery and the bookkeeping
// (TcpLayer::cc_on_ack, cc_on_loss in recovery.cpp); an algorithm decides
// the congestion-avoidance growth and the reaction to loss. One virtual
// call per ACK, none per byte. The algorithm is chosen per connection
// (Tcb::cc, changeable at any time), its state lives in the TCB.
#pragma once

#include <cstdint>

#include "veridian/core/time.hpp"
#include "veridian/stack/tcp.hpp"

namespace vd::stack {

struct Tcb;

class CongestionOps {
 public:
  // Congestion avoidance (cwnd >= ssthresh): grow t.cwnd for `acked` newly
  // acknowledged bytes. The caller caps cwnd afterwards.
  virtual void on_ack(Tcb& t, std::uint64_t acked, const Scheduler& clock) const = 0;
  // A loss (RTO or fast retransmit): set t.ssthresh and the algorithm's
  // own state; the caller then sets cwnd.
  virtual void on_loss(Tcb& t) const = 0;

 protected:
  ~CongestionOps() = default;
};

const CongestionOps& newreno_ops();  // RFC 6582 (newreno.cpp)
const CongestionOps& cubic_ops();    // RFC 9438 (cubic.cpp)

inline const CongestionOps& congestion_ops(CongestionControl cc) {
  return cc == CongestionControl::Cubic ? cubic_ops() : newreno_ops();
}

}  // namespace vd::stack
