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
  auto operator<=>(const Ipv4Addr&) const = default;
};

// "10.0.0.1/24" -> address and prefix length; nullopt if malformed.
std::optional<std::pair<Ipv4Addr, int>> parse_cidr(std::string_view s);

std::string mac_str(const MacAddr& m);

}  // namespace vd::stack
