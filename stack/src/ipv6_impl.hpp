// Private state of the IPv6 layer (Stack::Ip6): per-interface addresses,
// multicast groups and neighbour caches, the IPv6 route table, reassembly,
// path MTU and ICMPv6 rate limiting (UDP's IPv6 bindings are in
// Stack::Impl::udp6). Split by layer: ipv6.cpp (input, output, fragments,
// forwarding, API), ipv6_reasm.cpp (reassembly), icmpv6.cpp (ICMPv6
// messages and errors), nd.cpp (Neighbor Discovery, DAD, router
// solicitation/advertisement, SLAAC, redirects).
#pragma once

#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <system_error>
#include <vector>

#include "stack_impl.hpp"
#include "veridian/stack/neighbor.hpp"
#include "veridian/stack/route.hpp"
#include "veridian/stack/wire/icmpv6.hpp"
#include "veridian/stack/wire/ipv6.hpp"
#include "veridian/stack/wire/nd.hpp"
#include "veridian/stack/wire/udp.hpp"

namespace vd::stack {

// The link-local all-nodes and all-routers groups (RFC 4291 2.7.1).
inline Ipv6Addr all_nodes() { return Ipv6Addr::parse("ff02::1").value(); }
inline Ipv6Addr all_routers() { return Ipv6Addr::parse("ff02::2").value(); }

// A received IPv6 packet as the upper layers see it.
struct Rx6 {
  int ifindex = 0;
  Ipv6Addr src{}, dst{};
  std::uint8_t hop_limit = 0;
  bool link_multicast = false;  // sent to a multicast/broadcast MAC
  // The packet from its IPv6 header (reassembled, when it was fragmented),
  // quoted in ICMPv6 errors; l4 is the upper-layer message inside it.
  std::span<const std::uint8_t> packet;
  std::span<const std::uint8_t> l4;
  OffloadMeta::Csum l4_csum = OffloadMeta::Csum::NotChecked;
  // The received buffer `packet` lies in (null after reassembly): TCP may
  // keep it instead of copying in-order payload (zero-copy receive).
  Packet* pkt = nullptr;
  bool to_us_unicast() const { return !dst.is_multicast(); }
};

struct Route6 {
  int ifindex = 0;
  Ipv6Addr src{};
  Ipv6Addr dst{};
  Ipv6Addr next_hop{};  // == dst on link
};

struct Stack::Ip6 {
  explicit Ip6(Stack::Impl& impl);
  ~Ip6();

  struct Addr {
    Ipv6Addr addr{};
    int prefix = 64;
    Addr6State state = Addr6State::tentative;
    bool autoconf = false;
    unsigned dad_sent = 0;
    TimerId dad_timer = kNoTimer;
  };
  struct If6 {
    bool enabled = false;
    std::vector<Addr> addrs;
    std::map<Ipv6Addr, unsigned> groups;  // joined multicast groups, with a reference count
    std::unique_ptr<NeighborCache<Ipv6Addr>> neigh;
    std::set<Ipv6Addr> routers;  // neighbours that said they are routers (NA R flag, RAs)
    unsigned rs_sent = 0;
    TimerId rs_timer = kNoTimer;
    std::optional<RouterAdvertConfig> ra;
    TimerId ra_timer = kNoTimer;
    std::uint32_t ra_mtu = 0;  // MTU option from a router, 0 = none
    std::uint8_t cur_hop_limit = 0;
    std::set<std::pair<Ipv6Addr, int>> ra_prefixes;  // on-link routes an RA made
  };
  struct FragKey {
    Ipv6Addr src, dst;
    std::uint32_t ident = 0;
    auto operator<=>(const FragKey&) const = default;
  };
  struct Reasm {
    std::map<std::size_t, std::vector<std::uint8_t>> frags;  // offset -> data
    std::size_t total = std::numeric_limits<std::size_t>::max();  // known once the last fragment came
    std::size_t bytes = 0;
    std::vector<std::uint8_t> head;  // IPv6 header + unfragmentable part of the first fragment
    std::uint8_t next_header = 0;    // from the first fragment's fragment header
    std::size_t frag_hdr_offset = 0; // where the fragment header was in head's packet
    bool have_first = false;
    bool dead = false;  // overlapped (RFC 5722): later fragments are dropped too
    int ifindex = 0;
    TimerId timer = kNoTimer;
  };
  struct Pmtu {
    std::uint32_t mtu = 0;
    TimePs expires = 0;
  };
  struct Redirect {
    Ipv6Addr next_hop{};
    int ifindex = 0;
  };

  Stack::Impl& im;
  Stack& st;
  Scheduler& sched;
  const Ipv6Config& cfg;
  std::shared_ptr<int> alive = std::make_shared<int>(0);

  std::vector<If6> ifs;  // by ifindex
  RouteTable<Ipv6Addr> routes;
  std::map<Ipv6Addr, Redirect> redirects;
  std::map<Ipv6Addr, Pmtu> pmtu;
  std::map<std::pair<int, Ipv6Addr>, TimerId> router_expiry;  // default routers from RAs
  bool forwarding = false;
  std::map<FragKey, Reasm> reasm;
  std::size_t reasm_bytes = 0;
  std::uint32_t next_frag_id = 0x5ec0000u;
  TimePs icmp_credit = 0;
  TimePs icmp_last = 0;
  std::map<std::pair<std::uint16_t, std::uint16_t>, TimePs> echo_sent;
  std::vector<EchoReply6> echo_replies;

  // ---- helpers
  void drop(const char* layer, std::string_view reason, std::uint64_t n = 1) { im.drop(layer, reason, n); }
  void event(const char* layer, std::string_view what, std::uint64_t n = 1);
  TimerId after(TimePs delay, std::function<void()> fn);
  If6& if6(int ifindex);
  const If6* if6_or_null(int ifindex) const;
  bool enabled_on(int ifindex) const {
    const If6* f = if6_or_null(ifindex);
    return f && f->enabled;
  }
  bool admin_up(int ifindex) const;  // the interface (and a VLAN's parent) is up
  Iface& iface(int ifindex) { return *im.ifaces.at(static_cast<std::size_t>(ifindex)); }
  void shutdown();

  // ---- interfaces and addresses (ipv6.cpp / nd.cpp)
  void attach(int ifindex);  // a new interface (Stack::add_interface)
  // The interface is going (Stack::remove_interface): its addresses,
  // routes, neighbours, default routers and timers go with it.
  void detach(int ifindex);
  void enable_loopback(int ifindex);
  void enable(int ifindex);
  void add_address(int ifindex, const Ipv6Addr& a, int prefix, bool autoconf);
  void join(int ifindex, const Ipv6Addr& group);
  void leave(int ifindex, const Ipv6Addr& group);
  bool accepts_mac(const Iface& ifc, const MacAddr& dst) const;
  // Our address in any state on the interface, or nullptr.
  Addr* find_addr(int ifindex, const Ipv6Addr& a);
  bool is_our_addr(const Ipv6Addr& a) const;  // preferred, any interface (weak host)
  std::optional<Ipv6Addr> link_local(int ifindex) const;  // preferred only
  std::optional<Ipv6Addr> source_for(int ifindex, const Ipv6Addr& dst) const;

  // ---- input (ipv6.cpp)
  void input(Iface& ifc, Packet&& p, bool link_multicast);
  // Walks and acts on the extension headers from packet offset `start`;
  // `first_nh` is the byte at `nh_field` (a parameter problem pointer).
  void process_chain(Rx6 rx, std::uint8_t first_nh, std::size_t start, std::size_t nh_field);
  void frag_input(const Rx6& rx, std::size_t frag_off, std::size_t hdr_end_off);
  void reasm_timeout(const FragKey& k);
  void reasm_erase(std::map<FragKey, Reasm>::iterator it);
  void deliver(const Rx6& rx, std::uint8_t proto);
  void forward(Iface& in, Packet&& p, const wire::Ipv6View& ip, bool link_multicast);

  // ---- output (ipv6.cpp)
  std::optional<Route6> route(const Ipv6Addr& dst, int ifindex = -1) const;
  std::uint32_t link_mtu(int ifindex) const;
  std::uint32_t path_mtu(const Route6& r) const;
  std::uint32_t path_mtu(const Ipv6Addr& dst, int ifindex) const;
  // Sends an upper-layer message held in one packet; fragments it when it
  // is larger than the path MTU.
  std::error_code output(const Route6& r, std::uint8_t proto, Packet&& l4, std::uint8_t hop_limit = 0);
  // Sends an upper-layer message held as two spans (header, payload),
  // copying it into one packet or into fragments.
  std::error_code output_bytes(const Route6& r, std::uint8_t proto, std::span<const std::uint8_t> a,
                               std::span<const std::uint8_t> b, std::uint8_t hop_limit = 0);
  // An IPv6 packet (header first) to the link: multicast mapped to 33:33,
  // unicast through the neighbour cache.
  std::error_code link_output(int ifindex, const Ipv6Addr& next_hop, Packet&& p);
  // The output and postrouting hooks for a datagram this host sends; false = dropped.
  bool local_out_hooks(int ifindex, Packet& p);
  std::uint8_t hop_limit_for(int ifindex) const;

  // ---- ICMPv6 (icmpv6.cpp)
  void icmp_input(const Rx6& rx);
  void icmp_error_input(const Rx6& rx, const wire::Icmpv6View& v);
  // An error about the packet in rx (RFC 4443 2.4 rules and the rate limit).
  void send_error(const Rx6& rx, std::uint8_t type, std::uint8_t code, std::uint32_t rest,
                  bool multicast_ok = false);
  // The same for a packet given as raw bytes arriving on ifindex.
  void send_error_raw(int ifindex, std::span<const std::uint8_t> pkt, bool link_multicast, std::uint8_t type,
                      std::uint8_t code, std::uint32_t rest, bool multicast_ok = false);
  bool rate_ok();
  std::error_code send_echo(const Ipv6Addr& dst, std::uint16_t id, std::uint16_t seq, std::size_t len, int ifindex,
                            std::uint8_t hop_limit);
  void echo_reply(const Rx6& rx, const wire::Icmpv6View& v);
  // An ICMPv6 message (built by `fill`, which pushes the body) from src to
  // dst out of ifindex with hop limit 255 (ND) or the default.
  std::error_code send_icmp(int ifindex, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t type,
                            std::uint8_t code, std::uint32_t rest, const std::function<void(Packet&)>& fill,
                            std::uint8_t hop_limit, std::optional<MacAddr> dst_mac = std::nullopt);

  // ---- Neighbor Discovery (nd.cpp)
  void nd_input(const Rx6& rx, const wire::Icmpv6View& v);
  void count_nd_rx(std::uint8_t type, std::size_t bytes);
  void ns_input(const Rx6& rx, const wire::Icmpv6View& v, const wire::NdOptions& o);
  void na_input(const Rx6& rx, const wire::Icmpv6View& v, const wire::NdOptions& o);
  void rs_input(const Rx6& rx, const wire::NdOptions& o);
  void ra_input(const Rx6& rx, const wire::Icmpv6View& v, const wire::NdOptions& o);
  void redirect_input(const Rx6& rx, const wire::Icmpv6View& v, const wire::NdOptions& o);
  void send_ns(int ifindex, const Ipv6Addr& target, const MacAddr* unicast_mac, bool dad);
  void send_na(int ifindex, const Ipv6Addr& target, const Ipv6Addr& dst, bool solicited, bool override);
  void send_rs(int ifindex);
  void send_ra(int ifindex, const Ipv6Addr& dst);
  void rs_timer(int ifindex);
  void ra_timer(int ifindex);
  void start_dad(int ifindex, const Ipv6Addr& a);
  void dad_timer(int ifindex, const Ipv6Addr& a);
  void dad_failed(int ifindex, Addr& a);
  void make_neigh(int ifindex);
  // What an NA says about `target` (RFC 4861 7.2.5) and what other ND
  // messages teach about a neighbour's link-layer address.
  void neigh_advert(int ifindex, const Ipv6Addr& target, std::optional<MacAddr> lla, bool solicited, bool override,
                    bool router);
  void neigh_learn(int ifindex, const Ipv6Addr& a, const MacAddr& mac, bool create, bool router = false);
  void neigh_failed(int ifindex, const Ipv6Addr& a, std::deque<Packet>&& q);
  void set_default_router(int ifindex, const Ipv6Addr& router, std::uint16_t lifetime_s);

  // ---- UDP over IPv6 (udp.cpp)
  void udp_input(const Rx6& rx);
  std::error_code udp_output(UdpSocket& s, std::span<const std::uint8_t> data, const Ipv6Addr& dst,
                             std::uint16_t port);
};

}  // namespace vd::stack
