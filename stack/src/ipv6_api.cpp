// The public IPv6 API of Stack (stack.hpp): thin wrappers over Stack::Ip6.
#include <stdexcept>
#include <string>

#include "ipv6_impl.hpp"

namespace vd::stack {


void Stack::enable_ipv6(int ifindex) { impl_->ip6->enable(ifindex); }

void Stack::add_address6(int ifindex, const Ipv6Addr& addr, int prefix_len) {
  if (!impl_->find_iface(ifindex)) throw std::invalid_argument("add_address6: no interface " + std::to_string(ifindex));
  if (prefix_len < 0 || prefix_len > 128) throw std::invalid_argument("add_address6: prefix length must be 0..128");
  if (addr.is_unspecified() || addr.is_multicast() || addr.is_loopback())
    throw std::invalid_argument("add_address6: " + addr.str() + " cannot be a host address");
  impl_->ip6->enable(ifindex);
  impl_->ip6->add_address(ifindex, addr, prefix_len, false);
}

std::vector<Addr6Info> Stack::addresses6(int ifindex) const {
  std::vector<Addr6Info> out;
  if (const auto* f = impl_->ip6->if6_or_null(ifindex))
    for (const auto& a : f->addrs) out.push_back({a.addr, a.prefix, a.state, a.autoconf});
  return out;
}

bool Stack::add_route6(const Ipv6Addr& prefix, int prefix_len, std::optional<Ipv6Addr> gateway, int ifindex,
                       std::uint32_t metric) {
  if (!impl_->find_iface(ifindex)) return false;
  if (gateway && (gateway->is_multicast() || gateway->is_unspecified())) return false;
  RouteEntry<Ipv6Addr> e;
  e.prefix = prefix;
  e.len = prefix_len;
  e.gateway = gateway;
  e.ifindex = ifindex;
  e.metric = metric;
  return impl_->ip6->routes.add(e);
}

void Stack::set_forwarding6(bool on) {
  auto& ip6 = *impl_->ip6;
  if (ip6.forwarding == on) return;
  ip6.forwarding = on;
  impl_->cfg.ipv6.forward = on;  // what config() reports
  for (std::size_t i = 0; i < ip6.ifs.size(); ++i) {
    if (!ip6.ifs[i].enabled) continue;
    if (on)
      ip6.join(static_cast<int>(i), all_routers());
    else
      ip6.leave(static_cast<int>(i), all_routers());
  }
}

bool Stack::forwarding6() const { return impl_->ip6->forwarding; }

std::optional<Ipv6Addr> Stack::default_router6() const {
  const auto* e = impl_->ip6->routes.lookup(Ipv6Addr{});
  if (!e || e->len != 0 || !e->gateway) return std::nullopt;
  return e->gateway;
}

std::optional<Neighbor6Info> Stack::neighbor6(int ifindex, const Ipv6Addr& addr) const {
  const auto* f = impl_->ip6->if6_or_null(ifindex);
  if (!f || !f->neigh) return std::nullopt;
  const auto* e = f->neigh->find(addr);
  if (!e) return std::nullopt;
  return Neighbor6Info{e->state, e->mac, f->routers.count(addr) != 0, e->queue.size()};
}

std::vector<NeighborInfo> Stack::neighbors6() const {
  std::vector<NeighborInfo> out;
  const auto& ifs = impl_->ip6->ifs;
  for (std::size_t i = 0; i < ifs.size(); ++i) {
    if (!ifs[i].neigh) continue;
    for (const auto& [a, e] : ifs[i].neigh->entries())
      out.push_back(NeighborInfo{static_cast<int>(i), a.str(), e.mac, e.state});
  }
  return out;
}

const RouteTable<Ipv6Addr>& Stack::routes6() const { return impl_->ip6->routes; }

std::uint32_t Stack::path_mtu6(const Ipv6Addr& dst) const {
  const auto r = impl_->ip6->route(dst);
  if (!r) return static_cast<std::uint32_t>(wire::kIpv6MinMtu);
  return impl_->ip6->path_mtu(*r);
}

std::error_code Stack::send_echo6(const Ipv6Addr& dst, std::uint16_t id, std::uint16_t seq, std::size_t payload_len,
                                  int ifindex, std::uint8_t hop_limit) {
  AppWork work(work_hook_, -1);
  return impl_->ip6->send_echo(dst, id, seq, payload_len, ifindex, hop_limit);
}

const std::vector<EchoReply6>& Stack::echo_replies6() const { return impl_->ip6->echo_replies; }

}  // namespace vd::stack
