// The IPv4 header (RFC 791): a checked view and an emitter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "veridian/stack/wire/common.hpp"

namespace vd::stack::wire {

constexpr std::size_t kIpv4MinHeaderLen = 20;
constexpr std::size_t kIpv4MaxTotalLen = 65535;
// IPv4 fragment flags/offset field.
constexpr std::uint16_t kIpv4FlagDf = 0x4000;
constexpr std::uint16_t kIpv4FlagMf = 0x2000;

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

}  // namespace vd::stack::wire
