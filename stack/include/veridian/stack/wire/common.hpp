// Wire formats as checked views (smoltcp style), one file per protocol in
// this folder. A view is a span of bytes plus big-endian accessors; it is only
// obtainable through parse(), which validates every length the accessors later
// rely on. Nothing here casts a struct over packet memory (that is undefined
// behaviour in C++).
//
// Emitters write a header in front of a Packet's current data using its
// headroom (Packet::push), so the payload is never moved; the packet must have
// the headroom (Packet::push throws std::length_error otherwise).
//
// This header holds what every protocol's view shares: byte and address
// loads, IP protocol numbers, and the parse result type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "veridian/core/bytes.hpp"
#include "veridian/core/hostmem.hpp"
#include "veridian/core/netdev.hpp"
#include "veridian/stack/ip_addr.hpp"

namespace vd::stack::wire {

// IP protocol numbers (IPv4 protocol field, IPv6 upper-layer next header).
constexpr std::uint8_t kIpProtoIcmp = 1;
constexpr std::uint8_t kIpProtoTcp = 6;
constexpr std::uint8_t kIpProtoUdp = 17;
constexpr std::uint8_t kIpProtoIcmpv6 = 58;

// ------------------------------------------------------------ byte access

// Big-endian loads/stores. Callers pass offsets a parse() has validated.
// Thin names over vd::be (core/bytes.hpp), kept for the stack's call sites.
inline std::uint16_t load_be16(std::span<const std::uint8_t> s, std::size_t off) { return be::load16(s, off); }
inline std::uint32_t load_be32(std::span<const std::uint8_t> s, std::size_t off) { return be::load32(s, off); }
inline void store_be16(std::uint8_t* p, std::uint16_t v) { be::store16({p, 2}, 0, v); }
inline void store_be32(std::uint8_t* p, std::uint32_t v) { be::store32({p, 4}, 0, v); }
MacAddr load_mac(std::span<const std::uint8_t> s, std::size_t off);
Ipv4Addr load_ipv4(std::span<const std::uint8_t> s, std::size_t off);
Ipv6Addr load_ipv6(std::span<const std::uint8_t> s, std::size_t off);

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

}  // namespace vd::stack::wire
