// Boost.Asio I/O objects over Veridian's stack sockets, on simulated time.
//
// The sockets are ordinary Asio objects: async operations take any
// completion token (callbacks, use_future, use_awaitable for C++20
// coroutines) and the stream works with asio::async_read/async_write. Their
// completions run on an io_context that `run()` below drives together with
// the Simulation: it runs ready handlers, then advances the simulation to
// its next event, and so on. With a TAP attached the Simulation is paced to
// the wall clock (real-time mode), so the same application code runs there
// unchanged and its timers follow the system clock.
#pragma once

#include <utility>  // before Boost 1.74's awaitable.hpp, which uses std::exchange without it

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <concepts>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "veridian/sim/simulation.hpp"
#include "veridian/stack/stack.hpp"

namespace vd::net {

namespace asio = boost::asio;
using boost::system::error_code;

inline error_code to_asio(std::error_code ec) {
  return ec ? error_code(ec.value(), boost::system::generic_category()) : error_code{};
}

namespace detail {

// Operations waiting for readiness; retried when the stack says something
// changed. Each returns true once it has completed (and posted its handler).
// They live in their socket's state and point back to it by raw pointer, so
// a socket that goes away takes its pending operations (and any coroutine
// suspended in them) with it instead of keeping itself alive in a cycle.
class Waiters {
 public:
  Waiters() = default;
  Waiters(Waiters&&) = default;
  void add(std::function<bool()> op) { ops_.push_back(std::move(op)); }
  // An operation with a deadline (SO_RCVTIMEO): if it has not completed
  // `timeout` after now on the stack's clock (`clock()`; nullptr once the
  // stack is gone), on_timeout() completes it instead and it is dropped.
  // A timer that fires after these Waiters are gone does nothing.
  void add_timed(std::function<bool()> op, std::function<Scheduler*()> clock, TimePs timeout,
                 std::function<void()> on_timeout) {
    Scheduler* sched = clock();
    if (!sched || timeout <= 0) return add(std::move(op));
    struct Deadline {
      bool done = false;
      TimerId id = kNoTimer;
    };
    auto d = std::make_shared<Deadline>();
    ops_.push_back([op = std::move(op), d, clock]() mutable {
      if (d->done) return true;
      if (!op()) return false;
      d->done = true;
      if (Scheduler* sc = clock(); sc && d->id != kNoTimer) sc->cancel(d->id);
      d->id = kNoTimer;
      return true;
    });
    std::weak_ptr<int> alive = alive_;
    d->id = sched->schedule_in(timeout, [d, alive, on_timeout = std::move(on_timeout)] {
      d->id = kNoTimer;
      if (d->done || alive.expired()) return;
      d->done = true;
      on_timeout();
    });
  }
  void retry() {
    std::deque<std::function<bool()>> still;
    auto ops = std::move(ops_);
    ops_.clear();
    for (auto& op : ops)
      if (!op()) still.push_back(std::move(op));
    for (auto& op : still) ops_.push_back(std::move(op));
  }
  bool empty() const { return ops_.empty(); }

 private:
  std::deque<std::function<bool()>> ops_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// Moves bytes through each buffer of a sequence with `io` (the socket's
// send or recv) until one comes back short or fails; returns the total.
template <class Buffer, class Buffers, class Io>
std::size_t each_buffer(const Buffers& bufs, std::error_code& ec, Io&& io) {
  std::size_t total = 0;
  for (auto it = asio::buffer_sequence_begin(bufs); it != asio::buffer_sequence_end(bufs); ++it) {
    Buffer b = *it;
    const std::size_t n = io(b, ec);
    total += n;
    if (ec || n < b.size()) break;
  }
  return total;
}

}  // namespace detail

// A TCP stream socket (AsyncReadStream + AsyncWriteStream). Movable: its
// state is shared with the operations in flight, never `this`.
class tcp_socket {
  struct State {
    asio::io_context* io;
    std::shared_ptr<stack::TcpSocket> s;
    detail::Waiters w;
    // Try now; if not done, wait for the stack's next readiness change.
    void wait(std::function<bool()> op) {
      if (!op()) w.add(std::move(op));
    }
    // The same under the socket's receive timeout (SO_RCVTIMEO).
    void wait_recv(std::function<bool()> op, std::function<void()> on_timeout) {
      if (op()) return;
      w.add_timed(std::move(op), [s = s.get()] { return s->scheduler(); }, s->recv_timeout(), std::move(on_timeout));
    }
    // Never inline: a completion runs from the io_context, like Asio's own.
    // Handlers are move-only; they travel in a shared_ptr.
    template <class H, class... Args>
    void complete(std::shared_ptr<H> h, Args&&... args) {
      asio::post(*io, [h, ... a = std::forward<Args>(args)]() mutable { std::move(*h)(std::move(a)...); });
    }
  };

 public:
  using executor_type = asio::io_context::executor_type;

  tcp_socket(asio::io_context& io, stack::Stack& st) : tcp_socket(io, st.tcp_socket()) {}
  tcp_socket(asio::io_context& io, std::shared_ptr<stack::TcpSocket> s)
      : st_(std::make_shared<State>(State{&io, std::move(s), {}})) {
    // The stack calls back from inside its processing: only post.
    std::weak_ptr<State> w = st_;
    asio::io_context* io_p = &io;
    st_->s->set_notify([w, io_p] {
      asio::post(*io_p, [w] {
        if (auto p = w.lock()) p->w.retry();
      });
    });
  }
  tcp_socket(tcp_socket&&) = default;
  tcp_socket& operator=(tcp_socket&&) = default;
  ~tcp_socket() {
    if (st_ && st_.use_count() == 1) st_->s->set_notify(nullptr);
  }

  executor_type get_executor() { return st_->io->get_executor(); }
  stack::TcpSocket& native() { return *st_->s; }

  // An address as a string, IPv4 ("10.0.0.2", "0.0.0.0") or IPv6
  // ("2001:db8::2", "::"), as udp_socket's endpoints.
  struct endpoint {
    std::string addr;
    std::uint16_t port = 0;
  };

  error_code bind(stack::Ipv4Addr a, std::uint16_t port) { return to_asio(st_->s->bind(a, port)); }
  // IPv6: the socket's family is fixed by its first bind/connect; IPv6
  // ports are their own namespace (IPV6_V6ONLY). A template only so that
  // bind({}, port) keeps meaning the IPv4 any-address.
  template <std::same_as<stack::Ipv6Addr> A>
  error_code bind(const A& a, std::uint16_t port) { return to_asio(st_->s->bind(a, port)); }
  error_code bind(const endpoint& e) {
    if (auto a4 = stack::Ipv4Addr::parse(e.addr)) return to_asio(st_->s->bind(*a4, e.port));
    if (auto a6 = stack::Ipv6Addr::parse(e.addr)) return to_asio(st_->s->bind(*a6, e.port));
    return asio::error::invalid_argument;
  }
  error_code listen(int backlog = 128) { return to_asio(st_->s->listen(backlog)); }
  // The addresses as strings (IPv6 ones for an IPv6 socket).
  endpoint local_endpoint() const {
    const auto& s = *st_->s;
    return {s.is_v6() ? s.local_addr6().str() : s.local_addr().str(), s.local_port()};
  }
  endpoint remote_endpoint() const {
    const auto& s = *st_->s;
    return {s.is_v6() ? s.remote_addr6().str() : s.remote_addr().str(), s.remote_port()};
  }
  error_code shutdown_write() { return to_asio(st_->s->shutdown_write()); }
  // Closes the socket; operations still waiting complete with
  // bad_descriptor (as an Asio acceptor's do with operation_aborted).
  void close() {
    st_->s->close();
    st_->w.retry();
  }

  // Handler: void(error_code)
  template <class Token>
  auto async_connect(stack::Ipv4Addr a, std::uint16_t port, Token&& token) {
    return connect_op([a, port](stack::TcpSocket& s) { return s.connect(a, port); }, std::forward<Token>(token));
  }
  template <class Token>
  auto async_connect(const stack::Ipv6Addr& a, std::uint16_t port, Token&& token) {
    return connect_op([a, port](stack::TcpSocket& s) { return s.connect(a, port); }, std::forward<Token>(token));
  }
  // An address string of either family; a malformed one completes with
  // invalid_argument.
  template <class Token>
  auto async_connect(const endpoint& e, Token&& token) {
    return connect_op(
        [e](stack::TcpSocket& s) -> std::error_code {
          if (auto a4 = stack::Ipv4Addr::parse(e.addr)) return s.connect(*a4, e.port);
          if (auto a6 = stack::Ipv6Addr::parse(e.addr)) return s.connect(*a6, e.port);
          return std::make_error_code(std::errc::invalid_argument);
        },
        std::forward<Token>(token));
  }

 private:
  template <class Connect, class Token>
  auto connect_op(Connect connect, Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [st = st_, connect](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          const auto ec = connect(*st->s);
          if (ec) return st->complete(h, to_asio(ec));
          st->wait([st = st.get(), h]() mutable {
            const auto state = st->s->state();
            if (state == stack::TcpState::SynSent || state == stack::TcpState::SynReceived) return false;
            st->complete(h, state == stack::TcpState::Established ? error_code{} : to_asio(st->s->error()));
            return true;
          });
        },
        token);
  }

 public:

  // Handler: void(error_code, tcp_socket)
  template <class Token>
  auto async_accept(Token&& token) {
    return asio::async_initiate<Token, void(error_code, tcp_socket)>(
        [st = st_](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          st->wait([st = st.get(), h]() mutable {
            if (!st->s->is_open()) {
              st->complete(h, error_code(asio::error::bad_descriptor), tcp_socket(*st->io, st->s));
              return true;
            }
            auto c = st->s->accept();
            if (!c) return false;
            st->complete(h, error_code{}, tcp_socket(*st->io, std::move(c)));
            return true;
          });
        },
        token);
  }

  // Handler: void(error_code, std::size_t); end of stream is asio::error::eof;
  // asio::error::timed_out after the socket's recv_timeout() without data.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& bufs, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [st = st_, bufs](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto on_timeout = [st = st.get(), h] { st->complete(h, error_code(asio::error::timed_out), std::size_t{0}); };
          st->wait_recv([st = st.get(), bufs, h]() mutable {
            std::error_code ec;
            const std::size_t total = detail::each_buffer<asio::mutable_buffer>(
                bufs, ec, [&](asio::mutable_buffer b, std::error_code& e) {
                  return st->s->recv({static_cast<std::uint8_t*>(b.data()), b.size()}, e);
                });
            if (total > 0) return st->complete(h, error_code{}, total), true;
            if (ec) return st->complete(h, to_asio(ec), std::size_t{0}), true;
            if (st->s->eof()) return st->complete(h, error_code(asio::error::eof), std::size_t{0}), true;
            if (asio::buffer_size(bufs) == 0) return st->complete(h, error_code{}, std::size_t{0}), true;
            if (!st->s->is_open()) return st->complete(h, error_code(asio::error::bad_descriptor), std::size_t{0}), true;
            return false;
          }, on_timeout);
        },
        token);
  }

  // Handler: void(error_code, std::size_t)
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& bufs, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [st = st_, bufs](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          st->wait([st = st.get(), bufs, h]() mutable {
            std::error_code ec;
            const std::size_t total = detail::each_buffer<asio::const_buffer>(
                bufs, ec, [&](asio::const_buffer b, std::error_code& e) {
                  return st->s->send({static_cast<const std::uint8_t*>(b.data()), b.size()}, e);
                });
            if (total > 0) return st->complete(h, error_code{}, total), true;
            if (ec) return st->complete(h, to_asio(ec), std::size_t{0}), true;
            if (asio::buffer_size(bufs) == 0) return st->complete(h, error_code{}, std::size_t{0}), true;
            return false;
          });
        },
        token);
  }

 private:
  std::shared_ptr<State> st_;
};

// A UDP socket (IPv4 or IPv6 endpoints as (address string, port)).
class udp_socket {
  struct State {
    asio::io_context* io;
    std::shared_ptr<stack::UdpSocket> s;
    detail::Waiters w;
  };

 public:
  struct endpoint {
    std::string addr;
    std::uint16_t port = 0;
  };
  using executor_type = asio::io_context::executor_type;

  udp_socket(asio::io_context& io, stack::Stack& st) : st_(std::make_shared<State>(State{&io, st.udp_socket(), {}})) {
    std::weak_ptr<State> w = st_;
    asio::io_context* io_p = &io;
    st_->s->set_notify([w, io_p] {
      asio::post(*io_p, [w] {
        if (auto p = w.lock()) p->w.retry();
      });
    });
  }
  udp_socket(udp_socket&&) = default;
  ~udp_socket() {
    if (st_ && st_.use_count() == 1) st_->s->set_notify(nullptr);
  }
  executor_type get_executor() { return st_->io->get_executor(); }
  stack::UdpSocket& native() { return *st_->s; }

  error_code bind(const endpoint& e) {
    if (auto a4 = stack::Ipv4Addr::parse(e.addr)) return to_asio(st_->s->bind(*a4, e.port));
    if (auto a6 = stack::Ipv6Addr::parse(e.addr)) return to_asio(st_->s->bind(*a6, e.port));
    return asio::error::invalid_argument;
  }

  // Handler: void(error_code, std::size_t). Completes at once: datagrams
  // never wait for buffer space (a full device queue is an error).
  template <class ConstBuffer, class Token>
  auto async_send_to(const ConstBuffer& buf, const endpoint& to, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [st = st_, buf, to](auto handler) {
          const auto* p = static_cast<const std::uint8_t*>(asio::const_buffer(buf).data());
          const std::size_t n = asio::const_buffer(buf).size();
          std::error_code ec = make_error_code(std::errc::invalid_argument);
          if (auto a4 = stack::Ipv4Addr::parse(to.addr)) ec = st->s->sendto({p, n}, *a4, to.port);
          else if (auto a6 = stack::Ipv6Addr::parse(to.addr)) ec = st->s->sendto({p, n}, *a6, to.port);
          asio::post(*st->io, [h = std::move(handler), ec, n]() mutable { std::move(h)(to_asio(ec), ec ? 0 : n); });
        },
        token);
  }

  // Handler: void(error_code, std::size_t); the sender goes to `from`.
  // A datagram longer than the buffer is cut (as recvfrom does);
  // asio::error::timed_out after native().recv_timeout() without one.
  template <class MutableBuffer, class Token>
  auto async_receive_from(const MutableBuffer& buf, endpoint& from, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [st = st_, buf, from_p = &from](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto op = [st = st.get(), buf, from_p, h]() mutable {
            auto d = st->s->recvfrom();
            if (!d) {
              if (!st->s->is_open()) {
                asio::post(*st->io, [h]() mutable { std::move(*h)(error_code(asio::error::bad_descriptor), std::size_t{0}); });
                return true;
              }
              return false;
            }
            asio::mutable_buffer b(buf);
            const std::size_t n = std::min(b.size(), d->data.size());
            std::copy_n(d->data.begin(), n, static_cast<std::uint8_t*>(b.data()));
            from_p->addr = d->v6 ? d->src_addr6.str() : d->src_addr.str();
            from_p->port = d->src_port;
            asio::post(*st->io, [h, n]() mutable { std::move(*h)(error_code{}, n); });
            return true;
          };
          if (op()) return;
          auto on_timeout = [io = st->io, h] {
            asio::post(*io, [h]() mutable { std::move(*h)(error_code(asio::error::timed_out), std::size_t{0}); });
          };
          st->w.add_timed(std::move(op), [s = st->s.get()] { return s->scheduler(); }, st->s->recv_timeout(),
                          std::move(on_timeout));
        },
        token);
  }

 private:
  std::shared_ptr<State> st_;
};

namespace detail {

// The shared state of the raw and local socket objects below (the TCP and
// UDP ones above have their own, of the same shape).
template <class Sock>
struct IoState {
  asio::io_context* io = nullptr;
  std::shared_ptr<Sock> s;
  Waiters w;
  void wait(std::function<bool()> op) {
    if (!op()) w.add(std::move(op));
  }
  void wait_recv(std::function<bool()> op, std::function<void()> on_timeout) {
    if (op()) return;
    w.add_timed(std::move(op), [s = s.get()] { return s->scheduler(); }, s->recv_timeout(), std::move(on_timeout));
  }
  template <class H, class... Args>
  void complete(std::shared_ptr<H> h, Args&&... args) {
    asio::post(*io, [h, ... a = std::forward<Args>(args)]() mutable { std::move(*h)(std::move(a)...); });
  }
  ~IoState() {
    if (s) s->set_notify(nullptr);
  }
};

template <class Sock>
std::shared_ptr<IoState<Sock>> make_io_state(asio::io_context& io, std::shared_ptr<Sock> s) {
  auto st = std::make_shared<IoState<Sock>>();
  st->io = &io;
  st->s = std::move(s);
  std::weak_ptr<IoState<Sock>> w = st;
  asio::io_context* io_p = &io;
  // The stack (or, for local sockets, the peer's call) notifies: only post.
  st->s->set_notify([w, io_p] {
    asio::post(*io_p, [w] {
      if (auto p = w.lock()) p->w.retry();
    });
  });
  return st;
}

// async_receive_from for a socket whose recvfrom() gives a datagram with
// `data`; `from` gets the sender as `name(datagram)`.
template <class Sock, class MutableBuffer, class From, class Name, class Token>
auto receive_from(std::shared_ptr<IoState<Sock>> st, const MutableBuffer& buf, From* from, Name name, Token&& token) {
  return asio::async_initiate<Token, void(error_code, std::size_t)>(
      [st = std::move(st), buf, from, name](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        auto on_timeout = [s = st.get(), h] { s->complete(h, error_code(asio::error::timed_out), std::size_t{0}); };
        st->wait_recv([s = st.get(), buf, from, name, h]() mutable {
          auto d = s->s->recvfrom();
          if (!d) {
            if (s->s->is_open()) return false;
            s->complete(h, error_code(asio::error::bad_descriptor), std::size_t{0});
            return true;
          }
          asio::mutable_buffer b(buf);
          const std::size_t n = std::min(b.size(), d->data.size());
          std::copy_n(d->data.begin(), n, static_cast<std::uint8_t*>(b.data()));
          *from = name(*d);
          s->complete(h, error_code{}, n);
          return true;
        }, on_timeout);
      },
      token);
}

}  // namespace detail

// A raw IP socket (stack::RawSocket) for one protocol of IPv4 or IPv6;
// addresses are strings. Received IPv4 datagrams start with their header.
class raw_socket {
  using State = detail::IoState<stack::RawSocket>;

 public:
  using executor_type = asio::io_context::executor_type;
  raw_socket(asio::io_context& io, stack::Stack& st, int family, std::uint8_t protocol)
      : st_(detail::make_io_state(io, st.raw_socket(family, protocol))) {}
  raw_socket(raw_socket&&) = default;
  raw_socket& operator=(raw_socket&&) = default;
  executor_type get_executor() { return st_->io->get_executor(); }
  stack::RawSocket& native() { return *st_->s; }

  error_code bind(const std::string& addr) {
    if (auto a4 = stack::Ipv4Addr::parse(addr)) return to_asio(st_->s->bind(*a4));
    if (auto a6 = stack::Ipv6Addr::parse(addr)) return to_asio(st_->s->bind(*a6));
    return asio::error::invalid_argument;
  }
  void close() {
    st_->s->close();
    st_->w.retry();
  }

  // Handler: void(error_code, std::size_t); completes at once (the payload
  // goes out as one IP datagram of the socket's protocol, or fails).
  template <class ConstBuffer, class Token>
  auto async_send_to(const ConstBuffer& buf, const std::string& to, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [st = st_, buf, to](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          const auto* p = static_cast<const std::uint8_t*>(asio::const_buffer(buf).data());
          const std::size_t n = asio::const_buffer(buf).size();
          std::error_code ec = make_error_code(std::errc::invalid_argument);
          if (auto a4 = stack::Ipv4Addr::parse(to)) ec = st->s->sendto({p, n}, *a4);
          else if (auto a6 = stack::Ipv6Addr::parse(to)) ec = st->s->sendto({p, n}, *a6);
          st->complete(h, to_asio(ec), ec ? std::size_t{0} : n);
        },
        token);
  }

  // Handler: void(error_code, std::size_t); the source address goes to
  // `from`; timed_out after native().recv_timeout() without a datagram.
  template <class MutableBuffer, class Token>
  auto async_receive_from(const MutableBuffer& buf, std::string& from, Token&& token) {
    return detail::receive_from(st_, buf, &from,
                                [](const stack::Datagram& d) { return d.v6 ? d.src_addr6.str() : d.src_addr.str(); },
                                std::forward<Token>(token));
  }

 private:
  std::shared_ptr<State> st_;
};

// A local (Unix-domain style) stream socket: AsyncReadStream and
// AsyncWriteStream, so asio::async_read/async_write work.
class local_stream_socket {
  using State = detail::IoState<stack::LocalSocket>;

 public:
  using executor_type = asio::io_context::executor_type;
  local_stream_socket(asio::io_context& io, stack::Stack& st)
      : st_(detail::make_io_state(io, st.local_socket(stack::LocalSocket::Kind::Stream))) {}
  local_stream_socket(asio::io_context& io, std::shared_ptr<stack::LocalSocket> s)
      : st_(detail::make_io_state(io, std::move(s))) {}
  local_stream_socket(local_stream_socket&&) = default;
  local_stream_socket& operator=(local_stream_socket&&) = default;
  executor_type get_executor() { return st_->io->get_executor(); }
  stack::LocalSocket& native() { return *st_->s; }

  error_code bind(const std::string& path) { return to_asio(st_->s->bind(path)); }
  error_code listen(int backlog = 128) { return to_asio(st_->s->listen(backlog)); }
  error_code shutdown_write() { return to_asio(st_->s->shutdown_write()); }
  void close() {
    st_->s->close();
    st_->w.retry();
  }

  // Handler: void(error_code); connection_refused when nothing listens
  // there. Connecting is immediate; the handler is posted.
  template <class Token>
  auto async_connect(const std::string& path, Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [st = st_, path](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          st->complete(h, to_asio(st->s->connect(path)));
        },
        token);
  }

  // Handler: void(error_code, local_stream_socket)
  template <class Token>
  auto async_accept(Token&& token) {
    return asio::async_initiate<Token, void(error_code, local_stream_socket)>(
        [st = st_](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          st->wait([st = st.get(), h]() mutable {
            if (!st->s->is_open()) {
              st->complete(h, error_code(asio::error::bad_descriptor), local_stream_socket(*st->io, st->s));
              return true;
            }
            auto c = st->s->accept();
            if (!c) return false;
            st->complete(h, error_code{}, local_stream_socket(*st->io, std::move(c)));
            return true;
          });
        },
        token);
  }

  // Handler: void(error_code, std::size_t); eof at end of stream,
  // timed_out after native().recv_timeout() without data.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& bufs, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [st = st_, bufs](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto on_timeout = [st = st.get(), h] { st->complete(h, error_code(asio::error::timed_out), std::size_t{0}); };
          st->wait_recv([st = st.get(), bufs, h]() mutable {
            std::error_code ec;
            const std::size_t total = detail::each_buffer<asio::mutable_buffer>(
                bufs, ec, [&](asio::mutable_buffer b, std::error_code& e) {
                  return st->s->recv({static_cast<std::uint8_t*>(b.data()), b.size()}, e);
                });
            if (total > 0) return st->complete(h, error_code{}, total), true;
            if (ec) return st->complete(h, to_asio(ec), std::size_t{0}), true;
            if (st->s->eof()) return st->complete(h, error_code(asio::error::eof), std::size_t{0}), true;
            if (asio::buffer_size(bufs) == 0) return st->complete(h, error_code{}, std::size_t{0}), true;
            return false;
          }, on_timeout);
        },
        token);
  }

  // Handler: void(error_code, std::size_t); waits while the peer's buffer is full.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& bufs, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [st = st_, bufs](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          st->wait([st = st.get(), bufs, h]() mutable {
            std::error_code ec;
            const std::size_t total = detail::each_buffer<asio::const_buffer>(
                bufs, ec, [&](asio::const_buffer b, std::error_code& e) {
                  return st->s->send({static_cast<const std::uint8_t*>(b.data()), b.size()}, e);
                });
            if (total > 0) return st->complete(h, error_code{}, total), true;
            if (ec) return st->complete(h, to_asio(ec), std::size_t{0}), true;
            if (asio::buffer_size(bufs) == 0) return st->complete(h, error_code{}, std::size_t{0}), true;
            return false;
          });
        },
        token);
  }

 private:
  std::shared_ptr<State> st_;
};

// A local (Unix-domain style) datagram socket; names are strings.
class local_datagram_socket {
  using State = detail::IoState<stack::LocalSocket>;

 public:
  using executor_type = asio::io_context::executor_type;
  local_datagram_socket(asio::io_context& io, stack::Stack& st)
      : st_(detail::make_io_state(io, st.local_socket(stack::LocalSocket::Kind::Datagram))) {}
  local_datagram_socket(local_datagram_socket&&) = default;
  local_datagram_socket& operator=(local_datagram_socket&&) = default;
  executor_type get_executor() { return st_->io->get_executor(); }
  stack::LocalSocket& native() { return *st_->s; }

  error_code bind(const std::string& path) { return to_asio(st_->s->bind(path)); }
  void close() {
    st_->s->close();
    st_->w.retry();
  }

  // Handler: void(error_code, std::size_t); completes at once. A full
  // receiver is resource_unavailable_try_again (nothing sent).
  template <class ConstBuffer, class Token>
  auto async_send_to(const ConstBuffer& buf, const std::string& to, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [st = st_, buf, to](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          const auto* p = static_cast<const std::uint8_t*>(asio::const_buffer(buf).data());
          const std::size_t n = asio::const_buffer(buf).size();
          const std::error_code ec = st->s->sendto({p, n}, to);
          st->complete(h, to_asio(ec), ec ? std::size_t{0} : n);
        },
        token);
  }

  // Handler: void(error_code, std::size_t); the sender's name goes to `from`.
  template <class MutableBuffer, class Token>
  auto async_receive_from(const MutableBuffer& buf, std::string& from, Token&& token) {
    return detail::receive_from(st_, buf, &from, [](const stack::LocalDatagram& d) { return d.from; },
                                std::forward<Token>(token));
  }

 private:
  std::shared_ptr<State> st_;
};

// A timer on the Simulation's clock (paced to the wall clock in real time).
class sim_timer {
 public:
  sim_timer(asio::io_context& io, Scheduler& sched) : io_(&io), sched_(&sched) {}
  ~sim_timer() { cancel(); }
  void expires_after(std::chrono::nanoseconds d) { at_ = sched_->now() + static_cast<TimePs>(d.count()) * kPsPerNs; }
  TimePs expiry() const { return at_; }
  // Handler: void(error_code); operation_aborted when cancelled.
  template <class Token>
  auto async_wait(Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [this](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto* io = io_;
          pending_ = [io, h](error_code ec) { asio::post(*io, [h, ec]() mutable { std::move (*h)(ec); }); };
          auto fire = pending_;
          id_ = sched_->schedule_at(std::max(at_, sched_->now()), [this, fire] {
            id_ = kNoTimer;
            pending_ = nullptr;
            fire(error_code{});
          });
        },
        token);
  }
  void cancel() {
    if (id_ != kNoTimer) {
      sched_->cancel(id_);
      id_ = kNoTimer;
      if (pending_) pending_(asio::error::operation_aborted);
      pending_ = nullptr;
    }
  }

 private:
  asio::io_context* io_;
  Scheduler* sched_;
  TimePs at_ = 0;
  TimerId id_ = kNoTimer;
  std::function<void(error_code)> pending_;
};

// Drives the io_context and the Simulation together until `done()` holds,
// the io_context runs out of work and the simulation of events, or
// `timeout` of simulated time passed. Returns done().
inline bool run(sim::Simulation& sim, asio::io_context& io, const std::function<bool()>& done,
                TimePs timeout = s_to_ps(60)) {
  const TimePs end = sim.now() + timeout;
  for (;;) {
    io.restart();
    io.poll();
    if (done()) return true;
    if (sim.now() >= end) return false;
    TimePs next = sim.events().horizon();
    if (next == std::numeric_limits<TimePs>::max()) {
      if (!sim.realtime()) return done();  // nothing can happen any more
      next = sim.now() + ms_to_ps(10);     // real time: wait for the kernel
    }
    // In real time the Simulation paces this; in co-simulation it jumps.
    sim.run_until(std::min(std::max(next, sim.now()), end));
  }
}

}  // namespace vd::net
