// ICMPv6 (RFC 4443): a checked view, types and codes, and the emitter.
// Neighbor Discovery's messages and options are in nd.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "veridian/stack/wire/common.hpp"

namespace vd::stack::wire {

constexpr std::size_t kIcmpv6HeaderLen = 8;

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

// Writes the ICMPv6 header and its checksum over the pseudo-header and the
// whole message (the packet's current data after the push).
void emit_icmpv6(Packet& p, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t type, std::uint8_t code,
                 std::uint32_t rest);

}  // namespace vd::stack::wire
