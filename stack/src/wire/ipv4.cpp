#include "veridian/stack/wire/ipv4.hpp"

#include <cstring>
#include <stdexcept>

#include "veridian/offload/checksum.hpp"
#include "sw_checksum.hpp"

namespace vd::stack::wire {

namespace csum = vd::stack::sw_csum;

Parsed<Ipv4View> Ipv4View::parse(std::span<const std::uint8_t> b) {
  if (b.size() < kIpv4MinHeaderLen) return ParseError::too_short;
  if ((b[0] >> 4) != 4) return ParseError::bad_version;
  const std::size_t hlen = std::size_t(b[0] & 0x0f) * 4;
  if (hlen < kIpv4MinHeaderLen) return ParseError::bad_ihl;
  if (hlen > b.size()) return ParseError::too_short;
  const std::size_t total = load_be16(b, 2);
  if (total < hlen || total > b.size()) return ParseError::bad_length;
  return Ipv4View(b.first(total));
}

bool Ipv4View::checksum_ok() const { return csum::internet_checksum(header()) == 0; }

void emit_ipv4(Packet& p, const Ipv4Repr& r) {
  const std::size_t total = kIpv4MinHeaderLen + p.size();
  if (total > kIpv4MaxTotalLen) throw std::length_error("emit_ipv4: datagram exceeds 65535 bytes");
  std::uint8_t* h = p.push(kIpv4MinHeaderLen);
  h[0] = 0x45;
  h[1] = r.tos;
  store_be16(h + 2, static_cast<std::uint16_t>(total));
  store_be16(h + 4, r.ident);
  store_be16(h + 6, r.dont_fragment ? 0x4000 : 0);
  h[8] = r.ttl;
  h[9] = r.protocol;
  store_be16(h + 10, 0);
  std::memcpy(h + 12, r.src.b.data(), 4);
  std::memcpy(h + 16, r.dst.b.data(), 4);
  store_be16(h + 10, csum::internet_checksum({h, kIpv4MinHeaderLen}));
}

}  // namespace vd::stack::wire
