// TCP internals: the transmission control block and the per-stack layer
// (demultiplexing, ports, timers). See tcp.cpp for the protocol.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "stack_impl.hpp"
#include "veridian/stack/tcp.hpp"
#include "veridian/stack/wire/tcp.hpp"

namespace vd::stack {

struct Rx6;  // ipv6_impl.hpp

// Sequence-space comparisons (RFC 9293 3.4): modulo 2^32.
inline bool seq_lt(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) < 0; }
inline bool seq_le(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) <= 0; }
inline bool seq_gt(std::uint32_t a, std::uint32_t b) { return seq_lt(b, a); }
inline bool seq_ge(std::uint32_t a, std::uint32_t b) { return seq_le(b, a); }

inline bool synchronized_state(TcpState s) {
  return s != TcpState::Closed && s != TcpState::Listen && s != TcpState::SynSent && s != TcpState::SynReceived;
}

// The send buffer: the bytes from buf_seq on (unacknowledged, then
// unsent), counted against a fixed capacity, stored in chunks. A chunk is a
// buffer from the route device's TSO pool when there is one and it is at
// least half free (else a heap block), so a segment that starts a chunk's
// unacknowledged bytes can be sent with no copy: the headers go into the
// buffer's headroom (or over acknowledged bytes) in front of the payload
// send() left there (Packet::share). Chunks are taken as
// bytes arrive and released once acknowledged, so idle connections hold
// no pool buffers.
class SendQueue {
 public:
  std::size_t size() const { return len_; }
  std::size_t capacity() const { return cap_; }
  std::size_t space() const { return cap_ - len_; }
  // Only while empty.
  void resize(std::size_t cap) {
    chunks_.clear();
    cap_ = cap;
    len_ = 0;
  }
  // Where later chunks come from (null: the heap only) and the payload
  // bytes each holds at most.
  void set_source(BufferPool* pool, std::size_t chunk_bytes) {
    pool_ = pool;
    chunk_ = chunk_bytes ? chunk_bytes : kHeapChunk;
  }
  // The application's copy: up to space() bytes; returns how many. Copies
  // into pool chunks are counted on the pool (bytes_copied_in).
  std::size_t push(std::span<const std::uint8_t> d);
  // Copies n bytes starting `off` bytes after the head into out.
  void peek(std::size_t off, std::uint8_t* out, std::size_t n) const;
  void pop(std::size_t n);
  // Bytes from `off` to the end of the chunk holding it (0 past the end);
  // *pooled: whether that chunk is a pool buffer. With `room`, counts the
  // chunk's unwritten space too (the tail chunk's end is its capacity).
  std::size_t chunk_left(std::size_t off, bool* pooled = nullptr, bool room = false) const;
  // Zero-copy: a handle on the `pool` buffer holding [off, off + n), viewing
  // exactly those bytes, when they begin that chunk's live bytes (so all in
  // front of them, the headroom and acknowledged bytes, is free for
  // headers) and nothing else holds the buffer (the NIC is done with
  // earlier sends from it, so no byte it may read is rewritten). Otherwise
  // an empty handle.
  Packet share(std::size_t off, std::size_t n, const BufferPool* pool);
  std::size_t chunks() const { return chunks_.size(); }
  static constexpr std::size_t kHeapChunk = 64 * 1024;

 private:
  struct Chunk {
    Packet pkt;                           // a pool chunk: payload at pkt.data(), pkt.size() written
    std::unique_ptr<std::uint8_t[]> own;  // else a heap block
    std::uint8_t* data = nullptr;         // the payload area (either)
    std::size_t cap = 0;                  // payload bytes it holds at most
    std::size_t start = 0, end = 0;       // live bytes [start, end); end = bytes written
  };
  void add_chunk();
  // The chunk holding byte `off` (an index, chunks() when past the end)
  // and the offset into its live bytes.
  std::pair<std::size_t, std::size_t> locate(std::size_t off) const;
  std::deque<Chunk> chunks_;
  bool uniform_ = true;  // every chunk has the same cap
  BufferPool* pool_ = nullptr;
  std::size_t chunk_ = kHeapChunk;
  std::size_t cap_ = 0, len_ = 0;
};

// The most payload one TSO send carries: up to 64 KiB per send, in whole
// segments (headers: 14 + 20 or 40 + 60).
inline std::size_t tso_cap(bool v6, std::size_t mss) {
  return (65535 - 14 - (v6 ? 40 : 20) - 60) / mss * mss;
}

// The receive buffer: in-order bytes waiting for recv(), counted against a
// fixed capacity (the window). A segment's payload stays in the DMA buffer
// it arrived in when it can (zero-copy receive: recv() is then the only
// copy, as in Linux's receive queue of skbs); under buffer-pool pressure or
// for out-of-order data it is copied instead. Pool buffers are adopted
// only while the pool is at least half free, so a slow reader cannot starve
// the NIC's receive ring.
class RecvQueue {
 public:
  std::size_t size() const { return len_; }
  std::size_t capacity() const { return cap_; }
  std::size_t space() const { return cap_ - len_; }
  void resize(std::size_t cap) {
    chunks_.clear();
    cap_ = cap;
    len_ = 0;
  }
  // Copies up to space() bytes; returns how many.
  std::size_t push(std::span<const std::uint8_t> d);
  // Takes the packet holding `d` (which must lie inside it) when all of d
  // fits and the pool is not under pressure; false (p untouched) otherwise.
  bool adopt(Packet& p, std::span<const std::uint8_t> d);
  // Copies n bytes starting `off` bytes after the head into out.
  void peek(std::size_t off, std::uint8_t* out, std::size_t n) const;
  void pop(std::size_t n);
  std::size_t adopted() const { return adopted_; }

 private:
  struct Chunk {
    Packet pkt;                      // the DMA buffer, when adopted
    std::vector<std::uint8_t> own;   // else a copy
    std::size_t off = 0, len = 0;    // unread bytes: [off, off + len) of base()
    const std::uint8_t* base() const { return pkt ? pkt.data() : own.data(); }
  };
  std::deque<Chunk> chunks_;
  std::size_t cap_ = 0, len_ = 0, adopted_ = 0;
};

struct ConnKey {
  std::uint32_t laddr = 0, raddr = 0;
  std::uint16_t lport = 0, rport = 0;
  auto operator<=>(const ConnKey&) const = default;
};

// IPv6 connections live in their own table (TcpLayer::conns6): the IPv4
// key and its lookups stay as small and fast as they were.
struct ConnKey6 {
  Ipv6Addr laddr{}, raddr{};
  std::uint16_t lport = 0, rport = 0;
  auto operator<=>(const ConnKey6&) const = default;
};

// The addresses of an arriving segment, either family: what the listen
// and reset paths need (the established fast path does not build one).
struct TcpRx {
  bool v6 = false;
  bool to_us_unicast = false;
  Ipv4Addr src4{}, dst4{};
  Ipv6Addr src6{}, dst6{};
};

struct Tcb {
  TcpState state = TcpState::Closed;
  TcpSocket* sock = nullptr;     // null once the application let go
  Tcb* listener = nullptr;       // for a connection not yet accepted
  std::deque<Tcb*> accept_q;     // on a listener: established, waiting for accept()
  std::size_t syn_backlog = 0;   // on a listener: half-open children
  int backlog = 0;
  ConnKey key;
  Ipv4Addr laddr, raddr;
  std::uint16_t lport = 0, rport = 0;
  // IPv6 (RFC 8200): the family is fixed when the TCB is made; an IPv6
  // TCB uses key6/laddr6/raddr6 and the *6 tables, never key/laddr/raddr.
  bool v6 = false;
  ConnKey6 key6;
  Ipv6Addr laddr6{}, raddr6{};

  // Send side (RFC 9293 3.3.1). The send buffer holds the bytes from
  // buf_seq on: unacknowledged, then unsent.
  std::uint32_t iss = 0, snd_una = 0, snd_nxt = 0, snd_max = 0, snd_wl1 = 0, snd_wl2 = 0, buf_seq = 0;
  std::uint64_t snd_wnd = 0, max_snd_wnd = 0;
  SendQueue sndbuf;
  bool fin_queued = false, fin_sent = false;
  std::uint32_t fin_seq = 0;
  // Receive side.
  std::uint32_t irs = 0, rcv_nxt = 0, rcv_adv = 0;  // rcv_adv: right edge we advertised
  RecvQueue rcvbuf;
  std::map<std::uint32_t, std::vector<std::uint8_t>> ooo;  // out-of-order segments by seq
  std::size_t ooo_bytes = 0;
  std::uint32_t last_ooo_seq = 0;  // start of the most recent out-of-order segment (first SACK block)
  bool fin_received = false;
  // SACK scoreboard (sender): ranges [start, end) the peer holds above snd_una.
  std::map<std::uint32_t, std::uint32_t> sacked;
  std::uint32_t rexmit_next = 0;  // SACK recovery: next hole octet to resend
  // Options agreed in the handshake.
  std::uint16_t peer_mss = 536;
  std::uint32_t mss = 536;        // send MSS (payload per segment)
  std::uint8_t snd_wscale = 0, rcv_wscale = 0;
  bool ws_ok = false, ts_ok = false, sack_ok = false;
  std::uint32_t ts_recent = 0, last_ack_sent = 0;
  std::uint32_t ts_offset = 0;
  // Round-trip time (RFC 6298) and retransmission.
  TimePs srtt = 0, rttvar = 0, rto = 0;
  bool rtt_valid = false;
  bool rtt_timing = false;        // Karn: one segment timed at a time when no timestamps
  std::uint32_t rtt_seq = 0;
  TimePs rtt_start = 0;
  unsigned retries = 0;           // RTO expiries in a row
  TimerId rto_timer = kNoTimer, delack_timer = kNoTimer, tw_timer = kNoTimer, ka_timer = kNoTimer;
  TimePs last_rx = 0;
  unsigned ka_probes = 0;
  unsigned ack_pending = 0;       // in-order segments not yet acknowledged
  bool burst_ack = false;         // an ACK is owed at the end of this receive burst
  // Congestion control (RFC 5681, RFC 6582 NewReno, RFC 9438 CUBIC).
  CongestionControl cc = CongestionControl::Cubic;
  std::uint64_t cwnd = 0, ssthresh = 0, bytes_acked_ca = 0;
  unsigned dupacks = 0;
  bool in_recovery = false;
  std::uint32_t recover = 0;
  // CUBIC state.
  double w_max = 0;               // bytes
  TimePs epoch_start = 0;
  double cubic_k = 0;             // seconds
  std::uint64_t w_est = 0;        // Reno-friendly estimate, bytes
  // Options.
  bool nodelay = false, keepalive = false;
  std::error_code error;
  TcpInfo info;
  bool tso = false, csum_offload = false;
  BufferPool* tso_pool = nullptr;  // the route device's, when t.tso: send-buffer chunks come from it
  // The (port, addr) this connection holds in TcpLayer::bound, released
  // when the TCB goes (so TIME-WAIT keeps its port).
  bool owns_port = false;
  std::pair<std::uint16_t, std::uint32_t> port_key{};
  std::pair<std::uint16_t, Ipv6Addr> port_key6{};  // in TcpLayer::bound6, for an IPv6 TCB
};

struct TcpLayer {
  explicit TcpLayer(Stack::Impl& i) : impl(i) {}
  Stack::Impl& impl;
  TcpConfig cfg;
  std::map<ConnKey, std::unique_ptr<Tcb>> conns;                // synchronized and half-open
  std::map<std::pair<std::uint16_t, std::uint32_t>, Tcb*> listeners;  // (port, addr or 0)
  std::set<TcpSocket*> sockets;                                  // every live socket
  std::vector<std::unique_ptr<Tcb>> unbound;                     // listeners and fresh sockets' TCBs
  std::uint16_t next_ephemeral = 49152;
  std::set<std::pair<std::uint16_t, std::uint32_t>> bound;      // ports held by bind()
  // IPv6: its own connections, listeners and port space (IPV6_V6ONLY).
  std::map<ConnKey6, std::unique_ptr<Tcb>> conns6;
  std::map<std::pair<std::uint16_t, Ipv6Addr>, Tcb*> listeners6;  // (port, addr or ::)
  std::set<std::pair<std::uint16_t, Ipv6Addr>> bound6;

  // Input. rx_pkt is the packet being processed, so process_data can keep
  // its buffer instead of copying the payload (null outside input()).
  Packet* rx_pkt = nullptr;
  // Connections owed an ACK at the end of the current receive burst.
  std::vector<Tcb*> burst_acks;
  void flush_burst_acks();
  void input(Iface& ifc, const Ipv4Info& info, Packet&& p);
  void input6(const Rx6& rx);  // from the IPv6 layer (next header 6)
  // p: the packet holding v (IPv4 or IPv6, not reassembled), which segment_arrives may keep for zero-copy receive.
  void established_input(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o, Packet* p = nullptr);
  void listen_input(Tcb& l, const TcpRx& a, const wire::TcpView& v, const wire::TcpOptions& o);
  void segment_arrives(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o);
  bool process_ack(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o);
  void process_data(Tcb& t, const wire::TcpView& v);
  void send_rst_for(const TcpRx& a, const wire::TcpView& v);
  // SYN cookies (RFC 4987 4.4): the SYN-ACK's ISN carries a 5-bit 64-second
  // counter, a 3-bit MSS index and a 24-bit keyed hash of the 4-tuple.
  // The hash covers the addresses (addr_digest: either family) and ports.
  std::uint32_t cookie_make(std::uint64_t addrs, std::uint16_t lport, std::uint16_t rport, std::uint32_t peer_isn,
                            std::uint16_t mss) const;
  std::optional<std::uint16_t> cookie_check(std::uint64_t addrs, std::uint16_t lport, std::uint16_t rport,
                                            std::uint32_t peer_isn, std::uint32_t cookie) const;
  void cookie_syn_ack(Tcb& l, const TcpRx& a, const wire::TcpView& v, const wire::TcpOptions& o);
  bool cookie_accept(Tcb& l, const TcpRx& a, const wire::TcpView& v, const wire::TcpOptions& o);
  Tcb* new_child(Tcb& l, const TcpRx& a, const wire::TcpView& v, Iface& ifc);
  // The interface towards the sender of `a` and the largest MSS its path
  // allows (IPv4: interface MTU - 40; IPv6: path MTU - 60), or nullopt.
  std::optional<std::pair<Iface*, std::size_t>> path_to(const TcpRx& a) const;

  // Output.
  void output(Tcb& t, bool force_ack = false);
  void send_segment(Tcb& t, std::uint32_t seq, std::size_t len, std::uint8_t flags, bool retransmit = false);
  void send_segment6(Tcb& t, std::uint32_t seq, std::size_t len, std::uint8_t flags, bool retransmit);
  // A buffer holding a segment's payload (both families): the send-buffer
  // chunk itself when [seq, seq + len) starts one (zero-copy), else a fresh
  // buffer (from the TSO pool when `big`) with the payload copied in.
  // Empty, with `why` set, on failure.
  Packet segment_payload(Tcb& t, NetDevice& dev, bool big, std::uint32_t seq, std::size_t len, const char*& why);
  // Shorter payloads make frames the stack pads to the Ethernet minimum,
  // which would write over the send buffer's bytes after them.
  static constexpr std::size_t kZeroCopyMin = 64;
  // Header fields and options of a segment (both families); `syn_mss` is
  // the MSS a SYN announces.
  // len: the payload the segment carries (SACK blocks must fit beside it).
  void fill_header(Tcb& t, wire::TcpRepr& h, std::uint32_t seq, std::uint8_t flags, std::size_t syn_mss,
                   std::size_t len);
  void segment_sent(Tcb& t, std::size_t len, std::uint8_t flags, bool big, bool retransmit, std::size_t bytes);
  void send_ack(Tcb& t) { send_segment(t, t.snd_nxt, 0, wire::tcpf::ACK); }
  void send_rst(Ipv4Addr src, Ipv4Addr dst, std::uint16_t sport, std::uint16_t dport, std::uint32_t seq,
                std::uint32_t ack, bool with_ack);
  void send_rst(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint16_t sport, std::uint16_t dport,
                std::uint32_t seq, std::uint32_t ack, bool with_ack);
  // A reset on a connection's own 4-tuple (either family).
  void send_rst(const Tcb& t, std::uint32_t seq, std::uint32_t ack, bool with_ack);
  std::uint16_t window_to_advertise(Tcb& t);

  // Timers and congestion.
  void arm_rto(Tcb& t);
  void on_rto(Tcb& t);
  void on_delack(Tcb& t);
  void on_keepalive(Tcb& t);
  void keepalive_arm(Tcb& t);
  void rtt_sample(Tcb& t, TimePs r);
  void cc_on_ack(Tcb& t, std::uint64_t acked);
  void cc_on_loss(Tcb& t, bool timeout);
  // SACK (RFC 2018 / RFC 6675).
  void sack_update(Tcb& t, const wire::TcpOptions& o);
  std::uint64_t sacked_bytes(const Tcb& t) const;
  void sack_recover(Tcb& t);
  void fill_sack_blocks(const Tcb& t, wire::TcpOptions& opts) const;

  // Readiness callbacks (TcpSocket::set_notify).
  void notify(TcpSocket* s);

  // Lifecycle.
  Tcb* create(TcpSocket* s);
  std::uint32_t make_isn(const ConnKey& k);
  std::uint32_t make_isn(const ConnKey6& k);
  void setup_connection(Tcb& t, Iface& ifc);
  void set_state(Tcb& t, TcpState s);
  void fail(Tcb& t, std::errc e);            // connection gone (reset, timeout): tell the app, free
  void enter_time_wait(Tcb& t);
  void destroy(Tcb& t);                      // frees the TCB (cancels its timers)
  void released(Tcb& t);                     // the application closed/dropped its socket
  std::uint32_t ts_now(const Tcb& t) const;
  void cancel_timers(Tcb& t);
  std::error_code bind_port(TcpSocket& s, Ipv4Addr addr, std::uint16_t port);
  std::error_code bind_port6(TcpSocket& s, const Ipv6Addr& addr, std::uint16_t port);
  void unbind_port(TcpSocket& s);  // a bound socket that never made a TCB
  // ICMPv6 Packet Too Big lowered the path MTU towards dst (RFC 8201 5.2):
  // connections to it shrink their MSS and resend at the new size.
  void pmtu6_lowered(const Ipv6Addr& dst, std::uint32_t mtu);
  // The send MSS for an IPv6 path MTU: MTU - 60 (RFC 8200 8.3), at least
  // 1220, less the timestamp option when in use.
  static std::uint32_t mss6_for(std::size_t mtu, std::uint16_t peer_mss, bool ts);
  void shutdown();
};

}  // namespace vd::stack
