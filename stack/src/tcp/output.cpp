// TCP output: the send loop (windows, Nagle, SWS avoidance, TSO sizing and
// deferral), segment headers and options, zero-copy payloads, and resets.
#include <algorithm>

#include "family.hpp"
#include "layer.hpp"
#include "seq.hpp"

namespace vd::stack {

namespace f = wire::tcpf;

std::uint16_t TcpLayer::window_to_advertise(Tcb& t) {
  const std::size_t used = t.rcvbuf.size() + t.ooo_bytes;
  const std::size_t free = t.rcvbuf.capacity() > used ? t.rcvbuf.capacity() - used : 0;
  const std::uint32_t right = t.rcv_nxt + static_cast<std::uint32_t>(free);
  // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): do not move the right edge
  // by less than min(half the buffer, one MSS); never shrink it.
  const std::uint32_t step = static_cast<std::uint32_t>(std::min<std::size_t>(t.rcvbuf.capacity() / 2, t.mss));
  std::uint32_t edge = t.rcv_adv;
  if (seq_lt(edge, t.rcv_nxt) || seq_ge(right, edge + step)) edge = right;
  std::uint64_t wnd = seq_gt(edge, t.rcv_nxt) ? edge - t.rcv_nxt : 0;
  const std::uint8_t s = t.ws_ok ? t.rcv_wscale : 0;
  wnd = std::min<std::uint64_t>(wnd >> s, 65535);
  t.rcv_adv = t.rcv_nxt + static_cast<std::uint32_t>(wnd << s);
  t.info.rcv_wnd = wnd << s;
  return static_cast<std::uint16_t>(wnd);
}

void TcpLayer::fill_header(Tcb& t, wire::TcpRepr& h, std::uint32_t seq, std::uint8_t flags, std::size_t syn_mss,
                           std::size_t len) {
  h.src_port = t.lport;
  h.dst_port = t.rport;
  h.seq = seq;
  h.flags = flags;
  if (flags & f::ACK) h.ack = t.rcv_nxt;
  if (flags & f::SYN) {
    h.opts.mss = static_cast<std::uint16_t>(std::min<std::size_t>(syn_mss, 65535));
    if (cfg.window_scaling && (t.state == TcpState::SynSent || t.ws_ok)) h.opts.wscale = t.rcv_wscale;
    if (cfg.timestamps && (t.state == TcpState::SynSent || t.ts_ok)) h.opts.timestamps = std::pair{ts_now(t), t.ts_recent};
    if (cfg.sack && (t.state == TcpState::SynSent || t.sack_ok)) h.opts.sack_permitted = true;
    // The window in a SYN is never scaled (RFC 7323 2.2).
    const std::size_t free = t.rcvbuf.space();
    h.window = static_cast<std::uint16_t>(std::min<std::size_t>(free, 65535));
    t.rcv_adv = t.rcv_nxt + h.window;
  } else {
    if (t.ts_ok) h.opts.timestamps = std::pair{ts_now(t), t.ts_recent};
    if (t.sack_ok && !t.ooo.empty() && (flags & f::ACK)) {
      fill_sack_blocks(t, h.opts);
      // t.mss leaves room for the timestamp option only, so a data segment
      // keeps just the SACK blocks that fit beside its payload (none beside a
      // full-sized or TSO one), or it would exceed the MTU and, with DF set,
      // never leave: the same as Linux's tcp_current_mss. Pure ACKs carry all.
      const std::size_t base = wire::kTcpMinHeaderLen + (t.ts_ok ? 12 : 0);
      const std::size_t room = len >= t.mss ? 0 : t.mss - len;
      while (h.opts.sack_count && len && wire::tcp_header_len(h.opts) - base > room) --h.opts.sack_count;
    }
    h.window = window_to_advertise(t);
  }
}

void TcpLayer::segment_sent(Tcb& t, std::size_t len, std::uint8_t flags, bool big, bool retransmit, std::size_t bytes) {
  impl.count_tx("tcp", bytes);
  count_work(len == 0 && flags == f::ACK ? Work::tcp_ack : Work::tcp_tx);
  ++t.info.segs_out;
  if (big) ++t.info.tso_sends;
  if (retransmit) ++t.info.retransmits;
  else t.info.bytes_sent += len;
  if (flags & f::ACK) {
    t.last_ack_sent = t.rcv_nxt;
    t.ack_pending = 0;
    impl.st.scheduler().cancel(t.delack_timer);
    t.delack_timer = kNoTimer;
  }
}

Packet TcpLayer::segment_payload(Tcb& t, NetDevice& dev, bool big, std::uint32_t seq, std::size_t len,
                                 const char*& why) {
  BufferPool* tso = dev.tso_pool();
  if (len >= kZeroCopyMin && tso) {
    // Zero-copy: the payload stays where send() copied it; the headers go
    // into the chunk's headroom.
    Packet p = t.sndbuf.share(seq - t.buf_seq, len, tso);
    if (p) {
      t.info.zero_copy_bytes += len;
      ++t.info.zero_copy_sends;
      return p;
    }
  }
  BufferPool* pool = big ? tso : &dev.pool();
  if (!pool) return why = "no_tso_pool", Packet{};
  Packet p = pool->alloc();
  if (!p) return why = "no_buffer", Packet{};
  if (len) {
    // Otherwise a second copy, out of the send buffer into the DMA buffer.
    if (p.tailroom() < len) return why = "segment_exceeds_buffer", Packet{};
    t.sndbuf.peek(seq - t.buf_seq, p.append(len), len);
    pool->count_copy_in(len);
    t.info.tx_copy_bytes += len;
  }
  return p;
}

// One template for both families: the family's route, pseudo-header and
// path MTU, and the same offloads (both NICs checksum and segment TCP over
// IPv4 and IPv6).
template <class A>
void TcpLayer::send_segment_as(Tcb& t, std::uint32_t seq, std::size_t len, std::uint8_t flags, bool retransmit) {
  using Ip = TcpIp<A>;
  const TcbAddrs<A>& ad = t.addrs<A>();
  auto r = Ip::route(impl, ad.raddr);
  if (!r) return impl.drop("tcp", "no_route");
  Iface& ifc = Ip::iface(impl, *r);
  const bool big = len > t.mss;  // a TSO send
  const char* why = nullptr;
  Packet p = segment_payload(t, *ifc.dev, big, seq, len, why);
  if (!p) return impl.drop("tcp", why);
  wire::TcpRepr h;
  fill_header(t, h, seq, flags, Ip::syn_mss(impl, *r), len);
  const bool offload = big || (t.csum_offload && Ip::fits(impl, *r, h, len));
  wire::emit_tcp(p, h, ad.laddr, ad.raddr, offload);
  if (big) {
    // TSO: the NIC cuts MSS-sized segments and fills every checksum.
    p.meta.tx_csum_partial = false;
    p.meta.tx_csum_ip = Ip::kHeaderCsum;
    p.meta.tx_csum_l4 = true;
    p.meta.tso_mss = static_cast<std::uint16_t>(t.mss);
  } else if (offload) {
    p.meta.csum_start = static_cast<std::uint16_t>(wire::kEthHeaderLen + Ip::kIpHeaderLen);
  }
  const std::size_t n = p.size();
  if (Ip::output(impl, *r, ad.laddr, std::move(p), true)) return impl.drop("tcp", "output_failed");
  segment_sent(t, len, flags, big, retransmit, n);
}

void TcpLayer::send_segment(Tcb& t, std::uint32_t seq, std::size_t len, std::uint8_t flags, bool retransmit) {
  if (t.v6) return send_segment_as<Ipv6Addr>(t, seq, len, flags, retransmit);
  send_segment_as<Ipv4Addr>(t, seq, len, flags, retransmit);
}

namespace {
// The header of a reset we send (RFC 9293 3.10.7.1): ACK only when asked.
wire::TcpRepr rst_repr(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack, bool with_ack) {
  wire::TcpRepr h;
  h.src_port = sport;
  h.dst_port = dport;
  h.seq = seq;
  h.ack = with_ack ? ack : 0;
  h.flags = static_cast<std::uint8_t>(f::RST | (with_ack ? f::ACK : 0));
  return h;
}
}  // namespace

template <class A>
void TcpLayer::send_rst(const A& src, const A& dst, std::uint16_t sport, std::uint16_t dport, std::uint32_t seq,
                        std::uint32_t ack, bool with_ack) {
  using Ip = TcpIp<A>;
  auto r = Ip::route(impl, dst);
  if (!r) return;
  Packet p = Ip::iface(impl, *r).dev->pool().alloc();
  if (!p) return impl.drop("tcp", "no_buffer");
  wire::emit_tcp(p, rst_repr(sport, dport, seq, ack, with_ack), src, dst, false);
  const std::size_t n = p.size();
  if (!Ip::output(impl, *r, src, std::move(p), false)) {
    impl.count_tx("tcp", n);
    count_work(Work::tcp_tx);
    impl.event("tcp", "rst_sent");
  }
}

void TcpLayer::send_rst(const Tcb& t, std::uint32_t seq, std::uint32_t ack, bool with_ack) {
  with_family(t.v6, [&]<class A>() {
    send_rst(t.addrs<A>().laddr, t.addrs<A>().raddr, t.lport, t.rport, seq, ack, with_ack);
  });
}

// RFC 9293 3.10.7.1: a segment for no connection gets a reset (never one
// in answer to a reset).
template <class A>
void TcpLayer::send_rst_for(const TcpRx<A>& a, const wire::TcpView& v) {
  if (v.flags() & f::RST) return;
  if (!a.to_us_unicast) return;
  std::uint32_t seq = 0, ack = 0;
  bool with_ack = false;
  if (v.flags() & f::ACK) {
    seq = v.ack();
  } else {
    const std::uint32_t len = static_cast<std::uint32_t>(v.payload().size()) + ((v.flags() & f::SYN) ? 1 : 0) +
                              ((v.flags() & f::FIN) ? 1 : 0);
    ack = v.seq() + len;
    with_ack = true;
  }
  send_rst(a.dst, a.src, v.dst_port(), v.src_port(), seq, ack, with_ack);
}
template void TcpLayer::send_rst_for(const TcpRx<Ipv4Addr>&, const wire::TcpView&);
template void TcpLayer::send_rst_for(const TcpRx<Ipv6Addr>&, const wire::TcpView&);

void TcpLayer::output(Tcb& t, bool force_ack) {
  const bool can_send = t.state == TcpState::Established || t.state == TcpState::CloseWait ||
                        t.state == TcpState::FinWait1 || t.state == TcpState::Closing ||
                        t.state == TcpState::LastAck;
  bool sent = false;
  if (can_send) {
    for (;;) {
      const std::uint64_t flight = static_cast<std::uint32_t>(t.snd_nxt - t.snd_una);
      const std::uint64_t wnd = std::min(t.snd_wnd, t.cwnd);
      const std::size_t off = static_cast<std::uint32_t>(t.snd_nxt - t.buf_seq);
      if (off >= t.sndbuf.size()) break;
      const std::size_t unsent = t.sndbuf.size() - off;
      const std::uint64_t avail = wnd > flight ? wnd - flight : 0;
      // Nothing in flight and the window too small to send: the RTO timer
      // becomes the persist timer (zero-window probes, RFC 9293 3.8.6.1,
      // and the SWS override timeout, 3.8.6.2.1).
      const bool stuck_ok = flight == 0 && t.rto_timer == kNoTimer;
      if (avail == 0) {
        if (stuck_ok) arm_rto(t);
        break;
      }
      std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(unsent, avail));
      std::size_t maxseg = t.mss;
      if (t.tso && len > t.mss) {
        // Up to 64 KiB per send, in whole segments (headers: 14 + 20 or 40 + 60).
        maxseg = std::max<std::size_t>(t.mss, std::min(tso_cap(t.v6, t.mss), len / t.mss * t.mss));
        // A send that would straddle a send-buffer chunk ends at its end
        // instead, so the next one starts a chunk and goes without a copy.
        const std::size_t left = t.sndbuf.chunk_left(off);
        if (left >= t.mss && left < maxseg) maxseg = left;
      }
      if (len > maxseg) len = maxseg;
      // (Only while two segments are in flight: the receiver ACKs every
      // second segment at once, but one alone after its delayed-ACK
      // timeout, which a deferred send would wait out.)
      if (t.tso && len < unsent && flight >= 2 * t.mss) {
        // TSO deferral (as Linux's tcp_tso_should_defer): a window-limited
        // send that would end inside a pool chunk waits for the ACKs of what
        // is in flight until it can run to the chunk's end, when the window
        // can hold that much at all. Sends then start chunks, so they go
        // without a copy, instead of following the ACK clock in small
        // pieces of which only the first starts a chunk. Nothing waits
        // once the flight is acknowledged.
        bool pooled = false;
        const std::size_t left = t.sndbuf.chunk_left(off, &pooled);
        if (pooled && len < left && left <= wnd && left <= tso_cap(t.v6, t.mss)) break;
      }
      if (len < t.mss) {
        if (len < unsent) {
          // Window-limited small segment: sender SWS avoidance.
          if (len < t.max_snd_wnd / 2) {
            if (stuck_ok) arm_rto(t);
            break;
          }
        } else if (!t.nodelay && flight > 0 && !t.fin_queued && t.sml_sent && seq_gt(t.snd_sml, t.snd_una)) {
          // Nagle (RFC 896) with Minshall's change: a small segment waits
          // while an earlier small one is in flight. A short tail after
          // full segments goes at once, so it never waits out the
          // receiver's delayed ACK.
          break;
        }
      }
      if (len < t.mss) {
        t.snd_sml = t.snd_nxt + static_cast<std::uint32_t>(len);
        t.sml_sent = true;
      }
      const std::uint8_t flags = static_cast<std::uint8_t>(f::ACK | (len == unsent ? f::PSH : 0));
      const bool rexmit = seq_lt(t.snd_nxt, t.snd_max);
      if (!t.rtt_timing && !rexmit) {
        t.rtt_timing = true;
        t.rtt_seq = t.snd_nxt + static_cast<std::uint32_t>(len);
        t.rtt_start = impl.st.scheduler().now();
      }
      send_segment(t, t.snd_nxt, len, flags, rexmit);
      t.snd_nxt += static_cast<std::uint32_t>(len);
      if (seq_gt(t.snd_nxt, t.snd_max)) t.snd_max = t.snd_nxt;
      sent = true;
    }
    // FIN once everything before it went (again after a go-back-N).
    const bool all_sent = static_cast<std::uint32_t>(t.snd_nxt - t.buf_seq) == t.sndbuf.size();
    if (t.fin_queued && all_sent && (!t.fin_sent || t.snd_nxt == t.fin_seq)) {
      const bool first = !t.fin_sent;
      t.fin_seq = t.snd_nxt;
      send_segment(t, t.snd_nxt, 0, f::FIN | f::ACK, !first);
      t.snd_nxt += 1;
      if (seq_gt(t.snd_nxt, t.snd_max)) t.snd_max = t.snd_nxt;
      t.fin_sent = true;
      sent = true;
      if (first) {
        if (t.state == TcpState::Established) set_state(t, TcpState::FinWait1);
        else if (t.state == TcpState::CloseWait) set_state(t, TcpState::LastAck);
      }
    }
  }
  if (sent && t.rto_timer == kNoTimer) arm_rto(t);
  if (!sent && force_ack) send_ack(t);
}

}  // namespace vd::stack
