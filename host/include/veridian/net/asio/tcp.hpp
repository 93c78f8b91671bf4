// vd::net::tcp_socket: a TCP stream over stack::TcpSocket (veridian/net/asio.hpp).
#pragma once

#include "veridian/net/asio/common.hpp"

namespace vd::net {

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

}  // namespace vd::net
