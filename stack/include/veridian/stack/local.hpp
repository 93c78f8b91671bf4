// Local (Unix-domain style) sockets: stream and datagram sockets named by a
// string path inside one Stack (one simulated host). Pure memory: no
// packets, no link, no time; data moves at the call. Non-blocking like
// TcpSocket: every call returns at once, 0 bytes with no error means
// "would block", readiness is readable()/writable()/pending_accepts() and a
// set_notify() callback.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "veridian/core/time.hpp"

namespace vd::stack {

class Stack;

struct LocalDatagram {
  std::vector<std::uint8_t> data;
  std::string from;  // the sender's bound name ("" when it was unbound)
};

class LocalSocket {
 public:
  enum class Kind : std::uint8_t { Stream, Datagram };
  static constexpr std::size_t kMaxPath = 107;  // sun_path without its NUL

  Kind kind() const { return kind_; }

  // Errors: invalid_argument (bound already, empty or longer than kMaxPath),
  // address_in_use (the name is taken; names are freed on close).
  std::error_code bind(const std::string& path);
  // Stream only (else operation_not_supported); bound and not connected
  // (else invalid_argument). Again: changes the backlog.
  std::error_code listen(int backlog = 128);
  // A connection from the backlog, or nullptr (none yet).
  std::shared_ptr<LocalSocket> accept();
  std::size_t pending_accepts() const { return accept_q_.size(); }

  // Stream: connects at once to a listener of that name; errors:
  // connection_refused (no such name, or not a listening stream socket),
  // resource_unavailable_try_again (its backlog is full), already_connected,
  // invalid_argument (listening). Datagram: sets the default destination
  // (connection_refused when the name is not bound; wrong_protocol_type when
  // it is a stream socket).
  std::error_code connect(const std::string& path);

  // Stream: copies what fits in the peer's receive buffer and returns how
  // much; 0 with no error means it is full (would block). Errors:
  // not_connected, broken_pipe (after shutdown_write, or the peer closed).
  // Datagram (connected): the whole datagram or 0 (receiver full); errors
  // as sendto.
  std::size_t send(std::span<const std::uint8_t> data, std::error_code& ec);
  // Stream: up to out.size() bytes; 0 with no error: nothing yet, or end of
  // stream when eof(). Datagram: the next datagram, cut to out.size().
  // Errors: not_connected (stream), bad_file_descriptor (closed).
  std::size_t recv(std::span<std::uint8_t> out, std::error_code& ec);
  bool eof() const;                // stream: the peer shut down or closed and every byte was read
  std::size_t readable() const;    // stream bytes, or datagrams, ready
  std::size_t writable() const;    // free space in the peer's receive buffer (stream)
  std::error_code shutdown_write();  // the peer reads EOF after the queued data
  void close();                      // frees the name; the peer reads EOF

  // Datagram: errors connection_refused (no socket of that name),
  // wrong_protocol_type (a stream socket), message_size (larger than the
  // receiver's buffer), resource_unavailable_try_again (its queue is full:
  // would block; nothing is sent).
  std::error_code sendto(std::span<const std::uint8_t> data, const std::string& path);
  std::optional<LocalDatagram> recvfrom();
  std::size_t pending() const { return dq_.size(); }

  const std::string& local_path() const { return path_; }
  const std::string& peer_path() const { return peer_path_; }
  bool connected() const;
  bool listening() const { return listening_; }

  // Receive buffer (bytes queued for this socket; 2 KiB..64 MiB; default
  // 256 KiB). Errors: invalid_argument. Datagrams also count against
  // set_rx_queue_limit (default 1024).
  std::error_code set_rcvbuf(std::size_t bytes);
  std::size_t rcvbuf() const { return rcvbuf_; }
  void set_rx_queue_limit(std::size_t n) { dq_limit_ = n; }
  void set_recv_timeout(TimePs t) { rcvtimeo_ = t; }
  TimePs recv_timeout() const { return rcvtimeo_; }
  Scheduler* scheduler() const;
  // Called (synchronously, from the call on this or the peer socket that
  // changed readiness; it must not call back into the sockets) when data or
  // EOF arrived, buffer space was freed or a connection is waiting.
  void set_notify(std::function<void()> cb) { notify_ = std::move(cb); }

  bool is_open() const { return stack_ != nullptr && !closed_; }
  ~LocalSocket();

 private:
  friend class Stack;
  struct Names;
  LocalSocket(Stack& s, Kind k);
  void wake() const {
    if (notify_) notify_();
  }
  void unlink_peer();
  std::size_t rx_bytes() const { return rx_.size() + dq_bytes_; }

  Stack* stack_;
  Kind kind_;
  bool closed_ = false;
  bool listening_ = false;
  int backlog_ = 0;
  std::string path_, peer_path_;
  std::deque<std::shared_ptr<LocalSocket>> accept_q_;
  LocalSocket* peer_ = nullptr;      // stream: the other end while both are open
  bool was_connected_ = false;
  bool rd_eof_ = false;              // stream: the peer will send no more
  bool wr_shut_ = false;             // stream: we will send no more
  std::deque<std::uint8_t> rx_;      // stream bytes
  std::deque<LocalDatagram> dq_;     // datagrams
  std::size_t dq_bytes_ = 0;
  std::size_t dq_limit_ = 1024;
  std::size_t rcvbuf_ = 256 * 1024;
  TimePs rcvtimeo_ = 0;
  std::function<void()> notify_;
};

}  // namespace vd::stack
