// UDP: sockets, port bindings and the datagram path in both directions.
#include <array>
#include <cstring>

#include "ipv6_impl.hpp"
#include "stack_impl.hpp"

namespace vd::stack {

namespace {

using Csum = OffloadMeta::Csum;

bool udp_csum_ok(Csum dev, const wire::UdpView& udp, const Ipv4Info& info) {
  if (dev == Csum::Good) return true;
  if (dev == Csum::Bad) return false;
  return !udp.has_checksum() || udp.checksum_ok(info.src, info.dst);
}

std::error_code bad_fd() { return make_err(std::errc::bad_file_descriptor); }

}  // namespace

// ------------------------------------------------------------ UdpSocket

std::error_code UdpSocket::bind(Ipv4Addr addr, std::uint16_t port) {
  if (!is_open()) return bad_fd();
  if (bound_) return make_err(std::errc::invalid_argument);
  return stack_->impl_->udp_bind(*this, addr, port);
}

std::error_code UdpSocket::sendto(std::span<const std::uint8_t> data, Ipv4Addr dst, std::uint16_t port) {
  if (!is_open()) return bad_fd();
  if (port == 0) return make_err(std::errc::invalid_argument);
  if (data.size() > wire::kUdpMaxPayload) return make_err(std::errc::message_size);
  if (bound_ && v6_) return make_err(std::errc::address_family_not_supported);
  if (!bound_) {
    if (const auto ec = bind(Ipv4Addr{}, 0)) return ec;
  }
  AppWork work(stack_->work_hook(), cpu_);
  return stack_->impl_->udp_output(*this, data, dst, port);
}

std::error_code UdpSocket::bind(const Ipv6Addr& addr, std::uint16_t port) {
  if (!is_open()) return bad_fd();
  if (bound_) return make_err(std::errc::invalid_argument);
  return stack_->impl_->udp_bind(*this, addr, port);
}

std::error_code UdpSocket::sendto(std::span<const std::uint8_t> data, const Ipv6Addr& dst, std::uint16_t port) {
  if (!is_open()) return bad_fd();
  if (port == 0 || dst.is_unspecified()) return make_err(std::errc::invalid_argument);
  if (data.size() > wire::kUdpMaxPayload) return make_err(std::errc::message_size);
  if (bound_ && !v6_) return make_err(std::errc::address_family_not_supported);
  if (!bound_) {
    if (const auto ec = bind(Ipv6Addr{}, 0)) return ec;
  }
  AppWork work(stack_->work_hook(), cpu_);
  return stack_->impl_->ip6->udp_output(*this, data, dst, port);
}

std::optional<Datagram> UdpSocket::recvfrom() {
  if (!is_open() || rxq_.empty()) return std::nullopt;
  AppWork work(stack_->work_hook(), cpu_);
  Datagram d = std::move(rxq_.front());
  rxq_.pop_front();
  return d;
}

void UdpSocket::close() {
  if (stack_ && !closed_) stack_->impl_->udp_unbind(*this);
  closed_ = true;
  rxq_.clear();
}

UdpSocket::~UdpSocket() {
  if (!stack_) return;
  stack_->impl_->udp_unbind(*this);
  stack_->impl_->udp_all.erase(this);
}

// ------------------------------------------------------------ bindings

template <class A>
std::error_code Stack::Impl::udp_bind(UdpSocket& s, const A& addr, std::uint16_t port) {
  constexpr bool v6 = std::is_same_v<A, Ipv6Addr>;
  if constexpr (v6) {
    if (addr.is_multicast()) return make_err(std::errc::invalid_argument);
    if (!addr.is_unspecified() && !ip6->is_our_addr(addr)) return make_err(std::errc::address_not_available);
  } else {
    if (!addr.is_unspecified() && !is_our_addr(addr)) return make_err(std::errc::address_not_available);
  }
  UdpTable<A>& tab = udp_table<A>();
  if (port == 0) {
    // One deterministic walk for both families, each over its own bindings.
    port = pick_ephemeral(next_ephemeral, [&](std::uint16_t p) { return tab.port_free(addr, p); });
    if (port == 0) return make_err(std::errc::address_in_use);
  } else if (!tab.port_free(addr, port) && !(s.reuse_addr_ && tab.reuse_ok(addr, port))) {
    return make_err(std::errc::address_in_use);
  }
  tab.insert({port, addr}, &s);
  s.v6_ = v6;
  s.addr_of<A>() = addr;
  s.port_ = port;
  s.bound_ = true;
  return {};
}
template std::error_code Stack::Impl::udp_bind(UdpSocket&, const Ipv4Addr&, std::uint16_t);
template std::error_code Stack::Impl::udp_bind(UdpSocket&, const Ipv6Addr&, std::uint16_t);

void Stack::Impl::udp_unbind(UdpSocket& s) {
  if (!s.bound_) return;
  auto unbind = [&]<class A>() {
    udp_table<A>().remove({s.port_, s.addr_of<A>()}, &s);
    s.addr_of<A>() = A{};
  };
  if (s.v6_) unbind.template operator()<Ipv6Addr>();
  else unbind.template operator()<Ipv4Addr>();
  s.bound_ = false;
  s.v6_ = false;
  s.port_ = 0;
}

// ------------------------------------------------------------ datagrams

std::error_code Stack::Impl::udp_output(UdpSocket& s, std::span<const std::uint8_t> data, Ipv4Addr dst,
                                        std::uint16_t port) {
  count_work(Work::udp_tx);
  auto r = route(dst);
  if (!r) return make_err(std::errc::network_unreachable);
  const std::size_t len = data.size();
  if (!s.addr_.is_unspecified()) r->src = s.addr_;
  // Larger than a device buffer: built in the stack's large pool, then
  // fragmented by IPv4.
  Packet p = alloc_for(*r->ifc, wire::kUdpHeaderLen + len);
  if (!p) return make_err(std::errc::no_buffer_space);
  if (!fits(p, len)) return make_err(std::errc::message_size);
  // The one copy on the way out: application bytes into the DMA buffer.
  if (len) std::memcpy(p.append(len), data.data(), len);
  p.pool()->count_copy_in(len);
  // The device finishes the checksum when it can (hardware, or SoftNic's
  // software model) and the datagram goes out whole; otherwise, or when it
  // will be fragmented, the stack computes it here.
  const bool whole = wire::kIpv4MinHeaderLen + wire::kUdpHeaderLen + len <= path_mtu(*r);
  const bool offload = whole && r->ifc->dev->features().tx_csum_partial;
  wire::emit_udp(p, r->src, dst, s.port_, port, offload);
  if (offload) p.meta.csum_start = static_cast<std::uint16_t>(wire::kEthHeaderLen + wire::kIpv4MinHeaderLen);
  const std::size_t n = p.size();
  Ipv4TxOpts o;
  o.ttl = s.ttl_;
  const std::error_code ec = ipv4_output(*r, wire::kIpProtoUdp, std::move(p), o);
  if (!ec) count_tx("udp", n);
  return ec;
}

void Stack::Impl::udp_input(Iface& /*ifc*/, const Ipv4Info& info, Packet&& p) {
  count_work(Work::udp_rx);
  const auto udp = wire::UdpView::parse(p.bytes());
  if (!udp) return drop("udp", udp.reason());
  if (!udp_csum_ok(p.meta.rx_csum_l4, *udp, info)) return drop("udp", "bad_checksum");
  UdpSocket* s = udp4.lookup(info.dst, udp->dst_port(), info.to_us_unicast);
  if (!s) {
    if (info.to_us_unicast) {
      p.push(info.ip_hlen);  // the IP header is still in front: quote the datagram
      icmp_error(p.bytes(), info.link_bcast, wire::kIcmpDestUnreachable, wire::kIcmpCodePort);
    }
    return drop("udp", "no_socket");
  }
  if (s->rxq_.size() >= s->rxq_limit_) return drop("udp", "rx_queue_full");
  count_rx("udp", udp->length());
  // The one copy on the way in, done now so the device buffer goes straight
  // back to its pool instead of waiting in a socket queue.
  const auto payload = udp->payload();
  s->rxq_.push_back(Datagram{{payload.begin(), payload.end()}, info.src, udp->src_port()});
  if (s->notify_) s->notify_();
  if (BufferPool* pool = p.pool()) pool->count_copy_out(payload.size());
}

// ------------------------------------------------------------ UDP over IPv6

std::error_code Stack::Ip6::udp_output(UdpSocket& s, std::span<const std::uint8_t> data, const Ipv6Addr& dst,
                                       std::uint16_t port) {
  count_work(Work::udp_tx);
  auto r = route(dst);
  if (!r) return make_err(std::errc::network_unreachable);
  if (!s.addr6_.is_unspecified()) r->src = s.addr6_;
  const std::size_t len = wire::kUdpHeaderLen + data.size();
  std::array<std::uint8_t, wire::kUdpHeaderLen> h{};
  wire::store_be16(&h[0], s.port_);
  wire::store_be16(&h[2], port);
  wire::store_be16(&h[4], static_cast<std::uint16_t>(len));
  // Always computed here: the checksum is mandatory over IPv6, and the
  // partial offload could leave a zero, which IPv6 receivers drop.
  wire::store_be16(&h[6], wire::udp6_checksum(r->src, dst, h, data));
  // One copy: into the packet, or into the fragments when it is larger
  // than the path MTU.
  if (const auto ec = output_bytes(*r, wire::kIpProtoUdp, h, data, s.ttl_)) return ec;  // IP_TTL / hop limit
  iface(r->ifindex).dev->pool().count_copy_in(data.size());
  im.count_tx("udp", len);
  return {};
}

void Stack::Ip6::udp_input(const Rx6& rx) {
  count_work(Work::udp_rx);
  const auto udp = wire::UdpView::parse(rx.l4);
  if (!udp) return drop("udp", udp.reason());
  // RFC 8200 8.1: a zero checksum is not allowed over IPv6.
  if (!udp->has_checksum()) return drop("udp", "zero_checksum_v6");
  bool ok;
  if (rx.l4_csum == Csum::Good)
    ok = true;
  else if (rx.l4_csum == Csum::Bad)
    ok = false;
  else
    ok = wire::udp6_checksum_ok(rx.l4.first(udp->length()), rx.src, rx.dst);
  if (!ok) return drop("udp", "bad_checksum");
  UdpSocket* s = im.udp6.lookup(rx.dst, udp->dst_port(), rx.to_us_unicast());
  if (!s) {
    if (rx.to_us_unicast()) send_error(rx, wire::kIcmpv6DestUnreachable, wire::kUnreachPort, 0);
    return drop("udp", "no_socket");
  }
  if (s->rxq_.size() >= s->rxq_limit_) return drop("udp", "rx_queue_full");
  im.count_rx("udp", udp->length());
  const auto payload = udp->payload();
  Datagram d;
  d.data.assign(payload.begin(), payload.end());
  d.src_port = udp->src_port();
  d.v6 = true;
  d.src_addr6 = rx.src;
  s->rxq_.push_back(std::move(d));
  if (s->notify_) s->notify_();
  iface(rx.ifindex).dev->pool().count_copy_out(payload.size());
}

}  // namespace vd::stack
