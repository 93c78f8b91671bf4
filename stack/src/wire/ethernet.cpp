#include "veridian/stack/wire/ethernet.hpp"

#include <cstring>

namespace vd::stack::wire {

Parsed<EthernetView> EthernetView::parse(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthHeaderLen) return ParseError::too_short;
  const bool tagged = load_be16(frame, 12) == kEthertypeVlan;
  if (tagged && frame.size() < kEthHeaderLen + kVlanTagLen) return ParseError::too_short;
  return EthernetView(frame, tagged);
}

std::optional<std::uint16_t> EthernetView::vlan_tci() const {
  if (!tagged_) return std::nullopt;
  return load_be16(b_, 14);
}

void emit_ethernet(Packet& p, const EthernetRepr& r) {
  if (r.vlan_tci) {
    std::uint8_t* t = p.push(kVlanTagLen);
    store_be16(t, *r.vlan_tci);
    store_be16(t + 2, r.ethertype);
  }
  std::uint8_t* h = p.push(kEthHeaderLen);
  std::memcpy(h, r.dst.data(), 6);
  std::memcpy(h + 6, r.src.data(), 6);
  store_be16(h + 12, r.vlan_tci ? kEthertypeVlan : r.ethertype);
}

void pad_frame(Packet& p, std::size_t min_len) {
  if (p.size() >= min_len) return;
  const std::size_t n = min_len - p.size();
  std::memset(p.append(n), 0, n);
}

}  // namespace vd::stack::wire
