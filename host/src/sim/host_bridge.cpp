// A host's bridges: br0 devices in a namespace, NICs and veth ends made
// their ports (ip link set DEV master br0) and released again.
#include <stdexcept>

#include "veridian/sim/simulation.hpp"

namespace vd::sim {

std::optional<Host::Endpoint> Host::endpoint_at(const NetNamespace& ns, int ifindex) {
  if (Nic* n = nic_at_iface(ns, ifindex)) return Endpoint{n->attached, &n->ifindex, &n->ns, nullptr, 0};
  int w = 0;
  if (VethPair* p = veth_at_iface(ns, ifindex, &w)) {
    VethEnd& e = p->end[w];
    return Endpoint{&e.attached(), &e.ifindex, &e.ns, p, w};
  }
  return std::nullopt;
}

Host::Bridge* Host::bridge_at(const NetNamespace& ns, int ifindex) {
  for (auto& b : bridges_)
    if (b->ns == &ns && b->ifindex == ifindex) return b.get();
  return nullptr;
}

Host::Bridge* Host::bridge_named(const NetNamespace& ns, const std::string& name) {
  const auto idx = const_cast<NetNamespace&>(ns).stack().ifindex_of(name);
  return idx ? bridge_at(ns, *idx) : nullptr;
}

int Host::add_bridge(const std::string& ns_name, const std::string& name, stack::BridgeConfig cfg) {
  const auto ns = find_namespace(ns_name);
  if (!stack::Stack::valid_interface_name(name))
    throw std::invalid_argument("add_bridge: bad interface name '" + name + "' (1..15 characters of A-Z a-z 0-9 _ . -)");
  if (ns->stack().ifindex_of(name)) throw std::invalid_argument("add_bridge: an interface called '" + name + "' exists");
  auto b = std::make_unique<Bridge>();
  b->dev = std::make_unique<stack::BridgeDevice>(ev_, virtual_pool(), next_virtual_mac(), cfg);
  b->ns = ns.get();
  b->ifindex = ns->stack().add_interface(*b->dev, name);
  bridges_.push_back(std::move(b));
  return bridges_.back()->ifindex;
}

void Host::set_master(const std::string& ns_name, const std::string& ifname, const std::string& bridge_name) {
  const auto ns = find_namespace(ns_name);
  stack::Stack& st = ns->stack();
  Bridge* b = bridge_named(*ns, bridge_name);
  if (!b) throw std::out_of_range("set_master: no bridge '" + bridge_name + "' in namespace '" + ns_name + "'");
  const auto idx = st.ifindex_of(ifname);
  if (!idx) {
    for (const auto& p : b->ports)
      if (p.name == ifname) throw std::invalid_argument("set_master: '" + ifname + "' is a port of '" + bridge_name + "' already");
    throw std::out_of_range("set_master: namespace '" + ns_name + "' has no interface '" + ifname + "'");
  }
  for (const auto& i : st.interfaces())
    if (i.parent == *idx) throw std::invalid_argument("set_master: '" + ifname + "' is in use by VLAN interface '" + i.name + "'");
  const auto ep = endpoint_at(*ns, *idx);
  if (!ep) throw std::invalid_argument("set_master: '" + ifname + "' is not a NIC or a veth end (lo, a VLAN, a bridge)");
  st.remove_interface(*idx);
  if (ep->pair) veth_ends_.erase({ns.get(), *idx});
  *ep->ifindex = -1;
  b->dev->add_port(*ep->dev);
  b->ports.push_back(Bridge::Port{ifname, *ep});
}

int Host::release_port(Bridge& b, std::size_t k) {
  Bridge::Port port = b.ports[k];
  b.ports.erase(b.ports.begin() + std::ptrdiff_t(k));
  b.dev->remove_port(*port.ep.dev);
  stack::Stack& st = b.ns->stack();
  const std::string name = st.ifindex_of(port.name) ? std::string{} : port.name;
  *port.ep.ifindex = st.add_interface(*port.ep.dev, name);
  if (port.ep.pair) veth_ends_[{b.ns, *port.ep.ifindex}] = {port.ep.pair, port.ep.which};
  return *port.ep.ifindex;
}

int Host::set_nomaster(const std::string& ns_name, const std::string& ifname) {
  const auto ns = find_namespace(ns_name);
  for (auto& b : bridges_) {
    if (b->ns != ns.get()) continue;
    for (std::size_t k = 0; k < b->ports.size(); ++k)
      if (b->ports[k].name == ifname) return release_port(*b, k);
  }
  throw std::out_of_range("set_nomaster: '" + ifname + "' is not a bridge port in namespace '" + ns_name + "'");
}

void Host::destroy_bridge(Bridge& b) {
  while (!b.ports.empty()) release_port(b, b.ports.size() - 1);
  b.ns->stack().remove_interface(b.ifindex);
}

stack::BridgeDevice* Host::bridge(const std::string& ns, const std::string& name) {
  Bridge* b = bridge_named(*find_namespace(ns), name);
  return b ? b->dev.get() : nullptr;
}

std::vector<std::string> Host::bridge_ports(const std::string& ns, const std::string& name) {
  Bridge* b = bridge_named(*find_namespace(ns), name);
  if (!b) throw std::out_of_range("bridge_ports: no bridge '" + name + "' in namespace '" + ns + "'");
  std::vector<std::string> out;
  for (const auto& p : b->ports) out.push_back(p.name);
  return out;
}

std::vector<Host::FdbEntry> Host::bridge_fdb(const std::string& ns, const std::string& name) {
  Bridge* b = bridge_named(*find_namespace(ns), name);
  if (!b) throw std::out_of_range("bridge_fdb: no bridge '" + name + "' in namespace '" + ns + "'");
  std::vector<FdbEntry> out;
  for (const auto& e : b->dev->fdb())
    for (const auto& p : b->ports)
      if (b->dev->port_of(*p.ep.dev) == e.port) out.push_back({e.mac, p.name, ev_.now() - e.last_seen});
  return out;
}

}  // namespace vd::sim
