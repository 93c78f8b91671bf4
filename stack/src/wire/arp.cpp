#include "veridian/stack/wire/arp.hpp"

#include <cstring>

namespace vd::stack::wire {

Parsed<ArpView> ArpView::parse(std::span<const std::uint8_t> b) {
  if (b.size() < kArpLen) return ParseError::too_short;
  const bool eth_ipv4 = load_be16(b, 0) == kArpHtypeEthernet && load_be16(b, 2) == kEthertypeIpv4 &&
                        b[4] == 6 && b[5] == 4;
  if (!eth_ipv4) return ParseError::unsupported;
  const std::uint16_t op = load_be16(b, 6);
  if (op != kArpOpRequest && op != kArpOpReply) return ParseError::bad_opcode;
  return ArpView(b.first(kArpLen));
}

void emit_arp(Packet& p, const ArpRepr& r) {
  std::uint8_t* h = p.push(kArpLen);
  store_be16(h, kArpHtypeEthernet);
  store_be16(h + 2, kEthertypeIpv4);
  h[4] = 6;
  h[5] = 4;
  store_be16(h + 6, r.oper);
  std::memcpy(h + 8, r.sender_mac.data(), 6);
  std::memcpy(h + 14, r.sender_ip.b.data(), 4);
  std::memcpy(h + 18, r.target_mac.data(), 6);
  std::memcpy(h + 24, r.target_ip.b.data(), 4);
}

}  // namespace vd::stack::wire
