// Checked parse of the headers the offload models need: Ethernet (with at
// most one 802.1Q tag), IPv4 (with options) or IPv6 (with hop-by-hop,
// routing, destination-options and fragment extension headers), and the
// position of the L4 header. Offsets only: nothing is cast over the bytes,
// every offset handed out has been checked against the frame length, and
// malformed input yields an error, never an out-of-range access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "veridian/core/bytes.hpp"

namespace vd::offload {


constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kIpv6HopByHop = 0;
constexpr std::uint8_t kIpv6Routing = 43;
constexpr std::uint8_t kIpv6Fragment = 44;
constexpr std::uint8_t kIpv6DestOpts = 60;

enum class L3Type : std::uint8_t { none, ipv4, ipv6 };

enum class LayoutError : std::uint8_t {
  none,
  not_ip,         // Ethernet OK but the ethertype is neither IPv4 nor IPv6
  too_short,      // a header (Ethernet, IP, extension header) is cut off
  bad_version,    // IP version field disagrees with the ethertype
  bad_ihl,        // IPv4 IHL < 5
  bad_length,     // IP total/payload length larger than the bytes present, or smaller than the header
};

struct FrameLayout {
  L3Type l3 = L3Type::none;
  std::size_t l3_off = 0;   // first byte of the IP header
  std::size_t ip_hdr_len = 0;  // IPv4: IHL*4. IPv6: always 40 (extension headers excluded)
  std::size_t l4_off = 0;   // first byte after IPv4 options / IPv6 extension headers
  std::size_t l3_end = 0;   // one past the IP datagram (Ethernet padding excluded)
  std::uint8_t l4_proto = 0;  // IPv4 protocol / last IPv6 next-header value
  bool fragment = false;      // IPv4 MF or offset != 0; any IPv6 fragment header
  bool has_ipv6_frag_header = false;
  std::size_t l4_len() const { return l3_end - l4_off; }
};

struct LayoutResult {
  LayoutError error = LayoutError::none;
  FrameLayout layout{};
  bool ok() const { return error == LayoutError::none; }
};

// Parses up to (not including) the L4 header. The L4 header itself is not
// validated: callers check l4_len() against what they need.
// `window` models a hardware parser that sees only the frame's first
// `window` bytes: an IPv6 extension header that does not lie wholly inside
// it ends the walk there (l4_proto is then that header's type, so callers see
// an unknown L4). Lengths are still checked against the whole frame.
LayoutResult parse_layout(std::span<const std::uint8_t> frame, std::size_t window = SIZE_MAX);

}  // namespace vd::offload
