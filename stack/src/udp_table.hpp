// UDP bindings of one family (A: Ipv4Addr or Ipv6Addr): sockets keyed
// (port, address or any), with SO_REUSEADDR's shadowed holders (udp.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "port_space.hpp"
#include "veridian/stack/stack.hpp"

namespace vd::stack {

template <class A>
struct UdpTable {
  std::map<PortKey<A>, UdpSocket*> bound;
  // SO_REUSEADDR: sockets bound earlier to a key now held by a later reuse
  // socket in `bound`, oldest first; one takes over when the holder unbinds.
  std::map<PortKey<A>, std::vector<UdpSocket*>> shadowed;

  bool port_free(const A& addr, std::uint16_t port) const { return stack::port_free(bound, addr, port); }

  // SO_REUSEADDR: every binding the new one conflicts with set it too.
  bool reuse_ok(const A& addr, std::uint16_t port) const {
    if (addr.is_unspecified()) {
      for (auto it = bound.lower_bound({port, A{}}); it != bound.end() && it->first.first == port; ++it)
        if (!it->second->reuse_addr()) return false;
      return true;
    }
    for (const A& a : {addr, A{}})
      if (const auto it = bound.find({port, a}); it != bound.end() && !it->second->reuse_addr()) return false;
    return true;
  }

  // s receives for k from now on (SO_REUSEADDR: the newest receives).
  void insert(const PortKey<A>& k, UdpSocket* s) {
    UdpSocket*& slot = bound[k];
    if (slot) shadowed[k].push_back(slot);
    slot = s;
  }

  void remove(const PortKey<A>& k, UdpSocket* s) {
    const auto it = bound.find(k);
    const auto sh = shadowed.find(k);
    if (it != bound.end() && it->second == s) {
      if (sh != shadowed.end()) {  // the previous SO_REUSEADDR socket takes over
        it->second = sh->second.back();
        sh->second.pop_back();
        if (sh->second.empty()) shadowed.erase(sh);
      } else {
        bound.erase(it);
      }
    } else if (sh != shadowed.end()) {
      std::erase(sh->second, s);
      if (sh->second.empty()) shadowed.erase(sh);
    }
  }

  // The socket for a datagram to (dst, port); broadcasts and multicasts
  // (unicast false) reach wildcard sockets only.
  UdpSocket* lookup(const A& dst, std::uint16_t port, bool unicast) const {
    if (unicast)
      if (const auto it = bound.find({port, dst}); it != bound.end()) return it->second;
    const auto it = bound.find({port, A{}});
    return it == bound.end() ? nullptr : it->second;
  }

  void clear() {
    bound.clear();
    shadowed.clear();
  }
};

}  // namespace vd::stack
