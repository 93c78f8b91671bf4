// The TCP header as a checked view, its options, and an emitter (RFC 9293
// 3.1, RFC 7323, RFC 2018).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "veridian/stack/wire/common.hpp"

namespace vd::stack::wire {

constexpr std::size_t kTcpMinHeaderLen = 20;
constexpr std::size_t kTcpMaxHeaderLen = 60;

namespace tcpf {
constexpr std::uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20, ECE = 0x40, CWR = 0x80;
}

struct SackBlock {
  std::uint32_t left = 0, right = 0;
};

// Options we understand; unknown ones are skipped (RFC 9293 3.2).
struct TcpOptions {
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> wscale;
  bool sack_permitted = false;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> timestamps;  // (TSval, TSecr)
  std::array<SackBlock, 4> sack{};
  std::uint8_t sack_count = 0;
};

class TcpView {
 public:
  // Checks the data offset against the bytes given (the IP payload).
  static Parsed<TcpView> parse(std::span<const std::uint8_t> b);
  std::uint16_t src_port() const { return load_be16(b_, 0); }
  std::uint16_t dst_port() const { return load_be16(b_, 2); }
  std::uint32_t seq() const { return load_be32(b_, 4); }
  std::uint32_t ack() const { return load_be32(b_, 8); }
  std::size_t header_len() const { return std::size_t(b_[12] >> 4) * 4; }
  std::uint8_t flags() const { return b_[13]; }
  std::uint16_t window() const { return load_be16(b_, 14); }
  std::uint16_t checksum() const { return load_be16(b_, 16); }
  std::span<const std::uint8_t> options_bytes() const { return b_.subspan(kTcpMinHeaderLen, header_len() - kTcpMinHeaderLen); }
  std::span<const std::uint8_t> payload() const { return b_.subspan(header_len()); }
  std::span<const std::uint8_t> bytes() const { return b_; }
  // nullopt for a malformed option list (a length that runs past the header).
  std::optional<TcpOptions> options() const;
  bool checksum_ok(Ipv4Addr src, Ipv4Addr dst) const;
  bool checksum_ok(const Ipv6Addr& src, const Ipv6Addr& dst) const;  // IPv6 pseudo-header (RFC 8200 8.1)

 private:
  explicit TcpView(std::span<const std::uint8_t> b) : b_(b) {}
  std::span<const std::uint8_t> b_;
};

struct TcpRepr {
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  TcpOptions opts;
};
// Header length (options padded to 4 bytes) that emit_tcp will write.
std::size_t tcp_header_len(const TcpOptions& o);
// Pushes the TCP header in front of the payload already in p. The checksum
// field gets the folded pseudo-header sum when `offload` (the device
// finishes it: CHECKSUM_PARTIAL or TSO), else the full checksum.
void emit_tcp(Packet& p, const TcpRepr& r, Ipv4Addr src, Ipv4Addr dst, bool offload);
// The same over IPv6 (the IPv6 pseudo-header, RFC 8200 8.1).
void emit_tcp(Packet& p, const TcpRepr& r, const Ipv6Addr& src, const Ipv6Addr& dst, bool offload);

}  // namespace vd::stack::wire
