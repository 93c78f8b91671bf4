// Private state of vd::stack::Stack, shared by the per-layer source files
// (stack.cpp: interfaces, Ethernet and routing; arp.cpp; ipv4.cpp with ICMP;
// udp.cpp with the sockets).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "veridian/stack/stack.hpp"
#include "veridian/stack/wire.hpp"

namespace vd::stack {

struct IfAddr {
  Ipv4Addr addr;
  int prefix = 0;

  std::uint32_t mask() const { return prefix == 0 ? 0u : 0xffffffffu << (32 - prefix); }
  bool contains(Ipv4Addr a) const { return (a.to_u32() & mask()) == (addr.to_u32() & mask()); }
  // /31 and /32 have no broadcast address (RFC 3021).
  std::optional<Ipv4Addr> broadcast() const {
    if (prefix >= 31) return std::nullopt;
    return Ipv4Addr::from_u32(addr.to_u32() | ~mask());
  }
};

struct Neighbor {
  MacAddr mac{};
  TimePs expires = 0;
};

// IP packets (IPv4 header first) waiting for an address to resolve.
struct PendingResolution {
  std::deque<Packet> queue;
  unsigned retries = 0;
  TimerId timer = kNoTimer;
};

struct Iface {
  int index = 0;
  NetDevice* dev = nullptr;
  MacAddr mac{};
  std::vector<IfAddr> addrs;
  std::map<Ipv4Addr, Neighbor> neighbors;
  std::map<Ipv4Addr, PendingResolution> pending;

  bool has_addr(Ipv4Addr a) const;
  bool is_subnet_broadcast(Ipv4Addr a) const;
  // Our address to speak from towards `peer`: the one whose subnet holds it.
  Ipv4Addr source_for(Ipv4Addr peer) const;
};

// On-link delivery only (there are no gateways yet): next hop == dst.
struct Route {
  Iface* ifc = nullptr;
  Ipv4Addr src;
  Ipv4Addr dst;
  bool broadcast = false;
};

// What the IPv4 layer tells ICMP and UDP about a received datagram.
struct Ipv4Info {
  Ipv4Addr src;
  Ipv4Addr dst;
  bool to_us_unicast = false;
};

struct Stack::Impl {
  Impl(Stack& s, StackConfig c) : st(s), cfg(c) {}

  Stack& st;
  StackConfig cfg;
  std::vector<std::unique_ptr<Iface>> ifaces;
  std::uint16_t next_ip_id = 0;

  // UDP: bound sockets keyed (port, addr) so all bindings of one port are
  // adjacent; every live socket so ~Stack can make them inert.
  std::map<std::pair<std::uint16_t, std::uint32_t>, UdpSocket*> udp_bound;
  std::set<UdpSocket*> udp_all;
  std::uint16_t next_ephemeral = kEphemeralFirst;
  static constexpr std::uint16_t kEphemeralFirst = 49152;

  // The IPv6 layer (ipv6_impl.hpp; made in Stack::Stack).
  std::unique_ptr<Stack::Ip6, Stack::Ip6Deleter> ip6;

  // ICMP echo requests in flight: (id, seq) -> send time, bounded.
  std::map<std::pair<std::uint16_t, std::uint16_t>, TimePs> echo_sent;
  static constexpr std::size_t kMaxEchoInFlight = 4096;

  void shutdown();

  // Counters.
  void drop(std::string_view layer, std::string_view reason, std::uint64_t n = 1);
  void count_rx(const char* layer, std::size_t bytes);
  void count_tx(const char* layer, std::size_t bytes);

  // Interfaces and routing (stack.cpp).
  bool is_our_addr(Ipv4Addr a) const;
  std::optional<Route> route(Ipv4Addr dst);
  static bool fits(const Packet& p, std::size_t payload);

  // Ethernet (stack.cpp).
  void rx(int ifindex, Packet&& frame) noexcept;
  void eth_input(Iface& ifc, Packet&& frame);
  std::error_code eth_output(Iface& ifc, const MacAddr& dst, std::uint16_t ethertype, Packet&& p);

  // ARP (arp.cpp).
  void arp_input(Iface& ifc, Packet&& p);
  std::error_code neigh_output(Iface& ifc, Ipv4Addr next_hop, bool broadcast, Packet&& p);
  const Neighbor* neighbor(Iface& ifc, Ipv4Addr ip);
  void learn(Iface& ifc, Ipv4Addr ip, const MacAddr& mac);
  std::error_code arp_enqueue(Iface& ifc, Ipv4Addr ip, Packet&& p);
  void arp_send(Iface& ifc, const MacAddr& eth_dst, const wire::ArpRepr& r);
  void arp_request(Iface& ifc, Ipv4Addr target);
  void arp_timer(int ifindex, Ipv4Addr ip);
  void arp_flush(Iface& ifc, Ipv4Addr ip, const MacAddr& mac);

  // IPv4 and ICMP (ipv4.cpp).
  void ipv4_input(Iface& ifc, Packet&& p);
  bool ipv4_accepts(const Iface& ifc, Ipv4Addr dst) const;
  std::error_code ipv4_output(const Route& r, std::uint8_t proto, Packet&& p);
  void icmp_input(Iface& ifc, const Ipv4Info& info, Packet&& p);
  void icmp_echo_reply(Iface& ifc, const Ipv4Info& info, Packet&& p);
  void icmp_record_reply(const Ipv4Info& info, const wire::IcmpView& v);
  std::error_code send_echo(Ipv4Addr dst, std::uint16_t id, std::uint16_t seq, std::size_t len);

  // UDP (udp.cpp).
  void udp_input(Iface& ifc, const Ipv4Info& info, Packet&& p);
  UdpSocket* udp_lookup(Ipv4Addr dst, std::uint16_t port, bool unicast) const;
  bool udp_port_free(Ipv4Addr addr, std::uint16_t port) const;
  std::error_code udp_bind(UdpSocket& s, Ipv4Addr addr, std::uint16_t port);
  void udp_unbind(UdpSocket& s);
  std::error_code udp_output(UdpSocket& s, std::span<const std::uint8_t> data, Ipv4Addr dst,
                             std::uint16_t port);
};

inline std::error_code make_err(std::errc e) { return std::make_error_code(e); }

}  // namespace vd::stack
