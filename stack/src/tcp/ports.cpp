// Ports and connection set-up for both families: bind (with the ephemeral
// range and SO_REUSEADDR over TIME-WAIT), connect (the active open), path
// MTU changes, and the end of the stack.
#include <algorithm>
#include <vector>

#include "family.hpp"
#include "layer.hpp"

namespace vd::stack {

template <class A>
std::error_code TcpLayer::bind_port(TcpSocket& s, const A& addr, std::uint16_t port) {
  using Ip = TcpIp<A>;
  if (Ip::bad_bind_addr(addr)) return make_err(std::errc::invalid_argument);
  if (!addr.is_unspecified() && !Ip::is_our_addr(impl, addr)) return make_err(std::errc::address_not_available);
  TcpTable<A>& tab = table<A>();
  if (port == 0) {
    // One ephemeral walk for both families (their port spaces are separate).
    port = pick_ephemeral(next_ephemeral, [&](std::uint16_t p) { return tab.port_free(addr, p); });
    if (port == 0) return make_err(std::errc::address_in_use);
  } else if (!tab.port_free(addr, port)) {
    return make_err(std::errc::address_in_use);
  }
  tab.bound.insert({port, addr});
  s.v6_ = kIsV6<A>;
  s.laddr_of<A>() = addr;
  s.lport_ = port;
  s.bound_ = true;
  return {};
}
template std::error_code TcpLayer::bind_port(TcpSocket&, const Ipv4Addr&, std::uint16_t);
template std::error_code TcpLayer::bind_port(TcpSocket&, const Ipv6Addr&, std::uint16_t);

void TcpLayer::unbind_port(TcpSocket& s) {
  with_family(s.v6_, [&]<class A>() { table<A>().bound.erase({s.lport_, s.laddr_of<A>()}); });
}

// SO_REUSEADDR for TCP: a bind may take over a port that only connections
// in TIME-WAIT still hold (Linux semantics). The TIME-WAIT connections live
// on (they still answer their peer's retransmitted FIN) but no longer own
// the port, so their end does not free the new socket's binding.
template <class A>
void TcpLayer::release_time_wait(const A& addr, std::uint16_t port) {
  TcpTable<A>& tab = table<A>();
  // The bindings a bind to (addr, port) conflicts with.
  std::vector<PortKey<A>> keys;
  if (addr.is_unspecified()) {
    for (auto it = tab.bound.lower_bound({port, A{}}); it != tab.bound.end() && it->first == port; ++it)
      keys.push_back(*it);
  } else {
    if (tab.bound.count({port, addr})) keys.push_back({port, addr});
    if (tab.bound.count({port, A{}})) keys.push_back({port, A{}});
  }
  if (keys.empty()) return;
  std::vector<Tcb*> holders;
  for (const PortKey<A>& k : keys) {
    Tcb* h = nullptr;
    for (auto& [ck, t] : tab.conns)
      if (t->owns_port && t->template addrs<A>().port_key == k) h = t.get();
    // A listener, a bound socket or a live connection: the bind fails as usual.
    if (!h || h->state != TcpState::TimeWait) return;
    holders.push_back(h);
  }
  for (Tcb* h : holders) {
    h->owns_port = false;
    tab.bound.erase(h->addrs<A>().port_key);
  }
}
template void TcpLayer::release_time_wait(const Ipv4Addr&, std::uint16_t);

namespace {
// The sequence-space start of a fresh active open and its SYN; sock_tcb is
// the socket's TCB pointer, cleared if the SYN fails.
void start_active_open(TcpLayer& L, Tcb& t, Iface& ifc, std::uint32_t mss, Tcb*& sock_tcb) {
  L.setup_connection(t, ifc);
  t.snd_una = t.iss;
  t.snd_nxt = t.iss + 1;
  t.snd_max = t.snd_nxt;
  t.buf_seq = t.iss + 1;
  t.mss = mss;
  t.cwnd = 10 * std::uint64_t(t.mss);
  t.ssthresh = std::uint64_t(1) << 30;
  t.rtt_start = L.impl.st.scheduler().now();
  sock_tcb = &t;
  L.set_state(t, TcpState::SynSent);
  L.send_segment(t, t.iss, 0, wire::tcpf::SYN);
  if (sock_tcb) L.arm_rto(t);
}
}  // namespace

template <class A>
std::error_code TcpLayer::connect(TcpSocket& s, const A& dst, std::uint16_t port) {
  using Ip = TcpIp<A>;
  if (s.bound_ && s.v6_ != kIsV6<A>) return make_err(std::errc::address_family_not_supported);
  if (port == 0 || Ip::bad_peer(dst)) return make_err(std::errc::invalid_argument);
  const auto r = Ip::route(impl, dst);
  if (!r) return make_err(std::errc::network_unreachable);
  if (!s.bound_) {
    if (auto ec = bind_port(s, A{}, 0)) return ec;
  }
  const A bound = s.laddr_of<A>();
  const ConnKey<A> k{bound.is_unspecified() ? r->src : bound, dst, s.lport_, port};
  if (table<A>().conns.count(k)) return make_err(std::errc::address_in_use);
  Tcb* t = create(&s);
  file(*t, k);
  t->owns_port = true;
  t->iss = make_isn(k);
  t->addrs<A>().port_key = {s.lport_, bound};
  start_active_open(*this, *t, Ip::iface(impl, *r), static_cast<std::uint32_t>(Ip::route_mss(impl, *r)), s.tcb_);
  return {};
}
template std::error_code TcpLayer::connect(TcpSocket&, const Ipv4Addr&, std::uint16_t);
template std::error_code TcpLayer::connect(TcpSocket&, const Ipv6Addr&, std::uint16_t);

void TcpLayer::pmtu6_lowered(const Ipv6Addr& dst, std::uint32_t mtu) {
  std::vector<Tcb*> hit;
  for (auto& [k, t] : tab6.conns)
    if (k.raddr == dst) hit.push_back(t.get());
  for (Tcb* t : hit) {
    const std::uint32_t mss = mss6_for(mtu, t->peer_mss, t->ts_ok);
    if (mss >= t->mss) continue;
    t->mss = mss;
    t->info.mss = mss;
    impl.event("tcp", "pmtu_mss_lowered");
    // The segment the router dropped (most likely the first unacknowledged
    // one) goes again at the new size now rather than after a timeout.
    if (!synchronized_state(t->state)) continue;
    const std::size_t flight = static_cast<std::uint32_t>(t->snd_nxt - t->snd_una);
    const std::size_t n = std::min<std::size_t>({flight, t->sndbuf.size(), t->mss});
    if (n) send_segment(*t, t->snd_una, n, wire::tcpf::ACK, true);
  }
}

void TcpLayer::shutdown() {
  auto orphan = [](Tcb& t) {
    if (t.sock) t.sock->tcb_ = nullptr;
  };
  for (auto& [k, t] : tab4.conns) cancel_timers(*t), orphan(*t);
  for (auto& [k, t] : tab6.conns) cancel_timers(*t), orphan(*t);
  for (auto& t : unbound) cancel_timers(*t), orphan(*t);
  for (TcpSocket* s : sockets) s->stack_ = nullptr;
  sockets.clear();
  tab4 = {};
  tab6 = {};
  unbound.clear();
}

}  // namespace vd::stack
