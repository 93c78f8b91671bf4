// Stack lifetime, interfaces, routing and the Ethernet layer.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "ipv6_impl.hpp"
#include "stack_impl.hpp"

namespace vd::stack {

// ------------------------------------------------------------ Iface

bool Iface::has_addr(Ipv4Addr a) const {
  for (const auto& ia : addrs)
    if (ia.addr == a) return true;
  return false;
}

bool Iface::is_subnet_broadcast(Ipv4Addr a) const {
  for (const auto& ia : addrs)
    if (ia.broadcast() == a) return true;
  return false;
}

Ipv4Addr Iface::source_for(Ipv4Addr peer) const {
  for (const auto& ia : addrs)
    if (ia.contains(peer)) return ia.addr;
  return addrs.empty() ? Ipv4Addr{} : addrs.front().addr;
}

// ------------------------------------------------------------ Stack

Stack::Stack(Scheduler& sched, std::string name, StackConfig cfg)
    : sched_(sched), name_(std::move(name)), impl_(std::make_unique<Impl>(*this, cfg)) {
  // Every layer is listed from the start, so readers never miss a key.
  for (const char* l : {"eth", "arp", "ipv4", "icmp", "udp"}) stats_.layers[l];
  impl_->ip6.reset(new Ip6(*impl_));
}

Stack::~Stack() { impl_->shutdown(); }

// Leaves nothing behind that could call back into a dead stack: device rx
// handlers, pending timers and sockets' back pointers.
void Stack::Impl::shutdown() {
  ip6->shutdown();
  for (auto& ifc : ifaces) {
    ifc->dev->set_rx_handler(nullptr);
    for (auto& [ip, pr] : ifc->pending) st.sched_.cancel(pr.timer);
    ifc->pending.clear();
  }
  for (UdpSocket* s : udp_all) {
    s->stack_ = nullptr;
    s->rxq_.clear();
  }
  udp_all.clear();
  udp_bound.clear();
}

int Stack::add_interface(NetDevice& dev) {
  auto ifc = std::make_unique<Iface>();
  const int idx = static_cast<int>(impl_->ifaces.size());
  ifc->index = idx;
  ifc->dev = &dev;
  ifc->mac = dev.mac();
  impl_->ifaces.push_back(std::move(ifc));
  Impl* impl = impl_.get();
  dev.set_rx_handler([impl, idx](Packet&& f) { impl->rx(idx, std::move(f)); });
  impl_->ip6->attach(idx);
  return idx;
}

void Stack::add_address(int ifindex, Ipv4Addr addr, int prefix_len) {
  if (ifindex < 0 || static_cast<std::size_t>(ifindex) >= impl_->ifaces.size())
    throw std::invalid_argument("add_address: no interface " + std::to_string(ifindex));
  if (prefix_len < 0 || prefix_len > 32)
    throw std::invalid_argument("add_address: prefix length must be 0..32");
  if (addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast())
    throw std::invalid_argument("add_address: " + addr.str() + " cannot be a host address");
  Iface& ifc = *impl_->ifaces[static_cast<std::size_t>(ifindex)];
  for (const auto& ia : ifc.addrs)
    if (ia.addr == addr && ia.prefix == prefix_len) return;  // idempotent
  ifc.addrs.push_back({addr, prefix_len});
}

std::shared_ptr<UdpSocket> Stack::udp_socket() {
  // Not make_shared: the constructor is private to keep sockets stack-made.
  std::shared_ptr<UdpSocket> s(new UdpSocket(*this));
  impl_->udp_all.insert(s.get());
  return s;
}

std::error_code Stack::send_echo(Ipv4Addr dst, std::uint16_t id, std::uint16_t seq, std::size_t payload_len) {
  return impl_->send_echo(dst, id, seq, payload_len);
}

// ------------------------------------------------------------ counters

void Stack::Impl::drop(std::string_view layer, std::string_view reason, std::uint64_t n) {
  std::string key;
  key.reserve(layer.size() + 1 + reason.size());
  key.append(layer).append(".").append(reason);
  st.stats_.drops[key] += n;
}

void Stack::Impl::count_rx(const char* layer, std::size_t bytes) {
  auto& l = st.stats_.layers[layer];
  ++l.rx_packets;
  l.rx_bytes += bytes;
}

void Stack::Impl::count_tx(const char* layer, std::size_t bytes) {
  auto& l = st.stats_.layers[layer];
  ++l.tx_packets;
  l.tx_bytes += bytes;
}

// ------------------------------------------------------------ routing

bool Stack::Impl::is_our_addr(Ipv4Addr a) const {
  for (const auto& ifc : ifaces)
    if (ifc->has_addr(a)) return true;
  return false;
}

// Longest prefix over every configured subnet; ties go to the lower
// ifindex, then to the address added first, so the choice is deterministic.
std::optional<Route> Stack::Impl::route(Ipv4Addr dst) {
  // No multicast and no loopback interface yet.
  if (dst.is_multicast() || dst.is_unspecified() || is_our_addr(dst)) return std::nullopt;
  Route best;
  int best_len = -1;
  for (auto& ifc : ifaces) {
    for (const auto& ia : ifc->addrs) {
      const bool match = dst.is_broadcast() || ia.contains(dst);
      if (!match || ia.prefix <= best_len) continue;
      best = Route{ifc.get(), ia.addr, dst, dst.is_broadcast() || ia.broadcast() == dst};
      best_len = dst.is_broadcast() ? 33 : ia.prefix;  // limited broadcast: first address wins
    }
  }
  if (!best.ifc) return std::nullopt;
  return best;
}

// Room for `payload` bytes after data() plus the padding a minimum frame
// may need (headers go in front, into headroom).
bool Stack::Impl::fits(const Packet& p, std::size_t payload) {
  constexpr std::size_t kHeaders = wire::kEthHeaderLen + wire::kIpv4MinHeaderLen + wire::kUdpHeaderLen;
  constexpr std::size_t kMinTail = wire::kEthMinFrame - kHeaders;
  return p.tailroom() >= std::max(payload, kMinTail) &&
         p.headroom() >= wire::kEthHeaderLen + wire::kIpv4MinHeaderLen + wire::kUdpHeaderLen;
}

// ------------------------------------------------------------ Ethernet

void Stack::Impl::rx(int ifindex, Packet&& frame) noexcept {
  // The receive path must never throw into the device: a bug here becomes a
  // counted drop, not a crash of the whole simulation.
  try {
    eth_input(*ifaces.at(static_cast<std::size_t>(ifindex)), std::move(frame));
  } catch (...) {
    try {
      drop("stack", "internal_error");
    } catch (...) {
    }
  }
}

void Stack::Impl::eth_input(Iface& ifc, Packet&& frame) {
  if (!frame) return drop("eth", "too_short");
  const auto eth = wire::EthernetView::parse(frame.bytes());
  if (!eth) return drop("eth", eth.reason());
  const MacAddr dst = eth->dst();
  if (dst != ifc.mac && dst != wire::kBroadcastMac && !ip6->accepts_mac(ifc, dst)) return drop("eth", "not_for_us");
  // A VLAN tag is an ethertype we do not speak (no VLAN interfaces yet).
  const std::uint16_t type = eth->vlan_tci() ? wire::kEthertypeVlan : eth->ethertype();
  const bool v6 = type == wire::kEthertypeIpv6 && ip6->enabled_on(ifc.index);  // IPv6 is per interface
  if (type != wire::kEthertypeArp && type != wire::kEthertypeIpv4 && !v6) return drop("eth", "unsupported_ethertype");
  count_rx("eth", frame.size());
  frame.pull(eth->header_len());
  if (type == wire::kEthertypeArp)
    arp_input(ifc, std::move(frame));
  else if (v6)
    ip6->input(ifc, std::move(frame), wire::is_multicast_mac(dst));
  else
    ipv4_input(ifc, std::move(frame));
}

std::error_code Stack::Impl::eth_output(Iface& ifc, const MacAddr& dst, std::uint16_t ethertype, Packet&& p) {
  wire::emit_ethernet(p, {dst, ifc.mac, ethertype});
  wire::pad_frame(p);
  const std::size_t n = p.size();
  if (!ifc.dev->transmit(std::move(p), 0)) {
    drop("eth", "tx_queue_full");
    return make_err(std::errc::no_buffer_space);
  }
  count_tx("eth", n);
  return {};
}

}  // namespace vd::stack
