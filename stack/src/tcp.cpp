// TCP (RFC 9293): connection state machine, retransmission (RFC 6298),
// congestion control (RFC 5681, NewReno RFC 6582, CUBIC RFC 9438), window
// scaling and PAWS (RFC 7323), RST/SYN hardening (RFC 5961), keyed ISNs
// (RFC 6528), delayed ACKs, Nagle, keepalive, zero-window probes, SWS
// avoidance, bounded out-of-order reassembly, TSO and checksum offload.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ipv6_impl.hpp"
#include "tcp_impl.hpp"

namespace vd::stack {

namespace f = wire::tcpf;

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

// ------------------------------------------------------------ SendQueue

void SendQueue::add_chunk() {
  Chunk c;
  // A pool chunk only while the pool is at least half free: the NIC's own
  // sends (copies, other connections) keep the rest.
  if (pool_ && pool_->available() * 2 >= pool_->capacity()) c.pkt = pool_->alloc();
  if (c.pkt) {
    c.cap = std::min(chunk_, c.pkt.tailroom());
    c.data = c.pkt.data();
  } else {
    c.cap = std::max<std::size_t>(1, std::min(chunk_, cap_));
    c.own.reset(new std::uint8_t[c.cap]);  // not zero-filled: only read where written
    c.data = c.own.get();
  }
  uniform_ = chunks_.empty() || (uniform_ && c.cap == chunks_.front().cap);
  chunks_.push_back(std::move(c));
}

std::size_t SendQueue::push(std::span<const std::uint8_t> d) {
  const std::size_t n = std::min(d.size(), space());
  std::size_t done = 0;
  while (done < n) {
    if (chunks_.empty() || chunks_.back().end == chunks_.back().cap) add_chunk();
    Chunk& c = chunks_.back();
    const std::size_t k = std::min(n - done, c.cap - c.end);
    std::memcpy(c.data + c.end, d.data() + done, k);
    if (c.pkt) {
      c.pkt.append(k);
      c.pkt.pool()->count_copy_in(k);
    }
    c.end += k;
    done += k;
  }
  len_ += n;
  return n;
}

std::pair<std::size_t, std::size_t> SendQueue::locate(std::size_t off) const {
  if (chunks_.empty()) return {0, off};
  const Chunk& f = chunks_.front();
  const std::size_t live0 = f.end - f.start;
  if (off < live0) return {0, off};
  off -= live0;
  // Every chunk after the first starts at its byte 0 and, but the last, is
  // full: with one chunk size the index is a division (a send buffer of
  // megabytes holds dozens of chunks, walked per segment otherwise).
  if (uniform_) return {1 + off / f.cap, off % f.cap};
  for (std::size_t i = 1; i < chunks_.size(); ++i) {
    const std::size_t live = chunks_[i].end - chunks_[i].start;
    if (off < live) return {i, off};
    off -= live;
  }
  return {chunks_.size(), off};
}

void SendQueue::peek(std::size_t off, std::uint8_t* out, std::size_t n) const {
  auto [i, o] = locate(off);
  for (; n && i < chunks_.size(); ++i, o = 0) {
    const Chunk& c = chunks_[i];
    const std::size_t live = c.end - c.start;
    if (o >= live) break;
    const std::size_t k = std::min(n, live - o);
    std::memcpy(out, c.data + c.start + o, k);
    out += k;
    n -= k;
  }
}

void SendQueue::pop(std::size_t n) {
  n = std::min(n, len_);
  len_ -= n;
  while (n) {
    Chunk& c = chunks_.front();
    const std::size_t k = std::min(n, c.end - c.start);
    c.start += k;
    n -= k;
    if (c.start == c.end && chunks_.size() > 1) chunks_.pop_front();
  }
  if (len_ == 0 && !chunks_.empty()) {
    // Empty: a pool buffer goes back (idle connections hold none); a heap
    // block is kept for the next bytes.
    if (chunks_.front().pkt) {
      chunks_.clear();
    } else {
      chunks_.front().start = chunks_.front().end = 0;
    }
  }
}

std::size_t SendQueue::chunk_left(std::size_t off, bool* pooled, bool room) const {
  const auto [i, o] = locate(off);
  if (i >= chunks_.size()) return 0;
  const Chunk& c = chunks_[i];
  const std::size_t live = c.end - c.start;
  if (o >= live) return 0;
  if (pooled) *pooled = static_cast<bool>(c.pkt);
  return live - o + (room ? c.cap - c.end : 0);
}

Packet SendQueue::share(std::size_t off, std::size_t n, const BufferPool* pool) {
  const auto [i, o] = locate(off);
  if (i >= chunks_.size()) return Packet{};
  Chunk& c = chunks_[i];
  const std::size_t live = c.end - c.start;
  // The segment must start at the chunk's first live byte: in front of it
  // is the buffer's headroom and acknowledged bytes, which the headers
  // may overwrite.
  if (o != 0 || !c.pkt || c.pkt.pool() != pool || n > live || c.pkt.use_count() != 1) return Packet{};
  Packet p = c.pkt.share();
  p.pull(c.start);
  p.trim(n);
  return p;
}

// ------------------------------------------------------------ RecvQueue

std::size_t RecvQueue::push(std::span<const std::uint8_t> d) {
  const std::size_t n = std::min(d.size(), space());
  if (n == 0) return 0;
  // Small copies go into the last copied chunk while it has room, so a run
  // of tiny segments does not cost an allocation each.
  if (chunks_.empty() || chunks_.back().pkt || chunks_.back().own.capacity() - chunks_.back().own.size() < n) {
    Chunk c;
    c.own.reserve(std::max<std::size_t>(n, 16 * 1024));
    chunks_.push_back(std::move(c));
  }
  Chunk& c = chunks_.back();
  c.own.insert(c.own.end(), d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
  c.len += n;
  len_ += n;
  return n;
}

bool RecvQueue::adopt(Packet& p, std::span<const std::uint8_t> d) {
  if (!p || d.empty() || d.size() > space()) return false;
  BufferPool* pool = p.pool();
  if (pool->available() * 2 < pool->capacity()) return false;
  const std::uint8_t* b = p.data();
  if (d.data() < b || d.data() + d.size() > b + p.size()) return false;
  Chunk c;
  c.off = static_cast<std::size_t>(d.data() - b);
  c.len = d.size();
  c.pkt = std::move(p);
  chunks_.push_back(std::move(c));
  len_ += d.size();
  adopted_ += d.size();
  return true;
}

void RecvQueue::peek(std::size_t off, std::uint8_t* out, std::size_t n) const {
  for (const Chunk& c : chunks_) {
    if (n == 0) break;
    if (off >= c.len) {
      off -= c.len;
      continue;
    }
    const std::size_t k = std::min(n, c.len - off);
    std::memcpy(out, c.base() + c.off + off, k);
    out += k;
    n -= k;
    off = 0;
  }
}

void RecvQueue::pop(std::size_t n) {
  n = std::min(n, len_);
  len_ -= n;
  while (n) {
    Chunk& c = chunks_.front();
    const std::size_t k = std::min(n, c.len);
    c.off += k;
    c.len -= k;
    n -= k;
    if (c.len == 0 && (c.pkt || chunks_.size() > 1)) chunks_.pop_front();  // keep the last copy chunk's space
  }
  if (len_ == 0 && !chunks_.empty() && !chunks_.front().pkt) {
    Chunk& c = chunks_.front();  // reuse the copy buffer from its start
    c.own.clear();
    c.off = c.len = 0;
  }
}

// ------------------------------------------------------------ helpers

namespace {

std::uint64_t mix64(std::uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::uint8_t wscale_for(std::size_t buf) {
  std::uint8_t s = 0;
  while (s < 14 && (buf >> s) > 65535) ++s;
  return s;
}

// The two addresses of a 4-tuple as 64 bits for the keyed hashes (ISN,
// SYN cookies). IPv4: both addresses exactly; IPv6: all 256 bits mixed.
std::uint64_t addr_digest(std::uint32_t laddr, std::uint32_t raddr) { return std::uint64_t(laddr) << 32 | raddr; }
std::uint64_t half(const Ipv6Addr& a, std::size_t off) {
  std::uint64_t x = 0;
  for (std::size_t i = 0; i < 8; ++i) x = x << 8 | a.b[off + i];
  return x;
}
std::uint64_t addr_digest(const Ipv6Addr& l, const Ipv6Addr& r) {
  return mix64(half(l, 0) ^ mix64(half(l, 8) ^ mix64(half(r, 0) ^ mix64(half(r, 8)))));
}

}  // namespace

std::uint32_t TcpLayer::make_isn(const ConnKey& k) {
  // RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock.
  const std::uint64_t h = mix64(cfg.isn_secret ^ mix64(addr_digest(k.laddr, k.raddr) ^
                                                       (std::uint64_t(k.lport) << 16 | k.rport)));
  const std::uint64_t m = impl.st.scheduler().now() / (4 * kPsPerNs * 1000);
  return static_cast<std::uint32_t>(h + m);
}

std::uint32_t TcpLayer::make_isn(const ConnKey6& k) {
  // RFC 6528 over the IPv6 4-tuple (all 128 bits of both addresses).
  const std::uint64_t h = mix64(cfg.isn_secret ^ mix64(addr_digest(k.laddr, k.raddr) ^
                                                       (std::uint64_t(k.lport) << 16 | k.rport)));
  const std::uint64_t m = impl.st.scheduler().now() / (4 * kPsPerNs * 1000);
  return static_cast<std::uint32_t>(h + m);
}

std::uint32_t TcpLayer::mss6_for(std::size_t mtu, std::uint16_t peer_mss, bool ts) {
  const std::size_t m = std::max<std::size_t>(mtu, wire::kIpv6MinMtu) - wire::kIpv6HeaderLen - wire::kTcpMinHeaderLen;
  return static_cast<std::uint32_t>(std::min<std::size_t>(peer_mss, m) - (ts ? 12 : 0));
}

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

// Route-dependent parameters: MSS, offloads, window scale.
void TcpLayer::setup_connection(Tcb& t, Iface& ifc) {
  const DeviceFeatures& fe = ifc.dev->features();
  t.csum_offload = fe.tx_csum_partial;
  t.tso = cfg.use_tso && fe.tso && ifc.dev->tso_pool() != nullptr;
  t.tso_pool = t.tso ? ifc.dev->tso_pool() : nullptr;
  t.rcv_wscale = cfg.window_scaling ? wscale_for(t.rcvbuf.capacity()) : 0;
  t.ts_offset = static_cast<std::uint32_t>(mix64(cfg.isn_secret + t.iss));
}

void TcpLayer::destroy(Tcb& t) {
  cancel_timers(t);
  if (t.owns_port) {
    if (t.v6) bound6.erase(t.port_key6);
    else bound.erase(t.port_key);
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
    std::erase_if(listeners, [&](const auto& kv) { return kv.second == &t; });
    std::erase_if(listeners6, [&](const auto& kv) { return kv.second == &t; });
    // Connections nobody accepted are reset, half-open ones forgotten.
    std::vector<Tcb*> kids;
    if (t.v6) {
      for (auto& [k, c] : conns6)
        if (c->listener == &t) kids.push_back(c.get());
    } else {
      for (auto& [k, c] : conns)
        if (c->listener == &t) kids.push_back(c.get());
    }
    for (Tcb* c : kids) {
      c->listener = nullptr;
      if (synchronized_state(c->state)) send_rst(*c, c->snd_nxt, c->rcv_nxt, true);
      destroy(*c);
    }
  }
  if (t.listener) {
    auto& q = t.listener->accept_q;
    q.erase(std::remove(q.begin(), q.end(), &t), q.end());
    if (t.state == TcpState::SynReceived && t.listener->syn_backlog) --t.listener->syn_backlog;
  }
  if (t.v6) {
    const auto it6 = conns6.find(t.key6);
    if (it6 != conns6.end() && it6->second.get() == &t) {
      conns6.erase(it6);
      return;
    }
  } else {
    const auto it = conns.find(t.key);
    if (it != conns.end() && it->second.get() == &t) {
      conns.erase(it);
      return;
    }
  }
  std::erase_if(unbound, [&](const std::unique_ptr<Tcb>& p) { return p.get() == &t; });
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

// ------------------------------------------------------------ output

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

void TcpLayer::send_segment(Tcb& t, std::uint32_t seq, std::size_t len, std::uint8_t flags, bool retransmit) {
  if (t.v6) return send_segment6(t, seq, len, flags, retransmit);
  const auto r = impl.route(t.raddr);
  if (!r) return impl.drop("tcp", "no_route");
  const bool big = len > t.mss;  // a TSO send
  const char* why = nullptr;
  Packet p = segment_payload(t, *r->ifc->dev, big, seq, len, why);
  if (!p) return impl.drop("tcp", why);
  wire::TcpRepr h;
  fill_header(t, h, seq, flags, r->ifc->mtu() - 40, len);
  const bool offload = big || t.csum_offload;
  wire::emit_tcp(p, h, t.laddr, t.raddr, offload);
  if (big) {
    // TSO: the NIC cuts MSS-sized segments and fills every checksum.
    p.meta.tx_csum_partial = false;
    p.meta.tx_csum_ip = true;
    p.meta.tx_csum_l4 = true;
    p.meta.tso_mss = static_cast<std::uint16_t>(t.mss);
  } else if (offload) {
    p.meta.csum_start = static_cast<std::uint16_t>(wire::kEthHeaderLen + wire::kIpv4MinHeaderLen);
  }
  Route rr = *r;
  rr.src = t.laddr;
  const std::size_t n = p.size();
  Ipv4TxOpts o;
  o.dont_fragment = true;  // path MTU discovery (RFC 1191)
  if (impl.ipv4_output(rr, wire::kIpProtoTcp, std::move(p), o)) return impl.drop("tcp", "output_failed");
  segment_sent(t, len, flags, big, retransmit, n);
}

// The IPv6 twin of send_segment: the IPv6 pseudo-header, the IPv6 path MTU,
// and the same offloads (both NICs checksum and segment TCP over IPv6).
void TcpLayer::send_segment6(Tcb& t, std::uint32_t seq, std::size_t len, std::uint8_t flags, bool retransmit) {
  Stack::Ip6& ip6 = *impl.ip6;
  auto r = ip6.route(t.raddr6);
  if (!r) return impl.drop("tcp", "no_route");
  r->src = t.laddr6;
  Iface& ifc = ip6.iface(r->ifindex);
  const bool big = len > t.mss;  // a TSO send
  const char* why = nullptr;
  Packet p = segment_payload(t, *ifc.dev, big, seq, len, why);
  if (!p) return impl.drop("tcp", why);
  wire::TcpRepr h;
  fill_header(t, h, seq, flags, ip6.link_mtu(r->ifindex) - wire::kIpv6HeaderLen - wire::kTcpMinHeaderLen, len);
  // A segment sized before a Packet Too Big lowered the path MTU leaves as
  // IPv6 fragments (copied, so the checksum cannot be left to the device).
  const bool fits = wire::kIpv6HeaderLen + wire::tcp_header_len(h.opts) + len <= ip6.path_mtu(*r);
  const bool offload = big || (t.csum_offload && fits);
  wire::emit_tcp(p, h, t.laddr6, t.raddr6, offload);
  if (big) {
    p.meta.tx_csum_partial = false;
    p.meta.tx_csum_ip = false;  // IPv6 has no header checksum
    p.meta.tx_csum_l4 = true;
    p.meta.tso_mss = static_cast<std::uint16_t>(t.mss);
  } else if (offload) {
    p.meta.csum_start = static_cast<std::uint16_t>(wire::kEthHeaderLen + wire::kIpv6HeaderLen);
  }
  const std::size_t n = p.size();
  if (ip6.output(*r, wire::kIpProtoTcp, std::move(p))) return impl.drop("tcp", "output_failed");
  segment_sent(t, len, flags, big, retransmit, n);
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

void TcpLayer::send_rst(Ipv4Addr src, Ipv4Addr dst, std::uint16_t sport, std::uint16_t dport, std::uint32_t seq,
                        std::uint32_t ack, bool with_ack) {
  auto r = impl.route(dst);
  if (!r) return;
  Packet p = r->ifc->dev->pool().alloc();
  if (!p) return impl.drop("tcp", "no_buffer");
  wire::emit_tcp(p, rst_repr(sport, dport, seq, ack, with_ack), src, dst, false);
  r->src = src;
  const std::size_t n = p.size();
  if (!impl.ipv4_output(*r, wire::kIpProtoTcp, std::move(p))) {
    impl.count_tx("tcp", n);
    impl.event("tcp", "rst_sent");
  }
}

void TcpLayer::send_rst(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint16_t sport, std::uint16_t dport,
                        std::uint32_t seq, std::uint32_t ack, bool with_ack) {
  Stack::Ip6& ip6 = *impl.ip6;
  auto r = ip6.route(dst);
  if (!r) return;
  Packet p = ip6.iface(r->ifindex).dev->pool().alloc();
  if (!p) return impl.drop("tcp", "no_buffer");
  wire::emit_tcp(p, rst_repr(sport, dport, seq, ack, with_ack), src, dst, false);
  r->src = src;
  const std::size_t n = p.size();
  if (!ip6.output(*r, wire::kIpProtoTcp, std::move(p))) {
    impl.count_tx("tcp", n);
    impl.event("tcp", "rst_sent");
  }
}

void TcpLayer::send_rst(const Tcb& t, std::uint32_t seq, std::uint32_t ack, bool with_ack) {
  if (t.v6) return send_rst(t.laddr6, t.raddr6, t.lport, t.rport, seq, ack, with_ack);
  send_rst(t.laddr, t.raddr, t.lport, t.rport, seq, ack, with_ack);
}

// RFC 9293 3.10.7.1: a segment for no connection gets a reset (never one
// in answer to a reset).
void TcpLayer::send_rst_for(const TcpRx& a, const wire::TcpView& v) {
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
  if (a.v6) return send_rst(a.dst6, a.src6, v.dst_port(), v.src_port(), seq, ack, with_ack);
  send_rst(a.dst4, a.src4, v.dst_port(), v.src_port(), seq, ack, with_ack);
}

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
      if (t.tso && len < unsent && flight > 0) {
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
        } else if (!t.nodelay && flight > 0 && !t.fin_queued) {
          break;  // Nagle (RFC 896): wait for the ACK of what is in flight
        }
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

// ------------------------------------------------------------ timers

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

// ------------------------------------------------------------ congestion

void TcpLayer::cc_on_loss(Tcb& t, bool timeout) {
  const std::uint64_t flight = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
  const std::uint64_t mss = t.mss;
  if (t.cc == CongestionControl::Cubic) {
    // RFC 9438 4.6/4.7: beta 0.7 and fast convergence.
    const double cw = double(t.cwnd);
    t.w_max = (cw < t.w_max) ? cw * (1.0 + 0.7) / 2.0 : cw;
    t.ssthresh = std::max<std::uint64_t>(static_cast<std::uint64_t>(cw * 0.7), 2 * mss);
    t.epoch_start = 0;
  } else {
    t.ssthresh = std::max<std::uint64_t>(flight / 2, 2 * mss);
  }
  t.cwnd = timeout ? mss : t.ssthresh;
  t.bytes_acked_ca = 0;
  t.in_recovery = false;
  t.info.cwnd = t.cwnd;
  t.info.ssthresh = t.ssthresh;
}

void TcpLayer::cc_on_ack(Tcb& t, std::uint64_t acked) {
  const std::uint64_t mss = t.mss;
  if (t.cwnd < t.ssthresh) {
    // Byte counting (RFC 3465) without its per-ACK limit L, as Linux does:
    // stretch ACKs from receivers that coalesce (GRO, interrupt moderation)
    // would otherwise hold slow start back to 2 MSS per ACK.
    t.cwnd += acked;
  } else if (t.cc == CongestionControl::Cubic) {
    const TimePs now = impl.st.scheduler().now();
    if (t.epoch_start == 0) {
      t.epoch_start = now;
      const double w_max_seg = std::max(t.w_max, double(t.cwnd)) / double(mss);
      const double cw_seg = double(t.cwnd) / double(mss);
      t.cubic_k = std::cbrt(std::max(0.0, (w_max_seg - cw_seg) / 0.4));
      if (t.w_max < double(t.cwnd)) t.w_max = double(t.cwnd);
      t.w_est = t.cwnd;
    }
    const double rtt = t.rtt_valid ? double(t.srtt) / 1e12 : 0.0;
    const double tt = double(now - t.epoch_start) / 1e12 + rtt - t.cubic_k;
    const double target_seg = 0.4 * tt * tt * tt + t.w_max / double(mss);
    const double cw_seg = double(t.cwnd) / double(mss);
    // Reno-friendly region (RFC 9438 4.3), alpha = 3 (1 - beta) / (1 + beta).
    t.w_est += static_cast<std::uint64_t>(double(mss) * (3.0 * 0.3 / 1.7) * double(acked) / double(t.cwnd));
    std::uint64_t inc = 0;
    if (target_seg > cw_seg) inc = static_cast<std::uint64_t>(double(mss) * (target_seg - cw_seg) / cw_seg * double(acked) / double(mss));
    t.cwnd = std::max(t.cwnd + std::min<std::uint64_t>(inc, acked), t.w_est);
  } else {
    t.bytes_acked_ca += acked;
    if (t.bytes_acked_ca >= t.cwnd) {
      t.bytes_acked_ca -= t.cwnd;
      t.cwnd += mss;
    }
  }
  t.cwnd = std::min<std::uint64_t>(t.cwnd, std::uint64_t(1) << 30);
  t.info.cwnd = t.cwnd;
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

// ------------------------------------------------------------ input

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

void TcpLayer::input(Iface& ifc, const Ipv4Info& info, Packet&& p) {
  (void)ifc;
  const auto v = wire::TcpView::parse(p.bytes());
  if (!v) return impl.drop("tcp", v.reason());
  const bool csum_ok = p.meta.rx_csum_l4 == OffloadMeta::Csum::Good ||
                       (p.meta.rx_csum_l4 != OffloadMeta::Csum::Bad && v->checksum_ok(info.src, info.dst));
  if (!csum_ok) return impl.drop("tcp", "bad_checksum");
  if (!info.to_us_unicast) return impl.drop("tcp", "not_unicast");
  const auto opts = v->options();
  if (!opts) return impl.drop("tcp", "bad_options");
  impl.count_rx("tcp", p.size());
  const ConnKey k{info.dst.to_u32(), info.src.to_u32(), v->dst_port(), v->src_port()};
  const auto it = conns.find(k);
  if (it != conns.end()) return established_input(*it->second, *v, *opts, &p);
  TcpRx a;
  a.to_us_unicast = info.to_us_unicast;
  a.src4 = info.src;
  a.dst4 = info.dst;
  auto l = listeners.find({v->dst_port(), info.dst.to_u32()});
  if (l == listeners.end()) l = listeners.find({v->dst_port(), 0u});
  if (l != listeners.end()) {
    TcpSocket* s = l->second->sock;
    listen_input(*l->second, a, *v, *opts);
    notify(s);
    return;
  }
  impl.drop("tcp", "no_socket");
  send_rst_for(a, *v);
}

void TcpLayer::input6(const Rx6& rx) {
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
  const ConnKey6 k{rx.dst, rx.src, v->dst_port(), v->src_port()};
  const auto it = conns6.find(k);
  if (it != conns6.end()) return established_input(*it->second, *v, *opts, rx.pkt);
  TcpRx a;
  a.v6 = true;
  a.to_us_unicast = true;
  a.src6 = rx.src;
  a.dst6 = rx.dst;
  auto l = listeners6.find({v->dst_port(), rx.dst});
  if (l == listeners6.end()) l = listeners6.find({v->dst_port(), Ipv6Addr{}});
  if (l != listeners6.end()) {
    TcpSocket* s = l->second->sock;
    listen_input(*l->second, a, *v, *opts);
    notify(s);
    return;
  }
  impl.drop("tcp", "no_socket");
  send_rst_for(a, *v);
}

std::optional<std::pair<Iface*, std::size_t>> TcpLayer::path_to(const TcpRx& a) const {
  if (a.v6) {
    const auto r = impl.ip6->route(a.src6);
    if (!r) return std::nullopt;
    return std::pair{&impl.ip6->iface(r->ifindex), std::size_t(mss6_for(impl.ip6->path_mtu(*r), 65535, false))};
  }
  const auto r = impl.route(a.src4);
  if (!r) return std::nullopt;
  return std::pair{r->ifc, r->ifc->mtu() - 40};
}

namespace {
constexpr std::uint16_t kCookieMss[8] = {536, 1024, 1220, 1360, 1440, 1460, 4312, 8960};
constexpr TimePs kCookiePeriod = s_to_ps(64);
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

namespace {
// The 4-tuple digest of an arriving segment, seen from our side.
std::uint64_t rx_digest(const TcpRx& a) {
  return a.v6 ? addr_digest(a.dst6, a.src6) : addr_digest(a.dst4.to_u32(), a.src4.to_u32());
}
}  // namespace

// The listen queue is full: answer without keeping any state. Window
// scaling, SACK and timestamps cannot be remembered, so none are offered.
void TcpLayer::cookie_syn_ack(Tcb& l, const TcpRx& a, const wire::TcpView& v, const wire::TcpOptions& o) {
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
  const std::size_t n = [&] {
    if (a.v6) {
      wire::emit_tcp(p, h, a.dst6, a.src6, false);
      auto r6 = impl.ip6->route(a.src6);
      if (!r6) return std::size_t(0);
      r6->src = a.dst6;
      const std::size_t len = p.size();
      return impl.ip6->output(*r6, wire::kIpProtoTcp, std::move(p)) ? std::size_t(0) : len;
    }
    wire::emit_tcp(p, h, a.dst4, a.src4, false);
    auto r = impl.route(a.src4);
    if (!r) return std::size_t(0);
    r->src = a.dst4;
    const std::size_t len = p.size();
    return impl.ipv4_output(*r, wire::kIpProtoTcp, std::move(p)) ? std::size_t(0) : len;
  }();
  if (n) {
    impl.count_tx("tcp", n);
    impl.event("tcp", "syncookies_sent");
  }
}

Tcb* TcpLayer::new_child(Tcb& l, const TcpRx& a, const wire::TcpView& v, Iface& ifc) {
  Tcb* c = create(nullptr);
  c->cc = l.cc;
  c->nodelay = l.nodelay;
  c->keepalive = l.keepalive;
  c->sndbuf.resize(l.sndbuf.capacity());
  c->rcvbuf.resize(l.rcvbuf.capacity());
  c->lport = v.dst_port();
  c->rport = v.src_port();
  c->listener = &l;
  auto u = std::find_if(unbound.begin(), unbound.end(), [&](const auto& p) { return p.get() == c; });
  if (a.v6) {
    c->v6 = true;
    c->laddr6 = a.dst6;
    c->raddr6 = a.src6;
    c->key6 = {c->laddr6, c->raddr6, c->lport, c->rport};
    conns6[c->key6] = std::move(*u);
  } else {
    c->laddr = a.dst4;
    c->raddr = a.src4;
    c->key = {c->laddr.to_u32(), c->raddr.to_u32(), c->lport, c->rport};
    conns[c->key] = std::move(*u);
  }
  unbound.erase(u);
  setup_connection(*c, ifc);
  return c;
}

// The ACK that completes a cookie handshake: rebuild the connection from
// the cookie and hand the segment (it may carry data) to it.
bool TcpLayer::cookie_accept(Tcb& l, const TcpRx& a, const wire::TcpView& v, const wire::TcpOptions& o) {
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

void TcpLayer::listen_input(Tcb& l, const TcpRx& a, const wire::TcpView& v, const wire::TcpOptions& o) {
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
  Tcb* c = new_child(l, a, v, *path->first);  // the listener's options, in the connection table
  ++l.syn_backlog;
  c->iss = a.v6 ? make_isn(c->key6) : make_isn(c->key);
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
    // A duplicate ACK (RFC 5681 2).
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
      if (t.cc == CongestionControl::NewReno) t.ssthresh = std::max<std::uint64_t>((t.snd_max - t.snd_una) / 2, 2 * t.mss);
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

void TcpLayer::process_data(Tcb& t, const wire::TcpView& v) {
  auto data = v.payload();
  std::uint32_t seq = v.seq();
  if (data.empty()) return;
  if (seq_lt(seq, t.rcv_nxt)) {  // overlaps what we have: keep the new part
    const std::uint32_t skip = t.rcv_nxt - seq;
    if (skip >= data.size()) return send_ack(t);
    data = data.subspan(skip);
    seq = t.rcv_nxt;
  }
  if (seq == t.rcv_nxt) {
    // In order: keep the DMA buffer when we can, else copy.
    const bool kept = rx_pkt && t.rcvbuf.adopt(*rx_pkt, data);
    const std::size_t n = kept ? data.size() : t.rcvbuf.push(data);
    if (kept) t.info.rx_zero_copy_bytes += n;
    if (n < data.size()) impl.drop("tcp", "rcvbuf_overrun");
    t.rcv_nxt += static_cast<std::uint32_t>(n);
    t.info.bytes_received += n;
    const bool filled_hole = !t.ooo.empty();
    // Out-of-order segments that now fit follow.
    while (!t.ooo.empty()) {
      auto it = t.ooo.begin();
      if (seq_gt(it->first, t.rcv_nxt)) break;
      const std::uint32_t skip = t.rcv_nxt - it->first;
      if (skip < it->second.size()) {
        const auto rest = std::span<const std::uint8_t>(it->second).subspan(skip);
        const std::size_t m = t.rcvbuf.push(rest);
        t.rcv_nxt += static_cast<std::uint32_t>(m);
        t.info.bytes_received += m;
      }
      t.ooo_bytes -= it->second.size();
      t.ooo.erase(it);
    }
    ++t.ack_pending;
    // ACK at once every second segment, after filling a hole, or on PSH of a
    // small transfer; otherwise within the delayed-ACK time (RFC 1122 4.2.3.2).
    if (filled_hole) return send_ack(t);
    if (t.ack_pending >= 2) {
      // Inside a receive burst one ACK at its end covers every in-order
      // segment of it (a stretch ACK, as from a GRO receiver); out-of-order
      // data and filled holes are still answered at once, so loss recovery
      // sees every duplicate ACK. The delayed-ACK timer stays the backstop.
      if (!impl.in_rx_burst || t.ack_pending >= cfg.burst_ack_segments) return send_ack(t);
      if (!t.burst_ack) {
        t.burst_ack = true;
        burst_acks.push_back(&t);
      }
    }
    if (t.delack_timer == kNoTimer) {
      Tcb* p = &t;
      t.delack_timer = impl.st.scheduler().schedule_in(cfg.delayed_ack, [this, p] { on_delack(*p); });
    }
    return;
  }
  // Out of order: keep it if the buffer allows, and say what we expect.
  ++t.info.ooo_segments;
  const std::size_t room = t.rcvbuf.space() > t.ooo_bytes ? t.rcvbuf.space() - t.ooo_bytes : 0;
  if (data.size() <= room && !t.ooo.count(seq)) {
    t.ooo.emplace(seq, std::vector<std::uint8_t>(data.begin(), data.end()));
    t.ooo_bytes += data.size();
    t.last_ooo_seq = seq;
  } else {
    impl.drop("tcp", "ooo_no_room");
  }
  send_ack(t);
}

void TcpLayer::segment_arrives(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o) {
  const std::uint8_t fl = v.flags();
  const std::uint32_t seq = v.seq();
  const std::size_t len = v.payload().size();
  if (t.state == TcpState::SynSent) {
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
    if (t.v6) {
      const auto r6 = impl.ip6->route(t.raddr6);
      t.mss = mss6_for(r6 ? impl.ip6->path_mtu(*r6) : wire::kIpv6MinMtu, t.peer_mss, t.ts_ok);
    } else {
      const auto r = impl.route(t.raddr);
      const std::size_t mtu = r ? std::min(r->ifc->mtu(), impl.path_mtu(*r)) : 576;
      t.mss = static_cast<std::uint32_t>(std::min<std::size_t>(t.peer_mss, mtu - 40) - (t.ts_ok ? 12 : 0));
    }
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
    return;
  }

  // 1. Sequence number check, with PAWS first (RFC 7323 5.3).
  if (t.ts_ok && o.timestamps && !(fl & f::RST) && seq_lt(o.timestamps->first, t.ts_recent)) {
    impl.drop("tcp", "paws");
    return send_ack(t);
  }
  const std::uint64_t rwnd = static_cast<std::uint32_t>(t.rcv_adv - t.rcv_nxt);
  const std::uint32_t seg_len = static_cast<std::uint32_t>(len) + ((fl & f::SYN) ? 1 : 0) + ((fl & f::FIN) ? 1 : 0);
  auto in_window = [&](std::uint32_t s) { return seq_ge(s, t.rcv_nxt) && seq_lt(s, t.rcv_nxt + static_cast<std::uint32_t>(rwnd)); };
  bool ok;
  if (seg_len == 0) ok = rwnd == 0 ? seq == t.rcv_nxt : in_window(seq) || seq == t.rcv_nxt;
  else ok = rwnd != 0 && (in_window(seq) || in_window(seq + seg_len - 1) || (seq_lt(seq, t.rcv_nxt) && seq_gt(seq + seg_len, t.rcv_nxt)));
  if (!ok) {
    if (fl & f::RST) return impl.drop("tcp", "rst_out_of_window");
    impl.drop("tcp", "out_of_window");
    if (t.state == TcpState::TimeWait && (fl & f::FIN)) return enter_time_wait(t), send_ack(t);
    return send_ack(t);
  }
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
    if (!(seq_lt(t.snd_una, v.ack()) && seq_le(v.ack(), t.snd_max))) {
      impl.drop("tcp", "bad_ack_in_syn_received");
      return send_rst(t, v.ack(), 0, false);
    }
    if (t.info.timeouts == 0) rtt_sample(t, impl.st.scheduler().now() - t.rtt_start);
    t.snd_una = v.ack();
    t.snd_wnd = std::uint64_t(v.window()) << t.snd_wscale;
    t.max_snd_wnd = t.snd_wnd;
    t.snd_wl1 = seq;
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
  else if (len) impl.drop("tcp", "data_after_fin");
  // 6. FIN, once everything before it arrived.
  if ((fl & f::FIN) && seq + static_cast<std::uint32_t>(len) == t.rcv_nxt && !t.fin_received) {
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
          return enter_time_wait(t);
        }
        set_state(t, TcpState::Closing);
        break;
      case TcpState::FinWait2:
        send_ack(t);
        return enter_time_wait(t);
      default:
        break;
    }
    send_ack(t);
  } else if ((fl & f::FIN) && t.state == TcpState::TimeWait) {
    send_ack(t);
    return enter_time_wait(t);  // the peer lost our ACK: restart 2 MSL
  }
  output(t);
}

// ------------------------------------------------------------ ports

std::error_code TcpLayer::bind_port(TcpSocket& s, Ipv4Addr addr, std::uint16_t port) {
  if (!addr.is_unspecified() && !impl.is_our_addr(addr)) return make_err(std::errc::address_not_available);
  auto free = [&](std::uint16_t p) {
    if (addr.is_unspecified()) {
      auto it = bound.lower_bound({p, 0u});
      return it == bound.end() || it->first != p;
    }
    return !bound.count({p, addr.to_u32()}) && !bound.count({p, 0u});
  };
  if (port == 0) {
    for (unsigned i = 0; i < 16384 && port == 0; ++i) {
      const std::uint16_t cand = next_ephemeral;
      next_ephemeral = cand == 65535 ? 49152 : static_cast<std::uint16_t>(cand + 1);
      if (free(cand)) port = cand;
    }
    if (port == 0) return make_err(std::errc::address_in_use);
  } else if (!free(port)) {
    return make_err(std::errc::address_in_use);
  }
  bound.insert({port, addr.to_u32()});
  s.laddr_ = addr;
  s.lport_ = port;
  s.bound_ = true;
  return {};
}

std::error_code TcpLayer::bind_port6(TcpSocket& s, const Ipv6Addr& addr, std::uint16_t port) {
  if (addr.is_multicast() || addr.is_v4_mapped()) return make_err(std::errc::invalid_argument);
  if (!addr.is_unspecified() && !impl.ip6->is_our_addr(addr)) return make_err(std::errc::address_not_available);
  auto free = [&](std::uint16_t p) {
    if (addr.is_unspecified()) {
      auto it = bound6.lower_bound({p, Ipv6Addr{}});
      return it == bound6.end() || it->first != p;
    }
    return !bound6.count({p, addr}) && !bound6.count({p, Ipv6Addr{}});
  };
  if (port == 0) {
    // The same ephemeral walk as IPv4 (one counter: the spaces are separate).
    for (unsigned i = 0; i < 16384 && port == 0; ++i) {
      const std::uint16_t cand = next_ephemeral;
      next_ephemeral = cand == 65535 ? 49152 : static_cast<std::uint16_t>(cand + 1);
      if (free(cand)) port = cand;
    }
    if (port == 0) return make_err(std::errc::address_in_use);
  } else if (!free(port)) {
    return make_err(std::errc::address_in_use);
  }
  bound6.insert({port, addr});
  s.v6_ = true;
  s.laddr6_ = addr;
  s.lport_ = port;
  s.bound_ = true;
  return {};
}

void TcpLayer::unbind_port(TcpSocket& s) {
  if (s.v6_) bound6.erase({s.lport_, s.laddr6_});
  else bound.erase({s.lport_, s.laddr_.to_u32()});
}

void TcpLayer::pmtu6_lowered(const Ipv6Addr& dst, std::uint32_t mtu) {
  std::vector<Tcb*> hit;
  for (auto& [k, t] : conns6)
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
    if (n) send_segment(*t, t->snd_una, n, f::ACK, true);
  }
}

void TcpLayer::shutdown() {
  for (auto& [k, t] : conns) {
    cancel_timers(*t);
    if (t->sock) t->sock->tcb_ = nullptr;
  }
  for (auto& [k, t] : conns6) {
    cancel_timers(*t);
    if (t->sock) t->sock->tcb_ = nullptr;
  }
  for (auto& t : unbound) {
    cancel_timers(*t);
    if (t->sock) t->sock->tcb_ = nullptr;
  }
  for (TcpSocket* s : sockets) s->stack_ = nullptr;
  sockets.clear();
  conns.clear();
  conns6.clear();
  unbound.clear();
  listeners.clear();
  listeners6.clear();
}

}  // namespace vd::stack
