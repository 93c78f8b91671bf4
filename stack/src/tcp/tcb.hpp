// The transmission control block (RFC 9293 3.3.1) and the family-generic
// keys it is filed under (table.hpp). A is Ipv4Addr or Ipv6Addr.
#pragma once

#include <compare>
#include <cstdint>
#include <deque>
#include <map>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "buffers.hpp"
#include "port_space.hpp"
#include "veridian/core/time.hpp"
#include "veridian/stack/ip_addr.hpp"
#include "veridian/stack/tcp.hpp"

namespace vd::stack {

inline bool synchronized_state(TcpState s) {
  return s != TcpState::Closed && s != TcpState::Listen && s != TcpState::SynSent && s != TcpState::SynReceived;
}

template <class A>
inline constexpr bool kIsV6 = std::is_same_v<A, Ipv6Addr>;

// A connection's 4-tuple, seen from our side. The field order is the
// table's order.
template <class A>
struct ConnKey {
  A laddr{}, raddr{};
  std::uint16_t lport = 0, rport = 0;
  auto operator<=>(const ConnKey&) const = default;
};

// One family's addresses of a TCB, and the binding it holds.
template <class A>
struct TcbAddrs {
  A laddr{}, raddr{};
  PortKey<A> port_key{};
};

// The addresses of an arriving segment: what the listen and reset paths
// need (the established fast path does not build one).
template <class A>
struct TcpRx {
  A src{}, dst{};
  bool to_us_unicast = false;
};

// CUBIC's state (RFC 9438; cubic.cpp).
struct CubicState {
  double w_max = 0;               // bytes
  TimePs epoch_start = 0;
  double cubic_k = 0;             // seconds
  std::uint64_t w_est = 0;        // Reno-friendly estimate, bytes
};

// The most payload one TSO send carries: up to 64 KiB per send, in whole
// segments (headers: 14 + 20 or 40 + 60).
inline std::size_t tso_cap(bool v6, std::size_t mss) {
  return (65535 - 14 - (v6 ? 40 : 20) - 60) / mss * mss;
}

struct Tcb {
  TcpState state = TcpState::Closed;
  TcpSocket* sock = nullptr;     // null once the application let go
  Tcb* listener = nullptr;       // for a connection not yet accepted
  std::deque<Tcb*> accept_q;     // on a listener: established, waiting for accept()
  std::size_t syn_backlog = 0;   // on a listener: half-open children
  int backlog = 0;
  // The family is fixed when the TCB is made: an IPv6 TCB (RFC 8200) uses
  // in6 and the IPv6 table, an IPv4 one in4 and the IPv4 table.
  bool v6 = false;
  TcbAddrs<Ipv4Addr> in4;
  TcbAddrs<Ipv6Addr> in6;
  std::uint16_t lport = 0, rport = 0;
  template <class A>
  TcbAddrs<A>& addrs() {
    if constexpr (kIsV6<A>) return in6;
    else return in4;
  }
  template <class A>
  const TcbAddrs<A>& addrs() const {
    if constexpr (kIsV6<A>) return in6;
    else return in4;
  }
  // The 4-tuple the TCB is filed under in its family's table.
  template <class A>
  ConnKey<A> key() const {
    return {addrs<A>().laddr, addrs<A>().raddr, lport, rport};
  }

  // Send side (RFC 9293 3.3.1). The send buffer holds the bytes from
  // buf_seq on: unacknowledged, then unsent.
  std::uint32_t iss = 0, snd_una = 0, snd_nxt = 0, snd_max = 0, snd_wl1 = 0, snd_wl2 = 0, buf_seq = 0;
  // Nagle, Minshall's way (as Linux): the end of the last sub-MSS segment
  // sent; another small one waits only while that one is unacknowledged.
  std::uint32_t snd_sml = 0;
  bool sml_sent = false;
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
  CubicState cubic;
  // Options.
  bool nodelay = false, keepalive = false;
  std::error_code error;
  TcpInfo info;
  bool tso = false, csum_offload = false;
  BufferPool* tso_pool = nullptr;  // the route device's, when t.tso: send-buffer chunks come from it
  // This connection holds its TcbAddrs::port_key in its family's
  // TcpTable::bound, released when the TCB goes (so TIME-WAIT keeps its
  // port).
  bool owns_port = false;
};

}  // namespace vd::stack
