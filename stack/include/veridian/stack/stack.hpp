// The host protocol stack: Ethernet/VLAN, ARP, IPv4 and IPv6 (routing,
// forwarding, fragments), ICMP/ICMPv6, neighbour discovery, UDP, TCP, raw and
// local sockets, and netfilter-style hook points (filter/hooks.hpp).
// It is handed a Scheduler (time) and NetDevices (I/O) from outside and never
// reaches for a clock, a thread or a global of its own, so the same code runs
// under the simulator, in real time and in unit tests with fake devices.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"
#include "veridian/stack/filter/hooks.hpp"
#include "veridian/stack/ip_addr.hpp"
#include "veridian/stack/ipv6.hpp"
#include "veridian/stack/local.hpp"
#include "veridian/stack/loopback.hpp"
#include "veridian/stack/neighbor.hpp"
#include "veridian/stack/route.hpp"
#include "veridian/stack/tcp.hpp"

namespace vd::stack {

struct LayerStats {
  std::uint64_t rx_packets = 0, rx_bytes = 0;
  std::uint64_t tx_packets = 0, tx_bytes = 0;
};

struct StackStats {
  // keys: "eth", "arp", "ipv4", "icmp", "udp"
  std::map<std::string, LayerStats> layers;
  // "<layer>.<reason>" -> count, e.g. "ipv4.bad_checksum", "udp.no_socket",
  // "eth.too_short", "arp.unres_discards"
  std::map<std::string, std::uint64_t> drops;
  // Things done that are not drops: "ipv4.forwarded", "ipv4.fragments_sent",
  // "ipv4.reassembled", "icmp.errors_sent", "arp.gratuitous_sent", ...
  std::map<std::string, std::uint64_t> events;
};

// An ICMP error that reached us (kept for traceroute-style tools and tests).
struct IcmpErrorInfo {
  Ipv4Addr from;              // who sent the error
  std::uint8_t type = 0, code = 0;
  Ipv4Addr orig_src, orig_dst;  // the datagram it quotes
  std::uint8_t orig_proto = 0;
  std::uint16_t orig_src_port = 0, orig_dst_port = 0;  // UDP/TCP quotes only
  std::uint16_t mtu = 0;      // next-hop MTU of "fragmentation needed"
  TimePs at = 0;
};

struct NeighborInfo {
  int ifindex = 0;
  std::string addr;
  MacAddr mac{};
  NudState state = NudState::Incomplete;
};

struct Datagram {
  std::vector<std::uint8_t> data;
  Ipv4Addr src_addr;  // for an IPv4 datagram
  std::uint16_t src_port = 0;
  bool v6 = false;    // an IPv6 datagram: the source is src_addr6
  Ipv6Addr src_addr6{};
};

// An interface's own packet counters, as `ip -s link` shows them: what the
// stack handed to or took from its device. Dropped: refused by a full
// device queue, or sent or received while the interface was down.
struct InterfaceCounters {
  std::uint64_t rx_packets = 0, rx_bytes = 0, rx_dropped = 0;
  std::uint64_t tx_packets = 0, tx_bytes = 0, tx_dropped = 0;
};

// One interface as `ip link` / `ip addr` show it.
struct InterfaceInfo {
  int ifindex = 0;
  std::string name;
  std::string kind;  // the device's: "loopback", "soft", "rtl", "veth", ...; "vlan" for a sub-interface
  MacAddr mac{};
  std::size_t mtu = 0;
  bool up = true;       // administratively
  bool carrier = true;  // the device's link
  int parent = -1;      // a VLAN's parent ifindex
  std::uint16_t vid = 0;
  std::vector<std::pair<Ipv4Addr, int>> addrs;  // IPv4 address and prefix length
  InterfaceCounters counters;
};

struct EchoReply {
  Ipv4Addr from;
  std::uint16_t id = 0, seq = 0;
  TimePs sent_at = 0, received_at = 0;
  std::size_t payload_len = 0;
};

class Stack;

class UdpSocket {
 public:
  // Errors: address_in_use, address_not_available (not one of the host's
  // addresses and not 0.0.0.0), invalid_argument (already bound).
  std::error_code bind(Ipv4Addr addr, std::uint16_t port);
  // Binds an ephemeral port first if needed. Errors: message_size (> 65507),
  // network_unreachable (no route/interface), no_buffer_space (pool or ARP queue full).
  std::error_code sendto(std::span<const std::uint8_t> data, Ipv4Addr dst, std::uint16_t port);
  // IPv6: a socket is of one family, fixed by its first bind or sendto (an
  // IPv4 call on an IPv6 socket, or the reverse, gives
  // address_family_not_supported). IPv6 ports are their own namespace (as
  // with IPV6_V6ONLY). Datagrams larger than the path MTU are fragmented.
  std::error_code bind(const Ipv6Addr& addr, std::uint16_t port);
  std::error_code sendto(std::span<const std::uint8_t> data, const Ipv6Addr& dst, std::uint16_t port);
  bool is_v6() const { return v6_; }
  // IPV6_V6ONLY: always on (no dual-stack sockets: IPv4 peers need an IPv4
  // socket); turning it off gives operation_not_supported.
  bool v6only() const { return true; }
  std::error_code set_v6only(bool on) const {
    return on ? std::error_code{} : std::make_error_code(std::errc::operation_not_supported);
  }
  const Ipv6Addr& local_addr6() const { return addr6_; }
  // IP_TTL: hop limit of datagrams sent from here (0 = the stack's default).
  void set_ttl(std::uint8_t ttl) { ttl_ = ttl; }
  std::uint8_t ttl() const { return ttl_; }
  std::optional<Datagram> recvfrom();
  std::size_t pending() const { return rxq_.size(); }
  // Called from inside the stack when a datagram was queued (it must not
  // call back into the stack; the Boost.Asio layer posts).
  void set_notify(std::function<void()> cb) { notify_ = std::move(cb); }
  // Datagrams held before new ones are dropped ("udp.rx_queue_full").
  void set_rx_queue_limit(std::size_t n) { rxq_limit_ = n; }
  std::size_t rx_queue_limit() const { return rxq_limit_; }
  // SO_REUSEADDR, before bind: several sockets that all set it may bind the
  // same (address, port); the most recently bound one receives unicast
  // datagrams until it unbinds (then the previous one does again).
  void set_reuse_addr(bool on) { reuse_addr_ = on; }
  bool reuse_addr() const { return reuse_addr_; }
  // The host core this socket's calls run on when the host has a CPU model
  // (sim/cpus.hpp); -1: the host's application core.
  void set_cpu(int core) { cpu_ = core; }
  int cpu() const { return cpu_; }
  // SO_RCVTIMEO (0 = none): how long the Asio layer's async_receive_from
  // and the Python recvfrom wait before completing with timed_out. Measured
  // on the stack's clock (virtual time, or paced wall-clock time on a TAP).
  void set_recv_timeout(TimePs t) { rcvtimeo_ = t; }
  TimePs recv_timeout() const { return rcvtimeo_; }
  // The clock of the owning stack (nullptr once it is gone).
  Scheduler* scheduler() const;
  // False after close() or once the owning Stack is gone (every operation
  // then fails with bad_file_descriptor).
  bool is_open() const { return stack_ != nullptr && !closed_; }
  std::uint16_t local_port() const { return port_; }
  Ipv4Addr local_addr() const { return addr_; }
  void close();
  ~UdpSocket();

 private:
  friend class Stack;
  explicit UdpSocket(Stack& s) : stack_(&s) {}
  // The bound address of the socket's family (A: Ipv4Addr or Ipv6Addr).
  template <class A>
  A& addr_of() {
    if constexpr (std::is_same_v<A, Ipv6Addr>) return addr6_;
    else return addr_;
  }
  Stack* stack_;  // nulled by ~Stack, so a socket never dangles
  bool closed_ = false;
  Ipv4Addr addr_{};
  std::uint16_t port_ = 0;
  bool bound_ = false;
  bool v6_ = false;
  Ipv6Addr addr6_{};
  std::deque<Datagram> rxq_;
  std::size_t rxq_limit_ = 1024;
  std::function<void()> notify_;
  std::uint8_t ttl_ = 0;
  bool reuse_addr_ = false;
  TimePs rcvtimeo_ = 0;
  int cpu_ = -1;
};

// A raw IP socket (SOCK_RAW) for one IP protocol number, IPv4 or IPv6.
// Receives a copy of every datagram of its protocol delivered to the host
// (after reassembly), whether or not the stack handles the protocol itself
// (ICMP, UDP, TCP still are). As on Linux, an IPv4 datagram comes with its
// IP header (options included), an IPv6 one as the payload after the
// extension headers. Sends: the payload; the stack builds the IP header
// (no IP_HDRINCL) and fragments beyond the path MTU. No checksum is
// computed for the payload (also not for ICMPv6: no IPV6_CHECKSUM).
class RawSocket {
 public:
  int family() const { return family_; }        // 4 or 6
  std::uint8_t protocol() const { return proto_; }
  // Only datagrams to this address are received, and it is the source of
  // those sent. Errors: address_not_available, address_family_not_supported,
  // invalid_argument (bound already).
  std::error_code bind(Ipv4Addr addr);
  std::error_code bind(const Ipv6Addr& addr);
  // Errors: address_family_not_supported (the other family),
  // invalid_argument (unspecified destination), message_size (larger than
  // an IP datagram can carry), network_unreachable, no_buffer_space.
  std::error_code sendto(std::span<const std::uint8_t> data, Ipv4Addr dst);
  std::error_code sendto(std::span<const std::uint8_t> data, const Ipv6Addr& dst);
  // The next datagram (src_port is 0); nullopt when none is queued.
  std::optional<Datagram> recvfrom();
  std::size_t pending() const { return rxq_.size(); }
  void set_ttl(std::uint8_t ttl) { ttl_ = ttl; }  // IP_TTL / hop limit (0 = default)
  std::uint8_t ttl() const { return ttl_; }
  void set_notify(std::function<void()> cb) { notify_ = std::move(cb); }
  // Datagrams held before new ones are dropped ("raw.rx_queue_full").
  void set_rx_queue_limit(std::size_t n) { rxq_limit_ = n; }
  std::size_t rx_queue_limit() const { return rxq_limit_; }
  void set_recv_timeout(TimePs t) { rcvtimeo_ = t; }
  TimePs recv_timeout() const { return rcvtimeo_; }
  // The host core this socket's calls run on when the host has a CPU model
  // (sim/cpus.hpp); -1: the host's application core.
  void set_cpu(int core) { cpu_ = core; }
  int cpu() const { return cpu_; }
  Scheduler* scheduler() const;
  bool is_open() const { return stack_ != nullptr && !closed_; }
  void close();
  ~RawSocket();

 private:
  friend class Stack;
  RawSocket(Stack& s, int family, std::uint8_t proto) : stack_(&s), family_(family), proto_(proto) {}
  template <class A>
  std::error_code bind_as(const A& addr);
  template <class A>
  A& addr_of() {
    if constexpr (std::is_same_v<A, Ipv6Addr>) return addr6_;
    else return addr_;
  }
  Stack* stack_;
  bool closed_ = false;
  int family_ = 4;
  std::uint8_t proto_ = 0;
  bool bound_ = false;
  Ipv4Addr addr_{};
  Ipv6Addr addr6_{};
  std::deque<Datagram> rxq_;
  std::size_t rxq_limit_ = 1024;
  std::function<void()> notify_;
  std::uint8_t ttl_ = 0;
  TimePs rcvtimeo_ = 0;
  int cpu_ = -1;
};

struct StackConfig {
  // ARP reachability (RFC 4861 NUD applied to ARP, as Linux does):
  // max_multicast_solicit is the number of broadcast requests before giving up.
  NudConfig arp{};
  std::uint8_t default_ttl = 64;
  Ipv6Config ipv6;
  bool ip_forward = false;  // route datagrams between interfaces
  // ICMP errors we send: a token bucket on virtual time (Linux's
  // icmp_msgs_per_sec / icmp_msgs_burst).
  double icmp_rate_per_s = 1000;
  unsigned icmp_burst = 50;
  // IPv4 reassembly: timeout per datagram, memory for all partial
  // datagrams, fragments per datagram, datagrams at once (the oldest is
  // evicted beyond that, so a flood cannot lock out later traffic).
  TimePs reasm_timeout = s_to_ps(30);
  std::size_t reasm_max_bytes = 4u << 20;
  std::size_t reasm_max_frags = 256;
  std::size_t reasm_max_datagrams = 64;
  // Path MTU learnt from "fragmentation needed" is forgotten after this.
  TimePs pmtu_lifetime = s_to_ps(600);
  TcpConfig tcp{};
};

class Stack {
 public:
  // Interface 0 is the loopback device `lo` (127.0.0.1/8 and ::1), made by
  // the constructor; traffic to any of the stack's own addresses goes
  // through it. Devices added later are interfaces 1, 2, ...
  static constexpr int kLoopbackIfindex = 0;

  Stack(Scheduler& sched, std::string name, StackConfig cfg = {});
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // The loopback device itself (its pool and counters).
  LoopbackDevice& loopback();

  // Attaches a device; the stack installs its rx handler. Returns the
  // ifindex. `name` defaults to "eth<n>" (the lowest n not in use); a name
  // must be 1..15 characters of [A-Za-z0-9_.-] and unique in the stack
  // (std::invalid_argument otherwise).
  int add_interface(NetDevice& dev, std::string name = {});
  // Whether add_interface would take `name` (Linux's dev_valid_name,
  // narrowed to characters a shell never mangles).
  static bool valid_interface_name(const std::string& name);
  // Detaches an interface (ip link delete, or a device leaving for another
  // namespace): its VLANs, addresses, routes and neighbours go with it and
  // the device gets no more calls from this stack, so it may then be
  // destroyed or attached elsewhere. Its ifindex is not reused. Sockets stay
  // open; connections through it fail as their routes do. Throws
  // std::invalid_argument for lo or a bad ifindex.
  void remove_interface(int ifindex);
  // Every interface in ifindex order.
  std::vector<InterfaceInfo> interfaces() const;
  // The ifindex of the interface called `name`, if there is one.
  std::optional<int> ifindex_of(const std::string& name) const;
  // ip link set up/down: a down interface sends and receives nothing (both
  // counted as dropped) and routes through it are unusable. lo cannot go
  // down. Throws std::invalid_argument for a bad ifindex.
  void set_link_up(int ifindex, bool up);
  // Throws std::invalid_argument for a bad ifindex or prefix length. Adds
  // the connected route and announces the address (gratuitous ARP).
  void add_address(int ifindex, Ipv4Addr addr, int prefix_len);
  // An 802.1Q sub-interface on `parent` for VLAN `vid` (1..4094); returns
  // its ifindex. Tagged frames for other VLANs are dropped and counted.
  int add_vlan(int parent_ifindex, std::uint16_t vid);

  // Routes. A gateway route without ifindex goes out of the interface whose
  // subnet holds the gateway. Throws std::invalid_argument (bad prefix, no
  // such interface, gateway not on-link, a route that already exists).
  void add_route(Ipv4Addr prefix, int len, std::optional<Ipv4Addr> gateway, std::optional<int> ifindex = {},
                 std::uint32_t metric = 0);
  bool remove_route(Ipv4Addr prefix, int len);
  const RouteTable<Ipv4Addr>& routes() const;
  void set_forwarding(bool on);
  // The settings as they are now (set_forwarding and set_forwarding6 included).
  const StackConfig& config() const;

  // The MTU towards dst: the route's interface MTU, lowered by any
  // "fragmentation needed" we have heard about (RFC 1191). 0 without a route.
  std::size_t path_mtu(Ipv4Addr dst) const;
  const std::vector<IcmpErrorInfo>& icmp_errors() const { return icmp_errors_; }
  std::vector<NeighborInfo> neighbors() const;

  std::shared_ptr<UdpSocket> udp_socket();
  std::shared_ptr<TcpSocket> tcp_socket();
  // A raw socket for IP protocol `protocol` of family 4 or 6. Throws
  // std::invalid_argument for another family (as socket() gives EAFNOSUPPORT).
  std::shared_ptr<RawSocket> raw_socket(int family, std::uint8_t protocol);
  // A local (Unix-domain style) socket in this stack's own name space.
  std::shared_ptr<LocalSocket> local_socket(LocalSocket::Kind kind);

  // Sends one ICMP echo request; replies are collected in echo_replies().
  // Payloads larger than the path MTU are fragmented; ttl 0 = default.
  std::error_code send_echo(Ipv4Addr dst, std::uint16_t id, std::uint16_t seq,
                            std::size_t payload_len = 56, std::uint8_t ttl = 0);
  const std::vector<EchoReply>& echo_replies() const { return echo_replies_; }

  // ------------------------------------------------------------ IPv6
  // Turns IPv6 on for an interface: joins all-nodes, makes the link-local
  // address (DAD first) and solicits routers. Idempotent. Throws
  // std::invalid_argument for a bad ifindex.
  void enable_ipv6(int ifindex);
  // Adds an address (enabling IPv6 on the interface) and its on-link
  // route; it is tentative until DAD passes. Throws std::invalid_argument.
  void add_address6(int ifindex, const Ipv6Addr& addr, int prefix_len);
  std::vector<Addr6Info> addresses6(int ifindex) const;
  // False when the route exists already (same prefix and metric) or the
  // arguments are bad.
  bool add_route6(const Ipv6Addr& prefix, int prefix_len, std::optional<Ipv6Addr> gateway, int ifindex,
                  std::uint32_t metric = 0);
  // Forwarding between interfaces (a router). Off by default.
  void set_forwarding6(bool on);
  bool forwarding6() const;
  // Sends router advertisements on the interface (see RouterAdvertConfig);
  // also makes the stack answer router solicitations there.
  void set_router_advert(int ifindex, RouterAdvertConfig cfg);
  // The current default router learnt from RAs (or added), if any.
  std::optional<Ipv6Addr> default_router6() const;
  std::optional<Neighbor6Info> neighbor6(int ifindex, const Ipv6Addr& addr) const;
  // Every ND cache entry, in the shape of neighbors() (ARP).
  std::vector<NeighborInfo> neighbors6() const;
  const RouteTable<Ipv6Addr>& routes6() const;
  // The path MTU towards dst: the outgoing link's MTU or less, as lowered
  // by Packet Too Big messages (never below 1280).
  std::uint32_t path_mtu6(const Ipv6Addr& dst) const;
  // ICMPv6 echo; a link-local destination goes out of `ifindex` (or the
  // first IPv6 interface when -1). Larger than the path MTU: fragmented.
  // hop_limit 0 = the default.
  std::error_code send_echo6(const Ipv6Addr& dst, std::uint16_t id, std::uint16_t seq, std::size_t payload_len = 56,
                             int ifindex = -1, std::uint8_t hop_limit = 0);
  const std::vector<EchoReply6>& echo_replies6() const;

  // The netfilter-style hook points (filter/hooks.hpp), where firewall,
  // NAT, rate limiting and intrusion detection attach.
  filter::Hooks& hooks();

  const StackStats& stats() const { return stats_; }
  const std::string& name() const { return name_; }
  Scheduler& scheduler() { return sched_; }
  // The host CPU model's hook (core/work.hpp): socket calls and pings are
  // then application work on a core. nullptr (the default): no model.
  void set_work_hook(WorkHook* h) { work_hook_ = h; }
  WorkHook* work_hook() const { return work_hook_; }

 private:
  friend class UdpSocket;
  friend class TcpSocket;
  friend class RawSocket;
  friend class LocalSocket;
  friend struct TcpLayer;
  template <class A>
  friend struct TcpIp;  // TCP's view of each IP family (src/tcp/family.hpp)
  struct Impl;
  struct Ip6;  // the IPv6 layer (src/ipv6_impl.hpp)
  struct Ip6Deleter {
    void operator()(Ip6* p) const;
  };
  Scheduler& sched_;
  std::string name_;
  WorkHook* work_hook_ = nullptr;
  StackStats stats_;
  std::vector<EchoReply> echo_replies_;
  std::vector<IcmpErrorInfo> icmp_errors_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vd::stack
