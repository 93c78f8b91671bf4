// vd::net::tcp_socket: a TCP stream over stack::TcpSocket (veridian/net/asio.hpp).
#pragma once

#include "veridian/net/asio/common.hpp"
#include "veridian/net/asio/io_state.hpp"

namespace vd::net {

// A TCP stream socket (AsyncReadStream + AsyncWriteStream). Movable: its
// state is shared with the operations in flight, never `this`.
class tcp_socket {
  using State = detail::IoState<stack::TcpSocket>;

 public:
  using executor_type = asio::io_context::executor_type;

  tcp_socket(asio::io_context& io, stack::Stack& st) : tcp_socket(io, st.tcp_socket()) {}
  tcp_socket(asio::io_context& io, std::shared_ptr<stack::TcpSocket> s) : st_(detail::make_io_state(io, std::move(s))) {}
  tcp_socket(tcp_socket&&) = default;
  tcp_socket& operator=(tcp_socket&&) = default;

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
    return detail::accept_as<tcp_socket>(st_, std::forward<Token>(token));
  }

  // Handler: void(error_code, std::size_t); end of stream is asio::error::eof;
  // asio::error::timed_out after the socket's recv_timeout() without data.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& bufs, Token&& token) {
    return detail::read_some(st_, bufs, std::forward<Token>(token));
  }

  // Handler: void(error_code, std::size_t)
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& bufs, Token&& token) {
    return detail::write_some(st_, bufs, std::forward<Token>(token));
  }

 private:
  std::shared_ptr<State> st_;
};

}  // namespace vd::net
