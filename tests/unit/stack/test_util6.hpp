// IPv6 frame builders and parsers for the stack tests. Builders are plain
// byte assembly (not the stack's emitters) wherever a test crafts hostile
// input; checksums come from the offload reference model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "veridian/stack/wire/icmpv6.hpp"
#include "veridian/stack/wire/ipv6.hpp"
#include "veridian/stack/wire/nd.hpp"
#include "veridian/stack/wire/udp.hpp"

namespace vd::test {

using stack::Ipv6Addr;

inline Ipv6Addr ip6(const char* s) { return Ipv6Addr::parse(s).value(); }

inline void put16(Bytes& b, std::size_t off, std::uint16_t v) { be::store16(b, off, v); }
inline void put32(Bytes& b, std::size_t off, std::uint32_t v) { be::store32(b, off, v); }
inline void append(Bytes& b, std::span<const std::uint8_t> s) { b.insert(b.end(), s.begin(), s.end()); }
inline void append_addr(Bytes& b, const Ipv6Addr& a) { b.insert(b.end(), a.b.begin(), a.b.end()); }

// An IPv6 packet: fixed header + `payload` (extension headers included).
inline Bytes ipv6_packet(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t nh, std::span<const std::uint8_t> payload,
                         std::uint8_t hop = 64) {
  Bytes b(40, 0);
  b[0] = 0x60;
  put16(b, 4, static_cast<std::uint16_t>(payload.size()));
  b[6] = nh;
  b[7] = hop;
  std::copy(src.b.begin(), src.b.end(), b.begin() + 8);
  std::copy(dst.b.begin(), dst.b.end(), b.begin() + 24);
  append(b, payload);
  return b;
}

inline Bytes eth_frame(MacAddr dst, MacAddr src, std::span<const std::uint8_t> l3,
                       std::uint16_t type = wire::kEthertypeIpv6) {
  Bytes b(14, 0);
  std::copy(dst.begin(), dst.end(), b.begin());
  std::copy(src.begin(), src.end(), b.begin() + 6);
  put16(b, 12, type);
  append(b, l3);
  if (b.size() < 60) b.resize(60, 0);
  return b;
}

// L4 checksum with the IPv6 pseudo-header, written at `field`.
inline void fix_l4_csum6(Bytes& msg, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t proto, std::size_t field) {
  msg[field] = msg[field + 1] = 0;
  const std::uint32_t ph = offload::pseudo_header_v6(src.b, dst.b, proto, static_cast<std::uint32_t>(msg.size()));
  std::uint16_t c = offload::internet_checksum(msg, ph);
  if (c == 0 && proto == wire::kIpProtoUdp) c = 0xffff;
  put16(msg, field, c);
}

inline Bytes icmp6_msg(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t type, std::uint8_t code,
                       std::uint32_t rest, std::span<const std::uint8_t> body) {
  Bytes m(8, 0);
  m[0] = type;
  m[1] = code;
  put32(m, 4, rest);
  append(m, body);
  fix_l4_csum6(m, src, dst, wire::kIpProtoIcmpv6, 2);
  return m;
}

inline Bytes udp6_msg(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint16_t sp, std::uint16_t dp,
                      std::span<const std::uint8_t> payload) {
  Bytes m(8, 0);
  put16(m, 0, sp);
  put16(m, 2, dp);
  put16(m, 4, static_cast<std::uint16_t>(8 + payload.size()));
  append(m, payload);
  fix_l4_csum6(m, src, dst, wire::kIpProtoUdp, 6);
  return m;
}

inline Bytes lla_opt(std::uint8_t type, MacAddr m) {
  Bytes o{type, 1};
  o.insert(o.end(), m.begin(), m.end());
  return o;
}

// ND messages (hop limit 255).
inline Bytes ns_msg(const Ipv6Addr& src, const Ipv6Addr& dst, const Ipv6Addr& target, std::optional<MacAddr> slla) {
  Bytes body;
  append_addr(body, target);
  if (slla) append(body, lla_opt(1, *slla));
  return icmp6_msg(src, dst, wire::kNdNeighborSolicit, 0, 0, body);
}
inline Bytes na_msg(const Ipv6Addr& src, const Ipv6Addr& dst, const Ipv6Addr& target, std::uint32_t flags,
                    std::optional<MacAddr> tlla) {
  Bytes body;
  append_addr(body, target);
  if (tlla) append(body, lla_opt(2, *tlla));
  return icmp6_msg(src, dst, wire::kNdNeighborAdvert, 0, flags, body);
}
inline Bytes prefix_opt(const Ipv6Addr& prefix, std::uint8_t len, bool l, bool a, std::uint32_t valid,
                        std::uint32_t preferred) {
  Bytes o(32, 0);
  o[0] = 3;
  o[1] = 4;
  o[2] = len;
  o[3] = static_cast<std::uint8_t>((l ? 0x80 : 0) | (a ? 0x40 : 0));
  put32(o, 4, valid);
  put32(o, 8, preferred);
  std::copy(prefix.b.begin(), prefix.b.end(), o.begin() + 16);
  return o;
}
inline Bytes ra_msg(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint16_t lifetime, MacAddr slla,
                    std::span<const std::uint8_t> more_opts = {}) {
  Bytes body(8, 0);
  append(body, lla_opt(1, slla));
  append(body, more_opts);
  return icmp6_msg(src, dst, wire::kNdRouterAdvert, 0, (64u << 24) | lifetime, body);
}

// What a test sees of a transmitted IPv6 frame.
struct Out6 {
  MacAddr eth_dst{};
  Ipv6Addr src{}, dst{};
  std::uint8_t nh = 0, hop = 0;
  Bytes packet;   // from the IPv6 header
  Bytes payload;  // after the fixed header
  // When nh is ICMPv6 (no extension headers):
  std::uint8_t type = 0, code = 0;
  std::uint32_t rest = 0;
  Bytes body;
  bool csum_ok = false;
};

inline std::optional<Out6> out6(const SentFrame& f) {
  const auto e = wire::EthernetView::parse(f.bytes);
  if (!e || e->ethertype() != wire::kEthertypeIpv6) return std::nullopt;
  const auto ip = wire::Ipv6View::parse(e->payload());
  if (!ip) return std::nullopt;
  Out6 o;
  o.eth_dst = e->dst();
  o.src = ip->src();
  o.dst = ip->dst();
  o.nh = ip->next_header();
  o.hop = ip->hop_limit();
  o.packet.assign(ip->packet().begin(), ip->packet().end());
  o.payload.assign(ip->payload().begin(), ip->payload().end());
  if (o.nh == wire::kIpProtoIcmpv6 && o.payload.size() >= 8) {
    o.type = o.payload[0];
    o.code = o.payload[1];
    o.rest = be::load32(o.payload, 4);
    o.body.assign(o.payload.begin() + 8, o.payload.end());
    const auto v = wire::Icmpv6View::parse(o.payload);
    o.csum_ok = v && v->checksum_ok(o.src, o.dst);
  }
  return o;
}

inline std::vector<Out6> all_out6(const std::vector<SentFrame>& v) {
  std::vector<Out6> r;
  for (const auto& f : v)
    if (auto o = out6(f)) r.push_back(*o);
  return r;
}

inline std::vector<Out6> icmp6_of_type(const std::vector<SentFrame>& v, std::uint8_t type) {
  std::vector<Out6> r;
  for (auto& o : all_out6(v))
    if (o.nh == wire::kIpProtoIcmpv6 && o.type == type) r.push_back(o);
  return r;
}

inline constexpr MacAddr kMacRouter{0x02, 0x00, 0x00, 0x00, 0x00, 0x77};

// One stack with IPv6 on one fake device; the peer is a crafted host at
// fe80::99 / kMacPeer. DAD takes one retrans timer (1 s) unless off.
struct OneStack6 {
  explicit OneStack6(stack::StackConfig cfg = quiet()) : dev(kMacA), st(sched, "a", cfg) {
    ifindex = st.add_interface(dev);
    st.add_address(ifindex, ip("10.0.0.1"), 24);
    st.enable_ipv6(ifindex);
    st.add_address6(ifindex, ip6("2001:db8::1"), 64);
    sched.run_for(s_to_ps(2));  // DAD done
    dev.sent.clear();
  }
  static stack::StackConfig quiet() {
    stack::StackConfig c;
    c.ipv6.max_rtr_solicitations = 0;  // no RS noise unless a test wants it
    return c;
  }
  Ipv6Addr ll() const { return Ipv6Addr::link_local_from_mac(kMacA); }
  // Deliver an IPv6 packet from the peer's MAC to our MAC.
  void in(std::span<const std::uint8_t> pkt, MacAddr dst_mac = kMacA, MacAddr src_mac = kMacPeer) {
    dev.deliver(eth_frame(dst_mac, src_mac, pkt));
  }
  // Teaches the stack the peer's MAC (an NS from it with a source LLA).
  void learn(const Ipv6Addr& peer, MacAddr mac = kMacPeer) {
    in(ipv6_packet(peer, ll(), wire::kIpProtoIcmpv6, ns_msg(peer, ll(), ll(), mac), 255), kMacA, mac);
    dev.sent.clear();
  }
  FakeScheduler sched;
  FakeDevice dev;
  stack::Stack st;
  int ifindex = 0;
};

inline const Ipv6Addr kPeerLL = Ipv6Addr::parse("fe80::99").value();
inline const Ipv6Addr kPeerG = Ipv6Addr::parse("2001:db8::99").value();

}  // namespace vd::test
