// A routing table with longest-prefix match, for IPv4 and IPv6 alike.
// Small tables (a host's or a lab router's) are scanned linearly; the order
// of choice is fixed, so a run is repeatable: longest prefix, then lowest
// metric, then the route added first.
#pragma once

#include <algorithm>
#include <optional>
#include <vector>

#include "veridian/stack/ip_addr.hpp"

namespace vd::stack {

template <class A>
struct RouteEntry {
  A prefix{};                  // stored with the host bits cleared
  int len = 0;                 // prefix length in bits
  std::optional<A> gateway;    // next hop; nullopt for an on-link route
  int ifindex = 0;
  std::uint32_t metric = 0;
  bool connected = false;      // made by add_address, removed with it
};

template <class A>
class RouteTable {
 public:
  static constexpr int kBits = static_cast<int>(sizeof(A{}.b) * 8);

  // False (nothing changed) when a route to the same prefix with the same
  // metric already exists, as Linux answers EEXIST; or for a bad length.
  bool add(RouteEntry<A> e) {
    if (e.len < 0 || e.len > kBits) return false;
    e.prefix = prefix_of(e.prefix, e.len);
    for (const auto& r : routes_)
      if (r.prefix == e.prefix && r.len == e.len && r.metric == e.metric) return false;
    routes_.push_back(e);
    return true;
  }

  // Removes routes to prefix/len (only those via ifindex when given).
  // Returns how many went.
  std::size_t remove(const A& prefix, int len, std::optional<int> ifindex = std::nullopt) {
    const A p = prefix_of(prefix, len);
    return std::erase_if(routes_, [&](const RouteEntry<A>& r) {
      return r.prefix == p && r.len == len && (!ifindex || r.ifindex == *ifindex);
    });
  }

  std::size_t remove_interface(int ifindex) {
    return std::erase_if(routes_, [&](const RouteEntry<A>& r) { return r.ifindex == ifindex; });
  }

  const RouteEntry<A>* lookup(const A& dst) const {
    const RouteEntry<A>* best = nullptr;
    for (const auto& r : routes_) {
      if (!prefix_match(r.prefix, dst, r.len)) continue;
      if (!best || r.len > best->len || (r.len == best->len && r.metric < best->metric)) best = &r;
    }
    return best;
  }

  const std::vector<RouteEntry<A>>& entries() const { return routes_; }

 private:
  std::vector<RouteEntry<A>> routes_;
};

}  // namespace vd::stack
