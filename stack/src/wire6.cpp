#include "veridian/stack/wire6.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "veridian/offload/checksum.hpp"

namespace vd::stack::wire {

namespace csum = vd::offload;

Ipv6Addr load_ipv6(std::span<const std::uint8_t> s, std::size_t off) {
  Ipv6Addr a{};
  std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(off), a.b.size(), a.b.begin());
  return a;
}

// ------------------------------------------------------------ IPv6

Parsed<Ipv6View> Ipv6View::parse(std::span<const std::uint8_t> b) {
  if (b.size() < kIpv6HeaderLen) return ParseError::too_short;
  if ((b[0] >> 4) != 6) return ParseError::bad_version;
  const std::size_t plen = load_be16(b, 4);
  if (plen > b.size() - kIpv6HeaderLen) return ParseError::bad_length;
  if (plen == 0 && b[6] == kIpv6HopByHop) return ParseError::bad_length;  // jumbogram
  return Ipv6View(b.first(kIpv6HeaderLen + plen));
}

Parsed<Ipv6FragView> Ipv6FragView::parse(std::span<const std::uint8_t> b) {
  if (b.size() < kIpv6FragHeaderLen) return ParseError::too_short;
  return Ipv6FragView(b.first(kIpv6FragHeaderLen));
}

std::optional<std::vector<Ipv6Option>> parse_ipv6_options(std::span<const std::uint8_t> header) {
  std::vector<Ipv6Option> out;
  std::size_t off = 2;
  while (off < header.size()) {
    const std::uint8_t type = header[off];
    if (type == kIpv6OptPad1) {
      out.push_back({type, off, {}});
      ++off;
      continue;
    }
    if (header.size() - off < 2) return std::nullopt;
    const std::size_t len = header[off + 1];
    if (header.size() - off - 2 < len) return std::nullopt;
    out.push_back({type, off, header.subspan(off + 2, len)});
    off += 2 + len;
  }
  return out;
}

const char* to_string(ExtChain::Error e) {
  switch (e) {
    case ExtChain::Error::none: return "none";
    case ExtChain::Error::too_short: return "ext_too_short";
    case ExtChain::Error::too_many: return "ext_chain_too_long";
    case ExtChain::Error::hbh_not_first: return "hbh_not_first";
  }
  return "unknown";
}

namespace {
bool is_ext(std::uint8_t nh) {
  return nh == kIpv6HopByHop || nh == kIpv6Routing || nh == kIpv6Fragment || nh == kIpv6DestOpts;
}
}  // namespace

ExtChain walk_ext_headers(std::uint8_t first_nh, std::span<const std::uint8_t> rest, std::size_t base,
                          std::size_t first_nh_field) {
  ExtChain c;
  std::uint8_t nh = first_nh;
  std::size_t off = 0;  // into rest
  std::size_t nh_field = first_nh_field;
  while (is_ext(nh)) {
    if (c.headers.size() >= kMaxExtHeaders) {
      c.error = ExtChain::Error::too_many;
      return c;
    }
    if (nh == kIpv6HopByHop && (!c.headers.empty() || base != kIpv6HeaderLen)) {
      c.error = ExtChain::Error::hbh_not_first;
      c.nh_field_offset = nh_field;
      return c;
    }
    if (rest.size() - off < 8) {
      c.error = ExtChain::Error::too_short;
      return c;
    }
    const std::size_t len = nh == kIpv6Fragment ? kIpv6FragHeaderLen : (std::size_t(rest[off + 1]) + 1) * 8;
    if (rest.size() - off < len) {
      c.error = ExtChain::Error::too_short;
      return c;
    }
    c.headers.push_back({nh, base + off, len});
    const std::uint8_t next = rest[off];
    nh_field = base + off;  // the next-header byte is the first of every extension header
    off += len;
    nh = next;
    if (c.headers.back().type == kIpv6Fragment) {
      c.stopped_at_fragment = true;
      break;
    }
  }
  c.upper_proto = nh;
  c.upper_offset = base + off;
  c.nh_field_offset = nh_field;
  return c;
}

// ------------------------------------------------------------ ICMPv6

Parsed<Icmpv6View> Icmpv6View::parse(std::span<const std::uint8_t> b) {
  if (b.size() < kIcmpv6HeaderLen) return ParseError::too_short;
  return Icmpv6View(b);
}

bool Icmpv6View::checksum_ok(const Ipv6Addr& src, const Ipv6Addr& dst) const {
  const std::uint32_t ph = csum::pseudo_header_v6(src.b, dst.b, kIpProtoIcmpv6, static_cast<std::uint32_t>(b_.size()));
  return csum::internet_checksum(b_, ph) == 0;
}

// ------------------------------------------------------------ ND

std::optional<NdOptions> parse_nd_options(std::span<const std::uint8_t> opts) {
  NdOptions o;
  std::size_t off = 0;
  while (off < opts.size()) {
    if (opts.size() - off < 2) return std::nullopt;
    const std::uint8_t type = opts[off];
    const std::size_t len = std::size_t(opts[off + 1]) * 8;
    if (len == 0 || opts.size() - off < len) return std::nullopt;
    const auto opt = opts.subspan(off, len);
    switch (type) {
      case kNdOptSourceLla:
      case kNdOptTargetLla:
        // Ethernet: exactly one 8-byte unit (RFC 2464 8).
        if (len != 8) return std::nullopt;
        (type == kNdOptSourceLla ? o.source_lla : o.target_lla) = load_mac(opt, 2);
        break;
      case kNdOptPrefixInfo: {
        if (len != 32) return std::nullopt;
        PrefixInfo pi;
        pi.prefix_len = opt[2];
        pi.on_link = (opt[3] & 0x80) != 0;
        pi.autonomous = (opt[3] & 0x40) != 0;
        pi.valid_lifetime = load_be32(opt, 4);
        pi.preferred_lifetime = load_be32(opt, 8);
        pi.prefix = load_ipv6(opt, 16);
        o.prefixes.push_back(pi);
        break;
      }
      case kNdOptMtu:
        if (len != 8) return std::nullopt;
        o.mtu = load_be32(opt, 4);
        break;
      case kNdOptRedirected:
        o.redirected_header = true;
        break;
      default:
        break;  // unknown options are ignored (RFC 4861 4.6)
    }
    off += len;
  }
  return o;
}

std::optional<std::size_t> nd_fixed_len(std::uint8_t type) {
  switch (type) {
    case kNdRouterSolicit: return 0;
    case kNdRouterAdvert: return 8;
    case kNdNeighborSolicit:
    case kNdNeighborAdvert: return 16;
    case kNdRedirect: return 32;
    default: return std::nullopt;
  }
}

// ------------------------------------------------------------ emitters

void emit_ipv6(Packet& p, const Ipv6Repr& r) {
  const std::size_t plen = p.size();
  if (plen > kIpv6MaxPayload) throw std::length_error("emit_ipv6: payload exceeds 65535 bytes");
  std::uint8_t* h = p.push(kIpv6HeaderLen);
  store_be32(h, (6u << 28) | (std::uint32_t(r.traffic_class) << 20) | (r.flow_label & 0xfffffu));
  store_be16(h + 4, static_cast<std::uint16_t>(plen));
  h[6] = r.next_header;
  h[7] = r.hop_limit;
  std::memcpy(h + 8, r.src.b.data(), 16);
  std::memcpy(h + 24, r.dst.b.data(), 16);
}

void emit_ipv6_frag(Packet& p, std::uint8_t next_header, std::size_t offset, bool more, std::uint32_t ident) {
  if (offset % 8 || offset > 0xfff8) throw std::invalid_argument("emit_ipv6_frag: bad offset");
  std::uint8_t* h = p.push(kIpv6FragHeaderLen);
  h[0] = next_header;
  h[1] = 0;
  store_be16(h + 2, static_cast<std::uint16_t>(offset | (more ? 1u : 0u)));
  store_be32(h + 4, ident);
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

void push_bytes(Packet& p, std::span<const std::uint8_t> b) {
  std::uint8_t* h = p.push(b.size());
  if (!b.empty()) std::memcpy(h, b.data(), b.size());
}

void emit_nd_lla(Packet& p, std::uint8_t type, const MacAddr& mac) {
  std::uint8_t* h = p.push(8);
  h[0] = type;
  h[1] = 1;
  std::memcpy(h + 2, mac.data(), 6);
}

void emit_nd_prefix(Packet& p, const PrefixInfo& pi) {
  std::uint8_t* h = p.push(32);
  std::memset(h, 0, 32);
  h[0] = kNdOptPrefixInfo;
  h[1] = 4;
  h[2] = pi.prefix_len;
  h[3] = static_cast<std::uint8_t>((pi.on_link ? 0x80 : 0) | (pi.autonomous ? 0x40 : 0));
  store_be32(h + 4, pi.valid_lifetime);
  store_be32(h + 8, pi.preferred_lifetime);
  const Ipv6Addr pfx = prefix_of(pi.prefix, pi.prefix_len);
  std::memcpy(h + 16, pfx.b.data(), 16);
}

void emit_nd_mtu(Packet& p, std::uint32_t mtu) {
  std::uint8_t* h = p.push(8);
  h[0] = kNdOptMtu;
  h[1] = 1;
  store_be16(h + 2, 0);
  store_be32(h + 4, mtu);
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
  const std::size_t len = kUdpHeaderLen + p.size();
  if (len > 0xffff) throw std::length_error("emit_udp6: datagram exceeds 65535 bytes");
  std::uint8_t* h = p.push(kUdpHeaderLen);
  store_be16(h, src_port);
  store_be16(h + 2, dst_port);
  store_be16(h + 4, static_cast<std::uint16_t>(len));
  store_be16(h + 6, 0);
  const std::span<const std::uint8_t> all = p.bytes();
  store_be16(h + 6, udp6_checksum(src, dst, all.first(kUdpHeaderLen), all.subspan(kUdpHeaderLen)));
}

bool udp6_checksum_ok(std::span<const std::uint8_t> udp_msg, const Ipv6Addr& src, const Ipv6Addr& dst) {
  const std::uint32_t ph = csum::pseudo_header_v6(src.b, dst.b, kIpProtoUdp, static_cast<std::uint32_t>(udp_msg.size()));
  return csum::internet_checksum(udp_msg, ph) == 0;
}

}  // namespace vd::stack::wire
