#include "veridian/stack/wire/common.hpp"

#include <algorithm>

namespace vd::stack::wire {

MacAddr load_mac(std::span<const std::uint8_t> s, std::size_t off) {
  MacAddr m{};
  std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(off), m.size(), m.begin());
  return m;
}

Ipv4Addr load_ipv4(std::span<const std::uint8_t> s, std::size_t off) {
  Ipv4Addr a{};
  std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(off), a.b.size(), a.b.begin());
  return a;
}

std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::none: return "none";
    case ParseError::too_short: return "too_short";
    case ParseError::bad_version: return "bad_version";
    case ParseError::bad_ihl: return "bad_ihl";
    case ParseError::bad_length: return "bad_length";
    case ParseError::bad_checksum: return "bad_checksum";
    case ParseError::unsupported: return "unsupported";
    case ParseError::bad_opcode: return "bad_opcode";
  }
  return "unknown";
}

Ipv6Addr load_ipv6(std::span<const std::uint8_t> s, std::size_t off) {
  Ipv6Addr a{};
  std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(off), a.b.size(), a.b.begin());
  return a;
}

}  // namespace vd::stack::wire
