// UDP (RFC 768) over IPv4 and IPv6 (RFC 8200 8.1): a checked view, emitters
// and the checksums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "veridian/stack/wire/common.hpp"
#include "veridian/stack/wire/ipv4.hpp"

namespace vd::stack::wire {

constexpr std::size_t kUdpHeaderLen = 8;
constexpr std::size_t kUdpMaxPayload = kIpv4MaxTotalLen - kIpv4MinHeaderLen - kUdpHeaderLen;  // 65507

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

// Writes the UDP header; length = 8 + current size, checksum over the IPv4
// pseudo-header, header and payload (a zero result is sent as 0xFFFF).
// With csum_offload the checksum field gets the folded pseudo-header sum and
// the packet is marked CHECKSUM_PARTIAL for the device to finish (the caller
// sets meta.csum_start once the outer headers' length is known).
void emit_udp(Packet& p, Ipv4Addr src, Ipv4Addr dst, std::uint16_t src_port, std::uint16_t dst_port,
              bool csum_offload = false);

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
