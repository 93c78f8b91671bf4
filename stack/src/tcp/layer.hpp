// The per-stack TCP layer: the connection tables of both families, ports,
// timers, and the protocol, split by concern over stack/src/tcp/:
//   conn.cpp      TCB lifecycle (create, set up, destroy, TIME-WAIT, close)
//   output.cpp    segments and resets out, the send loop
//   input.cpp     demultiplexing and the segment-arrival state machine
//   ack.cpp       ACK processing (RFC 5681 / 6582 / 6675 loss recovery)
//   data.cpp      in-order and out-of-order data, delayed ACKs
//   listen.cpp    listeners, the SYN backlog, SYN cookies, children
//   recovery.cpp  RTT/RTO, persist, keepalive, the SACK scoreboard
//   cc.cpp        the congestion-control framework (newreno.cpp, cubic.cpp)
//   ports.cpp     bind, connect, path MTU changes, shutdown
//   socket.cpp    the TcpSocket API
// Work that depends on the family is one template over the address type
// (Ipv4Addr, Ipv6Addr), with the family's IP services in family.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "stack_impl.hpp"
#include "table.hpp"
#include "tcb.hpp"
#include "veridian/stack/tcp.hpp"
#include "veridian/stack/wire/tcp.hpp"

namespace vd::stack {

struct Rx6;  // ipv6_impl.hpp

// Calls f.template operator()<A>() for the family of `v6` (f a template
// lambda `[&]<class A>() {...}`).
template <class F>
decltype(auto) with_family(bool v6, F&& f) {
  if (v6) return f.template operator()<Ipv6Addr>();
  return f.template operator()<Ipv4Addr>();
}

struct TcpLayer {
  explicit TcpLayer(Stack::Impl& i) : impl(i) {}
  Stack::Impl& impl;
  TcpConfig cfg;
  // One table per family: separate port spaces (IPV6_V6ONLY), and IPv4's
  // keys stay small.
  TcpTable<Ipv4Addr> tab4;
  TcpTable<Ipv6Addr> tab6;
  template <class A>
  TcpTable<A>& table() {
    if constexpr (kIsV6<A>) return tab6;
    else return tab4;
  }
  std::set<TcpSocket*> sockets;                  // every live socket
  std::vector<std::unique_ptr<Tcb>> unbound;     // listeners and fresh sockets' TCBs
  std::uint16_t next_ephemeral = kEphemeralFirst;  // one counter for both families' port spaces

  // Input (input.cpp). rx_pkt is the packet being processed, so
  // process_data can keep its buffer instead of copying the payload (null
  // outside input()).
  Packet* rx_pkt = nullptr;
  // Connections owed an ACK at the end of the current receive burst.
  std::vector<Tcb*> burst_acks;
  void flush_burst_acks();
  void input(const Ipv4Info& info, Packet&& p);
  void input(const Rx6& rx);  // from the IPv6 layer (next header 6)
  // A checked segment for us: to its connection, else a listener, else a reset.
  template <class A>
  void demux(const TcpRx<A>& a, const wire::TcpView& v, const wire::TcpOptions& o, Packet* p);
  // p: the packet holding v (IPv4 or IPv6, not reassembled), which segment_arrives may keep for zero-copy receive.
  void established_input(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o, Packet* p = nullptr);
  void segment_arrives(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o);
  void syn_sent_input(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o);
  // RFC 9293 3.10.7.4 first check (with PAWS): false when the segment is
  // not acceptable (it was answered or dropped).
  bool acceptable(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o);
  // The ACK of our SYN-ACK: the connection is established (and queued for accept()).
  bool syn_received_ack(Tcb& t, const wire::TcpView& v);
  // The peer's FIN (RFC 9293 3.10.7.4 eighth check); false when the TCB is gone.
  bool fin_arrives(Tcb& t, const wire::TcpView& v);
  bool process_ack(Tcb& t, const wire::TcpView& v, const wire::TcpOptions& o);  // ack.cpp
  void dup_ack(Tcb& t, const wire::TcpOptions& o);
  void process_data(Tcb& t, const wire::TcpView& v);                            // data.cpp
  template <class A>
  void send_rst_for(const TcpRx<A>& a, const wire::TcpView& v);

  // Listening (listen.cpp). SYN cookies (RFC 4987 4.4): the SYN-ACK's ISN
  // carries a 5-bit 64-second counter, a 3-bit MSS index and a 24-bit
  // keyed hash of the 4-tuple. The hash covers the addresses (addr_digest:
  // either family) and ports.
  template <class A>
  void listen_input(Tcb& l, const TcpRx<A>& a, const wire::TcpView& v, const wire::TcpOptions& o);
  std::uint32_t cookie_make(std::uint64_t addrs, std::uint16_t lport, std::uint16_t rport, std::uint32_t peer_isn,
                            std::uint16_t mss) const;
  std::optional<std::uint16_t> cookie_check(std::uint64_t addrs, std::uint16_t lport, std::uint16_t rport,
                                            std::uint32_t peer_isn, std::uint32_t cookie) const;
  template <class A>
  void cookie_syn_ack(Tcb& l, const TcpRx<A>& a, const wire::TcpView& v, const wire::TcpOptions& o);
  template <class A>
  bool cookie_accept(Tcb& l, const TcpRx<A>& a, const wire::TcpView& v, const wire::TcpOptions& o);
  template <class A>
  Tcb* new_child(Tcb& l, const TcpRx<A>& a, const wire::TcpView& v, Iface& ifc);
  // The interface towards the sender of `a` and the largest MSS its path
  // allows (IPv4: interface MTU - 40; IPv6: path MTU - 60), or nullopt.
  template <class A>
  std::optional<std::pair<Iface*, std::size_t>> path_to(const TcpRx<A>& a) const;

  // Output (output.cpp).
  void output(Tcb& t, bool force_ack = false);
  void send_segment(Tcb& t, std::uint32_t seq, std::size_t len, std::uint8_t flags, bool retransmit = false);
  template <class A>
  void send_segment_as(Tcb& t, std::uint32_t seq, std::size_t len, std::uint8_t flags, bool retransmit);
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
  template <class A>
  void send_rst(const A& src, const A& dst, std::uint16_t sport, std::uint16_t dport, std::uint32_t seq,
                std::uint32_t ack, bool with_ack);
  // A reset on a connection's own 4-tuple (either family).
  void send_rst(const Tcb& t, std::uint32_t seq, std::uint32_t ack, bool with_ack);
  std::uint16_t window_to_advertise(Tcb& t);

  // Timers and loss recovery (recovery.cpp), congestion control (cc.cpp).
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

  // Lifecycle (conn.cpp).
  Tcb* create(TcpSocket* s);
  // Moves a TCB made by create() from `unbound` into its family's table under k.
  template <class A>
  void file(Tcb& t, const ConnKey<A>& k);
  template <class A>
  std::uint32_t make_isn(const ConnKey<A>& k);
  void setup_connection(Tcb& t, Iface& ifc);
  void set_state(Tcb& t, TcpState s);
  void fail(Tcb& t, std::errc e);            // connection gone (reset, timeout): tell the app, free
  void enter_time_wait(Tcb& t);
  void destroy(Tcb& t);                      // frees the TCB (cancels its timers)
  template <class A>
  void destroy_children(Tcb& listener);
  void released(Tcb& t);                     // the application closed/dropped its socket
  std::uint32_t ts_now(const Tcb& t) const;
  void cancel_timers(Tcb& t);

  // Ports and connections (ports.cpp).
  template <class A>
  std::error_code bind_port(TcpSocket& s, const A& addr, std::uint16_t port);
  void unbind_port(TcpSocket& s);  // a bound socket that never made a TCB
  // SO_REUSEADDR: hands (addr, port) over when only TIME-WAIT connections hold it.
  template <class A>
  void release_time_wait(const A& addr, std::uint16_t port);
  template <class A>
  std::error_code connect(TcpSocket& s, const A& dst, std::uint16_t port);
  // ICMPv6 Packet Too Big lowered the path MTU towards dst (RFC 8201 5.2):
  // connections to it shrink their MSS and resend at the new size.
  void pmtu6_lowered(const Ipv6Addr& dst, std::uint32_t mtu);
  void shutdown();
};

// The two addresses of a 4-tuple as 64 bits for the keyed hashes (ISN,
// SYN cookies). IPv4: both addresses exactly; IPv6: all 256 bits mixed.
std::uint64_t addr_digest(const Ipv4Addr& l, const Ipv4Addr& r);
std::uint64_t addr_digest(const Ipv6Addr& l, const Ipv6Addr& r);
std::uint64_t mix64(std::uint64_t x);  // splitmix64 finaliser

}  // namespace vd::stack
