// Wire formats as checked views (smoltcp style). A view is a span of bytes
// plus big-endian accessors; it is only obtainable through parse(), which
// validates every length the accessors later rely on. Nothing here casts a
// struct over packet memory (that is undefined behaviour in C++).
//
// Emitters write a header in front of a Packet's current data using its
// headroom (Packet::push), so the payload is never moved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "veridian/core/hostmem.hpp"
#include "veridian/core/bytes.hpp"
#include "veridian/core/netdev.hpp"
#include "veridian/stack/ip_addr.hpp"

namespace vd::stack::wire {

// ------------------------------------------------------------ constants

constexpr std::uint16_t kEthertypeIpv4 = 0x0800;
constexpr std::uint16_t kEthertypeArp = 0x0806;
constexpr std::uint16_t kEthertypeVlan = 0x8100;
constexpr std::uint16_t kEthertypeIpv6 = 0x86dd;

constexpr std::size_t kEthHeaderLen = 14;
constexpr std::size_t kVlanTagLen = 4;
constexpr std::size_t kEthMinFrame = 60;  // without FCS
constexpr std::size_t kArpLen = 28;       // Ethernet/IPv4 ARP
constexpr std::size_t kIpv4MinHeaderLen = 20;
constexpr std::size_t kIcmpHeaderLen = 8;
constexpr std::size_t kUdpHeaderLen = 8;
constexpr std::size_t kIpv4MaxTotalLen = 65535;
constexpr std::size_t kUdpMaxPayload = kIpv4MaxTotalLen - kIpv4MinHeaderLen - kUdpHeaderLen;  // 65507

constexpr std::uint8_t kIpProtoIcmp = 1;
constexpr std::uint8_t kIpProtoUdp = 17;

constexpr std::uint16_t kArpHtypeEthernet = 1;
constexpr std::uint16_t kArpOpRequest = 1;
constexpr std::uint16_t kArpOpReply = 2;

constexpr std::uint8_t kIcmpEchoReply = 0;
constexpr std::uint8_t kIcmpDestUnreachable = 3;
constexpr std::uint8_t kIcmpEchoRequest = 8;
constexpr std::uint8_t kIcmpTimeExceeded = 11;
constexpr std::uint8_t kIcmpParamProblem = 12;
// Destination unreachable codes (RFC 792, RFC 1812 5.2.7.1).
constexpr std::uint8_t kIcmpCodeNet = 0;
constexpr std::uint8_t kIcmpCodeHost = 1;
constexpr std::uint8_t kIcmpCodeProtocol = 2;
constexpr std::uint8_t kIcmpCodePort = 3;
constexpr std::uint8_t kIcmpCodeFragNeeded = 4;
// Time exceeded codes.
constexpr std::uint8_t kIcmpCodeTtl = 0;
constexpr std::uint8_t kIcmpCodeReassembly = 1;
// RFC 1812 4.3.2.3: an error quotes as much of the datagram as fits in 576.
constexpr std::size_t kIcmpErrorMaxLen = 576;
// IPv4 fragment flags/offset field.
constexpr std::uint16_t kIpv4FlagDf = 0x4000;
constexpr std::uint16_t kIpv4FlagMf = 0x2000;

constexpr MacAddr kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// ------------------------------------------------------------ byte access

// Big-endian loads/stores. Callers pass offsets a parse() has validated.
// Thin names over vd::be (core/bytes.hpp), kept for the stack's call sites.
inline std::uint16_t load_be16(std::span<const std::uint8_t> s, std::size_t off) { return be::load16(s, off); }
inline std::uint32_t load_be32(std::span<const std::uint8_t> s, std::size_t off) { return be::load32(s, off); }
inline void store_be16(std::uint8_t* p, std::uint16_t v) { be::store16({p, 2}, 0, v); }
inline void store_be32(std::uint8_t* p, std::uint32_t v) { be::store32({p, 4}, 0, v); }
MacAddr load_mac(std::span<const std::uint8_t> s, std::size_t off);
Ipv4Addr load_ipv4(std::span<const std::uint8_t> s, std::size_t off);

inline bool is_multicast_mac(const MacAddr& m) { return (m[0] & 1) != 0; }

// ------------------------------------------------------------ parse results

enum class ParseError : std::uint8_t {
  none,
  too_short,     // fewer bytes than the header (or a length it declares) needs
  bad_version,   // IPv4 version field is not 4
  bad_ihl,       // IPv4 IHL < 5
  bad_length,    // a length field disagrees with the bytes available
  bad_checksum,  // reported by the stack; views check checksums separately
  unsupported,   // valid but not handled (ARP for non Ethernet/IPv4)
  bad_opcode,    // ARP operation is neither request nor reply
};

// The reason as used in drop counters ("too_short", "bad_length", ...).
std::string_view to_string(ParseError e);

// A view or the reason there is none. (std::expected is C++23.)
template <class View>
class Parsed {
 public:
  // Implicit on purpose, so parse() can `return ParseError::too_short;`.
  Parsed(View v) : view_(v) {}
  Parsed(ParseError e) : err_(e) {}
  bool ok() const { return view_.has_value(); }
  explicit operator bool() const { return ok(); }
  ParseError error() const { return err_; }
  std::string_view reason() const { return to_string(err_); }
  // Throws std::bad_optional_access on an error result instead of UB.
  const View& value() const { return view_.value(); }
  const View& operator*() const { return view_.value(); }
  const View* operator->() const { return &view_.value(); }

 private:
  std::optional<View> view_;
  ParseError err_ = ParseError::none;
};

// ------------------------------------------------------------ views

class EthernetView {
 public:
  static Parsed<EthernetView> parse(std::span<const std::uint8_t> frame);
  MacAddr dst() const { return load_mac(b_, 0); }
  MacAddr src() const { return load_mac(b_, 6); }
  // The 802.1Q TCI when the frame carries one tag (the inner type is then ethertype()).
  std::optional<std::uint16_t> vlan_tci() const;
  std::uint16_t ethertype() const { return load_be16(b_, header_len() - 2); }
  std::size_t header_len() const { return tagged_ ? kEthHeaderLen + kVlanTagLen : kEthHeaderLen; }
  std::span<const std::uint8_t> payload() const { return b_.subspan(header_len()); }

 private:
  EthernetView(std::span<const std::uint8_t> b, bool tagged) : b_(b), tagged_(tagged) {}
  std::span<const std::uint8_t> b_;
  bool tagged_;
};

// ARP for Ethernet hardware addresses and IPv4 protocol addresses only.
class ArpView {
 public:
  static Parsed<ArpView> parse(std::span<const std::uint8_t> b);
  std::uint16_t oper() const { return load_be16(b_, 6); }
  MacAddr sender_mac() const { return load_mac(b_, 8); }
  Ipv4Addr sender_ip() const { return load_ipv4(b_, 14); }
  MacAddr target_mac() const { return load_mac(b_, 18); }
  Ipv4Addr target_ip() const { return load_ipv4(b_, 24); }

 private:
  explicit ArpView(std::span<const std::uint8_t> b) : b_(b) {}
  std::span<const std::uint8_t> b_;
};

// The view covers exactly total_length() bytes: link-layer padding after the
// datagram is outside it.
class Ipv4View {
 public:
  static Parsed<Ipv4View> parse(std::span<const std::uint8_t> b);
  std::uint8_t version() const { return b_[0] >> 4; }
  std::size_t header_len() const { return std::size_t(b_[0] & 0x0f) * 4; }
  std::uint8_t tos() const { return b_[1]; }
  std::uint16_t total_length() const { return load_be16(b_, 2); }
  std::uint16_t ident() const { return load_be16(b_, 4); }
  bool dont_fragment() const { return (b_[6] & 0x40) != 0; }
  bool more_fragments() const { return (b_[6] & 0x20) != 0; }
  std::uint16_t frag_offset() const { return load_be16(b_, 6) & 0x1fff; }  // 8-byte units
  std::uint8_t ttl() const { return b_[8]; }
  std::uint8_t protocol() const { return b_[9]; }
  std::uint16_t checksum() const { return load_be16(b_, 10); }
  Ipv4Addr src() const { return load_ipv4(b_, 12); }
  Ipv4Addr dst() const { return load_ipv4(b_, 16); }
  std::span<const std::uint8_t> header() const { return b_.first(header_len()); }
  std::span<const std::uint8_t> options() const { return b_.subspan(kIpv4MinHeaderLen, header_len() - kIpv4MinHeaderLen); }
  std::span<const std::uint8_t> payload() const { return b_.subspan(header_len()); }
  // Header checksum verification, separate from parse so a device that already
  // checked it (OffloadMeta::rx_csum_ip) can be trusted.
  bool checksum_ok() const;

 private:
  explicit Ipv4View(std::span<const std::uint8_t> b) : b_(b) {}
  std::span<const std::uint8_t> b_;
};

class IcmpView {
 public:
  static Parsed<IcmpView> parse(std::span<const std::uint8_t> b);
  std::uint8_t type() const { return b_[0]; }
  std::uint8_t code() const { return b_[1]; }
  std::uint16_t checksum() const { return load_be16(b_, 2); }
  // Echo request/reply fields (bytes 4..7 of the header).
  std::uint16_t echo_ident() const { return load_be16(b_, 4); }
  std::uint16_t echo_seq() const { return load_be16(b_, 6); }
  // Bytes 4..7 ("rest of header"): the next-hop MTU of "fragmentation
  // needed" is its low 16 bits, a parameter problem's pointer its top byte.
  std::uint32_t rest() const { return load_be32(b_, 4); }
  std::span<const std::uint8_t> payload() const { return b_.subspan(kIcmpHeaderLen); }
  std::size_t size() const { return b_.size(); }
  // Checksum over the whole message (header and payload).
  bool checksum_ok() const;

 private:
  explicit IcmpView(std::span<const std::uint8_t> b) : b_(b) {}
  std::span<const std::uint8_t> b_;
};

// Parse over the IP payload: the length field must be >= 8 and fit in it;
// the view then covers exactly length() bytes.
class UdpView {
 public:
  static Parsed<UdpView> parse(std::span<const std::uint8_t> ip_payload);
  std::uint16_t src_port() const { return load_be16(b_, 0); }
  std::uint16_t dst_port() const { return load_be16(b_, 2); }
  std::uint16_t length() const { return load_be16(b_, 4); }
  std::uint16_t checksum() const { return load_be16(b_, 6); }
  // Over IPv4 a zero checksum field means "no checksum was computed".
  bool has_checksum() const { return checksum() != 0; }
  std::span<const std::uint8_t> payload() const { return b_.subspan(kUdpHeaderLen); }
  // Verifies with the IPv4 pseudo-header (whatever has_checksum() says).
  bool checksum_ok(Ipv4Addr src, Ipv4Addr dst) const;

 private:
  explicit UdpView(std::span<const std::uint8_t> b) : b_(b) {}
  std::span<const std::uint8_t> b_;
};

// ------------------------------------------------------------ emitters
// Each pushes its header in front of the packet's current data; the packet
// must have the headroom (Packet::push throws std::length_error otherwise).

struct EthernetRepr {
  MacAddr dst{};
  MacAddr src{};
  std::uint16_t ethertype = 0;
  std::optional<std::uint16_t> vlan_tci;  // adds an 802.1Q tag when set
};
void emit_ethernet(Packet& p, const EthernetRepr& r);

// Appends zero bytes up to the minimum Ethernet frame (60 bytes without FCS).
// Zeroed because buffers are recycled and must not leak old contents.
void pad_frame(Packet& p, std::size_t min_len = kEthMinFrame);

struct ArpRepr {
  std::uint16_t oper = kArpOpRequest;
  MacAddr sender_mac{};
  Ipv4Addr sender_ip{};
  MacAddr target_mac{};
  Ipv4Addr target_ip{};
};
void emit_arp(Packet& p, const ArpRepr& r);

struct Ipv4Repr {
  Ipv4Addr src{};
  Ipv4Addr dst{};
  std::uint8_t protocol = 0;
  std::uint8_t ttl = 64;
  std::uint16_t ident = 0;
  std::uint8_t tos = 0;
  bool dont_fragment = false;
};
// Writes a 20-byte header (no options); total length = 20 + current size,
// header checksum computed in software. Throws std::length_error if the
// datagram would exceed 65535 bytes.
void emit_ipv4(Packet& p, const Ipv4Repr& r);

// Writes the UDP header; length = 8 + current size, checksum over the IPv4
// pseudo-header, header and payload (a zero result is sent as 0xFFFF).
// With csum_offload the checksum field gets the folded pseudo-header sum and
// the packet is marked CHECKSUM_PARTIAL for the device to finish (the caller
// sets meta.csum_start once the outer headers' length is known).
void emit_udp(Packet& p, Ipv4Addr src, Ipv4Addr dst, std::uint16_t src_port, std::uint16_t dst_port,
              bool csum_offload = false);

// Writes an ICMP header (type, code, 4 bytes "rest of header") and the
// checksum over the whole message.
void emit_icmp(Packet& p, std::uint8_t type, std::uint8_t code, std::uint32_t rest);
inline void emit_icmp_echo(Packet& p, std::uint8_t type, std::uint16_t ident, std::uint16_t seq) {
  emit_icmp(p, type, 0, (std::uint32_t(ident) << 16) | seq);
}

// Recomputes the ICMP checksum of the message that starts at p.data().
void fill_icmp_checksum(Packet& p);

}  // namespace vd::stack::wire
