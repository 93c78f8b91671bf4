// vd::net::udp_socket over stack::UdpSocket (veridian/net/asio.hpp).
#pragma once

#include "veridian/net/asio/common.hpp"
#include "veridian/net/asio/io_state.hpp"

namespace vd::net {

// A UDP socket (IPv4 or IPv6 endpoints as (address string, port)).
class udp_socket {
  using State = detail::IoState<stack::UdpSocket>;

 public:
  struct endpoint {
    std::string addr;
    std::uint16_t port = 0;
  };
  using executor_type = asio::io_context::executor_type;

  udp_socket(asio::io_context& io, stack::Stack& st) : st_(detail::make_io_state(io, st.udp_socket())) {}
  udp_socket(udp_socket&&) = default;
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
    return detail::receive_from(
        st_, buf, &from,
        [](const stack::Datagram& d) { return endpoint{d.v6 ? d.src_addr6.str() : d.src_addr.str(), d.src_port}; },
        std::forward<Token>(token));
  }

 private:
  std::shared_ptr<State> st_;
};

}  // namespace vd::net
