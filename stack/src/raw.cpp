// Raw IP sockets (SOCK_RAW by protocol number, IPv4 and IPv6) and the
// per-socket clock accessors used by the receive timeouts.
#include <cstring>
#include <stdexcept>

#include "ipv6_impl.hpp"
#include "stack_impl.hpp"

namespace vd::stack {

namespace {
std::error_code bad_fd() { return make_err(std::errc::bad_file_descriptor); }
}  // namespace

// ------------------------------------------------------------ clocks

Scheduler* UdpSocket::scheduler() const { return stack_ ? &stack_->scheduler() : nullptr; }
Scheduler* RawSocket::scheduler() const { return stack_ ? &stack_->scheduler() : nullptr; }
Scheduler* LocalSocket::scheduler() const { return stack_ ? &stack_->scheduler() : nullptr; }
Scheduler* TcpSocket::scheduler() const { return stack_ ? &stack_->scheduler() : nullptr; }

// ------------------------------------------------------------ RawSocket

std::shared_ptr<RawSocket> Stack::raw_socket(int family, std::uint8_t protocol) {
  if (family != 4 && family != 6) throw std::invalid_argument("raw_socket: family must be 4 or 6");
  std::shared_ptr<RawSocket> s(new RawSocket(*this, family, protocol));
  impl_->raw_all.insert(s.get());
  return s;
}

std::error_code RawSocket::bind(Ipv4Addr addr) {
  if (!is_open()) return bad_fd();
  if (family_ != 4) return make_err(std::errc::address_family_not_supported);
  if (bound_) return make_err(std::errc::invalid_argument);
  if (!addr.is_unspecified() && !stack_->impl_->is_our_addr(addr)) return make_err(std::errc::address_not_available);
  addr_ = addr;
  bound_ = true;
  return {};
}

std::error_code RawSocket::bind(const Ipv6Addr& addr) {
  if (!is_open()) return bad_fd();
  if (family_ != 6) return make_err(std::errc::address_family_not_supported);
  if (bound_) return make_err(std::errc::invalid_argument);
  if (!addr.is_unspecified() && !stack_->impl_->ip6->is_our_addr(addr))
    return make_err(std::errc::address_not_available);
  addr6_ = addr;
  bound_ = true;
  return {};
}

std::error_code RawSocket::sendto(std::span<const std::uint8_t> data, Ipv4Addr dst) {
  if (!is_open()) return bad_fd();
  if (family_ != 4) return make_err(std::errc::address_family_not_supported);
  if (dst.is_unspecified()) return make_err(std::errc::invalid_argument);
  if (data.size() > wire::kIpv4MaxTotalLen - wire::kIpv4MinHeaderLen) return make_err(std::errc::message_size);
  Stack::Impl& I = *stack_->impl_;
  auto r = I.route(dst);
  if (!r) return make_err(std::errc::network_unreachable);
  if (!addr_.is_unspecified()) r->src = addr_;
  Packet p = I.alloc_for(*r->ifc, data.size());
  if (!p) return make_err(std::errc::no_buffer_space);
  if (!Stack::Impl::fits(p, data.size())) return make_err(std::errc::message_size);
  if (!data.empty()) std::memcpy(p.append(data.size()), data.data(), data.size());
  p.pool()->count_copy_in(data.size());
  Ipv4TxOpts o;
  o.ttl = ttl_;
  const std::error_code ec = I.ipv4_output(*r, proto_, std::move(p), o);
  if (!ec) I.event("raw", "sent");
  return ec;
}

std::error_code RawSocket::sendto(std::span<const std::uint8_t> data, const Ipv6Addr& dst) {
  if (!is_open()) return bad_fd();
  if (family_ != 6) return make_err(std::errc::address_family_not_supported);
  if (dst.is_unspecified()) return make_err(std::errc::invalid_argument);
  if (data.size() > wire::kIpv6MaxPayload) return make_err(std::errc::message_size);
  Stack::Impl& I = *stack_->impl_;
  auto r = I.ip6->route(dst);
  if (!r) return make_err(std::errc::network_unreachable);
  if (!addr6_.is_unspecified()) r->src = addr6_;
  const std::error_code ec = I.ip6->output_bytes(*r, proto_, data, {}, ttl_);
  if (!ec) I.event("raw", "sent");
  return ec;
}

std::optional<Datagram> RawSocket::recvfrom() {
  if (!is_open() || rxq_.empty()) return std::nullopt;
  Datagram d = std::move(rxq_.front());
  rxq_.pop_front();
  return d;
}

void RawSocket::close() {
  closed_ = true;
  rxq_.clear();
  if (stack_) stack_->impl_->raw_all.erase(this);
}

RawSocket::~RawSocket() {
  if (stack_) stack_->impl_->raw_all.erase(this);
}

// ------------------------------------------------------------ input hooks

bool Stack::Impl::raw_input4(const Ipv4Info& info, std::uint8_t proto, std::span<const std::uint8_t> dgram) {
  bool any = false;
  for (RawSocket* s : raw_all) {
    if (s->family_ != 4 || s->proto_ != proto) continue;
    if (!s->addr_.is_unspecified() && s->addr_ != info.dst) continue;
    any = true;
    if (s->rxq_.size() >= s->rxq_limit_) {
      drop("raw", "rx_queue_full");
      continue;
    }
    Datagram d;
    d.data.assign(dgram.begin(), dgram.end());
    d.src_addr = info.src;
    s->rxq_.push_back(std::move(d));
    event("raw", "delivered");
    if (s->notify_) s->notify_();
  }
  return any;
}

bool Stack::Impl::raw_input6(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t proto,
                             std::span<const std::uint8_t> payload) {
  bool any = false;
  for (RawSocket* s : raw_all) {
    if (s->family_ != 6 || s->proto_ != proto) continue;
    if (!s->addr6_.is_unspecified() && s->addr6_ != dst) continue;
    any = true;
    if (s->rxq_.size() >= s->rxq_limit_) {
      drop("raw", "rx_queue_full");
      continue;
    }
    Datagram d;
    d.data.assign(payload.begin(), payload.end());
    d.v6 = true;
    d.src_addr6 = src;
    s->rxq_.push_back(std::move(d));
    event("raw", "delivered");
    if (s->notify_) s->notify_();
  }
  return any;
}

}  // namespace vd::stack
