// TCP input: checks and demultiplexing for both families, and the
// segment-arrival state machine (RFC 9293 3.10.7): SYN-SENT, then the
// acceptability test, RST (RFC 5961), SYN, ACK, data and FIN.
#include "family.hpp"
#include "layer.hpp"
#include "seq.hpp"
#include "transport.hpp"

namespace vd::stack {

namespace f = wire::tcpf;

void tcp_input(TcpLayer& L, const Ipv4Info& info, Packet&& p) { L.input(info, std::move(p)); }
void tcp_input(TcpLayer& L, const Rx6& rx) { L.input(rx); }
void tcp_pmtu6_lowered(TcpLayer& L, const Ipv6Addr& dst, std::uint32_t mtu) { L.pmtu6_lowered(dst, mtu); }

void TcpLayer::established_input(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o, Packet* p) {
  ++t.info.segs_in;
  t.last_rx = impl.st.scheduler().now();
  t.ka_probes = 0;
  TcpSocket* s = t.sock;
  Tcb* lst = t.listener;
  rx_pkt = p;
  segment_arrives(t, v, o);  // may free t; may keep *p's buffer (then v's bytes live in t.rcvbuf)
  rx_pkt = nullptr;
  notify(s);
  if (lst) notify(lst->sock);
}

template <class A>
void TcpLayer::demux(const TcpRx<A>& a, const wire::TcpView& v, const wire::TcpOptions& o, Packet* p) {
  TcpTable<A>& tab = table<A>();
  if (Tcb* t = tab.find({a.dst, a.src, v.dst_port(), v.src_port()})) return established_input(*t, v, o, p);
  if (Tcb* l = tab.listener(v.dst_port(), a.dst)) {
    TcpSocket* s = l->sock;
    listen_input(*l, a, v, o);
    notify(s);
    return;
  }
  impl.drop("tcp", "no_socket");
  send_rst_for(a, v);
}

void TcpLayer::input(const Ipv4Info& info, Packet&& p) {
  count_work(Work::tcp_rx);
  const auto v = wire::TcpView::parse(p.bytes());
  if (!v) return impl.drop("tcp", v.reason());
  const bool csum_ok = p.meta.rx_csum_l4 == OffloadMeta::Csum::Good ||
                       (p.meta.rx_csum_l4 != OffloadMeta::Csum::Bad && v->checksum_ok(info.src, info.dst));
  if (!csum_ok) return impl.drop("tcp", "bad_checksum");
  if (!info.to_us_unicast) return impl.drop("tcp", "not_unicast");
  const auto opts = v->options();
  if (!opts) return impl.drop("tcp", "bad_options");
  impl.count_rx("tcp", p.size());
  demux(TcpRx<Ipv4Addr>{info.src, info.dst, info.to_us_unicast}, *v, *opts, &p);
}

void TcpLayer::input(const Rx6& rx) {
  count_work(Work::tcp_rx);
  const auto v = wire::TcpView::parse(rx.l4);
  if (!v) return impl.drop("tcp", v.reason());
  // The checksum is over the IPv6 pseudo-header (RFC 8200 8.1); a NIC's
  // verdict stands when it gave one.
  const bool csum_ok = rx.l4_csum == OffloadMeta::Csum::Good ||
                       (rx.l4_csum != OffloadMeta::Csum::Bad && v->checksum_ok(rx.src, rx.dst));
  if (!csum_ok) return impl.drop("tcp", "bad_checksum");
  if (!rx.to_us_unicast() || rx.link_multicast) return impl.drop("tcp", "not_unicast");
  if (rx.src.is_unspecified() || rx.src.is_v4_mapped()) return impl.drop("tcp", "bad_source");
  const auto opts = v->options();
  if (!opts) return impl.drop("tcp", "bad_options");
  impl.count_rx("tcp", rx.l4.size());
  demux(TcpRx<Ipv6Addr>{rx.src, rx.dst, true}, *v, *opts, rx.pkt);
}

// Our SYN was answered (RFC 9293 3.10.7.3).
void TcpLayer::syn_sent_input(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o) {
  const std::uint8_t fl = v.flags();
  const std::uint32_t seq = v.seq();
  if ((fl & f::ACK) && (seq_le(v.ack(), t.iss) || seq_gt(v.ack(), t.snd_max))) {
    impl.drop("tcp", "bad_ack_in_syn_sent");
    if (!(fl & f::RST)) send_rst(t, v.ack(), 0, false);
    return;
  }
  if (fl & f::RST) {
    if (fl & f::ACK) return fail(t, std::errc::connection_refused);
    return impl.drop("tcp", "rst_without_ack");
  }
  if (!(fl & f::SYN)) return impl.drop("tcp", "no_syn_in_syn_sent");
  t.irs = seq;
  t.rcv_nxt = seq + 1;
  t.peer_mss = o.mss.value_or(536);
  t.ws_ok = cfg.window_scaling && o.wscale.has_value();
  t.snd_wscale = t.ws_ok ? std::min<std::uint8_t>(*o.wscale, 14) : 0;
  if (!t.ws_ok) t.rcv_wscale = 0;
  t.ts_ok = cfg.timestamps && o.timestamps.has_value();
  if (t.ts_ok) t.ts_recent = o.timestamps->first;
  t.sack_ok = cfg.sack && o.sack_permitted;
  t.mss = with_family(t.v6, [&]<class A>() { return TcpIp<A>::peer_mss(impl, t.addrs<A>().raddr, t.peer_mss, t.ts_ok); });
  t.info.mss = t.mss;
  t.cwnd = std::min<std::uint64_t>(10 * t.mss, std::max<std::uint64_t>(2 * t.mss, 14600));
  if (fl & f::ACK) {
    t.snd_una = v.ack();
    t.snd_wnd = v.window();  // unscaled in a SYN
    t.max_snd_wnd = t.snd_wnd;
    t.snd_wl1 = seq;
    t.snd_wl2 = v.ack();
    t.retries = 0;
    if (t.rto_timer != kNoTimer && t.info.timeouts == 0)
      rtt_sample(t, impl.st.scheduler().now() - t.rtt_start);
    impl.st.scheduler().cancel(t.rto_timer);
    t.rto_timer = kNoTimer;
    set_state(t, TcpState::Established);
    t.rtt_timing = false;
    keepalive_arm(t);
    send_ack(t);
    output(t);
    return;
  }
  set_state(t, TcpState::SynReceived);  // simultaneous open
  send_segment(t, t.iss, 0, f::SYN | f::ACK);
}

bool TcpLayer::acceptable(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o) {
  const std::uint8_t fl = v.flags();
  const std::uint32_t seq = v.seq();
  // PAWS first (RFC 7323 5.3).
  if (t.ts_ok && o.timestamps && !(fl & f::RST) && seq_lt(o.timestamps->first, t.ts_recent)) {
    impl.drop("tcp", "paws");
    send_ack(t);
    return false;
  }
  const std::uint64_t rwnd = static_cast<std::uint32_t>(t.rcv_adv - t.rcv_nxt);
  const std::uint32_t seg_len =
      static_cast<std::uint32_t>(v.payload().size()) + ((fl & f::SYN) ? 1 : 0) + ((fl & f::FIN) ? 1 : 0);
  auto in_window = [&](std::uint32_t s) { return seq_ge(s, t.rcv_nxt) && seq_lt(s, t.rcv_nxt + static_cast<std::uint32_t>(rwnd)); };
  bool ok;
  if (seg_len == 0) ok = rwnd == 0 ? seq == t.rcv_nxt : in_window(seq) || seq == t.rcv_nxt;
  else ok = rwnd != 0 && (in_window(seq) || in_window(seq + seg_len - 1) || (seq_lt(seq, t.rcv_nxt) && seq_gt(seq + seg_len, t.rcv_nxt)));
  if (ok) return true;
  if (fl & f::RST) {
    impl.drop("tcp", "rst_out_of_window");
    return false;
  }
  impl.drop("tcp", "out_of_window");
  if (t.state == TcpState::TimeWait && (fl & f::FIN)) enter_time_wait(t);
  send_ack(t);
  return false;
}

bool TcpLayer::syn_received_ack(Tcb& t, const wire::TcpView& v) {
  if (!(seq_lt(t.snd_una, v.ack()) && seq_le(v.ack(), t.snd_max))) {
    impl.drop("tcp", "bad_ack_in_syn_received");
    send_rst(t, v.ack(), 0, false);
    return false;
  }
  if (t.info.timeouts == 0) rtt_sample(t, impl.st.scheduler().now() - t.rtt_start);
  t.snd_una = v.ack();
  t.snd_wnd = std::uint64_t(v.window()) << t.snd_wscale;
  t.max_snd_wnd = t.snd_wnd;
  t.snd_wl1 = v.seq();
  t.snd_wl2 = v.ack();
  t.retries = 0;
  impl.st.scheduler().cancel(t.rto_timer);
  t.rto_timer = kNoTimer;
  set_state(t, TcpState::Established);
  if (t.listener) {
    Tcb& l = *t.listener;
    if (l.syn_backlog) --l.syn_backlog;
    l.accept_q.push_back(&t);
  }
  keepalive_arm(t);
  return true;
}

bool TcpLayer::fin_arrives(Tcb& t, const wire::TcpView& v) {
  const std::uint8_t fl = v.flags();
  if ((fl & f::FIN) && v.seq() + static_cast<std::uint32_t>(v.payload().size()) == t.rcv_nxt && !t.fin_received) {
    t.fin_received = true;
    t.rcv_nxt += 1;
    switch (t.state) {
      case TcpState::SynReceived:
      case TcpState::Established:
        set_state(t, TcpState::CloseWait);
        break;
      case TcpState::FinWait1:
        if (seq_gt(t.snd_una, t.fin_seq)) {
          send_ack(t);
          enter_time_wait(t);
          return false;
        }
        set_state(t, TcpState::Closing);
        break;
      case TcpState::FinWait2:
        send_ack(t);
        enter_time_wait(t);
        return false;
      default:
        break;
    }
    send_ack(t);
  } else if ((fl & f::FIN) && t.state == TcpState::TimeWait) {
    send_ack(t);
    enter_time_wait(t);  // the peer lost our ACK: restart 2 MSL
    return false;
  }
  return true;
}

void TcpLayer::segment_arrives(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o) {
  if (t.state == TcpState::SynSent) return syn_sent_input(t, v, o);
  const std::uint8_t fl = v.flags();
  const std::uint32_t seq = v.seq();
  // 1. Sequence number check.
  if (!acceptable(t, v, o)) return;
  // 2. RST (RFC 5961 3.2): exactly rcv_nxt resets, else a challenge ACK.
  if (fl & f::RST) {
    if (seq != t.rcv_nxt) {
      impl.event("tcp", "challenge_ack");
      return send_ack(t);
    }
    if (t.state == TcpState::SynReceived && t.listener) {
      impl.drop("tcp", "reset_in_syn_received");
      set_state(t, TcpState::Closed);
      return destroy(t);
    }
    if (t.state == TcpState::TimeWait || t.state == TcpState::LastAck || t.state == TcpState::Closing) {
      set_state(t, TcpState::Closed);
      return destroy(t);
    }
    return fail(t, std::errc::connection_reset);
  }
  // 3. SYN in a synchronized state (RFC 5961 4.2): challenge ACK.
  if (fl & f::SYN) {
    impl.event("tcp", "challenge_ack");
    return send_ack(t);
  }
  if (!(fl & f::ACK)) return impl.drop("tcp", "no_ack");
  // Timestamps: remember the peer's (RFC 7323 4.3).
  if (t.ts_ok && o.timestamps && seq_le(seq, t.last_ack_sent)) t.ts_recent = o.timestamps->first;
  // 4. ACK.
  if (t.state == TcpState::SynReceived) {
    if (!syn_received_ack(t, v)) return;
  } else if (!process_ack(t, v, o)) {
    return;
  }
  const bool fin_acked = t.fin_sent && seq_gt(t.snd_una, t.fin_seq);
  switch (t.state) {
    case TcpState::FinWait1:
      if (fin_acked) set_state(t, TcpState::FinWait2);
      break;
    case TcpState::Closing:
      if (fin_acked) return enter_time_wait(t);
      break;
    case TcpState::LastAck:
      if (fin_acked) {
        set_state(t, TcpState::Closed);
        return destroy(t);
      }
      break;
    default:
      break;
  }
  // 5. Data.
  if (t.state == TcpState::Established || t.state == TcpState::FinWait1 || t.state == TcpState::FinWait2)
    process_data(t, v);
  else if (!v.payload().empty()) impl.drop("tcp", "data_after_fin");
  // 6. FIN, once everything before it arrived.
  if (!fin_arrives(t, v)) return;
  output(t);
}

}  // namespace vd::stack
