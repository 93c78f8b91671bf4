// IPv6 wire formats as checked views, like wire.hpp for IPv4: the IPv6
// header (RFC 8200), its extension headers with a bounded chain walker,
// ICMPv6 (RFC 4443) and the Neighbor Discovery messages and options
// (RFC 4861). A view only comes from parse(), which validates every length
// an accessor later relies on. Emitters push headers into a Packet's headroom.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "veridian/stack/wire.hpp"

namespace vd::stack::wire {

// ------------------------------------------------------------ constants

constexpr std::size_t kIpv6HeaderLen = 40;
constexpr std::size_t kIpv6MinMtu = 1280;       // RFC 8200 5
constexpr std::size_t kIpv6FragHeaderLen = 8;
constexpr std::size_t kIcmpv6HeaderLen = 8;
constexpr std::size_t kIpv6MaxPayload = 65535;  // no jumbograms

// Next-header values.
constexpr std::uint8_t kIpv6HopByHop = 0;
constexpr std::uint8_t kIpv6Routing = 43;
constexpr std::uint8_t kIpv6Fragment = 44;
constexpr std::uint8_t kIpProtoIcmpv6 = 58;
constexpr std::uint8_t kIpv6NoNext = 59;
constexpr std::uint8_t kIpv6DestOpts = 60;

// At most this many extension headers are walked before the packet is
// refused, so a crafted chain costs bounded work.
constexpr std::size_t kMaxExtHeaders = 8;

// ICMPv6 types (RFC 4443, RFC 4861).
constexpr std::uint8_t kIcmpv6DestUnreachable = 1;
constexpr std::uint8_t kIcmpv6PacketTooBig = 2;
constexpr std::uint8_t kIcmpv6TimeExceeded = 3;
constexpr std::uint8_t kIcmpv6ParamProblem = 4;
constexpr std::uint8_t kIcmpv6EchoRequest = 128;
constexpr std::uint8_t kIcmpv6EchoReply = 129;
constexpr std::uint8_t kNdRouterSolicit = 133;
constexpr std::uint8_t kNdRouterAdvert = 134;
constexpr std::uint8_t kNdNeighborSolicit = 135;
constexpr std::uint8_t kNdNeighborAdvert = 136;
constexpr std::uint8_t kNdRedirect = 137;

// Destination unreachable codes.
constexpr std::uint8_t kUnreachNoRoute = 0;
constexpr std::uint8_t kUnreachAddress = 3;
constexpr std::uint8_t kUnreachPort = 4;
// Time exceeded codes.
constexpr std::uint8_t kTimeExceededHopLimit = 0;
constexpr std::uint8_t kTimeExceededReassembly = 1;
// Parameter problem codes.
constexpr std::uint8_t kParamErroneousField = 0;
constexpr std::uint8_t kParamUnknownNextHeader = 1;
constexpr std::uint8_t kParamUnknownOption = 2;
constexpr std::uint8_t kParamIncompleteChain = 3;  // RFC 7112

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

Ipv6Addr load_ipv6(std::span<const std::uint8_t> s, std::size_t off);

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

// ------------------------------------------------------------ ICMPv6

class Icmpv6View {
 public:
  static Parsed<Icmpv6View> parse(std::span<const std::uint8_t> b);
  std::uint8_t type() const { return b_[0]; }
  std::uint8_t code() const { return b_[1]; }
  std::uint16_t checksum() const { return load_be16(b_, 2); }
  std::uint32_t rest() const { return load_be32(b_, 4); }
  std::uint16_t echo_ident() const { return load_be16(b_, 4); }
  std::uint16_t echo_seq() const { return load_be16(b_, 6); }
  std::uint32_t mtu() const { return rest(); }      // packet too big
  std::uint32_t pointer() const { return rest(); }  // parameter problem
  std::span<const std::uint8_t> body() const { return b_.subspan(kIcmpv6HeaderLen); }
  std::span<const std::uint8_t> message() const { return b_; }
  std::size_t size() const { return b_.size(); }
  bool is_error() const { return b_[0] < 128; }
  // With the IPv6 pseudo-header (mandatory for ICMPv6).
  bool checksum_ok(const Ipv6Addr& src, const Ipv6Addr& dst) const;

 private:
  explicit Icmpv6View(std::span<const std::uint8_t> b) : b_(b) {}
  std::span<const std::uint8_t> b_;
};

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

// ------------------------------------------------------------ emitters

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

// Writes the ICMPv6 header and its checksum over the pseudo-header and the
// whole message (the packet's current data after the push).
void emit_icmpv6(Packet& p, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t type, std::uint8_t code,
                 std::uint32_t rest);

// Pushes raw bytes (an ND fixed part, an address) in front of the data.
void push_bytes(Packet& p, std::span<const std::uint8_t> b);
inline void push_addr(Packet& p, const Ipv6Addr& a) { push_bytes(p, a.b); }
// ND options, pushed in front: link-layer address (type 1 or 2), prefix
// information, MTU.
void emit_nd_lla(Packet& p, std::uint8_t type, const MacAddr& mac);
void emit_nd_prefix(Packet& p, const PrefixInfo& pi);
void emit_nd_mtu(Packet& p, std::uint32_t mtu);

// UDP over IPv6: the checksum is mandatory and always computed here (a zero
// result is sent as 0xFFFF; see docs on why the partial offload is not used).
void emit_udp6(Packet& p, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint16_t src_port, std::uint16_t dst_port);
// The same checksum for a datagram held as header + payload spans (used when
// the datagram is larger than one buffer and goes out in fragments).
std::uint16_t udp6_checksum(const Ipv6Addr& src, const Ipv6Addr& dst, std::span<const std::uint8_t> header,
                            std::span<const std::uint8_t> payload);
// Verifies a UDP message (header first, exactly length() bytes) over IPv6.
bool udp6_checksum_ok(std::span<const std::uint8_t> udp_msg, const Ipv6Addr& src, const Ipv6Addr& dst);

}  // namespace vd::stack::wire
