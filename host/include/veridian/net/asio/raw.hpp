// vd::net::raw_socket over stack::RawSocket (veridian/net/asio.hpp).
#pragma once

#include "veridian/net/asio/common.hpp"
#include "veridian/net/asio/io_state.hpp"

namespace vd::net {

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

}  // namespace vd::net
