// ACK processing (RFC 9293 3.10.7.4 fifth check): the send buffer and
// snd_una, RTT samples, NewReno fast retransmit and recovery (RFC 5681,
// RFC 6582), SACK-based recovery (RFC 6675) and window updates.
#include <algorithm>

#include "layer.hpp"
#include "seq.hpp"

namespace vd::stack {

namespace f = wire::tcpf;

bool TcpLayer::process_ack(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o) {
  const std::uint32_t ack = v.ack();
  if (seq_gt(ack, t.snd_max)) {
    impl.drop("tcp", "ack_of_unsent");
    send_ack(t);
    return false;
  }
  const std::uint64_t wnd = std::uint64_t(v.window()) << t.snd_wscale;
  const std::size_t len = v.payload().size();
  if (seq_gt(ack, t.snd_una)) {
    std::uint32_t acked = ack - t.snd_una;
    // Bytes of the buffer acknowledged (the FIN is not in the buffer).
    std::uint32_t data_acked = acked;
    if (t.fin_sent && seq_gt(ack, t.fin_seq)) data_acked -= 1;
    const std::uint32_t buf_acked = std::min<std::uint32_t>(
        data_acked, static_cast<std::uint32_t>(std::max<std::int64_t>(0, std::int64_t(static_cast<std::int32_t>(ack - t.buf_seq)))));
    t.sndbuf.pop(std::min<std::size_t>(buf_acked, t.sndbuf.size()));
    t.buf_seq += std::min<std::uint32_t>(buf_acked, static_cast<std::uint32_t>(ack - t.buf_seq));
    t.snd_una = ack;
    if (seq_lt(t.snd_nxt, t.snd_una)) t.snd_nxt = t.snd_una;
    if (seq_lt(t.rexmit_next, t.snd_una)) t.rexmit_next = t.snd_una;
    sack_update(t, o);
    t.info.bytes_acked += data_acked;
    t.retries = 0;
    if (t.rtt_timing && seq_ge(ack, t.rtt_seq)) {
      t.rtt_timing = false;
      rtt_sample(t, impl.st.scheduler().now() - t.rtt_start);
    }
    if (t.in_recovery) {
      if (seq_ge(ack, t.recover)) {
        // Full acknowledgement: leave fast recovery (RFC 6582 3.2 step 3).
        t.in_recovery = false;
        t.cwnd = std::max<std::uint64_t>(std::min<std::uint64_t>(t.ssthresh, (t.snd_max - t.snd_una) + t.mss), t.mss);
      } else if (t.sack_ok) {
        sack_recover(t);  // RFC 6675: the scoreboard says what to resend
        arm_rto(t);
      } else {
        // Partial acknowledgement: the next hole is lost too; resend it.
        const std::size_t n = std::min<std::size_t>(t.mss, t.sndbuf.size());
        if (n) send_segment(t, t.snd_una, n, f::ACK, true);
        t.cwnd = t.cwnd > acked ? t.cwnd - acked + t.mss : t.mss;
        arm_rto(t);
      }
      t.info.cwnd = t.cwnd;
    } else {
      cc_on_ack(t, acked);
    }
    t.dupacks = 0;
    if (t.snd_una == t.snd_max) {
      impl.st.scheduler().cancel(t.rto_timer);
      t.rto_timer = kNoTimer;
    } else {
      arm_rto(t);
    }
  } else if (ack == t.snd_una && len == 0 && !(v.flags() & (f::SYN | f::FIN)) && wnd == t.snd_wnd &&
             t.snd_max != t.snd_una) {
    dup_ack(t, o);
  }
  // Window update (RFC 9293 3.10.7.4, fifth check).
  if (seq_lt(t.snd_wl1, v.seq()) || (t.snd_wl1 == v.seq() && seq_le(t.snd_wl2, ack))) {
    t.snd_wnd = wnd;
    t.max_snd_wnd = std::max(t.max_snd_wnd, wnd);
    t.snd_wl1 = v.seq();
    t.snd_wl2 = ack;
    t.info.snd_wnd = wnd;
  }
  return true;
}

// A duplicate ACK (RFC 5681 2): the third (or enough SACKed data) starts
// fast retransmit; further ones inflate the window (NewReno) or let the
// scoreboard resend (SACK).
void TcpLayer::dup_ack(Tcb& t, const wire::TcpOptions& o) {
  ++t.info.dup_acks;
  ++t.dupacks;
  sack_update(t, o);
  // RFC 6675 5: with SACK, loss is also declared once more than
  // DupThresh segments' worth of data above snd_una is SACKed.
  const bool sack_lost = t.sack_ok && sacked_bytes(t) > 3ull * t.mss;
  if ((t.dupacks == 3 || sack_lost) && !t.in_recovery && t.sack_ok) {
    ++t.info.fast_retransmits;
    cc_on_loss(t, false);
    t.in_recovery = true;
    t.recover = t.snd_max;
    t.rtt_timing = false;
    t.rexmit_next = t.snd_una;
    t.cwnd = t.ssthresh;
    t.info.cwnd = t.cwnd;
    t.info.ssthresh = t.ssthresh;
    sack_recover(t);
    arm_rto(t);
  } else if (t.in_recovery && t.sack_ok) {
    sack_recover(t);
  } else if (t.dupacks == 3 && !t.in_recovery) {
    ++t.info.fast_retransmits;
    cc_on_loss(t, false);
    t.in_recovery = true;
    t.recover = t.snd_max;
    t.rtt_timing = false;
    const std::size_t n = std::min<std::size_t>(t.mss, t.sndbuf.size());
    if (n) send_segment(t, t.snd_una, n, f::ACK, true);
    else if (t.fin_sent) send_segment(t, t.fin_seq, 0, f::FIN | f::ACK, true);
    t.cwnd = t.ssthresh + 3 * t.mss;
    t.info.cwnd = t.cwnd;
    t.info.ssthresh = t.ssthresh;
    arm_rto(t);
  } else if (t.in_recovery) {
    t.cwnd += t.mss;  // each further duplicate: one more segment left the network
  }
}

}  // namespace vd::stack
