#include "veridian/stack/ip_addr.hpp"

#include <cstdio>

namespace vd::stack {

namespace {

// A decimal number of 1..max_digits digits without sign, spaces or leading
// zeros (leading zeros are refused because some parsers read them as octal).
std::optional<unsigned> parse_decimal(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + unsigned(c - '0');
  }
  return v;
}

}  // namespace

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view s) {
  Ipv4Addr a{};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::size_t dot = s.find('.');
    const bool last = i == 3;
    if (last != (dot == std::string_view::npos)) return std::nullopt;
    const auto v = parse_decimal(s.substr(0, dot), 3);
    if (!v || *v > 255) return std::nullopt;
    a.b[i] = static_cast<std::uint8_t>(*v);
    if (!last) s.remove_prefix(dot + 1);
  }
  return a;
}

std::string Ipv4Addr::str() const {
  return std::to_string(b[0]) + '.' + std::to_string(b[1]) + '.' + std::to_string(b[2]) + '.' +
         std::to_string(b[3]);
}

std::optional<std::pair<Ipv4Addr, int>> parse_cidr(std::string_view s) {
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto addr = Ipv4Addr::parse(s.substr(0, slash));
  const auto len = parse_decimal(s.substr(slash + 1), 2);
  if (!addr || !len || *len > 32) return std::nullopt;
  return std::pair{*addr, static_cast<int>(*len)};
}

std::string mac_str(const MacAddr& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

}  // namespace vd::stack
