// One address family's TCP state: connections by 4-tuple, listeners and
// bound ports by local endpoint. TcpLayer holds one per family
// (table<Ipv4Addr>(), table<Ipv6Addr>()): the port spaces are separate, as
// with IPV6_V6ONLY, and the IPv4 lookups stay as small as they were.
#pragma once

#include <map>
#include <memory>
#include <set>

#include "tcb.hpp"

namespace vd::stack {

template <class A>
struct TcpTable {
  using Addr = A;
  std::map<ConnKey<A>, std::unique_ptr<Tcb>> conns;  // synchronized and half-open
  std::map<PortKey<A>, Tcb*> listeners;              // (port, addr or any)
  std::set<PortKey<A>> bound;                        // ports held by bind()

  Tcb* find(const ConnKey<A>& k) const {
    const auto it = conns.find(k);
    return it == conns.end() ? nullptr : it->second.get();
  }
  // The listener on (port, addr), else on (port, any).
  Tcb* listener(std::uint16_t port, const A& addr) const {
    auto l = listeners.find({port, addr});
    if (l == listeners.end()) l = listeners.find({port, A{}});
    return l == listeners.end() ? nullptr : l->second;
  }
  bool port_free(const A& addr, std::uint16_t p) const { return stack::port_free(bound, addr, p); }
};

}  // namespace vd::stack
