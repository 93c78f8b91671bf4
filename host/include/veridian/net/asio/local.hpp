// vd::net::local_stream_socket and local_datagram_socket over
// stack::LocalSocket (veridian/net/asio.hpp).
#pragma once

#include "veridian/net/asio/common.hpp"
#include "veridian/net/asio/io_state.hpp"

namespace vd::net {

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
    return detail::accept_as<local_stream_socket>(st_, std::forward<Token>(token));
  }

  // Handler: void(error_code, std::size_t); eof at end of stream,
  // timed_out after native().recv_timeout() without data.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& bufs, Token&& token) {
    return detail::read_some(st_, bufs, std::forward<Token>(token));
  }

  // Handler: void(error_code, std::size_t); waits while the peer's buffer is full.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& bufs, Token&& token) {
    return detail::write_some(st_, bufs, std::forward<Token>(token));
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

}  // namespace vd::net
