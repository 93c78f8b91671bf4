// A host's network namespaces, its veth pairs, and interfaces moving
// between namespaces (ip netns, ip link add type veth, ip link set netns).
#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "veridian/sim/simulation.hpp"

namespace vd::sim {

namespace {

// ip netns names become file names under /run/netns; these are the ones a
// shell never mangles.
bool valid_ns_name(const std::string& n) {
  if (n.empty() || n.size() > 64 || n == "." || n == "..") return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

// Locally administered unicast, host index and end number in the low bytes.
MacAddr veth_mac(std::size_t host, std::uint32_t end) {
  return MacAddr{0x02, 0x76, static_cast<std::uint8_t>(host >> 8), static_cast<std::uint8_t>(host),
                 static_cast<std::uint8_t>(end >> 8), static_cast<std::uint8_t>(end)};
}

std::string ns_label(const std::string& name) { return name.empty() ? "the root namespace" : "namespace '" + name + "'"; }

}  // namespace

int NetNamespace::default_ifindex() {
  for (const auto& i : stack().interfaces())
    if (i.ifindex != stack::Stack::kLoopbackIfindex) return i.ifindex;
  return stack::Stack::kLoopbackIfindex;
}

std::shared_ptr<NetNamespace> Host::add_namespace(const std::string& name, stack::StackConfig cfg) {
  if (!valid_ns_name(name))
    throw std::invalid_argument("add_namespace: bad namespace name '" + name +
                                "' (1..64 characters of A-Z a-z 0-9 _ . -)");
  if (ns_by_name_.count(name))
    throw std::invalid_argument("add_namespace: host '" + name_ + "' has a namespace '" + name + "'");
  namespaces_.push_back(std::make_shared<NetNamespace>(name, make_stack(name, std::move(cfg))));
  ns_by_name_[name] = namespaces_.back().get();
  return namespaces_.back();
}

std::shared_ptr<NetNamespace> Host::find_namespace(const std::string& name) const {
  const auto it = ns_by_name_.find(name);
  if (it != ns_by_name_.end()) return it->second->shared_from_this();
  throw std::out_of_range("host '" + name_ + "' has no network namespace '" + name + "'");
}

std::vector<std::string> Host::namespace_names() const {
  std::vector<std::string> out;
  for (std::size_t i = 1; i < namespaces_.size(); ++i) out.push_back(namespaces_[i]->name());
  return out;
}

Host::Nic* Host::nic_at_iface(const NetNamespace& ns, int ifindex) {
  for (auto& n : nics_)
    if (n.ns == &ns && n.ifindex == ifindex) return &n;
  return nullptr;
}

Host::VethPair* Host::veth_at_iface(const NetNamespace& ns, int ifindex, int* which) {
  const auto it = veth_ends_.find({&ns, ifindex});
  if (it == veth_ends_.end()) return nullptr;
  if (which) *which = it->second.second;
  return it->second.first;
}

// Both ends leave their stacks, then the pair (devices and CPU gates) goes.
void Host::destroy_veth(VethPair& p) {
  for (auto& b : bridges_)
    for (std::size_t k = b->ports.size(); k-- > 0;)
      if (b->ports[k].ep.pair == &p) {
        b->dev->remove_port(*b->ports[k].ep.dev);
        b->ports.erase(b->ports.begin() + std::ptrdiff_t(k));
      }
  for (auto& e : p.end) {
    veth_ends_.erase({e.ns, e.ifindex});
    if (e.ns && !e.ns->deleted() && e.ifindex >= 0) e.ns->stack().remove_interface(e.ifindex);
  }
  veths_.erase(&p);
}

void Host::delete_namespace(const std::string& name) {
  if (name.empty()) throw std::invalid_argument("delete_namespace: the root namespace cannot be deleted");
  const auto ns = find_namespace(name);
  for (auto it = bridges_.begin(); it != bridges_.end();)  // ports come back as interfaces first
    if ((*it)->ns == ns.get()) {
      destroy_bridge(**it);
      it = bridges_.erase(it);
    } else {
      ++it;
    }
  for (const auto& i : ns->stack().interfaces())
    if (VethPair* p = veth_at_iface(*ns, i.ifindex)) destroy_veth(*p);
  // Physical devices go home, as default_device_exit moves them to init_net.
  stack::Stack& root_st = root().stack();
  for (auto& n : nics_) {
    if (n.ns != ns.get()) continue;
    std::string ifname;
    for (const auto& i : ns->stack().interfaces())
      if (i.ifindex == n.ifindex) ifname = i.name;
    ns->stack().remove_interface(n.ifindex);
    if (root_st.ifindex_of(ifname)) ifname.clear();  // taken: eth<n>, as Linux renames to dev%d
    n.ifindex = root_st.add_interface(*n.attached, ifname);
    n.ns = &root();
  }
  ns->stack_.reset();  // closes its sockets and cancels its timers
  ns_by_name_.erase(name);
  namespaces_.erase(std::find(namespaces_.begin(), namespaces_.end(), ns));
}

// Sends with CPUs: a veth end's output leaves when its CPU has made it, and
// its receive work runs on the application core (Linux runs a veth's
// receive in the sender's softirq, which is the sending application's core).
void Host::wire_virtual(stack::VethDevice& d, VethEnd& e) {
  if (!cpus_) return;
  d.set_irq_dispatch([c = cpus_.get()](std::uint16_t, std::function<void()> poll) {
    c->submit(c->config().app_core, CpuUse::irq, std::move(poll));
  });
  e.gate = std::make_unique<CpuTxGate>(ev_, *cpus_, d);
}

BufferPool& Host::virtual_pool() {
  if (!veth_pool_) {
    // Its own address range, apart from the NICs' DMA memory.
    veth_mem_ = std::make_unique<HostMemory>(kVethPoolBuffers * stack::VethDevice::kBufSize + 4096, 0x8'0000'0000ull);
    veth_pool_ = std::make_unique<BufferPool>(*veth_mem_, stack::VethDevice::kBufSize, kVethPoolBuffers);
  }
  return *veth_pool_;
}

MacAddr Host::next_virtual_mac() { return veth_mac(index_ + 1, ++virtual_macs_made_); }

std::pair<int, int> Host::add_veth(const std::string& name_a, const std::string& ns_a, const std::string& name_b,
                                   const std::string& ns_b) {
  const auto a = find_namespace(ns_a);
  const auto b = find_namespace(ns_b);
  for (const auto* n : {&name_a, &name_b})
    if (!stack::Stack::valid_interface_name(*n))
      throw std::invalid_argument("add_veth: bad interface name '" + *n + "' (1..15 characters of A-Z a-z 0-9 _ . -)");
  if (a == b && name_a == name_b) throw std::invalid_argument("add_veth: both ends are called '" + name_a + "'");
  if (a->stack().ifindex_of(name_a))
    throw std::invalid_argument("add_veth: " + ns_label(ns_a) + " has an interface called '" + name_a + "'");
  if (b->stack().ifindex_of(name_b))
    throw std::invalid_argument("add_veth: " + ns_label(ns_b) + " has an interface called '" + name_b + "'");
  virtual_pool();
  auto p = std::make_unique<VethPair>();
  const MacAddr mac_a = next_virtual_mac();
  const MacAddr mac_b = next_virtual_mac();
  auto [da, db] = stack::VethDevice::make_pair(ev_, *veth_pool_, mac_a, mac_b);
  p->end[0].dev = std::move(da);
  p->end[1].dev = std::move(db);
  wire_virtual(*p->end[0].dev, p->end[0]);
  wire_virtual(*p->end[1].dev, p->end[1]);
  p->end[0].ns = a.get();
  p->end[0].ifindex = a->stack().add_interface(p->end[0].attached(), name_a);
  p->end[1].ns = b.get();
  p->end[1].ifindex = b->stack().add_interface(p->end[1].attached(), name_b);
  veth_ends_[{a.get(), p->end[0].ifindex}] = {p.get(), 0};
  veth_ends_[{b.get(), p->end[1].ifindex}] = {p.get(), 1};
  const std::pair<int, int> ifindexes{p->end[0].ifindex, p->end[1].ifindex};
  VethPair* key = p.get();
  veths_.emplace(key, std::move(p));
  return ifindexes;
}

int Host::move_interface(const std::string& from, const std::string& ifname, const std::string& to) {
  const auto src = find_namespace(from);
  const auto dst = find_namespace(to);
  stack::Stack& st = src->stack();
  const auto idx = st.ifindex_of(ifname);
  if (!idx) throw std::out_of_range("move_interface: " + ns_label(from) + " has no interface '" + ifname + "'");
  if (*idx == stack::Stack::kLoopbackIfindex)
    throw std::invalid_argument("move_interface: lo cannot leave its namespace");
  for (const auto& i : st.interfaces()) {
    if (i.ifindex == *idx && i.parent >= 0)
      throw std::invalid_argument("move_interface: '" + ifname + "' is a VLAN interface; VLANs stay with their parent's namespace");
    if (i.parent == *idx)
      throw std::invalid_argument("move_interface: '" + ifname + "' is in use by VLAN interface '" + i.name + "'");
  }
  if (bridge_at(*src, *idx)) throw std::invalid_argument("move_interface: '" + ifname + "' is a bridge; bridges stay in their namespace");
  if (src == dst) return *idx;
  if (dst->stack().ifindex_of(ifname))
    throw std::invalid_argument("move_interface: " + ns_label(to) + " has an interface called '" + ifname + "'");
  int w = 0;
  if (Nic* n = nic_at_iface(*src, *idx)) {
    st.remove_interface(*idx);
    n->ifindex = dst->stack().add_interface(*n->attached, ifname);
    n->ns = dst.get();
    return n->ifindex;
  }
  VethPair* p = veth_at_iface(*src, *idx, &w);
  if (!p) throw std::invalid_argument("move_interface: '" + ifname + "' was not made by the host");
  VethEnd& e = p->end[w];
  st.remove_interface(*idx);
  veth_ends_.erase({e.ns, e.ifindex});
  e.ifindex = dst->stack().add_interface(e.attached(), ifname);
  e.ns = dst.get();
  veth_ends_[{e.ns, e.ifindex}] = {p, w};
  return e.ifindex;
}

void Host::delete_interface(const std::string& ns_name, const std::string& ifname) {
  const auto ns = find_namespace(ns_name);
  stack::Stack& st = ns->stack();
  const auto idx = st.ifindex_of(ifname);
  if (!idx) throw std::out_of_range("delete_interface: " + ns_label(ns_name) + " has no interface '" + ifname + "'");
  if (*idx == stack::Stack::kLoopbackIfindex) throw std::invalid_argument("delete_interface: lo cannot be deleted");
  if (nic_at_iface(*ns, *idx))
    throw std::invalid_argument("delete_interface: '" + ifname + "' is a NIC; move it to another namespace instead");
  for (auto it = bridges_.begin(); it != bridges_.end(); ++it)
    if ((*it)->ns == ns.get() && (*it)->ifindex == *idx) {
      destroy_bridge(**it);
      bridges_.erase(it);
      return;
    }
  if (VethPair* p = veth_at_iface(*ns, *idx)) {
    destroy_veth(*p);
    return;
  }
  st.remove_interface(*idx);  // a VLAN
}

stack::VethDevice* Host::veth(const std::string& ns_name, const std::string& ifname) {
  const auto ns = find_namespace(ns_name);
  const auto idx = ns->stack().ifindex_of(ifname);
  int w = 0;
  VethPair* p = idx ? veth_at_iface(*ns, *idx, &w) : nullptr;
  return p ? p->end[w].dev.get() : nullptr;
}

}  // namespace vd::sim
