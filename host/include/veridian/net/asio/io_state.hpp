// The shared state and receive operation of the raw and local socket
// objects (veridian/net/asio.hpp).
#pragma once

#include "veridian/net/asio/common.hpp"

namespace vd::net {

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

}  // namespace vd::net
