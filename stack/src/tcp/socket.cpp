// The TCP socket API over the TCP layer (layer.hpp).
#include <algorithm>

#include "layer.hpp"

namespace vd::stack {

namespace {
std::error_code bad_fd() { return make_err(std::errc::bad_file_descriptor); }
}  // namespace

TcpSocket::TcpSocket(Stack& s)
    : stack_(&s),
      sndbuf_(s.impl_->tcp->cfg.sndbuf),
      rcvbuf_(s.impl_->tcp->cfg.rcvbuf),
      cc_(s.impl_->tcp->cfg.cc) {}

TcpSocket::~TcpSocket() {
  if (!stack_) return;
  TcpLayer& L = *stack_->impl_->tcp;
  if (tcb_) L.released(*tcb_);
  else if (bound_) L.unbind_port(*this);
  L.sockets.erase(this);
}

std::error_code TcpSocket::bind(Ipv4Addr addr, std::uint16_t port) {
  if (!is_open()) return bad_fd();
  if (bound_) return make_err(v6_ ? std::errc::address_family_not_supported : std::errc::invalid_argument);
  if (reuse_addr_ && port != 0) stack_->impl_->tcp->release_time_wait(addr, port);  // SO_REUSEADDR
  return stack_->impl_->tcp->bind_port(*this, addr, port);
}

std::error_code TcpSocket::bind6(const Ipv6Addr& addr, std::uint16_t port) {
  if (!is_open()) return bad_fd();
  if (bound_) return make_err(v6_ ? std::errc::invalid_argument : std::errc::address_family_not_supported);
  return stack_->impl_->tcp->bind_port(*this, addr, port);
}

std::error_code TcpSocket::listen(int backlog) {
  if (!is_open()) return bad_fd();
  if (backlog < 0) return make_err(std::errc::invalid_argument);
  TcpLayer& L = *stack_->impl_->tcp;
  if (tcb_ && tcb_->state == TcpState::Listen) {
    tcb_->backlog = backlog;  // listen() again just changes the backlog
    return {};
  }
  if (tcb_) return make_err(std::errc::invalid_argument);
  if (!bound_) return make_err(std::errc::invalid_argument);
  Tcb* t = L.create(this);
  t->lport = lport_;
  t->backlog = backlog;
  t->owns_port = true;
  t->v6 = v6_;
  with_family(v6_, [&]<class A>() {
    t->addrs<A>().laddr = laddr_of<A>();
    t->addrs<A>().port_key = {lport_, laddr_of<A>()};
    L.table<A>().listeners[{lport_, laddr_of<A>()}] = t;
  });
  L.set_state(*t, TcpState::Listen);
  tcb_ = t;
  listening_ = true;
  return {};
}

std::size_t TcpSocket::pending_accepts() const { return tcb_ && listening_ ? tcb_->accept_q.size() : 0; }

std::shared_ptr<TcpSocket> TcpSocket::accept() {
  if (!is_open() || !tcb_ || !listening_ || tcb_->accept_q.empty()) return nullptr;
  AppWork work(stack_->work_hook(), cpu_);  // an application call: CPU time on its core
  Tcb* c = tcb_->accept_q.front();
  tcb_->accept_q.pop_front();
  c->listener = nullptr;
  std::shared_ptr<TcpSocket> s(new TcpSocket(*stack_));
  stack_->impl_->tcp->sockets.insert(s.get());
  s->tcb_ = c;
  c->sock = s.get();
  s->laddr_ = c->in4.laddr;
  s->v6_ = c->v6;
  s->laddr6_ = c->in6.laddr;
  s->lport_ = c->lport;
  s->nodelay_ = c->nodelay;
  s->keepalive_ = c->keepalive;
  s->sndbuf_ = c->sndbuf.capacity();
  s->rcvbuf_ = c->rcvbuf.capacity();
  s->cc_ = c->cc;
  s->cpu_ = cpu_;
  return s;
}

namespace {
// connect() on a socket that already has a TCB.
std::error_code connect_busy(const Tcb& t) {
  if (t.state == TcpState::SynSent || t.state == TcpState::SynReceived)
    return make_err(std::errc::connection_already_in_progress);
  return make_err(t.state == TcpState::Listen ? std::errc::invalid_argument : std::errc::already_connected);
}
}  // namespace

std::error_code TcpSocket::connect(Ipv4Addr dst, std::uint16_t port) {
  if (!is_open()) return bad_fd();
  if (tcb_) return connect_busy(*tcb_);
  AppWork work(stack_->work_hook(), cpu_);  // an application call: CPU time on its core
  return stack_->impl_->tcp->connect(*this, dst, port);
}

std::error_code TcpSocket::connect(const Ipv6Addr& dst, std::uint16_t port) {
  if (!is_open()) return bad_fd();
  if (tcb_) return connect_busy(*tcb_);
  AppWork work(stack_->work_hook(), cpu_);  // an application call: CPU time on its core
  return stack_->impl_->tcp->connect(*this, dst, port);
}

namespace {
std::error_code conn_error(const TcpSocket& s) {
  return s.error() ? s.error() : make_err(std::errc::not_connected);
}
}  // namespace

std::size_t TcpSocket::send(std::span<const std::uint8_t> data, std::error_code& ec) {
  ec = {};
  if (!is_open()) return ec = bad_fd(), 0;
  if (!tcb_) return ec = conn_error(*this), 0;
  Tcb& t = *tcb_;
  switch (t.state) {
    case TcpState::Established:
    case TcpState::CloseWait:
      break;
    case TcpState::SynSent:
    case TcpState::SynReceived:
      break;  // queued until the handshake completes (as Linux's TCP Fast Open does not; we simply buffer)
    default:
      return ec = make_err(t.fin_queued ? std::errc::broken_pipe : std::errc::not_connected), 0;
  }
  if (t.fin_queued) return ec = make_err(std::errc::broken_pipe), 0;
  if (data.empty() || t.sndbuf.space() == 0) return 0;  // would block: no work done
  AppWork work(stack_->work_hook(), cpu_);  // an application call: CPU time on its core
  // The one copy on the way in: application bytes into the send buffer.
  // Into TSO-pool chunks when the connection uses TSO, each as large as one
  // TSO send, so sends go from there with no second copy.
  t.sndbuf.set_source(t.tso_pool, t.tso_pool ? tso_cap(t.v6, t.mss) : 0);
  if (stack_->work_hook()) {
    // With a CPU model, as Linux's tcp_sendmsg: what the window allows
    // leaves after each 64 KiB copied, not after the whole call's copy.
    constexpr std::size_t kPush = 64 << 10;
    std::size_t n = 0;
    while (n < data.size()) {
      const std::size_t k = t.sndbuf.push(data.subspan(n, std::min(kPush, data.size() - n)));
      if (k == 0) break;
      n += k;
      stack_->impl_->tcp->output(t);
    }
    return n;
  }
  const std::size_t n = t.sndbuf.push(data);
  if (n) stack_->impl_->tcp->output(t);
  return n;
}

std::size_t TcpSocket::recv(std::span<std::uint8_t> out, std::error_code& ec) {
  ec = {};
  if (!is_open()) return ec = bad_fd(), 0;
  if (!tcb_) {
    const std::size_t left = rx_left_.size() - rx_left_off_;
    if (left) {
      AppWork work(stack_->work_hook(), cpu_);  // an application call: CPU time on its core
      const std::size_t n = std::min(out.size(), left);
      std::copy_n(rx_left_.begin() + static_cast<std::ptrdiff_t>(rx_left_off_), n, out.begin());
      count_work(Work::copy_bytes, n);
      rx_left_off_ += n;
      return n;
    }
    if (error_) ec = error_;
    return 0;
  }
  Tcb& t = *tcb_;
  const std::size_t n = std::min(out.size(), t.rcvbuf.size());
  if (n == 0) return 0;  // would block: no work done
  AppWork work(stack_->work_hook(), cpu_);  // an application call: CPU time on its core
  const std::uint32_t before = static_cast<std::uint32_t>(t.rcv_adv - t.rcv_nxt);
  t.rcvbuf.peek(0, out.data(), n);
  count_work(Work::copy_bytes, n);
  t.rcvbuf.pop(n);
  // A window that opened by two segments or half the buffer is announced
  // now rather than with the next data (RFC 9293 3.8.6.2.2).
  const std::size_t free = t.rcvbuf.space() > t.ooo_bytes ? t.rcvbuf.space() - t.ooo_bytes : 0;
  // Only while the peer may still send (not after its FIN).
  const bool peer_sends = !t.fin_received && (t.state == TcpState::Established || t.state == TcpState::FinWait1 ||
                                              t.state == TcpState::FinWait2);
  if (peer_sends && free >= before + std::min<std::size_t>(2 * t.mss, t.rcvbuf.capacity() / 2))
    stack_->impl_->tcp->send_ack(t);
  return n;
}

bool TcpSocket::eof() const {
  return tcb_ ? tcb_->fin_received && tcb_->rcvbuf.size() == 0 : fin_seen_ && rx_left_off_ == rx_left_.size();
}
std::size_t TcpSocket::readable() const { return tcb_ ? tcb_->rcvbuf.size() : rx_left_.size() - rx_left_off_; }
std::size_t TcpSocket::writable() const {
  if (!tcb_ || tcb_->fin_queued) return 0;
  return tcb_->sndbuf.space();
}
std::size_t TcpSocket::unacked() const { return tcb_ ? tcb_->sndbuf.size() : 0; }

std::error_code TcpSocket::shutdown_write() {
  if (!is_open()) return bad_fd();
  if (!tcb_ || tcb_->state == TcpState::Listen) return make_err(std::errc::not_connected);
  if (!tcb_->fin_queued) {
    AppWork work(stack_->work_hook(), cpu_);  // an application call: CPU time on its core
    tcb_->fin_queued = true;
    stack_->impl_->tcp->output(*tcb_);
  }
  return {};
}

void TcpSocket::close() {
  if (!stack_ || closed_) return;
  closed_ = true;
  AppWork work(stack_->work_hook(), cpu_);  // an application call: CPU time on its core
  TcpLayer& L = *stack_->impl_->tcp;
  if (tcb_) {
    Tcb* t = tcb_;
    tcb_ = nullptr;
    L.released(*t);
  } else if (bound_) {
    L.unbind_port(*this);
  }
  bound_ = false;
}

void TcpSocket::abort() {
  if (!stack_ || !tcb_) return;
  AppWork work(stack_->work_hook(), cpu_);  // an application call: CPU time on its core
  TcpLayer& L = *stack_->impl_->tcp;
  Tcb& t = *tcb_;
  if (t.state != TcpState::Listen && t.state != TcpState::SynSent && t.state != TcpState::Closed)
    L.send_rst(t, t.snd_nxt, t.rcv_nxt, true);
  L.set_state(t, TcpState::Closed);
  L.destroy(t);
  closed_ = true;
}

Ipv4Addr TcpSocket::local_addr() const { return tcb_ && tcb_->state != TcpState::Listen ? tcb_->in4.laddr : laddr_; }

Ipv6Addr TcpSocket::local_addr6() const {
  return tcb_ && tcb_->state != TcpState::Listen ? tcb_->in6.laddr : laddr6_;
}
Ipv6Addr TcpSocket::remote_addr6() const { return tcb_ ? tcb_->in6.raddr : Ipv6Addr{}; }

TcpState TcpSocket::state() const { return tcb_ ? tcb_->state : TcpState::Closed; }
Ipv4Addr TcpSocket::remote_addr() const { return tcb_ ? tcb_->in4.raddr : Ipv4Addr{}; }
std::uint16_t TcpSocket::remote_port() const { return tcb_ ? tcb_->rport : 0; }

TcpInfo TcpSocket::info() const {
  if (!tcb_) {  // the connection ended: its last counters, state CLOSED
    TcpInfo i = last_info_;
    i.state = TcpState::Closed;
    return i;
  }
  TcpInfo i = tcb_->info;
  i.state = tcb_->state;
  i.cwnd = tcb_->cwnd;
  i.ssthresh = tcb_->ssthresh;
  i.snd_wnd = tcb_->snd_wnd;
  i.mss = tcb_->mss;
  i.timestamps = tcb_->ts_ok;
  i.sack_ok = tcb_->sack_ok;
  i.snd_wscale = tcb_->snd_wscale;
  i.rcv_wscale = tcb_->ws_ok ? tcb_->rcv_wscale : 0;
  i.srtt = tcb_->srtt;
  i.rto = tcb_->rto;
  return i;
}

void TcpSocket::set_nodelay(bool on) {
  nodelay_ = on;
  if (tcb_) {
    tcb_->nodelay = on;
    if (stack_ && on) stack_->impl_->tcp->output(*tcb_);
  }
}

void TcpSocket::set_keepalive(bool on) {
  keepalive_ = on;
  if (tcb_ && stack_) {
    tcb_->keepalive = on;
    stack_->impl_->tcp->keepalive_arm(*tcb_);
  }
}

std::error_code TcpSocket::set_sndbuf(std::size_t bytes) {
  if (tcb_) return make_err(std::errc::invalid_argument);
  if (bytes < 2048 || bytes > (64u << 20)) return make_err(std::errc::invalid_argument);
  sndbuf_ = bytes;
  return {};
}

std::error_code TcpSocket::set_rcvbuf(std::size_t bytes) {
  if (tcb_) return make_err(std::errc::invalid_argument);
  if (bytes < 2048 || bytes > (64u << 20)) return make_err(std::errc::invalid_argument);
  rcvbuf_ = bytes;
  return {};
}

void TcpSocket::set_congestion_control(CongestionControl cc) {
  cc_ = cc;
  if (tcb_) tcb_->cc = cc;
}

}  // namespace vd::stack
