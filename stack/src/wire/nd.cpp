#include "veridian/stack/wire/nd.hpp"

#include <cstring>

namespace vd::stack::wire {

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

}  // namespace vd::stack::wire
