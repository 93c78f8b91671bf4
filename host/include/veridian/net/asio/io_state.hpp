// The state every socket object shares with its operations in flight, and
// the operations that are the same for several of them: stream reads,
// writes and accepts (TCP and local stream sockets), datagram receives
// (raw and local datagram sockets). veridian/net/asio.hpp has the objects.
#pragma once

#include "veridian/net/asio/common.hpp"

namespace vd::net {

namespace detail {

// A socket object's state, shared with its operations in flight (never
// `this`, so the objects are movable).
template <class Sock>
struct IoState {
  asio::io_context* io = nullptr;
  std::shared_ptr<Sock> s;
  Waiters w;
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

// async_accept for a listening socket whose accept() gives a new native
// socket (or null: none yet); the handler gets Object(io, native).
template <class Object, class Sock, class Token>
auto accept_as(std::shared_ptr<IoState<Sock>> st, Token&& token) {
  return asio::async_initiate<Token, void(error_code, Object)>(
      [st = std::move(st)](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        st->wait([st = st.get(), h]() mutable {
          if (!st->s->is_open()) {
            st->complete(h, error_code(asio::error::bad_descriptor), Object(*st->io, st->s));
            return true;
          }
          auto c = st->s->accept();
          if (!c) return false;
          st->complete(h, error_code{}, Object(*st->io, std::move(c)));
          return true;
        });
      },
      token);
}

// async_read_some over a stream socket's recv() and eof(): eof at the end
// of the stream, timed_out after the socket's recv_timeout() without data.
template <class Sock, class MutableBuffers, class Token>
auto read_some(std::shared_ptr<IoState<Sock>> st, const MutableBuffers& bufs, Token&& token) {
  return asio::async_initiate<Token, void(error_code, std::size_t)>(
      [st = std::move(st), bufs](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        auto on_timeout = [st = st.get(), h] { st->complete(h, error_code(asio::error::timed_out), std::size_t{0}); };
        st->wait_recv([st = st.get(), bufs, h]() mutable {
          std::error_code ec;
          const std::size_t total = each_buffer<asio::mutable_buffer>(
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

// async_write_some over a stream socket's send(): waits while the send
// buffer (TCP) or the peer's receive buffer (local) is full.
template <class Sock, class ConstBuffers, class Token>
auto write_some(std::shared_ptr<IoState<Sock>> st, const ConstBuffers& bufs, Token&& token) {
  return asio::async_initiate<Token, void(error_code, std::size_t)>(
      [st = std::move(st), bufs](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        st->wait([st = st.get(), bufs, h]() mutable {
          std::error_code ec;
          const std::size_t total = each_buffer<asio::const_buffer>(
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

}  // namespace detail

}  // namespace vd::net
