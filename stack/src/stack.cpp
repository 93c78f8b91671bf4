// Stack lifetime, addresses, routing and the Ethernet layer.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "ipv6_impl.hpp"
#include "stack_impl.hpp"
#include "tcp/layer.hpp"

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
  for (const char* l : {"eth", "arp", "ipv4", "icmp", "udp", "tcp"}) stats_.layers[l];
  impl_->tcp = std::make_unique<TcpLayer>(*impl_);
  impl_->tcp->cfg = cfg.tcp;
  impl_->ip6.reset(new Ip6(*impl_));
  // lo, interface 0, with 127.0.0.1/8 and ::1 (no ARP, ND or DAD on it).
  impl_->lo_dev = std::make_unique<LoopbackDevice>(sched_);
  const int lo = add_interface(*impl_->lo_dev, "lo");
  impl_->ifaces[static_cast<std::size_t>(lo)]->loopback = true;
  add_address(lo, Ipv4Addr{{127, 0, 0, 1}}, 8);
  impl_->ip6->enable_loopback(lo);
}

LoopbackDevice& Stack::loopback() { return *impl_->lo_dev; }

Stack::Impl::Impl(Stack& s, StackConfig c) : st(s), cfg(c) {}
Stack::Impl::~Impl() = default;

Stack::~Stack() { impl_->shutdown(); }

// Leaves nothing behind that could call back into a dead stack: device rx
// handlers, pending timers and sockets' back pointers.
void Stack::Impl::shutdown() {
  ip6->shutdown();
  for (auto& ifc : ifaces) {
    if (ifc->parent < 0) {
      ifc->dev->set_rx_handler(nullptr);
      ifc->dev->set_rx_burst_end(nullptr);
    }
    ifc->arp.reset();  // cancels its timers
  }
  for (auto& [k, e] : reasm) st.sched_.cancel(e.timer);
  reasm.clear();
  if (tcp) tcp->shutdown();
  for (UdpSocket* s : udp_all) {
    s->stack_ = nullptr;
    s->rxq_.clear();
  }
  udp_all.clear();
  udp4.clear();
  udp6.clear();
  for (RawSocket* s : raw_all) {
    s->stack_ = nullptr;
    s->rxq_.clear();
  }
  raw_all.clear();
  // Unaccepted connections die after every socket is inert (their
  // destructors must not reach back into this stack).
  std::vector<std::shared_ptr<LocalSocket>> unaccepted;
  for (LocalSocket* s : local_all) {
    s->stack_ = nullptr;
    s->peer_ = nullptr;
  }
  for (LocalSocket* s : local_all)
    for (auto& c : s->accept_q_) unaccepted.push_back(std::move(c));
  for (LocalSocket* s : local_all) s->accept_q_.clear();
  local_all.clear();
  local_names.clear();
  unaccepted.clear();
}

void Stack::add_address(int ifindex, Ipv4Addr addr, int prefix_len) {
  Iface& ifc = impl_->iface(ifindex);
  if (prefix_len < 0 || prefix_len > 32)
    throw std::invalid_argument("add_address: prefix length must be 0..32");
  if (addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast())
    throw std::invalid_argument("add_address: " + addr.str() + " cannot be a host address");
  for (const auto& ia : ifc.addrs)
    if (ia.addr == addr && ia.prefix == prefix_len) return;  // idempotent
  ifc.addrs.push_back({addr, prefix_len});
  RouteEntry<Ipv4Addr> r{addr, prefix_len, std::nullopt, ifindex, 0, true};
  (void)impl_->routes4.add(r);  // a second address in one subnet shares the route
  if (!ifc.loopback) impl_->arp_announce(ifc, addr);
}

void Stack::add_route(Ipv4Addr prefix, int len, std::optional<Ipv4Addr> gateway, std::optional<int> ifindex,
                      std::uint32_t metric) {
  if (len < 0 || len > 32) throw std::invalid_argument("add_route: prefix length must be 0..32");
  if (ifindex) (void)impl_->iface(*ifindex);
  if (!gateway && !ifindex) throw std::invalid_argument("add_route: needs a gateway or an interface");
  if (gateway) {
    // The gateway must be on-link (reachable through a connected route).
    const RouteEntry<Ipv4Addr>* via = nullptr;
    for (const auto& r : impl_->routes4.entries())
      if (r.connected && prefix_match(r.prefix, *gateway, r.len) && (!ifindex || r.ifindex == *ifindex) &&
          (!via || r.len > via->len))
        via = &r;
    if (!via) throw std::invalid_argument("add_route: gateway " + gateway->str() + " is not on a connected subnet");
    if (!ifindex) ifindex = via->ifindex;
  }
  if (!impl_->routes4.add({prefix, len, gateway, *ifindex, metric, false}))
    throw std::invalid_argument("add_route: a route to " + prefix_of(prefix, len).str() + "/" +
                                std::to_string(len) + " with metric " + std::to_string(metric) + " exists");
}

bool Stack::remove_route(Ipv4Addr prefix, int len) { return impl_->routes4.remove(prefix, len) != 0; }
const RouteTable<Ipv4Addr>& Stack::routes() const { return impl_->routes4; }
void Stack::set_forwarding(bool on) { impl_->cfg.ip_forward = on; }
const StackConfig& Stack::config() const { return impl_->cfg; }

std::size_t Stack::path_mtu(Ipv4Addr dst) const {
  const auto r = impl_->route(dst);
  return r ? impl_->path_mtu(*r) : 0;
}

std::vector<NeighborInfo> Stack::neighbors() const {
  std::vector<NeighborInfo> out;
  for (const auto& ifc : impl_->ifaces)
    for (const auto& [ip, e] : ifc->arp->entries()) out.push_back({ifc->index, ip.str(), e.mac, e.state});
  return out;
}

std::shared_ptr<UdpSocket> Stack::udp_socket() {
  // Not make_shared: the constructor is private to keep sockets stack-made.
  std::shared_ptr<UdpSocket> s(new UdpSocket(*this));
  impl_->udp_all.insert(s.get());
  return s;
}

std::shared_ptr<TcpSocket> Stack::tcp_socket() {
  std::shared_ptr<TcpSocket> s(new TcpSocket(*this));
  impl_->tcp->sockets.insert(s.get());
  return s;
}

std::error_code Stack::send_echo(Ipv4Addr dst, std::uint16_t id, std::uint16_t seq, std::size_t payload_len,
                                 std::uint8_t ttl) {
  AppWork work(work_hook_, -1);
  return impl_->send_echo(dst, id, seq, payload_len, ttl);
}

// ------------------------------------------------------------ counters

void Stack::Impl::drop(std::string_view layer, std::string_view reason, std::uint64_t n) {
  std::string key;
  key.reserve(layer.size() + 1 + reason.size());
  key.append(layer).append(".").append(reason);
  st.stats_.drops[key] += n;
}

void Stack::Impl::event(std::string_view layer, std::string_view what, std::uint64_t n) {
  std::string key;
  key.reserve(layer.size() + 1 + what.size());
  key.append(layer).append(".").append(what);
  st.stats_.events[key] += n;
}

LayerStats& Stack::Impl::layer_stats(const char* layer) {
  for (auto& [name, ls] : layer_cache) {
    if (name == layer) return *ls;
    if (!name) {
      name = layer;
      ls = &st.stats_.layers[layer];
      return *ls;
    }
  }
  return st.stats_.layers[layer];
}

void Stack::Impl::count_rx(const char* layer, std::size_t bytes) {
  auto& l = layer_stats(layer);
  ++l.rx_packets;
  l.rx_bytes += bytes;
}

void Stack::Impl::count_tx(const char* layer, std::size_t bytes) {
  auto& l = layer_stats(layer);
  ++l.tx_packets;
  l.tx_bytes += bytes;
}

// ------------------------------------------------------------ routing

bool Stack::Impl::is_our_addr(Ipv4Addr a) const {
  for (const auto& ifc : ifaces)
    if (ifc->has_addr(a)) return true;
  return false;
}

// Longest-prefix match over the routing table (connected routes come from
// add_address). The source address is the outgoing interface's address on
// the next hop's subnet.
std::optional<Route> Stack::Impl::route(Ipv4Addr dst) {
  // No multicast yet. Our own addresses and 127/8 are reached through lo
  // (Linux's local table), from the destination itself (or 127.0.0.1).
  if (dst.is_multicast() || dst.is_unspecified()) return std::nullopt;
  if (dst.b[0] == 127 || is_our_addr(dst)) {
    Iface* lo = ifaces[kLoopbackIfindex].get();
    return Route{lo, dst.b[0] == 127 ? lo->addrs.front().addr : dst, dst, dst, false};
  }
  if (dst.is_broadcast()) {  // limited broadcast: the first interface with an address
    for (auto& ifc : ifaces)
      if (!ifc->loopback && !ifc->addrs.empty()) return Route{ifc.get(), ifc->addrs.front().addr, dst, dst, true};
    return std::nullopt;
  }
  const RouteEntry<Ipv4Addr>* e = routes4.lookup(dst);
  if (!e) return std::nullopt;
  Iface* ifc = ifaces[static_cast<std::size_t>(e->ifindex)].get();
  // A down interface's routes are gone, as Linux flushes them.
  if (ifc->addrs.empty() || !ifc->up || (ifc->parent >= 0 && !ifaces[static_cast<std::size_t>(ifc->parent)]->up))
    return std::nullopt;
  const Ipv4Addr hop = e->gateway.value_or(dst);
  return Route{ifc, ifc->source_for(hop), dst, hop, !e->gateway && ifc->is_subnet_broadcast(dst)};
}

std::size_t Stack::Impl::path_mtu(const Route& r) const {
  std::size_t mtu = r.ifc->mtu();
  const auto it = pmtu4.find(r.dst);
  if (it != pmtu4.end() && it->second.expires > st.sched_.now()) mtu = std::min(mtu, it->second.mtu);
  return mtu;
}

BufferPool& Stack::Impl::large() {
  if (!large_pool) {
    large_mem = std::make_unique<HostMemory>(kLargeBuf * kLargeBufs + 4096);
    large_pool = std::make_unique<BufferPool>(*large_mem, kLargeBuf, kLargeBufs);
  }
  return *large_pool;
}

Packet Stack::Impl::alloc_for(Iface& ifc, std::size_t payload) {
  Packet p = ifc.dev->pool().alloc();
  if (!p || fits(p, payload)) return p;  // an exhausted device pool is no_buffer_space
  p = Packet{};
  return large().alloc();
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
  count_work(Work::rx_frame);
  try {
    Iface& ifc = *ifaces.at(static_cast<std::size_t>(ifindex));
    if (!ifc.up) {
      ++ifc.ctr.rx_dropped;
      return drop("eth", "link_down");
    }
    ++ifc.ctr.rx_packets;
    ifc.ctr.rx_bytes += frame.size();
    if (ifc.bursts) in_rx_burst = true;
    if (frame && !pass_hook(filter::Family::netdev, filter::Hook::ingress, frame, ifindex, -1)) return;
    eth_input(ifc, std::move(frame));
  } catch (...) {
    try {
      drop("stack", "internal_error");
    } catch (...) {
    }
  }
}

void Stack::Impl::rx_burst_end() noexcept {
  in_rx_burst = false;
  try {
    if (tcp) tcp->flush_burst_acks();
  } catch (...) {
    try {
      drop("stack", "internal_error");
    } catch (...) {
    }
  }
}

void Stack::Impl::eth_input(Iface& phys, Packet&& frame) {
  if (!frame) return drop("eth", "too_short");
  const auto eth = wire::EthernetView::parse(frame.bytes());
  if (!eth) return drop("eth", eth.reason());
  const MacAddr dst = eth->dst();
  const bool bcast = dst == wire::kBroadcastMac;
  const bool mcast6 = dst[0] == 0x33 && dst[1] == 0x33;  // IPv6 multicast (RFC 2464 7)
  if (dst != phys.mac && !bcast && !mcast6) return drop("eth", "not_for_us");
  // A tagged frame belongs to the VLAN sub-interface of its id (priority
  // bits ignored; VLAN 0 is a priority tag on the untagged interface).
  Iface* ifc = &phys;
  if (const auto tci = eth->vlan_tci()) {
    const std::uint16_t vid = *tci & 0x0fff;
    if (vid != 0) {
      const auto it = phys.vlans.find(vid);
      if (it == phys.vlans.end()) return drop("eth", "unknown_vlan");
      ifc = ifaces[static_cast<std::size_t>(it->second)].get();
      if (!ifc->up) {
        ++ifc->ctr.rx_dropped;
        return drop("eth", "link_down");
      }
      ++ifc->ctr.rx_packets;
      ifc->ctr.rx_bytes += frame.size();
    }
  }
  // 33:33 frames only for the groups the interface joined.
  if (mcast6 && !ip6->accepts_mac(*ifc, dst)) return drop("eth", "not_for_us");
  const std::uint16_t type = eth->ethertype();
  const bool v6 = type == wire::kEthertypeIpv6 && ip6->enabled_on(ifc->index);  // IPv6 is per interface
  if (type != wire::kEthertypeArp && type != wire::kEthertypeIpv4 && !v6) return drop("eth", "unsupported_ethertype");
  count_rx("eth", frame.size());
  frame.pull(eth->header_len());
  if (type == wire::kEthertypeArp)
    arp_input(*ifc, std::move(frame));
  else if (v6)
    ip6->input(*ifc, std::move(frame), bcast || mcast6);
  else
    ipv4_input(*ifc, std::move(frame), bcast);
}

std::error_code Stack::Impl::eth_output(Iface& ifc, const MacAddr& dst, std::uint16_t ethertype, Packet&& p) {
  if (!usable(ifc)) {
    ++ifc.ctr.tx_dropped;
    drop("eth", "link_down");
    return make_err(std::errc::network_down);
  }
  wire::emit_ethernet(p, {dst, ifc.mac, ethertype, ifc.vid ? std::optional<std::uint16_t>(ifc.vid) : std::nullopt});
  if (ifc.vid) {  // the tag moved every offset the device reads by 4 bytes
    p.meta.l3_offset = static_cast<std::uint16_t>(p.meta.l3_offset + wire::kVlanTagLen);
    if (p.meta.l4_offset) p.meta.l4_offset = static_cast<std::uint16_t>(p.meta.l4_offset + wire::kVlanTagLen);
    if (p.meta.tx_csum_partial) p.meta.csum_start = static_cast<std::uint16_t>(p.meta.csum_start + wire::kVlanTagLen);
  }
  wire::pad_frame(p);
  count_work(Work::tx_frame);
  const std::size_t n = p.size();
  if (!egress_xmit(ifc, std::move(p))) {
    ++ifc.ctr.tx_dropped;
    drop("eth", "tx_queue_full");
    return make_err(std::errc::no_buffer_space);
  }
  ++ifc.ctr.tx_packets;
  ifc.ctr.tx_bytes += n;
  count_tx("eth", n);
  return {};
}

}  // namespace vd::stack
