// Local (Unix-domain style) sockets: names, connections and buffers, all in
// memory inside one Stack.
#include <algorithm>

#include "stack_impl.hpp"

namespace vd::stack {

namespace {
std::error_code bad_fd() { return make_err(std::errc::bad_file_descriptor); }
std::error_code err(std::errc e) { return make_err(e); }
}  // namespace

std::shared_ptr<LocalSocket> Stack::local_socket(LocalSocket::Kind kind) {
  std::shared_ptr<LocalSocket> s(new LocalSocket(*this, kind));
  impl_->local_all.insert(s.get());
  return s;
}

LocalSocket::LocalSocket(Stack& s, Kind k) : stack_(&s), kind_(k) {}

LocalSocket::~LocalSocket() {
  close();
  if (stack_) stack_->impl_->local_all.erase(this);
}

std::error_code LocalSocket::bind(const std::string& path) {
  if (!is_open()) return bad_fd();
  if (!path_.empty() || path.empty() || path.size() > kMaxPath) return err(std::errc::invalid_argument);
  auto& names = stack_->impl_->local_names;
  if (names.count(path)) return err(std::errc::address_in_use);
  names[path] = this;
  path_ = path;
  return {};
}

std::error_code LocalSocket::listen(int backlog) {
  if (!is_open()) return bad_fd();
  if (kind_ != Kind::Stream) return err(std::errc::operation_not_supported);
  if (backlog < 0 || path_.empty() || peer_ || was_connected_) return err(std::errc::invalid_argument);
  backlog_ = std::max(backlog, 1);
  listening_ = true;
  return {};
}

std::shared_ptr<LocalSocket> LocalSocket::accept() {
  if (!is_open() || !listening_ || accept_q_.empty()) return nullptr;
  auto c = std::move(accept_q_.front());
  accept_q_.pop_front();
  return c;
}

bool LocalSocket::connected() const { return kind_ == Kind::Stream ? peer_ != nullptr : !peer_path_.empty(); }

std::error_code LocalSocket::connect(const std::string& path) {
  if (!is_open()) return bad_fd();
  auto& names = stack_->impl_->local_names;
  const auto it = names.find(path);
  if (kind_ == Kind::Datagram) {
    if (it == names.end()) return err(std::errc::connection_refused);
    if (it->second->kind_ != Kind::Datagram) return err(std::errc::wrong_protocol_type);
    peer_path_ = path;
    return {};
  }
  if (listening_) return err(std::errc::invalid_argument);
  if (peer_ || was_connected_) return err(std::errc::already_connected);
  if (it == names.end() || it->second->kind_ != Kind::Stream || !it->second->listening_)
    return err(std::errc::connection_refused);
  LocalSocket& l = *it->second;
  if (l.accept_q_.size() >= static_cast<std::size_t>(l.backlog_)) return err(std::errc::resource_unavailable_try_again);
  // The server's end exists at once, in the listener's accept queue.
  std::shared_ptr<LocalSocket> srv(new LocalSocket(*stack_, Kind::Stream));
  stack_->impl_->local_all.insert(srv.get());
  srv->path_ = l.path_;  // as accept() on Linux: the listener's name (not bound: not in the name table)
  srv->peer_path_ = path_;
  srv->rcvbuf_ = l.rcvbuf_;
  srv->peer_ = this;
  srv->was_connected_ = true;
  peer_ = srv.get();
  peer_path_ = path;
  was_connected_ = true;
  l.accept_q_.push_back(std::move(srv));
  l.wake();
  wake();
  return {};
}

std::size_t LocalSocket::send(std::span<const std::uint8_t> data, std::error_code& ec) {
  ec = {};
  if (!is_open()) return ec = bad_fd(), 0;
  if (kind_ == Kind::Datagram) {
    if (peer_path_.empty()) return ec = err(std::errc::destination_address_required), 0;
    ec = sendto(data, peer_path_);
    if (ec == std::errc::resource_unavailable_try_again) ec = {};
    return ec ? 0 : data.size();  // 0 without an error: the receiver is full
  }
  if (wr_shut_) return ec = err(std::errc::broken_pipe), 0;
  if (!peer_) return ec = err(was_connected_ ? std::errc::broken_pipe : std::errc::not_connected), 0;
  LocalSocket& p = *peer_;
  const std::size_t room = p.rcvbuf_ > p.rx_.size() ? p.rcvbuf_ - p.rx_.size() : 0;
  const std::size_t n = std::min(room, data.size());
  if (n == 0) return 0;
  p.rx_.insert(p.rx_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
  p.wake();
  return n;
}

std::size_t LocalSocket::recv(std::span<std::uint8_t> out, std::error_code& ec) {
  ec = {};
  if (!is_open()) return ec = bad_fd(), 0;
  if (kind_ == Kind::Datagram) {
    auto d = recvfrom();
    if (!d) return 0;
    const std::size_t n = std::min(out.size(), d->data.size());
    std::copy_n(d->data.begin(), n, out.begin());
    return n;
  }
  if (!was_connected_) return ec = err(std::errc::not_connected), 0;
  const std::size_t n = std::min(out.size(), rx_.size());
  if (n == 0) return 0;
  std::copy_n(rx_.begin(), n, out.begin());
  rx_.erase(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(n));
  if (peer_) peer_->wake();  // send space freed
  return n;
}

bool LocalSocket::eof() const { return kind_ == Kind::Stream && rd_eof_ && rx_.empty(); }

std::size_t LocalSocket::readable() const { return kind_ == Kind::Stream ? rx_.size() : dq_.size(); }

std::size_t LocalSocket::writable() const {
  if (kind_ != Kind::Stream || !peer_ || wr_shut_) return 0;
  return peer_->rcvbuf_ > peer_->rx_.size() ? peer_->rcvbuf_ - peer_->rx_.size() : 0;
}

std::error_code LocalSocket::shutdown_write() {
  if (!is_open()) return bad_fd();
  if (kind_ != Kind::Stream) return err(std::errc::operation_not_supported);
  if (!was_connected_) return err(std::errc::not_connected);
  if (!wr_shut_) {
    wr_shut_ = true;
    if (peer_) {
      peer_->rd_eof_ = true;
      peer_->wake();
    }
  }
  return {};
}

void LocalSocket::unlink_peer() {
  if (!peer_) return;
  LocalSocket& p = *peer_;
  peer_ = nullptr;
  p.peer_ = nullptr;
  p.rd_eof_ = true;  // the peer reads EOF after what is queued; its sends fail with broken_pipe
  p.wake();
}

void LocalSocket::close() {
  if (closed_) return;
  closed_ = true;
  listening_ = false;
  if (stack_) {
    auto& names = stack_->impl_->local_names;
    if (const auto it = names.find(path_); it != names.end() && it->second == this) names.erase(it);
  }
  unlink_peer();
  rx_.clear();
  dq_.clear();
  dq_bytes_ = 0;
  // Connections nobody accepted are closed too (their clients read EOF).
  auto q = std::move(accept_q_);
  accept_q_.clear();
  q.clear();
}

std::error_code LocalSocket::set_rcvbuf(std::size_t bytes) {
  if (bytes < 2048 || bytes > (64u << 20)) return err(std::errc::invalid_argument);
  rcvbuf_ = bytes;
  if (peer_) peer_->wake();
  return {};
}

std::error_code LocalSocket::sendto(std::span<const std::uint8_t> data, const std::string& path) {
  if (!is_open()) return bad_fd();
  if (kind_ != Kind::Datagram) return err(std::errc::operation_not_supported);
  auto& names = stack_->impl_->local_names;
  const auto it = names.find(path);
  if (it == names.end()) return err(std::errc::connection_refused);
  LocalSocket& r = *it->second;
  if (r.kind_ != Kind::Datagram) return err(std::errc::wrong_protocol_type);
  if (data.size() > r.rcvbuf_) return err(std::errc::message_size);
  if (r.dq_.size() >= r.dq_limit_ || r.dq_bytes_ + data.size() > r.rcvbuf_) {
    stack_->impl_->event("local", "would_block");
    return err(std::errc::resource_unavailable_try_again);
  }
  r.dq_.push_back(LocalDatagram{{data.begin(), data.end()}, path_});
  r.dq_bytes_ += data.size();
  r.wake();
  return {};
}

std::optional<LocalDatagram> LocalSocket::recvfrom() {
  if (!is_open() || dq_.empty()) return std::nullopt;
  LocalDatagram d = std::move(dq_.front());
  dq_.pop_front();
  dq_bytes_ -= d.data.size();
  // Senders waiting for room cannot be told (they are not tracked): as with
  // Linux's non-blocking datagram sockets, they retry.
  return d;
}

}  // namespace vd::stack
