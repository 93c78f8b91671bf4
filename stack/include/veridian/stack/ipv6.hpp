// Public IPv6 types of the stack: configuration, router advertisement set-up
// and what the stack reports about addresses, neighbours and echo replies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"
#include "veridian/stack/ip_addr.hpp"
#include "veridian/stack/neighbor.hpp"

namespace vd::stack {

struct Ipv6Config {
  // Link-local address, DAD and router solicitation on every interface as
  // it is added. Off by default so IPv4-only users see no extra frames;
  // Stack::enable_ipv6 or add_address6 turns IPv6 on per interface.
  bool auto_enable = false;
  // Route between interfaces from the start (like StackConfig::ip_forward;
  // Stack::set_forwarding6 changes it later).
  bool forward = false;
  std::uint8_t hop_limit = 64;
  // Neighbour Discovery (RFC 4861 10) and DAD (RFC 4862).
  TimePs retrans_timer = ms_to_ps(1000);
  TimePs reachable_time = s_to_ps(30);
  TimePs delay_first_probe = s_to_ps(5);
  unsigned max_multicast_solicit = 3;
  unsigned max_unicast_solicit = 3;
  // Packets held per unresolved neighbour, in number and in bytes (Linux's
  // unres_qlen and unres_qlen_bytes); beyond either the oldest are discarded
  // ("nd.unres_discards").
  std::size_t nd_queue_limit = 101;
  std::size_t nd_queue_bytes = 212992;
  std::size_t nd_cache_limit = 256;    // entries per interface
  unsigned dad_transmits = 1;          // 0: addresses are usable at once
  unsigned max_rtr_solicitations = 3;
  TimePs rtr_solicitation_interval = s_to_ps(4);
  // ICMPv6 errors: a token bucket on virtual time (RFC 4443 2.4(f)).
  TimePs icmp_error_interval = ms_to_ps(10);  // one token per interval
  unsigned icmp_error_burst = 10;
  // Reassembly (RFC 8200 4.5).
  TimePs reassembly_timeout = s_to_ps(60);
  std::size_t reassembly_mem_limit = 4u << 20;  // bytes held over all datagrams
  std::size_t reassembly_max_fragments = 128;   // per datagram
  std::size_t reassembly_max_datagrams = 64;
  // Path MTU (RFC 8201): how long a learnt value is kept.
  TimePs pmtu_lifetime = s_to_ps(600);
  // Bounds on what other hosts' messages can make us hold, so a flood of
  // RAs, redirects or PTBs costs bounded memory.
  std::size_t max_slaac_addrs = 16;       // per interface
  std::size_t max_ra_prefixes = 32;       // on-link prefixes from RAs, per interface
  std::size_t max_default_routers = 8;    // per interface
  std::size_t max_redirects = 256;
  std::size_t max_pmtu_entries = 1024;
};

// One prefix a router advertises (RFC 4861 4.6.2).
struct PrefixAdvert {
  Ipv6Addr prefix{};
  int prefix_len = 64;
  bool on_link = true;
  bool autonomous = true;
  std::uint32_t valid_lifetime = 2592000;
  std::uint32_t preferred_lifetime = 604800;
};

// Makes a Stack advertise itself as a router on one interface: an RA in
// answer to each RS and every `interval` (RFC 4861 6.2).
struct RouterAdvertConfig {
  std::vector<PrefixAdvert> prefixes;
  std::uint16_t router_lifetime_s = 1800;
  TimePs interval = s_to_ps(200);
  std::uint32_t mtu = 0;  // 0: no MTU option
  std::uint8_t cur_hop_limit = 64;
};

enum class Addr6State : std::uint8_t { tentative, preferred, duplicate };
const char* to_string(Addr6State s);

struct Addr6Info {
  Ipv6Addr addr{};
  int prefix_len = 0;
  Addr6State state = Addr6State::tentative;
  bool autoconf = false;  // link-local or SLAAC
};

struct Neighbor6Info {
  NudState state = NudState::Incomplete;  // neighbor.hpp
  MacAddr mac{};
  bool is_router = false;
  std::size_t queued = 0;
};

struct EchoReply6 {
  Ipv6Addr from{};
  std::uint16_t id = 0, seq = 0;
  TimePs sent_at = 0, received_at = 0;
  std::size_t payload_len = 0;
};

}  // namespace vd::stack
