#include "veridian/stack/wire/icmp.hpp"

#include <stdexcept>

#include "veridian/offload/checksum.hpp"
#include "sw_checksum.hpp"

namespace vd::stack::wire {

namespace csum = vd::stack::sw_csum;

Parsed<IcmpView> IcmpView::parse(std::span<const std::uint8_t> b) {
  if (b.size() < kIcmpHeaderLen) return ParseError::too_short;
  return IcmpView(b);
}

bool IcmpView::checksum_ok() const { return csum::internet_checksum(b_) == 0; }

void emit_icmp(Packet& p, std::uint8_t type, std::uint8_t code, std::uint32_t rest) {
  std::uint8_t* h = p.push(kIcmpHeaderLen);
  h[0] = type;
  h[1] = code;
  store_be32(h + 4, rest);
  fill_icmp_checksum(p);
}

void fill_icmp_checksum(Packet& p) {
  if (p.size() < kIcmpHeaderLen) throw std::length_error("fill_icmp_checksum: short message");
  std::uint8_t* h = p.data();
  store_be16(h + 2, 0);
  store_be16(h + 2, csum::internet_checksum(p.bytes()));
}

}  // namespace vd::stack::wire
