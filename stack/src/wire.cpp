#include "veridian/stack/wire.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "veridian/offload/checksum.hpp"

namespace vd::stack::wire {

namespace csum = vd::offload;

MacAddr load_mac(std::span<const std::uint8_t> s, std::size_t off) {
  MacAddr m{};
  std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(off), m.size(), m.begin());
  return m;
}

Ipv4Addr load_ipv4(std::span<const std::uint8_t> s, std::size_t off) {
  Ipv4Addr a{};
  std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(off), a.b.size(), a.b.begin());
  return a;
}

std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::none: return "none";
    case ParseError::too_short: return "too_short";
    case ParseError::bad_version: return "bad_version";
    case ParseError::bad_ihl: return "bad_ihl";
    case ParseError::bad_length: return "bad_length";
    case ParseError::bad_checksum: return "bad_checksum";
    case ParseError::unsupported: return "unsupported";
    case ParseError::bad_opcode: return "bad_opcode";
  }
  return "unknown";
}

// ------------------------------------------------------------ Ethernet

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

// ------------------------------------------------------------ ARP

Parsed<ArpView> ArpView::parse(std::span<const std::uint8_t> b) {
  if (b.size() < kArpLen) return ParseError::too_short;
  const bool eth_ipv4 = load_be16(b, 0) == kArpHtypeEthernet && load_be16(b, 2) == kEthertypeIpv4 &&
                        b[4] == 6 && b[5] == 4;
  if (!eth_ipv4) return ParseError::unsupported;
  const std::uint16_t op = load_be16(b, 6);
  if (op != kArpOpRequest && op != kArpOpReply) return ParseError::bad_opcode;
  return ArpView(b.first(kArpLen));
}

// ------------------------------------------------------------ IPv4

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

// ------------------------------------------------------------ ICMP

Parsed<IcmpView> IcmpView::parse(std::span<const std::uint8_t> b) {
  if (b.size() < kIcmpHeaderLen) return ParseError::too_short;
  return IcmpView(b);
}

bool IcmpView::checksum_ok() const { return csum::internet_checksum(b_) == 0; }

// ------------------------------------------------------------ UDP

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

// ------------------------------------------------------------ emitters

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

void emit_udp(Packet& p, Ipv4Addr src, Ipv4Addr dst, std::uint16_t src_port, std::uint16_t dst_port,
              bool csum_offload) {
  const std::size_t len = kUdpHeaderLen + p.size();
  if (len > 0xffff) throw std::length_error("emit_udp: datagram exceeds 65535 bytes");
  std::uint8_t* h = p.push(kUdpHeaderLen);
  store_be16(h, src_port);
  store_be16(h + 2, dst_port);
  store_be16(h + 4, static_cast<std::uint16_t>(len));
  store_be16(h + 6, 0);
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
