// Private state of vd::stack::Stack, shared by the per-layer source files
// (stack.cpp: interfaces, Ethernet and routing; arp.cpp; ipv4.cpp: input,
// output, forwarding and fragmentation; ipv4_reasm.cpp; icmp.cpp: echo,
// errors and path MTU; udp.cpp with the sockets).
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <unordered_map>
#include <vector>

#include "udp_table.hpp"
#include "veridian/stack/filter/hooks.hpp"
#include "veridian/stack/loopback.hpp"
#include "veridian/stack/stack.hpp"
#include "veridian/stack/wire/arp.hpp"
#include "veridian/stack/wire/ethernet.hpp"
#include "veridian/stack/wire/icmp.hpp"
#include "veridian/stack/wire/ipv4.hpp"
#include "veridian/stack/wire/udp.hpp"

namespace vd::stack {

struct TcpLayer;

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

struct Iface {
  int index = 0;
  std::string name;     // "lo", "eth0", "eth0.10", ... unique in the stack
  bool up = true;       // administratively (ip link set up/down)
  // Removed (Stack::remove_interface): the slot stays so ifindexes are never
  // reused, with dev pointing at the stack's DetachedDevice, down, nameless.
  bool removed = false;
  InterfaceCounters ctr;
  NetDevice* dev = nullptr;
  bool bursts = false;  // the device signals the end of each receive burst
  MacAddr mac{};
  bool loopback = false;    // lo: no ARP/ND, every address its own
  int parent = -1;          // VLAN sub-interface: the interface it rides on
  std::uint16_t vid = 0;    // ... and its VLAN id (0 = untagged interface)
  std::map<std::uint16_t, int> vlans;  // vid -> sub-interface ifindex
  std::vector<IfAddr> addrs;
  std::unique_ptr<NeighborCache<Ipv4Addr>> arp;

  std::size_t mtu() const { return dev->features().mtu; }
  // Up, and the device has a link (a veth's peer is up).
  bool running() const { return up && dev->carrier(); }

  bool has_addr(Ipv4Addr a) const;
  bool on_link(Ipv4Addr a) const {
    for (const auto& ia : addrs)
      if (ia.contains(a)) return true;
    return false;
  }
  bool is_subnet_broadcast(Ipv4Addr a) const;
  // Our address to speak from towards `peer`: the one whose subnet holds it.
  Ipv4Addr source_for(Ipv4Addr peer) const;
};

// Where a datagram goes: out of ifc, from src, to next_hop's link address.
struct Route {
  Iface* ifc = nullptr;
  Ipv4Addr src;
  Ipv4Addr dst;
  Ipv4Addr next_hop;
  bool broadcast = false;
};

// What the IPv4 layer tells ICMP and UDP about a received datagram.
struct Ipv4Info {
  Ipv4Addr src;
  Ipv4Addr dst;
  bool to_us_unicast = false;
  bool link_bcast = false;
  std::uint8_t ttl = 0;
  // The IP header sits just before the payload (pulled, not freed): an
  // error about the datagram pushes it back with Packet::push(ip_hlen).
  std::size_t ip_hlen = 0;
};

// Per-datagram choices of the sender.
struct Ipv4TxOpts {
  std::uint8_t ttl = 0;  // 0 = StackConfig::default_ttl
  bool dont_fragment = false;
  std::uint8_t tos = 0;
};

// One datagram being reassembled (RFC 791 with RFC 815-style holes kept
// implicit: fragments are stored by offset and checked for overlap).
struct ReasmKey {
  Ipv4Addr src, dst;
  std::uint16_t id = 0;
  std::uint8_t proto = 0;
  auto operator<=>(const ReasmKey&) const = default;
};
struct ReasmEntry {
  std::map<std::size_t, std::vector<std::uint8_t>> frags;  // payload offset -> bytes
  std::vector<std::uint8_t> first_header;  // the offset-0 fragment's IP header
  std::optional<std::size_t> total;        // payload length, once the last fragment came
  std::size_t bytes = 0;
  int ifindex = 0;
  TimePs started = 0;
  TimerId timer = kNoTimer;
};

// What a removed interface's slot points at, so code holding an Iface never
// follows a dangling device: no carrier, sends nothing, one small buffer.
class DetachedDevice final : public NetDevice {
 public:
  std::string kind() const override { return "detached"; }
  const DeviceFeatures& features() const override { return features_; }
  MacAddr mac() const override { return {}; }
  BufferPool& pool() override;
  bool transmit(Packet&&, std::uint16_t) override { return false; }
  void set_rx_handler(RxHandler) override {}
  Counters stats() const override { return {}; }
  bool carrier() const override { return false; }

 private:
  DeviceFeatures features_;
  std::unique_ptr<HostMemory> mem_;
  std::unique_ptr<BufferPool> pool_;
};

struct Stack::Impl {
  Impl(Stack& s, StackConfig c);
  ~Impl();  // out of line: TcpLayer is complete only in the .cpp files

  Stack& st;
  StackConfig cfg;
  // lo (interface 0). First, so it is destroyed last: packets from its pool
  // may sit in any layer's queues until those go.
  std::unique_ptr<LoopbackDevice> lo_dev;
  DetachedDevice detached;
  std::vector<std::unique_ptr<Iface>> ifaces;
  std::unordered_map<std::string, int> by_name;  // interface names in use -> ifindex
  std::uint16_t next_ip_id = 0;
  std::unique_ptr<TcpLayer> tcp;  // tcp/layer.hpp; created by Stack's constructor
  RouteTable<Ipv4Addr> routes4;

  // Buffers for datagrams larger than a device buffer: reassembled ones and
  // large sends before fragmentation. Allocated lazily (calloc'd memory).
  std::unique_ptr<HostMemory> large_mem;
  std::unique_ptr<BufferPool> large_pool;
  static constexpr std::size_t kLargeBuf = 65536 + 256;
  static constexpr std::size_t kLargeBufs = 16;
  BufferPool& large();

  // IPv4 reassembly.
  std::map<ReasmKey, ReasmEntry> reasm;
  std::size_t reasm_bytes = 0;

  // ICMP error rate limit (token bucket) and path MTU cache.
  double icmp_tokens = 0;
  TimePs icmp_refilled = 0;
  bool icmp_bucket_init = false;
  struct PmtuEntry { std::size_t mtu; TimePs expires; };
  std::map<Ipv4Addr, PmtuEntry> pmtu4;

  // UDP: each family's bindings (udp_table.hpp); every live socket so
  // ~Stack can make them inert.
  UdpTable<Ipv4Addr> udp4;
  UdpTable<Ipv6Addr> udp6;
  template <class A>
  UdpTable<A>& udp_table() {
    if constexpr (std::is_same_v<A, Ipv6Addr>) return udp6;
    else return udp4;
  }
  std::set<UdpSocket*> udp_all;
  std::uint16_t next_ephemeral = kEphemeralFirst;  // UDP's (both families)

  // Raw sockets (raw.cpp) and local sockets' names (local.cpp).
  std::set<RawSocket*> raw_all;
  std::map<std::string, LocalSocket*> local_names;
  std::set<LocalSocket*> local_all;

  // The IPv6 layer (ipv6_impl.hpp; made in Stack::Stack).
  std::unique_ptr<Stack::Ip6, Stack::Ip6Deleter> ip6;

  // ICMP echo requests in flight: (id, seq) -> send time, bounded.
  std::map<std::pair<std::uint16_t, std::uint16_t>, TimePs> echo_sent;
  static constexpr std::size_t kMaxEchoInFlight = 4096;

  void shutdown();

  // The netfilter-style hook points (filter/hooks.hpp). pass_hook is the
  // fast path: one bit test when nothing is registered; a drop is counted
  // as filter.<family>_<hook> (e.g. filter.ip_input).
  filter::Hooks hooks;
  bool pass_hook(filter::Family f, filter::Hook h, Packet& p, int in_ifindex, int out_ifindex) {
    if (!hooks.active(f, h)) [[likely]]
      return true;
    return run_hook(f, h, p, in_ifindex, out_ifindex);
  }
  bool run_hook(filter::Family f, filter::Hook h, Packet& p, int in_ifindex, int out_ifindex);
  // The egress seam (qos/egress.cpp): every frame for a device passes here.
  bool egress_xmit(Iface& ifc, Packet&& frame);

  // Counters.
  void drop(std::string_view layer, std::string_view reason, std::uint64_t n = 1);
  void event(std::string_view layer, std::string_view what, std::uint64_t n = 1);
  void count_rx(const char* layer, std::size_t bytes);
  void count_tx(const char* layer, std::size_t bytes);
  // Per-packet counters without a string-keyed map lookup each time: the
  // layer names are literals, so their addresses are cached (a miss just
  // falls back to the map). Map nodes never move, so the pointers stay good.
  LayerStats& layer_stats(const char* layer);
  std::array<std::pair<const char*, LayerStats*>, 16> layer_cache{};

  // Interfaces and routing (stack.cpp).
  // nullptr for an ifindex that never was or was removed; iface() throws.
  Iface* find_iface(int ifindex);
  Iface& iface(int ifindex);
  // Up with carrier, and so is a VLAN's parent: frames can go out.
  bool usable(const Iface& ifc) const {
    return ifc.running() && (ifc.parent < 0 || ifaces[static_cast<std::size_t>(ifc.parent)]->up);
  }
  bool is_our_addr(Ipv4Addr a) const;
  std::optional<Route> route(Ipv4Addr dst);
  std::size_t path_mtu(const Route& r) const;
  static bool fits(const Packet& p, std::size_t payload);
  // A buffer for `payload` bytes plus headers: the device's pool when they
  // fit, the large pool otherwise. Empty when both are exhausted.
  Packet alloc_for(Iface& ifc, std::size_t payload);

  // Ethernet and VLAN (stack.cpp).
  void rx(int ifindex, Packet&& frame) noexcept;
  // The device finished a receive burst: send the ACKs held back during it.
  void rx_burst_end() noexcept;
  bool in_rx_burst = false;  // between a bursty device's first rx and its burst end
  void eth_input(Iface& ifc, Packet&& frame);
  std::error_code eth_output(Iface& ifc, const MacAddr& dst, std::uint16_t ethertype, Packet&& p);

  // ARP (arp.cpp).
  void arp_attach(Iface& ifc);
  void arp_input(Iface& ifc, Packet&& p);
  std::error_code neigh_output(Iface& ifc, Ipv4Addr next_hop, bool broadcast, Packet&& p);
  void arp_send(Iface& ifc, const MacAddr& eth_dst, const wire::ArpRepr& r);
  void arp_solicit(Iface& ifc, Ipv4Addr target, const MacAddr* unicast);
  void arp_announce(Iface& ifc, Ipv4Addr addr);
  void arp_failed(Iface& ifc, Ipv4Addr target, std::deque<Packet>&& q);

  // IPv4 (ipv4.cpp).
  void ipv4_input(Iface& ifc, Packet&& p, bool link_bcast);
  void ipv4_local(Iface& ifc, Packet&& p, bool link_bcast);
  void ipv4_forward(Iface& ifc, Packet&& p, bool link_bcast);
  bool ipv4_accepts(const Iface& ifc, Ipv4Addr dst) const;
  // p holds the transport header and payload; the IPv4 header goes in front.
  // Larger than the path MTU: fragmented unless dont_fragment (then
  // message_size).
  std::error_code ipv4_output(const Route& r, std::uint8_t proto, Packet&& p, const Ipv4TxOpts& o = {});
  // p holds a whole datagram, header first; sends it as fragments of at
  // most mtu bytes.
  std::error_code ipv4_fragment(const Route& r, Packet&& p, std::size_t mtu);
  std::error_code ipv4_send_datagram(const Route& r, Packet&& p);

  // Reassembly (ipv4_reasm.cpp). Returns the whole datagram once the last
  // hole is filled; an empty Packet while incomplete or when dropped.
  Packet ipv4_reassemble(Iface& ifc, Packet&& p);
  void reasm_expire(const ReasmKey& k);
  void reasm_erase(std::map<ReasmKey, ReasmEntry>::iterator it);

  // ICMP (icmp.cpp).
  void icmp_input(Iface& ifc, const Ipv4Info& info, Packet&& p);
  void icmp_echo_reply(Iface& ifc, const Ipv4Info& info, Packet&& p);
  void icmp_record_reply(const Ipv4Info& info, const wire::IcmpView& v);
  void icmp_error_input(const Ipv4Info& info, const wire::IcmpView& v);
  std::error_code send_echo(Ipv4Addr dst, std::uint16_t id, std::uint16_t seq, std::size_t len, std::uint8_t ttl);
  // Sends an ICMP error about `orig` (a datagram, IPv4 header first) unless
  // RFC 1812 4.3.2.7 forbids it or the rate limit says no.
  void icmp_error(std::span<const std::uint8_t> orig, bool link_bcast, std::uint8_t type, std::uint8_t code,
                  std::uint32_t rest = 0);
  bool icmp_rate_ok();

  // Raw sockets (raw.cpp): a copy of a delivered datagram to each raw
  // socket of its protocol. v4: `dgram` is the whole datagram, header first.
  // Returns true when at least one raw socket of that protocol is open
  // (whether or not it had room), so an unknown protocol is not refused.
  // A copy of a datagram to every raw socket of its family and protocol
  // (IPv4: with its IP header; IPv6: the payload); false when none took one.
  template <class A>
  bool raw_input(const A& src, const A& dst, std::uint8_t proto, std::span<const std::uint8_t> dgram);

  // UDP (udp.cpp).
  void udp_input(Iface& ifc, const Ipv4Info& info, Packet&& p);
  template <class A>
  std::error_code udp_bind(UdpSocket& s, const A& addr, std::uint16_t port);
  void udp_unbind(UdpSocket& s);
  std::error_code udp_output(UdpSocket& s, std::span<const std::uint8_t> data, Ipv4Addr dst,
                             std::uint16_t port);
};

inline std::error_code make_err(std::errc e) { return std::make_error_code(e); }

}  // namespace vd::stack
