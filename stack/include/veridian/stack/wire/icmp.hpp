// ICMP for IPv4 (RFC 792): a checked view, types and codes, emitters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "veridian/stack/wire/common.hpp"

namespace vd::stack::wire {

constexpr std::size_t kIcmpHeaderLen = 8;

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

// Writes an ICMP header (type, code, 4 bytes "rest of header") and the
// checksum over the whole message.
void emit_icmp(Packet& p, std::uint8_t type, std::uint8_t code, std::uint32_t rest);
inline void emit_icmp_echo(Packet& p, std::uint8_t type, std::uint16_t ident, std::uint16_t seq) {
  emit_icmp(p, type, 0, (std::uint32_t(ident) << 16) | seq);
}

// Recomputes the ICMP checksum of the message that starts at p.data().
void fill_icmp_checksum(Packet& p);

}  // namespace vd::stack::wire
