// The IPv6 header (RFC 8200) and its extension headers, with a bounded chain
// walker: checked views and emitters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "veridian/stack/wire/common.hpp"

namespace vd::stack::wire {

constexpr std::size_t kIpv6HeaderLen = 40;
constexpr std::size_t kIpv6MinMtu = 1280;       // RFC 8200 5
constexpr std::size_t kIpv6FragHeaderLen = 8;
constexpr std::size_t kIpv6MaxPayload = 65535;  // no jumbograms

// Next-header values.
constexpr std::uint8_t kIpv6HopByHop = 0;
constexpr std::uint8_t kIpv6Routing = 43;
constexpr std::uint8_t kIpv6Fragment = 44;
constexpr std::uint8_t kIpv6NoNext = 59;
constexpr std::uint8_t kIpv6DestOpts = 60;

// At most this many extension headers are walked before the packet is
// refused, so a crafted chain costs bounded work.
constexpr std::size_t kMaxExtHeaders = 8;

// ------------------------------------------------------------ IPv6 header

// Covers exactly 40 + payload_length() bytes (link padding stays outside).
class Ipv6View {
 public:
  // too_short (< 40 bytes), bad_version, bad_length (payload length beyond
  // the bytes, or 0 with a hop-by-hop header: a jumbogram, not supported).
  static Parsed<Ipv6View> parse(std::span<const std::uint8_t> b);
  std::uint8_t version() const { return b_[0] >> 4; }
  std::uint8_t traffic_class() const { return static_cast<std::uint8_t>((load_be16(b_, 0) >> 4) & 0xff); }
  std::uint32_t flow_label() const { return load_be32(b_, 0) & 0xfffffu; }
  std::uint16_t payload_length() const { return load_be16(b_, 4); }
  std::uint8_t next_header() const { return b_[6]; }
  std::uint8_t hop_limit() const { return b_[7]; }
  Ipv6Addr src() const { return load_ipv6(b_, 8); }
  Ipv6Addr dst() const { return load_ipv6(b_, 24); }
  std::span<const std::uint8_t> packet() const { return b_; }
  std::span<const std::uint8_t> payload() const { return b_.subspan(kIpv6HeaderLen); }

 private:
  explicit Ipv6View(std::span<const std::uint8_t> b) : b_(b) {}
  std::span<const std::uint8_t> b_;
};

// ------------------------------------------------------------ extension headers

// The fragment header (RFC 8200 4.5), 8 bytes.
class Ipv6FragView {
 public:
  static Parsed<Ipv6FragView> parse(std::span<const std::uint8_t> b);
  std::uint8_t next_header() const { return b_[0]; }
  std::uint16_t offset() const { return load_be16(b_, 2) & 0xfff8; }  // in bytes (multiple of 8)
  bool more() const { return (b_[3] & 1) != 0; }
  std::uint32_t ident() const { return load_be32(b_, 4); }
  bool atomic() const { return offset() == 0 && !more(); }  // RFC 6946

 private:
  explicit Ipv6FragView(std::span<const std::uint8_t> b) : b_(b) {}
  std::span<const std::uint8_t> b_;
};

// One option of a hop-by-hop or destination options header.
struct Ipv6Option {
  std::uint8_t type = 0;
  std::size_t offset = 0;  // of the type byte, from the start of the header
  std::span<const std::uint8_t> data;
  // RFC 8200 4.2: what to do with an option we do not recognise.
  enum class Action : std::uint8_t { skip, discard, discard_icmp, discard_icmp_unless_multicast };
  Action unknown_action() const { return static_cast<Action>(type >> 6); }
};
constexpr std::uint8_t kIpv6OptPad1 = 0;
constexpr std::uint8_t kIpv6OptPadN = 1;
constexpr std::uint8_t kIpv6OptRouterAlert = 5;

// Splits the options area of a hop-by-hop/destination options header (the
// whole header, including its two leading bytes). nullopt when an option
// runs past the header.
std::optional<std::vector<Ipv6Option>> parse_ipv6_options(std::span<const std::uint8_t> header);

struct ExtHeader {
  std::uint8_t type = 0;    // kIpv6HopByHop, kIpv6Routing, kIpv6Fragment, kIpv6DestOpts
  std::size_t offset = 0;   // from the start of the packet (the IPv6 header)
  std::size_t len = 0;      // whole header, bytes
};

// The result of walking the chain from the IPv6 header's next-header field.
struct ExtChain {
  enum class Error : std::uint8_t { none, too_short, too_many, hbh_not_first };
  Error error = Error::none;
  std::vector<ExtHeader> headers;
  std::uint8_t upper_proto = 0;   // first next-header that is not an extension header
  std::size_t upper_offset = 0;   // where it starts, from the start of the packet
  // Offset from the start of the IPv6 header (a parameter problem pointer)
  // of the next-header byte that named upper_proto, or, for hbh_not_first,
  // the one that named the misplaced hop-by-hop header.
  std::size_t nh_field_offset = 0;
  // Set when the walk stopped at a fragment header (the last in headers).
  bool stopped_at_fragment = false;
};
const char* to_string(ExtChain::Error e);

// Walks at most kMaxExtHeaders extension headers of `rest`, the bytes after
// the header chain walked so far; it starts at packet offset `base` (40 for
// the whole payload) and `first_nh` is the next-header byte at packet offset
// `first_nh_field`. Stops after a fragment header (what follows belongs to
// the reassembled packet). A hop-by-hop header is only allowed directly
// after the fixed header (base == 40, first in the walk).
ExtChain walk_ext_headers(std::uint8_t first_nh, std::span<const std::uint8_t> rest, std::size_t base = kIpv6HeaderLen,
                          std::size_t first_nh_field = 6);

struct Ipv6Repr {
  Ipv6Addr src{};
  Ipv6Addr dst{};
  std::uint8_t next_header = 0;
  std::uint8_t hop_limit = 64;
  std::uint8_t traffic_class = 0;
  std::uint32_t flow_label = 0;
};
// Writes the 40-byte header; payload length = current size. Throws
// std::length_error above 65535.
void emit_ipv6(Packet& p, const Ipv6Repr& r);

// Writes a fragment header (offset in bytes, a multiple of 8).
void emit_ipv6_frag(Packet& p, std::uint8_t next_header, std::size_t offset, bool more, std::uint32_t ident);

// Pushes raw bytes (an ND fixed part, an address) in front of the data.
void push_bytes(Packet& p, std::span<const std::uint8_t> b);
inline void push_addr(Packet& p, const Ipv6Addr& a) { push_bytes(p, a.b); }

}  // namespace vd::stack::wire
