// TCP sockets (RFC 9293) on the Veridian stack. Non-blocking: every call
// returns at once; the simulation (or the real-time loop) moves time and
// packets. Readiness is `readable()`, `writable()`, `pending_accepts()` and
// `state()`; errors are std::error_code with the usual errno meanings.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "veridian/core/time.hpp"
#include "veridian/stack/ip_addr.hpp"

namespace vd::stack {

class Stack;
struct Tcb;
struct TcpLayer;

enum class TcpState : std::uint8_t {
  Closed, Listen, SynSent, SynReceived, Established, FinWait1, FinWait2, CloseWait, Closing, LastAck, TimeWait
};
const char* tcp_state_name(TcpState s);

enum class CongestionControl : std::uint8_t { NewReno, Cubic };

// Stack-wide TCP defaults (StackConfig::tcp); buffers and some options can
// be changed per socket before connect/listen.
struct TcpConfig {
  std::size_t sndbuf = 256 * 1024;
  std::size_t rcvbuf = 256 * 1024;
  TimePs rto_initial = s_to_ps(1);    // RFC 6298 2.1
  TimePs rto_min = ms_to_ps(200);     // Linux's floor (RFC 6298 says 1 s; 200 ms is common practice)
  TimePs rto_max = s_to_ps(60);
  TimePs msl = s_to_ps(30);           // TIME-WAIT lasts 2 MSL
  TimePs delayed_ack = ms_to_ps(40);
  // In-order segments one ACK may cover when a receive burst (one
  // interrupt's worth, from a device with interrupt moderation) is answered
  // at its end, as a GRO receiver does; 44 full segments are about 64 KiB.
  unsigned burst_ack_segments = 44;
  unsigned syn_retries = 6;
  unsigned max_retries = 15;          // RTO expiries in a row before the connection is dropped
  TimePs keepalive_idle = s_to_ps(7200);
  TimePs keepalive_interval = s_to_ps(75);
  unsigned keepalive_probes = 9;
  bool window_scaling = true;         // RFC 7323
  bool timestamps = true;             // RFC 7323 (RTTM and PAWS)
  bool sack = true;                   // RFC 2018 blocks and RFC 6675 loss recovery
  bool use_tso = true;                // hand the NIC sends of up to 64 KiB when it offers TSO
  bool syncookies = true;             // answer SYNs statelessly when a listen queue is full (RFC 4987)
  CongestionControl cc = CongestionControl::Cubic;
  std::uint64_t isn_secret = 0x5eed'1234'abcd'0001ull;  // RFC 6528 key (set per stack for repeatable runs)
};

struct TcpInfo {
  TcpState state = TcpState::Closed;
  std::uint32_t mss = 0;              // send MSS in use
  std::uint64_t cwnd = 0, ssthresh = 0;
  std::uint64_t snd_wnd = 0, rcv_wnd = 0;
  TimePs srtt = 0, rttvar = 0, rto = 0;
  std::uint64_t bytes_sent = 0, bytes_acked = 0, bytes_received = 0;
  std::uint64_t segs_out = 0, segs_in = 0, tso_sends = 0;
  std::uint64_t retransmits = 0, timeouts = 0, fast_retransmits = 0, dup_acks = 0;
  std::uint64_t ooo_segments = 0, zero_window_probes = 0;
  std::uint64_t sack_blocks_received = 0, sack_recovery_rexmits = 0;
  // Transmit copies: payload bytes copied from the send buffer into a DMA
  // buffer when sent (tx_copy_bytes), and bytes sent with no copy, headers
  // written in front of the payload where send() left it (zero_copy_*).
  // send() itself copies every byte once, into the send buffer.
  std::uint64_t tx_copy_bytes = 0, zero_copy_bytes = 0, zero_copy_sends = 0;
  // Receive: in-order payload bytes left in the DMA buffer they arrived in
  // until recv() (the rest was copied into the receive queue on arrival).
  std::uint64_t rx_zero_copy_bytes = 0;
  bool sack_ok = false, timestamps = false;
  std::uint8_t snd_wscale = 0, rcv_wscale = 0;
};

class TcpSocket {
 public:
  // Errors: address_in_use, address_not_available, invalid_argument (bound).
  std::error_code bind(Ipv4Addr addr, std::uint16_t port);
  // Errors: invalid_argument (connected, or not bound and no port).
  std::error_code listen(int backlog = 128);
  // An established connection from the backlog, or nullptr (none yet).
  std::shared_ptr<TcpSocket> accept();
  std::size_t pending_accepts() const;
  // Starts the handshake (binds an ephemeral port first if needed).
  // Errors: already_connected, network_unreachable, invalid_argument,
  // connection_already_in_progress.
  std::error_code connect(Ipv4Addr dst, std::uint16_t port);

  // IPv6 (RFC 8200, RFC 9293 over IPv6): as bind/connect above. A socket is
  // of one family, fixed by its first bind or connect: an IPv4 call on an
  // IPv6 socket, or the reverse, gives address_family_not_supported. IPv6
  // ports are their own namespace (as with IPV6_V6ONLY): a listener on ::
  // does not take IPv4 connections. Accepted sockets have their
  // listener's family. (bind is a template only so that `bind({}, port)`
  // keeps meaning the IPv4 any-address.)
  template <std::same_as<Ipv6Addr> A>
  std::error_code bind(const A& addr, std::uint16_t port) { return bind6(addr, port); }
  std::error_code connect(const Ipv6Addr& dst, std::uint16_t port);
  bool is_v6() const { return v6_; }
  // IPV6_V6ONLY: always on (no dual-stack sockets: IPv4 peers need an IPv4
  // socket); turning it off gives operation_not_supported.
  bool v6only() const { return true; }
  std::error_code set_v6only(bool on) const {
    return on ? std::error_code{} : std::make_error_code(std::errc::operation_not_supported);
  }

  // Copies up to data.size() bytes into the send buffer and returns how
  // many; 0 with no error means the buffer is full (would block). Errors:
  // not_connected, broken_pipe (after shutdown_write or a peer reset),
  // connection_reset, timed_out.
  std::size_t send(std::span<const std::uint8_t> data, std::error_code& ec);
  // Copies up to out.size() received bytes; 0 with no error: nothing yet
  // (or end of stream when eof()). Errors as send.
  std::size_t recv(std::span<std::uint8_t> out, std::error_code& ec);
  bool eof() const;               // the peer's FIN and every byte before it were read
  std::size_t readable() const;   // bytes ready for recv
  std::size_t writable() const;   // free send-buffer space
  std::size_t unacked() const;    // bytes sent (or queued) and not yet acknowledged

  std::error_code shutdown_write();  // FIN after the queued data
  void close();                      // graceful: FIN, the stack finishes the close
  void abort();                      // RST now, data discarded

  TcpState state() const;
  bool is_open() const { return stack_ != nullptr && !closed_; }
  std::error_code error() const { return error_; }  // why the connection failed (SO_ERROR)
  Ipv4Addr local_addr() const;  // the connection's address once connected, else the bound one
  std::uint16_t local_port() const { return lport_; }
  Ipv4Addr remote_addr() const;
  std::uint16_t remote_port() const;
  // The IPv6 equivalents (:: on an IPv4 socket, as the IPv4 ones are
  // 0.0.0.0 on an IPv6 socket).
  Ipv6Addr local_addr6() const;
  Ipv6Addr remote_addr6() const;
  TcpInfo info() const;  // after the connection ended: its final counters (state CLOSED)

  // Options (buffers before connect/listen; the others any time).
  void set_nodelay(bool on);
  bool nodelay() const { return nodelay_; }
  void set_keepalive(bool on);
  std::error_code set_sndbuf(std::size_t bytes);
  std::error_code set_rcvbuf(std::size_t bytes);
  void set_congestion_control(CongestionControl cc);
  // SO_REUSEADDR, before bind: the bind may take a port still held by
  // connections in TIME-WAIT (not one held by a listener or a live
  // connection, as on Linux).
  void set_reuse_addr(bool on) { reuse_addr_ = on; }
  bool reuse_addr() const { return reuse_addr_; }
  // SO_RCVTIMEO (0 = none), used by the Asio layer's async_read_some and
  // Python's recv: they complete with timed_out after this long on the
  // stack's clock without data.
  void set_recv_timeout(TimePs t) { rcvtimeo_ = t; }
  TimePs recv_timeout() const { return rcvtimeo_; }
  // The host core this socket's calls run on when the host has a CPU model
  // (sim/cpus.hpp); -1: the host's application core. Accepted sockets
  // start on their listener's.
  void set_cpu(int core) { cpu_ = core; }
  int cpu() const { return cpu_; }
  Scheduler* scheduler() const;  // the owning stack's clock (nullptr once it is gone)

  // Called (from inside the stack, so it must not call back into it: post
  // the work elsewhere) whenever readiness may have changed: data or EOF
  // arrived, send space freed, the connection completed or failed, a
  // connection is waiting for accept(). Used by the Boost.Asio layer.
  void set_notify(std::function<void()> cb) { notify_ = std::move(cb); }

  ~TcpSocket();

 private:
  friend class Stack;
  friend struct TcpLayer;
  explicit TcpSocket(Stack& s);
  std::error_code bind6(const Ipv6Addr& addr, std::uint16_t port);
  // The bound address of the socket's family (A: Ipv4Addr or Ipv6Addr).
  template <class A>
  A& laddr_of() {
    if constexpr (std::is_same_v<A, Ipv6Addr>) return laddr6_;
    else return laddr_;
  }
  Stack* stack_;
  Tcb* tcb_ = nullptr;   // owned by the TCP layer; outlives the socket until the close completes
  bool closed_ = false;
  bool listening_ = false;
  bool fin_seen_ = false;  // the connection ended after the peer's FIN
  // Bytes received but not yet read when the connection itself ended (the
  // peer closed and the close handshake finished): still the app's to read.
  std::vector<std::uint8_t> rx_left_;
  std::size_t rx_left_off_ = 0;
  Ipv4Addr laddr_{};
  Ipv6Addr laddr6_{};
  bool v6_ = false;
  std::uint16_t lport_ = 0;
  bool bound_ = false;
  bool nodelay_ = false, keepalive_ = false;
  std::size_t sndbuf_, rcvbuf_;
  CongestionControl cc_;
  std::error_code error_;
  TcpInfo last_info_;  // info() once the connection is gone
  std::function<void()> notify_;
  bool reuse_addr_ = false;
  TimePs rcvtimeo_ = 0;
  int cpu_ = -1;
};

}  // namespace vd::stack
