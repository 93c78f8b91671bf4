// Loss recovery and timers: RTT estimation and the retransmission timer
// (RFC 6298), persist (zero-window probes), delayed ACKs, keepalive, and
// the SACK scoreboard (RFC 2018, RFC 6675).
#include <algorithm>

#include "layer.hpp"
#include "seq.hpp"

namespace vd::stack {

namespace f = wire::tcpf;

void TcpLayer::arm_rto(Tcb& t) {
  Scheduler& sc = impl.st.scheduler();
  sc.cancel(t.rto_timer);
  Tcb* p = &t;
  t.rto_timer = sc.schedule_in(t.rto, [this, p] {
    p->rto_timer = kNoTimer;
    TcpSocket* s = p->sock;
    on_rto(*p);  // may free p
    notify(s);
  });
}

void TcpLayer::rtt_sample(Tcb& t, TimePs r) {
  // RFC 6298 2.2/2.3 with alpha 1/8, beta 1/4, K 4.
  if (!t.rtt_valid) {
    t.srtt = r;
    t.rttvar = r / 2;
    t.rtt_valid = true;
  } else {
    const TimePs err = t.srtt > r ? t.srtt - r : r - t.srtt;
    t.rttvar = (3 * t.rttvar + err) / 4;
    t.srtt = (7 * t.srtt + r) / 8;
  }
  t.rto = std::clamp<TimePs>(t.srtt + std::max<TimePs>(4 * t.rttvar, ms_to_ps(1)), cfg.rto_min, cfg.rto_max);
  t.info.srtt = t.srtt;
  t.info.rttvar = t.rttvar;
  t.info.rto = t.rto;
}

void TcpLayer::on_rto(Tcb& t) {
  ++t.info.timeouts;
  ++t.retries;
  t.rtt_timing = false;  // Karn: no sample from retransmitted data
  t.rto = std::min(t.rto * 2, cfg.rto_max);
  t.info.rto = t.rto;
  if (t.state == TcpState::SynSent || t.state == TcpState::SynReceived) {
    if (t.retries > cfg.syn_retries) return fail(t, std::errc::timed_out);
    const std::uint8_t fl = t.state == TcpState::SynSent ? f::SYN : (f::SYN | f::ACK);
    send_segment(t, t.iss, 0, fl, true);
    return arm_rto(t);
  }
  const std::uint32_t flight = t.snd_nxt - t.snd_una;
  const std::size_t unsent_off = static_cast<std::uint32_t>(t.snd_nxt - t.buf_seq);
  if (flight == 0 && unsent_off < t.sndbuf.size()) {
    // Persist: a zero-window probe (one byte past the window), or what a
    // too-small window allows (the SWS override); backed off, never fatal
    // while the peer keeps answering.
    const std::size_t unsent = t.sndbuf.size() - unsent_off;
    const std::size_t n = std::clamp<std::size_t>(std::min<std::uint64_t>(t.snd_wnd, t.mss), 1, unsent);
    if (t.snd_wnd == 0) ++t.info.zero_window_probes;
    send_segment(t, t.snd_nxt, n, f::ACK);
    t.snd_nxt += static_cast<std::uint32_t>(n);
    if (seq_gt(t.snd_nxt, t.snd_max)) t.snd_max = t.snd_nxt;
    t.retries = 0;
    return arm_rto(t);
  }
  if (flight == 0) return;
  if (t.retries > cfg.max_retries) return fail(t, std::errc::timed_out);
  cc_on_loss(t, true);
  t.sacked.clear();  // the receiver may have reneged (RFC 2018 8)
  t.snd_nxt = t.snd_una;  // go back N
  t.dupacks = 0;
  output(t);
  if (t.rto_timer == kNoTimer) arm_rto(t);
}

void TcpLayer::flush_burst_acks() {
  std::vector<Tcb*> owed;
  owed.swap(burst_acks);
  for (Tcb* t : owed) {
    t->burst_ack = false;
    if (t->ack_pending) send_ack(*t);  // unless a data segment carried it meanwhile
  }
}

void TcpLayer::on_delack(Tcb& t) {
  t.delack_timer = kNoTimer;
  if (t.ack_pending) send_ack(t);
}

void TcpLayer::keepalive_arm(Tcb& t) {
  Scheduler& sc = impl.st.scheduler();
  sc.cancel(t.ka_timer);
  t.ka_timer = kNoTimer;
  if (!t.keepalive || t.state != TcpState::Established) return;
  Tcb* p = &t;
  t.ka_timer = sc.schedule_in(cfg.keepalive_idle, [this, p] { on_keepalive(*p); });
}

void TcpLayer::on_keepalive(Tcb& t) {
  t.ka_timer = kNoTimer;
  if (!t.keepalive || t.state != TcpState::Established) return;
  Scheduler& sc = impl.st.scheduler();
  const TimePs idle = sc.now() - t.last_rx;
  Tcb* p = &t;
  if (idle < cfg.keepalive_idle) {
    t.ka_timer = sc.schedule_in(cfg.keepalive_idle - idle, [this, p] { on_keepalive(*p); });
    return;
  }
  if (t.ka_probes >= cfg.keepalive_probes) return fail(t, std::errc::timed_out);
  ++t.ka_probes;
  // A probe is an old sequence number: the peer must answer with an ACK.
  send_segment(t, t.snd_una - 1, 0, f::ACK);
  t.ka_timer = sc.schedule_in(cfg.keepalive_interval, [this, p] { on_keepalive(*p); });
}

// ------------------------------------------------------------ SACK

void TcpLayer::fill_sack_blocks(const Tcb& t, wire::TcpOptions& opts) const {
  // Contiguous runs of the out-of-order queue; the run holding the latest
  // segment goes first (RFC 2018 4), the others follow in order.
  std::vector<wire::SackBlock> runs;
  for (const auto& [s, d] : t.ooo) {
    const std::uint32_t e = s + static_cast<std::uint32_t>(d.size());
    if (!runs.empty() && seq_ge(runs.back().right, s)) {
      if (seq_gt(e, runs.back().right)) runs.back().right = e;
    } else {
      runs.push_back({s, e});
    }
  }
  const std::size_t max_blocks = t.ts_ok ? 3 : 4;
  std::size_t first = 0;
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (seq_le(runs[i].left, t.last_ooo_seq) && seq_lt(t.last_ooo_seq, runs[i].right)) first = i;
  opts.sack[opts.sack_count++] = runs[first];
  for (std::size_t i = 0; i < runs.size() && opts.sack_count < max_blocks; ++i)
    if (i != first) opts.sack[opts.sack_count++] = runs[i];
}

void TcpLayer::sack_update(Tcb& t, const wire::TcpOptions& o) {
  // Forget what snd_una passed.
  for (auto it = t.sacked.begin(); it != t.sacked.end();) {
    if (seq_le(it->second, t.snd_una)) it = t.sacked.erase(it);
    else ++it;
  }
  if (!t.sack_ok) return;
  for (std::size_t i = 0; i < o.sack_count; ++i) {
    std::uint32_t l = o.sack[i].left, r = o.sack[i].right;
    // Only blocks inside what we sent count (a D-SACK below snd_una, or
    // nonsense, is ignored).
    if (!seq_lt(l, r) || seq_le(r, t.snd_una) || seq_gt(r, t.snd_max)) continue;
    if (seq_lt(l, t.snd_una)) l = t.snd_una;
    ++t.info.sack_blocks_received;
    // Merge with overlapping or adjacent ranges.
    for (auto it = t.sacked.begin(); it != t.sacked.end();) {
      if (seq_le(it->first, r) && seq_ge(it->second, l)) {
        if (seq_lt(it->first, l)) l = it->first;
        if (seq_gt(it->second, r)) r = it->second;
        it = t.sacked.erase(it);
      } else {
        ++it;
      }
    }
    t.sacked[l] = r;
  }
}

std::uint64_t TcpLayer::sacked_bytes(const Tcb& t) const {
  std::uint64_t n = 0;
  for (const auto& [l, r] : t.sacked) n += static_cast<std::uint32_t>(r - l);
  return n;
}

// RFC 6675 5 (simplified scoreboard): pipe = octets in flight that are
// neither SACKed nor presumed lost and not yet resent; while pipe < cwnd,
// resend the next hole below the highest SACKed octet, else send new data.
void TcpLayer::sack_recover(Tcb& t) {
  if (t.sacked.empty()) return;
  std::uint32_t high = t.snd_una;
  for (const auto& [l, r] : t.sacked)
    if (seq_gt(r, high)) high = r;
  auto holes_left = [&](std::uint32_t from) {  // unSACKed octets in [from, highest SACK start)
    std::uint64_t n = 0;
    std::uint32_t pos = from;
    for (const auto& [l, r] : t.sacked) {
      if (seq_le(r, pos)) continue;
      if (seq_gt(l, pos)) n += static_cast<std::uint32_t>(l - pos);
      pos = r;
    }
    return n;
  };
  for (int guard = 0; guard < 1000; ++guard) {
    const std::uint64_t outstanding = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
    const std::uint64_t lost = holes_left(t.rexmit_next);
    const std::uint64_t sacked = sacked_bytes(t);
    const std::uint64_t pipe = outstanding > sacked + lost ? outstanding - sacked - lost : 0;
    if (pipe >= t.cwnd) return;
    // The next hole at or after rexmit_next.
    std::uint32_t s = seq_lt(t.rexmit_next, t.snd_una) ? t.snd_una : t.rexmit_next;
    bool moved = true;
    while (moved) {
      moved = false;
      for (const auto& [l, r] : t.sacked)
        if (seq_le(l, s) && seq_lt(s, r)) {
          s = r;
          moved = true;
        }
    }
    if (!seq_lt(s, high)) {
      // No hole left below the SACKed data: new data may go (RFC 6675 NextSeg rule 2).
      output(t);
      return;
    }
    std::uint32_t end = high;
    for (const auto& [l, r] : t.sacked)
      if (seq_gt(l, s) && seq_lt(l, end)) end = l;
    const std::size_t off = static_cast<std::uint32_t>(s - t.buf_seq);
    if (off >= t.sndbuf.size()) return;
    const std::size_t n = std::min<std::size_t>({t.mss, static_cast<std::uint32_t>(end - s), t.sndbuf.size() - off});
    if (n == 0) return;
    send_segment(t, s, n, f::ACK, true);
    ++t.info.sack_recovery_rexmits;
    t.rexmit_next = s + static_cast<std::uint32_t>(n);
  }
}

}  // namespace vd::stack
