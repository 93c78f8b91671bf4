#include "veridian/stack/wire/udp.hpp"

#include <stdexcept>
#include <string>

#include "veridian/offload/checksum.hpp"
#include "sw_checksum.hpp"
#include "veridian/stack/wire/ipv6.hpp"

namespace vd::stack::wire {

namespace csum = vd::stack::sw_csum;

Parsed<UdpView> UdpView::parse(std::span<const std::uint8_t> ip_payload) {
  if (ip_payload.size() < kUdpHeaderLen) return ParseError::too_short;
  const std::size_t len = load_be16(ip_payload, 4);
  if (len < kUdpHeaderLen || len > ip_payload.size()) return ParseError::bad_length;
  return UdpView(ip_payload.first(len));
}

bool UdpView::checksum_ok(Ipv4Addr src, Ipv4Addr dst) const {
  const std::uint32_t ph = csum::pseudo_header_v4(src.b, dst.b, kIpProtoUdp, length());
  return csum::internet_checksum(b_, ph) == 0;
}

namespace {
// The header both families share, checksum field zeroed; length = 8 + data.
std::uint8_t* push_udp_header(Packet& p, std::uint16_t src_port, std::uint16_t dst_port, const char* who) {
  const std::size_t len = kUdpHeaderLen + p.size();
  if (len > 0xffff) throw std::length_error(std::string(who) + ": datagram exceeds 65535 bytes");
  std::uint8_t* h = p.push(kUdpHeaderLen);
  store_be16(h, src_port);
  store_be16(h + 2, dst_port);
  store_be16(h + 4, static_cast<std::uint16_t>(len));
  store_be16(h + 6, 0);
  return h;
}
}  // namespace

void emit_udp(Packet& p, Ipv4Addr src, Ipv4Addr dst, std::uint16_t src_port, std::uint16_t dst_port,
              bool csum_offload) {
  std::uint8_t* h = push_udp_header(p, src_port, dst_port, "emit_udp");
  const std::size_t len = load_be16({h, kUdpHeaderLen}, 4);
  const std::uint32_t ph = csum::pseudo_header_v4(src.b, dst.b, kIpProtoUdp, static_cast<std::uint16_t>(len));
  if (csum_offload) {
    store_be16(h + 6, csum::csum_fold(ph));
    p.meta.tx_csum_partial = true;
    p.meta.csum_offset = 6;
    return;
  }
  std::uint16_t c = csum::internet_checksum(p.bytes(), ph);
  // RFC 768: a computed zero is sent as all ones; zero means "no checksum".
  if (c == 0) c = 0xffff;
  store_be16(h + 6, c);
}

std::uint16_t udp6_checksum(const Ipv6Addr& src, const Ipv6Addr& dst, std::span<const std::uint8_t> header,
                            std::span<const std::uint8_t> payload) {
  const auto len = static_cast<std::uint32_t>(header.size() + payload.size());
  std::uint32_t sum = csum::pseudo_header_v6(src.b, dst.b, kIpProtoUdp, len);
  // The header is 8 bytes (even), so the payload sum chains on word boundaries.
  sum = csum::csum_partial(header, sum);
  std::uint16_t c = csum::internet_checksum(payload, sum);
  return c == 0 ? 0xffff : c;
}

void emit_udp6(Packet& p, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint16_t src_port,
               std::uint16_t dst_port) {
  std::uint8_t* h = push_udp_header(p, src_port, dst_port, "emit_udp6");
  const std::span<const std::uint8_t> all = p.bytes();
  store_be16(h + 6, udp6_checksum(src, dst, all.first(kUdpHeaderLen), all.subspan(kUdpHeaderLen)));
}

bool udp6_checksum_ok(std::span<const std::uint8_t> udp_msg, const Ipv6Addr& src, const Ipv6Addr& dst) {
  const std::uint32_t ph = csum::pseudo_header_v6(src.b, dst.b, kIpProtoUdp, static_cast<std::uint32_t>(udp_msg.size()));
  return csum::internet_checksum(udp_msg, ph) == 0;
}

}  // namespace vd::stack::wire
