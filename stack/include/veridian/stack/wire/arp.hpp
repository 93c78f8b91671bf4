// ARP for Ethernet hardware and IPv4 protocol addresses (RFC 826).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "veridian/stack/wire/common.hpp"
#include "veridian/stack/wire/ethernet.hpp"

namespace vd::stack::wire {

constexpr std::size_t kArpLen = 28;       // Ethernet/IPv4 ARP
constexpr std::uint16_t kArpHtypeEthernet = 1;
constexpr std::uint16_t kArpOpRequest = 1;
constexpr std::uint16_t kArpOpReply = 2;

// ARP for Ethernet hardware addresses and IPv4 protocol addresses only.
class ArpView {
 public:
  static Parsed<ArpView> parse(std::span<const std::uint8_t> b);
  std::uint16_t oper() const { return load_be16(b_, 6); }
  MacAddr sender_mac() const { return load_mac(b_, 8); }
  Ipv4Addr sender_ip() const { return load_ipv4(b_, 14); }
  MacAddr target_mac() const { return load_mac(b_, 18); }
  Ipv4Addr target_ip() const { return load_ipv4(b_, 24); }

 private:
  explicit ArpView(std::span<const std::uint8_t> b) : b_(b) {}
  std::span<const std::uint8_t> b_;
};

struct ArpRepr {
  std::uint16_t oper = kArpOpRequest;
  MacAddr sender_mac{};
  Ipv4Addr sender_ip{};
  MacAddr target_mac{};
  Ipv4Addr target_ip{};
};
void emit_arp(Packet& p, const ArpRepr& r);

}  // namespace vd::stack::wire
