// vd::net::udp_socket over stack::UdpSocket (veridian/net/asio.hpp).
#pragma once

#include "veridian/net/asio/common.hpp"

namespace vd::net {

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

}  // namespace vd::net
