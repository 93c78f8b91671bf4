// Ethernet II frames with an optional 802.1Q tag (IEEE 802.3, 802.1Q).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "veridian/stack/wire/common.hpp"

namespace vd::stack::wire {

constexpr std::uint16_t kEthertypeIpv4 = 0x0800;
constexpr std::uint16_t kEthertypeArp = 0x0806;
constexpr std::uint16_t kEthertypeVlan = 0x8100;
constexpr std::uint16_t kEthertypeIpv6 = 0x86dd;

constexpr std::size_t kEthHeaderLen = 14;
constexpr std::size_t kVlanTagLen = 4;
constexpr std::size_t kEthMinFrame = 60;  // without FCS

constexpr MacAddr kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

inline bool is_multicast_mac(const MacAddr& m) { return (m[0] & 1) != 0; }

class EthernetView {
 public:
  static Parsed<EthernetView> parse(std::span<const std::uint8_t> frame);
  MacAddr dst() const { return load_mac(b_, 0); }
  MacAddr src() const { return load_mac(b_, 6); }
  // The 802.1Q TCI when the frame carries one tag (the inner type is then ethertype()).
  std::optional<std::uint16_t> vlan_tci() const;
  std::uint16_t ethertype() const { return load_be16(b_, header_len() - 2); }
  std::size_t header_len() const { return tagged_ ? kEthHeaderLen + kVlanTagLen : kEthHeaderLen; }
  std::span<const std::uint8_t> payload() const { return b_.subspan(header_len()); }

 private:
  EthernetView(std::span<const std::uint8_t> b, bool tagged) : b_(b), tagged_(tagged) {}
  std::span<const std::uint8_t> b_;
  bool tagged_;
};

struct EthernetRepr {
  MacAddr dst{};
  MacAddr src{};
  std::uint16_t ethertype = 0;
  std::optional<std::uint16_t> vlan_tci;  // adds an 802.1Q tag when set
};
void emit_ethernet(Packet& p, const EthernetRepr& r);

// Appends zero bytes up to the minimum Ethernet frame (60 bytes without FCS).
// Zeroed because buffers are recycled and must not leak old contents.
void pad_frame(Packet& p, std::size_t min_len = kEthMinFrame);

}  // namespace vd::stack::wire
