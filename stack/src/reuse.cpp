// SO_REUSEADDR for TCP: a bind may take over a port that only connections
// in TIME-WAIT still hold (Linux semantics). The TIME-WAIT connections live
// on (they still answer their peer's retransmitted FIN) but no longer own
// the port, so their end does not free the new socket's binding.
#include <vector>

#include "tcp_impl.hpp"

namespace vd::stack {

void tcp_release_time_wait(TcpLayer& L, Ipv4Addr addr, std::uint16_t port) {
  using Key = std::pair<std::uint16_t, std::uint32_t>;
  // The bindings a bind to (addr, port) conflicts with.
  std::vector<Key> keys;
  if (addr.is_unspecified()) {
    for (auto it = L.bound.lower_bound({port, 0u}); it != L.bound.end() && it->first == port; ++it) keys.push_back(*it);
  } else {
    if (L.bound.count({port, addr.to_u32()})) keys.push_back({port, addr.to_u32()});
    if (L.bound.count({port, 0u})) keys.push_back({port, 0u});
  }
  if (keys.empty()) return;
  std::vector<Tcb*> holders;
  for (const Key& k : keys) {
    Tcb* h = nullptr;
    for (auto& [ck, t] : L.conns)
      if (t->owns_port && t->port_key == k) h = t.get();
    // A listener, a bound socket or a live connection: the bind fails as usual.
    if (!h || h->state != TcpState::TimeWait) return;
    holders.push_back(h);
  }
  for (Tcb* h : holders) {
    h->owns_port = false;
    L.bound.erase(h->port_key);
  }
}

}  // namespace vd::stack
