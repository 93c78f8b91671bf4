#include "veridian/stack/wire/icmpv6.hpp"

#include "veridian/offload/checksum.hpp"
#include "sw_checksum.hpp"

namespace vd::stack::wire {

namespace csum = vd::stack::sw_csum;

Parsed<Icmpv6View> Icmpv6View::parse(std::span<const std::uint8_t> b) {
  if (b.size() < kIcmpv6HeaderLen) return ParseError::too_short;
  return Icmpv6View(b);
}

bool Icmpv6View::checksum_ok(const Ipv6Addr& src, const Ipv6Addr& dst) const {
  const std::uint32_t ph = csum::pseudo_header_v6(src.b, dst.b, kIpProtoIcmpv6, static_cast<std::uint32_t>(b_.size()));
  return csum::internet_checksum(b_, ph) == 0;
}

void emit_icmpv6(Packet& p, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t type, std::uint8_t code,
                 std::uint32_t rest) {
  std::uint8_t* h = p.push(kIcmpv6HeaderLen);
  h[0] = type;
  h[1] = code;
  store_be16(h + 2, 0);
  store_be32(h + 4, rest);
  const std::uint32_t ph = csum::pseudo_header_v6(src.b, dst.b, kIpProtoIcmpv6, static_cast<std::uint32_t>(p.size()));
  store_be16(h + 2, csum::internet_checksum(p.bytes(), ph));
}

}  // namespace vd::stack::wire
