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

template <class A>
std::error_code RawSocket::bind_as(const A& addr) {
  constexpr bool v6 = std::is_same_v<A, Ipv6Addr>;
  if (!is_open()) return bad_fd();
  if (family_ != (v6 ? 6 : 4)) return make_err(std::errc::address_family_not_supported);
  if (bound_) return make_err(std::errc::invalid_argument);
  Stack::Impl& I = *stack_->impl_;
  const bool ours = [&] {
    if constexpr (v6) return I.ip6->is_our_addr(addr);
    else return I.is_our_addr(addr);
  }();
  if (!addr.is_unspecified() && !ours) return make_err(std::errc::address_not_available);
  addr_of<A>() = addr;
  bound_ = true;
  return {};
}

std::error_code RawSocket::bind(Ipv4Addr addr) { return bind_as(addr); }
std::error_code RawSocket::bind(const Ipv6Addr& addr) { return bind_as(addr); }

std::error_code RawSocket::sendto(std::span<const std::uint8_t> data, Ipv4Addr dst) {
  if (!is_open()) return bad_fd();
  if (family_ != 4) return make_err(std::errc::address_family_not_supported);
  if (dst.is_unspecified()) return make_err(std::errc::invalid_argument);
  if (data.size() > wire::kIpv4MaxTotalLen - wire::kIpv4MinHeaderLen) return make_err(std::errc::message_size);
  AppWork work(stack_->work_hook(), cpu_);
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
  AppWork work(stack_->work_hook(), cpu_);
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
  AppWork work(stack_->work_hook(), cpu_);
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

template <class A>
bool Stack::Impl::raw_input(const A& src, const A& dst, std::uint8_t proto, std::span<const std::uint8_t> dgram) {
  constexpr bool v6 = std::is_same_v<A, Ipv6Addr>;
  bool any = false;
  for (RawSocket* s : raw_all) {
    if (s->family_ != (v6 ? 6 : 4) || s->proto_ != proto) continue;
    if (!s->addr_of<A>().is_unspecified() && s->addr_of<A>() != dst) continue;
    any = true;
    if (s->rxq_.size() >= s->rxq_limit_) {
      drop("raw", "rx_queue_full");
      continue;
    }
    Datagram d;
    d.data.assign(dgram.begin(), dgram.end());
    if constexpr (v6) {
      d.v6 = true;
      d.src_addr6 = src;
    } else {
      d.src_addr = src;
    }
    s->rxq_.push_back(std::move(d));
    event("raw", "delivered");
    if (s->notify_) s->notify_();
  }
  return any;
}
template bool Stack::Impl::raw_input(const Ipv4Addr&, const Ipv4Addr&, std::uint8_t, std::span<const std::uint8_t>);
template bool Stack::Impl::raw_input(const Ipv6Addr&, const Ipv6Addr&, std::uint8_t, std::span<const std::uint8_t>);

}  // namespace vd::stack
