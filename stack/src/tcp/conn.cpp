// The TCB's lifecycle: creation, filing under a 4-tuple, route-dependent
// set-up, keyed ISNs (RFC 6528), TIME-WAIT, and the end of a connection
// (reset, timeout, the application letting go).
#include <algorithm>

#include "layer.hpp"

namespace vd::stack {

const char* tcp_state_name(TcpState s) {
  switch (s) {
    case TcpState::Closed: return "CLOSED";
    case TcpState::Listen: return "LISTEN";
    case TcpState::SynSent: return "SYN-SENT";
    case TcpState::SynReceived: return "SYN-RECEIVED";
    case TcpState::Established: return "ESTABLISHED";
    case TcpState::FinWait1: return "FIN-WAIT-1";
    case TcpState::FinWait2: return "FIN-WAIT-2";
    case TcpState::CloseWait: return "CLOSE-WAIT";
    case TcpState::Closing: return "CLOSING";
    case TcpState::LastAck: return "LAST-ACK";
    case TcpState::TimeWait: return "TIME-WAIT";
  }
  return "?";
}

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

namespace {

std::uint8_t wscale_for(std::size_t buf) {
  std::uint8_t s = 0;
  while (s < 14 && (buf >> s) > 65535) ++s;
  return s;
}

std::uint64_t half(const Ipv6Addr& a, std::size_t off) {
  std::uint64_t x = 0;
  for (std::size_t i = 0; i < 8; ++i) x = x << 8 | a.b[off + i];
  return x;
}

}  // namespace

std::uint64_t addr_digest(const Ipv4Addr& l, const Ipv4Addr& r) { return std::uint64_t(l.to_u32()) << 32 | r.to_u32(); }
std::uint64_t addr_digest(const Ipv6Addr& l, const Ipv6Addr& r) {
  return mix64(half(l, 0) ^ mix64(half(l, 8) ^ mix64(half(r, 0) ^ mix64(half(r, 8)))));
}

template <class A>
std::uint32_t TcpLayer::make_isn(const ConnKey<A>& k) {
  // RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock.
  const std::uint64_t h = mix64(cfg.isn_secret ^ mix64(addr_digest(k.laddr, k.raddr) ^
                                                       (std::uint64_t(k.lport) << 16 | k.rport)));
  const std::uint64_t m = impl.st.scheduler().now() / (4 * kPsPerNs * 1000);
  return static_cast<std::uint32_t>(h + m);
}
template std::uint32_t TcpLayer::make_isn(const ConnKey<Ipv4Addr>&);
template std::uint32_t TcpLayer::make_isn(const ConnKey<Ipv6Addr>&);

std::uint32_t TcpLayer::ts_now(const Tcb& t) const {
  return static_cast<std::uint32_t>(impl.st.scheduler().now() / (kPsPerNs * 1000 * 1000)) + t.ts_offset;  // 1 ms ticks
}

void TcpLayer::set_state(Tcb& t, TcpState s) {
  t.state = s;
  t.info.state = s;
}

void TcpLayer::cancel_timers(Tcb& t) {
  if (t.burst_ack) std::erase(burst_acks, &t);  // the TCB is going away
  t.burst_ack = false;
  Scheduler& sc = impl.st.scheduler();
  for (TimerId* id : {&t.rto_timer, &t.delack_timer, &t.tw_timer, &t.ka_timer}) {
    sc.cancel(*id);
    *id = kNoTimer;
  }
}

Tcb* TcpLayer::create(TcpSocket* s) {
  auto t = std::make_unique<Tcb>();
  t->sock = s;
  t->cc = s ? s->cc_ : cfg.cc;
  t->nodelay = s ? s->nodelay_ : false;
  t->keepalive = s ? s->keepalive_ : false;
  t->sndbuf.resize(s ? s->sndbuf_ : cfg.sndbuf);
  t->rcvbuf.resize(s ? s->rcvbuf_ : cfg.rcvbuf);
  t->rto = cfg.rto_initial;
  Tcb* raw = t.get();
  unbound.push_back(std::move(t));
  return raw;
}

template <class A>
void TcpLayer::file(Tcb& t, const ConnKey<A>& k) {
  t.v6 = kIsV6<A>;
  t.addrs<A>().laddr = k.laddr;
  t.addrs<A>().raddr = k.raddr;
  t.lport = k.lport;
  t.rport = k.rport;
  auto u = std::find_if(unbound.begin(), unbound.end(), [&](const auto& p) { return p.get() == &t; });
  table<A>().conns[k] = std::move(*u);
  unbound.erase(u);
}
template void TcpLayer::file(Tcb&, const ConnKey<Ipv4Addr>&);
template void TcpLayer::file(Tcb&, const ConnKey<Ipv6Addr>&);

// Route-dependent parameters: MSS, offloads, window scale.
void TcpLayer::setup_connection(Tcb& t, Iface& ifc) {
  const DeviceFeatures& fe = ifc.dev->features();
  t.csum_offload = fe.tx_csum_partial;
  t.tso = cfg.use_tso && fe.tso && ifc.dev->tso_pool() != nullptr;
  t.tso_pool = t.tso ? ifc.dev->tso_pool() : nullptr;
  t.rcv_wscale = cfg.window_scaling ? wscale_for(t.rcvbuf.capacity()) : 0;
  t.ts_offset = static_cast<std::uint32_t>(mix64(cfg.isn_secret + t.iss));
}

// A listener goes: connections nobody accepted are reset, half-open ones
// forgotten.
template <class A>
void TcpLayer::destroy_children(Tcb& l) {
  std::vector<Tcb*> kids;
  for (auto& [k, c] : table<A>().conns)
    if (c->listener == &l) kids.push_back(c.get());
  for (Tcb* c : kids) {
    c->listener = nullptr;
    if (synchronized_state(c->state)) send_rst(*c, c->snd_nxt, c->rcv_nxt, true);
    destroy(*c);
  }
}

void TcpLayer::destroy(Tcb& t) {
  cancel_timers(t);
  if (t.owns_port) {
    with_family(t.v6, [&]<class A>() { table<A>().bound.erase(t.addrs<A>().port_key); });
    t.owns_port = false;
  }
  if (t.sock) {
    t.sock->fin_seen_ = t.fin_received;
    if (const std::size_t n = t.rcvbuf.size()) {
      t.sock->rx_left_.resize(n);
      t.rcvbuf.peek(0, t.sock->rx_left_.data(), n);
      t.sock->rx_left_off_ = 0;
    }
    t.sock->last_info_ = t.sock->info();  // TCP_INFO keeps the final counters
    t.sock->tcb_ = nullptr;
    t.sock = nullptr;
  }
  if (t.state == TcpState::Listen) {
    std::erase_if(tab4.listeners, [&](const auto& kv) { return kv.second == &t; });
    std::erase_if(tab6.listeners, [&](const auto& kv) { return kv.second == &t; });
    with_family(t.v6, [&]<class A>() { destroy_children<A>(t); });
  }
  if (t.listener) {
    auto& q = t.listener->accept_q;
    q.erase(std::remove(q.begin(), q.end(), &t), q.end());
    if (t.state == TcpState::SynReceived && t.listener->syn_backlog) --t.listener->syn_backlog;
  }
  const bool filed = with_family(t.v6, [&]<class A>() {
    auto& conns = table<A>().conns;
    const auto it = conns.find(t.key<A>());
    if (it == conns.end() || it->second.get() != &t) return false;
    conns.erase(it);
    return true;
  });
  if (!filed) std::erase_if(unbound, [&](const std::unique_ptr<Tcb>& p) { return p.get() == &t; });
}

void TcpLayer::notify(TcpSocket* s) {
  // Only sockets still alive (a handler may have dropped one meanwhile).
  if (s && sockets.count(s) && s->notify_) s->notify_();
}

void TcpLayer::fail(Tcb& t, std::errc e) {
  t.error = make_err(e);
  if (t.sock) t.sock->error_ = t.error;
  TcpSocket* s = t.sock;
  struct Later {  // tell the socket once the TCB is gone
    TcpLayer& L;
    TcpSocket* s;
    ~Later() { L.notify(s); }
  } later{*this, s};
  impl.drop("tcp", e == std::errc::timed_out ? "connection_timed_out" : "connection_reset");
  set_state(t, TcpState::Closed);
  destroy(t);
}

void TcpLayer::enter_time_wait(Tcb& t) {
  set_state(t, TcpState::TimeWait);
  Scheduler& sc = impl.st.scheduler();
  sc.cancel(t.rto_timer);
  t.rto_timer = kNoTimer;
  sc.cancel(t.tw_timer);
  Tcb* p = &t;
  t.tw_timer = sc.schedule_in(2 * cfg.msl, [this, p] {
    p->tw_timer = kNoTimer;
    set_state(*p, TcpState::Closed);
    destroy(*p);
  });
}

void TcpLayer::released(Tcb& t) {
  t.sock = nullptr;
  switch (t.state) {
    case TcpState::Closed:
    case TcpState::Listen:
    case TcpState::SynSent:
      return destroy(t);
    default:
      break;
  }
  if (t.rcvbuf.size() > 0 || !t.ooo.empty()) {
    // RFC 2525 2.17: closing with unread data resets the connection.
    send_rst(t, t.snd_nxt, t.rcv_nxt, true);
    impl.event("tcp", "reset_unread_data");
    set_state(t, TcpState::Closed);
    return destroy(t);
  }
  if (!t.fin_queued) {
    t.fin_queued = true;
    output(t);
  }
  // An orphan waiting for the peer's FIN does not wait forever.
  if (t.state == TcpState::FinWait2 || t.state == TcpState::FinWait1) {
    Scheduler& sc = impl.st.scheduler();
    sc.cancel(t.tw_timer);
    Tcb* p = &t;
    t.tw_timer = sc.schedule_in(2 * cfg.msl, [this, p] {
      p->tw_timer = kNoTimer;
      if (p->state == TcpState::FinWait2 || p->state == TcpState::FinWait1) {
        impl.drop("tcp", "orphan_timeout");
        set_state(*p, TcpState::Closed);
        destroy(*p);
      }
    });
  }
}

}  // namespace vd::stack
