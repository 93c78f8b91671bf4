// Interfaces: attaching devices and VLANs, their names, link state and the
// `ip link` / `ip addr` view.
#include <cctype>
#include <stdexcept>
#include <string>

#include "ipv6_impl.hpp"
#include "stack_impl.hpp"

namespace vd::stack {
bool Stack::valid_interface_name(const std::string& n) {
  if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

Iface* Stack::Impl::find_iface(int ifindex) {
  if (ifindex < 0 || static_cast<std::size_t>(ifindex) >= ifaces.size()) return nullptr;
  Iface* ifc = ifaces[static_cast<std::size_t>(ifindex)].get();
  return ifc->removed ? nullptr : ifc;
}

Iface& Stack::Impl::iface(int ifindex) {
  Iface* ifc = find_iface(ifindex);
  if (!ifc) throw std::invalid_argument("no interface " + std::to_string(ifindex));
  return *ifc;
}

BufferPool& DetachedDevice::pool() {
  if (!pool_) {
    mem_ = std::make_unique<HostMemory>(4096);
    pool_ = std::make_unique<BufferPool>(*mem_, 2048, 1);
  }
  return *pool_;
}

int Stack::add_interface(NetDevice& dev, std::string name) {
  if (name.empty()) {
    for (int n = 0; name.empty(); ++n)
      if (!ifindex_of("eth" + std::to_string(n))) name = "eth" + std::to_string(n);
  } else if (!valid_interface_name(name)) {
    throw std::invalid_argument("add_interface: bad interface name '" + name +
                                "' (1..15 characters of letters, digits, '_', '.', '-')");
  } else if (ifindex_of(name)) {
    throw std::invalid_argument("add_interface: an interface called '" + name + "' exists");
  }
  auto ifc = std::make_unique<Iface>();
  const int idx = static_cast<int>(impl_->ifaces.size());
  ifc->index = idx;
  impl_->by_name[name] = idx;
  ifc->name = std::move(name);
  ifc->dev = &dev;
  ifc->mac = dev.mac();
  impl_->arp_attach(*ifc);
  impl_->ifaces.push_back(std::move(ifc));
  Impl* impl = impl_.get();
  dev.set_rx_handler([impl, idx](Packet&& f) { impl->rx(idx, std::move(f)); });
  impl_->ifaces.back()->bursts = dev.set_rx_burst_end([impl] { impl->rx_burst_end(); });
  dev.set_admin_up(true);
  // lo is made in the constructor; IPv6 on it is enable_loopback's, not attach's.
  if (idx != kLoopbackIfindex) impl_->ip6->attach(idx);
  return idx;
}

int Stack::add_vlan(int parent_ifindex, std::uint16_t vid) {
  Iface& parent = impl_->iface(parent_ifindex);
  if (parent.loopback) throw std::invalid_argument("add_vlan: no VLAN on the loopback interface");
  if (parent.parent >= 0) throw std::invalid_argument("add_vlan: no VLAN on a VLAN interface (no QinQ)");
  if (vid == 0 || vid >= 4095) throw std::invalid_argument("add_vlan: VLAN id must be 1..4094");
  if (parent.vlans.count(vid)) throw std::invalid_argument("add_vlan: VLAN " + std::to_string(vid) + " exists");
  std::string name = parent.name + "." + std::to_string(vid);  // as `ip link add link eth0 name eth0.10`
  if (ifindex_of(name)) throw std::invalid_argument("add_vlan: an interface called '" + name + "' exists");
  auto ifc = std::make_unique<Iface>();
  const int idx = static_cast<int>(impl_->ifaces.size());
  ifc->index = idx;
  impl_->by_name[name] = idx;
  ifc->name = std::move(name);
  ifc->dev = parent.dev;
  ifc->mac = parent.mac;
  ifc->parent = parent_ifindex;
  ifc->vid = vid;
  impl_->arp_attach(*ifc);
  parent.vlans[vid] = idx;
  impl_->ifaces.push_back(std::move(ifc));
  impl_->ip6->attach(idx);
  return idx;
}

void Stack::remove_interface(int ifindex) {
  Iface& ifc = impl_->iface(ifindex);
  if (ifc.loopback) throw std::invalid_argument("remove_interface: lo cannot be removed");
  // Its VLANs first, as unregistering a Linux device takes its uppers with it.
  while (!ifc.vlans.empty()) remove_interface(ifc.vlans.begin()->second);
  if (ifc.parent >= 0) {
    impl_->ifaces[static_cast<std::size_t>(ifc.parent)]->vlans.erase(ifc.vid);
  } else {
    ifc.dev->set_rx_handler(nullptr);
    ifc.dev->set_rx_burst_end(nullptr);
    ifc.dev->set_admin_up(false);
  }
  impl_->ip6->detach(ifindex);
  impl_->routes4.remove_interface(ifindex);
  ifc.addrs.clear();
  ifc.arp.reset();  // cancels its timers, frees what waited for resolution
  ifc.removed = true;
  ifc.up = false;
  impl_->by_name.erase(ifc.name);
  ifc.name.clear();
  ifc.dev = &impl_->detached;
  impl_->arp_attach(ifc);  // an empty cache, so no reader meets a null one
  impl_->event("eth", "interfaces_removed");
}

std::optional<int> Stack::ifindex_of(const std::string& name) const {
  const auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end()) return std::nullopt;
  return it->second;
}

void Stack::set_link_up(int ifindex, bool up) {
  Iface& ifc = impl_->iface(ifindex);
  if (ifc.loopback && !up) throw std::invalid_argument("set_link_up: lo stays up");
  ifc.up = up;
  if (ifc.parent < 0) ifc.dev->set_admin_up(up);
}

std::vector<InterfaceInfo> Stack::interfaces() const {
  std::vector<InterfaceInfo> out;
  for (const auto& ifc : impl_->ifaces) {
    if (ifc->removed) continue;
    InterfaceInfo i;
    i.ifindex = ifc->index;
    i.name = ifc->name;
    i.kind = ifc->parent >= 0 ? "vlan" : ifc->dev->kind();
    i.mac = ifc->mac;
    i.mtu = ifc->mtu();
    i.up = ifc->up;
    i.carrier = ifc->dev->carrier();
    i.parent = ifc->parent;
    i.vid = ifc->vid;
    for (const auto& a : ifc->addrs) i.addrs.emplace_back(a.addr, a.prefix);
    i.counters = ifc->ctr;
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace vd::stack
