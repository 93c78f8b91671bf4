#include "veridian/offload/frame_layout.hpp"

namespace vd::offload {

namespace {

constexpr std::size_t kEthLen = 14;
constexpr std::size_t kVlanLen = 4;
constexpr std::size_t kIpv6HdrLen = 40;
// Bound on the extension-header chain, so a crafted loop of headers cannot
// cost more than a fixed amount of work (the chain can only move forward, but
// this keeps the model's cost predictable like the hardware's).
constexpr int kMaxExtHeaders = 8;

LayoutError parse_ipv4(std::span<const std::uint8_t> f, FrameLayout& l) {
  if (f.size() - l.l3_off < 20) return LayoutError::too_short;
  const std::uint8_t vihl = f[l.l3_off];
  if ((vihl >> 4) != 4) return LayoutError::bad_version;
  const std::size_t ihl = std::size_t(vihl & 0x0f) * 4;
  if (ihl < 20) return LayoutError::bad_ihl;
  if (f.size() - l.l3_off < ihl) return LayoutError::too_short;
  const std::size_t total = be::load16(f, l.l3_off + 2);
  if (total < ihl || total > f.size() - l.l3_off) return LayoutError::bad_length;
  const std::uint16_t frag = be::load16(f, l.l3_off + 6);
  l.l3 = L3Type::ipv4;
  l.ip_hdr_len = ihl;
  l.l4_off = l.l3_off + ihl;
  l.l3_end = l.l3_off + total;
  l.l4_proto = f[l.l3_off + 9];
  l.fragment = (frag & 0x2000) != 0 || (frag & 0x1fff) != 0;
  return LayoutError::none;
}

LayoutError parse_ipv6(std::span<const std::uint8_t> f, FrameLayout& l, std::size_t window) {
  if (f.size() - l.l3_off < kIpv6HdrLen) return LayoutError::too_short;
  if ((f[l.l3_off] >> 4) != 6) return LayoutError::bad_version;
  const std::size_t plen = be::load16(f, l.l3_off + 4);
  if (plen > f.size() - l.l3_off - kIpv6HdrLen) return LayoutError::bad_length;
  l.l3 = L3Type::ipv6;
  l.ip_hdr_len = kIpv6HdrLen;
  l.l3_end = l.l3_off + kIpv6HdrLen + plen;
  std::uint8_t nh = f[l.l3_off + 6];
  std::size_t off = l.l3_off + kIpv6HdrLen;
  for (int n = 0; n < kMaxExtHeaders; ++n) {
    if (nh != kIpv6HopByHop && nh != kIpv6Routing && nh != kIpv6DestOpts && nh != kIpv6Fragment) break;
    if (window < 8 || off > window - 8) break;  // beyond what the parser sees
    if (l.l3_end - off < 8) return LayoutError::too_short;
    const std::uint8_t next = f[off];
    std::size_t len = 8;
    if (nh == kIpv6Fragment) {
      l.fragment = true;
      l.has_ipv6_frag_header = true;
    } else {
      len = (std::size_t(f[off + 1]) + 1) * 8;
      if (l.l3_end - off < len) return LayoutError::too_short;
    }
    off += len;
    nh = next;
  }
  l.l4_off = off;
  l.l4_proto = nh;
  return LayoutError::none;
}

}  // namespace

LayoutResult parse_layout(std::span<const std::uint8_t> frame, std::size_t window) {
  LayoutResult r;
  if (frame.size() < kEthLen) {
    r.error = LayoutError::too_short;
    return r;
  }
  std::size_t off = 12;
  std::uint16_t type = be::load16(frame, off);
  if (type == kEtherTypeVlan) {
    if (frame.size() < kEthLen + kVlanLen) {
      r.error = LayoutError::too_short;
      return r;
    }
    off += kVlanLen;
    type = be::load16(frame, off);
  }
  r.layout.l3_off = off + 2;
  if (type == kEtherTypeIpv4) {
    r.error = parse_ipv4(frame, r.layout);
  } else if (type == kEtherTypeIpv6) {
    r.error = parse_ipv6(frame, r.layout, window);
  } else {
    r.error = LayoutError::not_ip;
  }
  if (!r.ok()) r.layout = FrameLayout{};
  return r;
}

}  // namespace vd::offload
