#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "veridian/core/netdev.hpp"

namespace vd::stack {

struct Ipv4Addr {
  std::array<std::uint8_t, 4> b{};

  static constexpr Ipv4Addr from_u32(std::uint32_t v) {
    return Ipv4Addr{{std::uint8_t(v >> 24), std::uint8_t(v >> 16), std::uint8_t(v >> 8), std::uint8_t(v)}};
  }
  constexpr std::uint32_t to_u32() const {
    return (std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) | (std::uint32_t(b[2]) << 8) | b[3];
  }
  // Dotted quad only ("10.0.0.1"); nullopt for anything else.
  static std::optional<Ipv4Addr> parse(std::string_view s);
  std::string str() const;
  bool is_unspecified() const { return to_u32() == 0; }
  bool is_broadcast() const { return to_u32() == 0xffffffffu; }
  bool is_multicast() const { return (b[0] & 0xf0) == 0xe0; }
  // The same order as the bytes' (network order), compared as one word: the
  // defaulted comparison of the array calls memcmp, which every map keyed
  // by an address (connections, routes, neighbours) then pays per node.
  constexpr std::strong_ordering operator<=>(const Ipv4Addr& o) const { return to_u32() <=> o.to_u32(); }
  constexpr bool operator==(const Ipv4Addr& o) const { return to_u32() == o.to_u32(); }
};

// "10.0.0.1/24" -> address and prefix length; nullopt if malformed.
std::optional<std::pair<Ipv4Addr, int>> parse_cidr(std::string_view s);

struct Ipv6Addr {
  std::array<std::uint8_t, 16> b{};

  // RFC 4291 text: eight hex groups, one "::" run, an embedded dotted quad in
  // the last 32 bits; nullopt for anything else (no zone ids, no brackets).
  static std::optional<Ipv6Addr> parse(std::string_view s);
  // RFC 5952 canonical form: lower case, no leading zeros, the longest run of
  // two or more zero groups (the first on a tie) as "::".
  std::string str() const;
  std::uint16_t group(std::size_t i) const { return std::uint16_t((b[2 * i] << 8) | b[2 * i + 1]); }
  bool is_unspecified() const { return *this == Ipv6Addr{}; }
  bool is_loopback() const;
  static Ipv6Addr loopback() {
    Ipv6Addr a;
    a.b[15] = 1;
    return a;
  }
  bool is_multicast() const { return b[0] == 0xff; }
  bool is_link_local() const { return b[0] == 0xfe && (b[1] & 0xc0) == 0x80; }
  bool is_v4_mapped() const;
  // ff02::1:ffXX:XXXX (RFC 4291 2.7.1).
  Ipv6Addr solicited_node() const;
  // 33:33 + low 32 bits (RFC 2464 7); only meaningful for multicast.
  MacAddr multicast_mac() const;
  // fe80::/64 + the modified EUI-64 of a MAC (RFC 4291 appendix A).
  static Ipv6Addr link_local_from_mac(const MacAddr& m);
  // prefix (first 64 bits) + modified EUI-64 interface id (SLAAC, RFC 4862).
  static Ipv6Addr from_prefix_and_mac(const Ipv6Addr& prefix, const MacAddr& m);
  auto operator<=>(const Ipv6Addr&) const = default;
};

// "2001:db8::1/64" -> address and prefix length (0..128); nullopt if malformed.
std::optional<std::pair<Ipv6Addr, int>> parse_cidr6(std::string_view s);

// The first `len` bits of a and b agree. Works for Ipv4Addr and Ipv6Addr.
template <class A>
bool prefix_match(const A& a, const A& b, int len) {
  std::size_t i = 0;
  for (; len >= 8; len -= 8, ++i)
    if (a.b[i] != b.b[i]) return false;
  if (len == 0) return true;
  const auto m = static_cast<std::uint8_t>(0xff00u >> len);
  return (a.b[i] & m) == (b.b[i] & m);
}

// a with every bit after the first `len` cleared.
template <class A>
A prefix_of(A a, int len) {
  for (std::size_t i = 0; i < a.b.size(); ++i, len -= 8) {
    if (len >= 8) continue;
    a.b[i] = len <= 0 ? std::uint8_t{0} : static_cast<std::uint8_t>(a.b[i] & (0xff00u >> len));
  }
  return a;
}

std::string mac_str(const MacAddr& m);

}  // namespace vd::stack
