// Listening sockets: SYNs into half-open children (the SYN backlog), the
// handshake's options, and SYN cookies (RFC 4987) when the queue is full.
#include <algorithm>

#include "family.hpp"
#include "layer.hpp"

namespace vd::stack {

namespace f = wire::tcpf;

template <class A>
std::optional<std::pair<Iface*, std::size_t>> TcpLayer::path_to(const TcpRx<A>& a) const {
  const auto r = TcpIp<A>::route(impl, a.src);
  if (!r) return std::nullopt;
  return std::pair{&TcpIp<A>::iface(impl, *r), TcpIp<A>::route_mss(impl, *r)};
}

namespace {
constexpr std::uint16_t kCookieMss[8] = {536, 1024, 1220, 1360, 1440, 1460, 4312, 8960};
constexpr TimePs kCookiePeriod = s_to_ps(64);

// The 4-tuple digest of an arriving segment, seen from our side.
template <class A>
std::uint64_t rx_digest(const TcpRx<A>& a) {
  return addr_digest(a.dst, a.src);
}
}  // namespace

std::uint32_t TcpLayer::cookie_make(std::uint64_t addrs, std::uint16_t lport, std::uint16_t rport,
                                    std::uint32_t peer_isn, std::uint16_t mss) const {
  const std::uint32_t t = static_cast<std::uint32_t>(impl.st.scheduler().now() / kCookiePeriod) & 31;
  std::uint32_t idx = 0;
  for (std::uint32_t i = 0; i < 8; ++i)
    if (kCookieMss[i] <= mss) idx = i;
  const std::uint64_t h = mix64(cfg.isn_secret ^ 0xc00c1e ^ mix64(addrs ^
                                                                  (std::uint64_t(lport) << 48 | std::uint64_t(rport) << 32 | peer_isn) ^ t));
  return (t << 27) | (idx << 24) | static_cast<std::uint32_t>(h & 0xffffff);
}

std::optional<std::uint16_t> TcpLayer::cookie_check(std::uint64_t addrs, std::uint16_t lport, std::uint16_t rport,
                                                    std::uint32_t peer_isn, std::uint32_t cookie) const {
  const std::uint32_t now_t = static_cast<std::uint32_t>(impl.st.scheduler().now() / kCookiePeriod) & 31;
  const std::uint32_t t = cookie >> 27;
  if (((now_t - t) & 31) > 1) return std::nullopt;  // older than two periods (64..128 s)
  const std::uint32_t idx = (cookie >> 24) & 7;
  const std::uint64_t h = mix64(cfg.isn_secret ^ 0xc00c1e ^ mix64(addrs ^
                                                                  (std::uint64_t(lport) << 48 | std::uint64_t(rport) << 32 | peer_isn) ^ t));
  if ((h & 0xffffff) != (cookie & 0xffffff)) return std::nullopt;
  return kCookieMss[idx];
}

// The listen queue is full: answer without keeping any state. Window
// scaling, SACK and timestamps cannot be remembered, so none are offered.
template <class A>
void TcpLayer::cookie_syn_ack(Tcb& l, const TcpRx<A>& a, const wire::TcpView& v, const wire::TcpOptions& o) {
  const auto path = path_to(a);
  if (!path) return impl.drop("tcp", "no_route");
  const std::uint16_t mss = static_cast<std::uint16_t>(std::min<std::size_t>(o.mss.value_or(536), path->second));
  Packet p = path->first->dev->pool().alloc();
  if (!p) return impl.drop("tcp", "no_buffer");
  wire::TcpRepr h;
  h.src_port = v.dst_port();
  h.dst_port = v.src_port();
  h.seq = cookie_make(rx_digest(a), v.dst_port(), v.src_port(), v.seq(), mss);
  h.ack = v.seq() + 1;
  h.flags = f::SYN | f::ACK;
  h.window = static_cast<std::uint16_t>(std::min<std::size_t>(l.rcvbuf.capacity(), 65535));
  h.opts.mss = mss;
  wire::emit_tcp(p, h, a.dst, a.src, false);
  auto r = TcpIp<A>::route(impl, a.src);
  if (!r) return;
  const std::size_t n = p.size();
  if (TcpIp<A>::output(impl, *r, a.dst, std::move(p), false)) return;
  impl.count_tx("tcp", n);
  count_work(Work::tcp_tx);
  impl.event("tcp", "syncookies_sent");
}

// A child of listener l for the segment's 4-tuple, with l's options, filed
// in the connection table.
template <class A>
Tcb* TcpLayer::new_child(Tcb& l, const TcpRx<A>& a, const wire::TcpView& v, Iface& ifc) {
  Tcb* c = create(nullptr);
  c->cc = l.cc;
  c->nodelay = l.nodelay;
  c->keepalive = l.keepalive;
  c->sndbuf.resize(l.sndbuf.capacity());
  c->rcvbuf.resize(l.rcvbuf.capacity());
  c->listener = &l;
  file(*c, ConnKey<A>{a.dst, a.src, v.dst_port(), v.src_port()});
  setup_connection(*c, ifc);
  return c;
}

// The ACK that completes a cookie handshake: rebuild the connection from
// the cookie and hand the segment (it may carry data) to it.
template <class A>
bool TcpLayer::cookie_accept(Tcb& l, const TcpRx<A>& a, const wire::TcpView& v, const wire::TcpOptions& o) {
  const auto mss = cookie_check(rx_digest(a), v.dst_port(), v.src_port(), v.seq() - 1, v.ack() - 1);
  if (!mss) return false;
  if (l.accept_q.size() >= static_cast<std::size_t>(std::max(l.backlog, 1))) {
    impl.drop("tcp", "listen_overflow");
    return true;  // valid, but no room yet: the peer's retransmission will try again
  }
  const auto path = path_to(a);
  if (!path) return true;
  Tcb* c = new_child(l, a, v, *path->first);
  c->iss = v.ack() - 1;
  c->irs = v.seq() - 1;
  c->rcv_nxt = v.seq();
  c->rcv_adv = c->rcv_nxt + static_cast<std::uint32_t>(std::min<std::size_t>(c->rcvbuf.capacity(), 65535));
  c->peer_mss = *mss;
  c->ws_ok = c->ts_ok = false;
  c->rcv_wscale = c->snd_wscale = 0;
  c->mss = *mss;
  c->info.mss = c->mss;
  c->snd_una = c->snd_nxt = c->snd_max = c->buf_seq = v.ack();
  c->snd_wnd = v.window();
  c->max_snd_wnd = c->snd_wnd;
  c->snd_wl1 = v.seq();
  c->snd_wl2 = v.ack();
  c->cwnd = std::min<std::uint64_t>(10 * c->mss, std::max<std::uint64_t>(2 * c->mss, 14600));
  c->ssthresh = std::uint64_t(1) << 30;
  set_state(*c, TcpState::Established);
  l.accept_q.push_back(c);
  impl.event("tcp", "syncookies_ok");
  ++c->info.segs_in;
  if (!v.payload().empty() || (v.flags() & f::FIN)) segment_arrives(*c, v, o);
  return true;
}

template <class A>
void TcpLayer::listen_input(Tcb& l, const TcpRx<A>& a, const wire::TcpView& v, const wire::TcpOptions& o) {
  const std::uint8_t fl = v.flags();
  if (fl & f::RST) return impl.drop("tcp", "rst_to_listener");
  if (fl & f::ACK) {
    if (!(fl & f::SYN) && cfg.syncookies && cookie_accept(l, a, v, o)) return;
    impl.drop("tcp", "ack_to_listener");
    return send_rst_for(a, v);
  }
  if (!(fl & f::SYN)) return impl.drop("tcp", "no_syn_to_listener");
  if (l.accept_q.size() + l.syn_backlog >= static_cast<std::size_t>(std::max(l.backlog, 1))) {
    if (cfg.syncookies) return cookie_syn_ack(l, a, v, o);
    return impl.drop("tcp", "listen_overflow");
  }
  const auto path = path_to(a);
  if (!path) return impl.drop("tcp", "no_route");
  Tcb* c = new_child(l, a, v, *path->first);
  ++l.syn_backlog;
  c->iss = make_isn(c->key<A>());
  c->ts_offset = static_cast<std::uint32_t>(mix64(cfg.isn_secret + c->iss));
  c->irs = v.seq();
  c->rcv_nxt = v.seq() + 1;
  c->peer_mss = o.mss.value_or(536);
  c->ws_ok = cfg.window_scaling && o.wscale.has_value();
  c->snd_wscale = c->ws_ok ? std::min<std::uint8_t>(*o.wscale, 14) : 0;
  if (!c->ws_ok) c->rcv_wscale = 0;
  c->ts_ok = cfg.timestamps && o.timestamps.has_value();
  if (c->ts_ok) c->ts_recent = o.timestamps->first;
  c->sack_ok = cfg.sack && o.sack_permitted;
  c->mss = static_cast<std::uint32_t>(std::min<std::size_t>(c->peer_mss, path->second) - (c->ts_ok ? 12 : 0));
  c->snd_wnd = v.window();  // unscaled in a SYN
  c->snd_una = c->iss;
  c->snd_nxt = c->iss + 1;
  c->snd_max = c->snd_nxt;
  c->buf_seq = c->iss + 1;
  c->cwnd = std::min<std::uint64_t>(10 * c->mss, std::max<std::uint64_t>(2 * c->mss, 14600));  // RFC 6928
  c->ssthresh = std::uint64_t(1) << 30;
  c->info.mss = c->mss;
  set_state(*c, TcpState::SynReceived);
  ++c->info.segs_in;
  c->rtt_start = impl.st.scheduler().now();
  send_segment(*c, c->iss, 0, f::SYN | f::ACK);
  arm_rto(*c);
}
template void TcpLayer::listen_input(Tcb&, const TcpRx<Ipv4Addr>&, const wire::TcpView&, const wire::TcpOptions&);
template void TcpLayer::listen_input(Tcb&, const TcpRx<Ipv6Addr>&, const wire::TcpView&, const wire::TcpOptions&);

}  // namespace vd::stack
