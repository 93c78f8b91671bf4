// Port bindings shared by TCP and UDP, for either family (A: Ipv4Addr or
// Ipv6Addr): keys, the conflict rule and the ephemeral-port walk.
#pragma once

#include <cstdint>
#include <utility>

namespace vd::stack {

// A local endpoint, (port, address or the any-address), as bindings and
// listeners are keyed: all of a port's entries are adjacent.
template <class A>
using PortKey = std::pair<std::uint16_t, A>;

template <class A>
const PortKey<A>& port_key_of(const PortKey<A>& k) {
  return k;
}
template <class A, class V>
const PortKey<A>& port_key_of(const std::pair<const PortKey<A>, V>& kv) {
  return kv.first;
}

// Without SO_REUSEADDR: a wildcard binding takes the port on every address,
// a specific one conflicts with itself and with the wildcard. `bound` is a
// set of PortKey<A> or a map from PortKey<A>.
template <class A, class Bound>
bool port_free(const Bound& bound, const A& addr, std::uint16_t port) {
  if (addr.is_unspecified()) {
    const auto it = bound.lower_bound(PortKey<A>{port, A{}});
    return it == bound.end() || port_key_of<A>(*it).first != port;
  }
  return !bound.count(PortKey<A>{port, addr}) && !bound.count(PortKey<A>{port, A{}});
}

inline constexpr std::uint16_t kEphemeralFirst = 49152;

// Deterministic ephemeral choice: the next port after the last one handed
// out (`next`) for which free(port) holds, wrapping within 49152..65535;
// 0 when every one is taken.
template <class Free>
std::uint16_t pick_ephemeral(std::uint16_t& next, Free&& free) {
  for (unsigned i = 0; i < 65536u - kEphemeralFirst; ++i) {
    const std::uint16_t cand = next;
    next = cand == 65535 ? kEphemeralFirst : static_cast<std::uint16_t>(cand + 1);
    if (free(cand)) return cand;
  }
  return 0;
}

}  // namespace vd::stack
