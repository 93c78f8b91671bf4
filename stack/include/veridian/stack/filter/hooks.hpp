// Netfilter-style hook points of the stack: where a firewall, connection
// tracking, NAT, rate limiting or an IDS sees packets. The placement follows
// Linux (net/ipv4/ip_input.c, ip_forward.c, ip_output.c and their IPv6
// twins); docs/stack.md, "Hooks", draws the path.
//
//   netdev  ingress      every frame a device delivers, before Ethernet parsing
//   ip/ip6  prerouting   every datagram that passed the header checks, before
//                        the routing decision (to us, or forward)
//           input        datagrams for this host, before transport delivery
//           forward      datagrams being forwarded, after the TTL/hop-limit
//                        decrement, before fragmentation
//           output       datagrams this host sends, once the IP header is built
//           postrouting  every datagram leaving, forwarded or ours, before
//                        IPv4 fragmentation
//
// Several handlers on one hook run in ascending priority (then in the
// order they were added), as nft base chains do; the first drop wins.
// With nothing registered a hook costs one bit test.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "veridian/core/hostmem.hpp"

namespace vd::stack::filter {

enum class Family : std::uint8_t { netdev, ipv4, ipv6 };
enum class Hook : std::uint8_t { ingress, prerouting, input, forward, output, postrouting };
inline constexpr std::size_t kFamilies = 3;
inline constexpr std::size_t kHooks = 6;

std::string_view to_string(Family f);
std::string_view to_string(Hook h);

enum class Verdict : std::uint8_t { accept, drop };

// Where the packet is. Interface indexes are the stack's ifindex; -1 where
// the hook has none (no input interface on output, no output one before
// routing).
struct HookContext {
  Family family = Family::ipv4;
  Hook hook = Hook::input;
  int in_ifindex = -1;
  int out_ifindex = -1;
};

// A handler sees the packet with data() at the IP header (the Ethernet
// header for netdev ingress). It may rewrite bytes in place (NAT, keeping
// the checksums right) but not change the packet's length.
using Handler = std::function<Verdict(Packet& p, const HookContext& ctx)>;

class Hooks {
 public:
  using Handle = std::uint64_t;

  // Throws std::invalid_argument for a hook the family does not have
  // (netdev has only ingress; ip/ip6 have all but ingress) or an empty handler.
  Handle add(Family f, Hook h, int priority, Handler fn);
  // False when the handle is unknown (already removed).
  bool remove(Handle id);
  std::size_t size(Family f, Hook h) const { return chains_[slot(f, h)].size(); }

  // The fast path's test: is anything registered on this hook?
  bool active(Family f, Hook h) const { return (mask_ >> slot(f, h)) & 1u; }
  // Runs the hook's handlers (call only when active()). A handler must not
  // add or remove hooks while it runs.
  Verdict run(Packet& p, const HookContext& ctx) const;

 private:
  struct Entry {
    int priority;
    Handle id;
    Handler fn;
  };
  static std::size_t slot(Family f, Hook h) { return std::size_t(f) * kHooks + std::size_t(h); }
  std::array<std::vector<Entry>, kFamilies * kHooks> chains_{};
  std::uint32_t mask_ = 0;
  Handle next_id_ = 1;
};

}  // namespace vd::stack::filter
