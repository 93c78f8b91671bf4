// Neighbor Discovery (RFC 4861): option types, the options parser, fixed
// message lengths and option emitters. The messages are ICMPv6 (icmpv6.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "veridian/stack/wire/common.hpp"
#include "veridian/stack/wire/icmpv6.hpp"

namespace vd::stack::wire {

// ND option types.
constexpr std::uint8_t kNdOptSourceLla = 1;
constexpr std::uint8_t kNdOptTargetLla = 2;
constexpr std::uint8_t kNdOptPrefixInfo = 3;
constexpr std::uint8_t kNdOptRedirected = 4;
constexpr std::uint8_t kNdOptMtu = 5;

// NA flags (first byte of the "rest" word).
constexpr std::uint32_t kNaRouter = 0x80000000u;
constexpr std::uint32_t kNaSolicited = 0x40000000u;
constexpr std::uint32_t kNaOverride = 0x20000000u;

// ------------------------------------------------------------ Neighbor Discovery

struct PrefixInfo {
  std::uint8_t prefix_len = 0;
  bool on_link = false;     // L
  bool autonomous = false;  // A
  std::uint32_t valid_lifetime = 0;
  std::uint32_t preferred_lifetime = 0;
  Ipv6Addr prefix{};
};

// The options after an ND message's fixed part. Any option with length 0 or
// running past the message makes the whole message invalid (RFC 4861 4.6);
// options of unknown type are skipped.
struct NdOptions {
  std::optional<MacAddr> source_lla;
  std::optional<MacAddr> target_lla;
  std::vector<PrefixInfo> prefixes;
  std::optional<std::uint32_t> mtu;
  bool redirected_header = false;
};
std::optional<NdOptions> parse_nd_options(std::span<const std::uint8_t> opts);

// Fixed-part length of each ND message after the 8-byte ICMPv6 header
// (RS 0, RA 8, NS 16, NA 16, redirect 32); nullopt for other types.
std::optional<std::size_t> nd_fixed_len(std::uint8_t type);

// ND options, pushed in front: link-layer address (type 1 or 2), prefix
// information, MTU.
void emit_nd_lla(Packet& p, std::uint8_t type, const MacAddr& mac);
void emit_nd_prefix(Packet& p, const PrefixInfo& pi);
void emit_nd_mtu(Packet& p, std::uint32_t mtu);

}  // namespace vd::stack::wire
