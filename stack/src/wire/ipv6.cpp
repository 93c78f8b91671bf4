#include "veridian/stack/wire/ipv6.hpp"

#include <cstring>
#include <stdexcept>

namespace vd::stack::wire {

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

void push_bytes(Packet& p, std::span<const std::uint8_t> b) {
  std::uint8_t* h = p.push(b.size());
  if (!b.empty()) std::memcpy(h, b.data(), b.size());
}

}  // namespace vd::stack::wire
