#include "veridian/offload/tso.hpp"

#include <algorithm>

#include "veridian/offload/checksum.hpp"
#include "veridian/offload/frame_layout.hpp"

namespace vd::offload {

namespace {
constexpr std::uint8_t kTcpFin = 0x01;
constexpr std::uint8_t kTcpPsh = 0x08;
constexpr std::uint8_t kTcpCwr = 0x80;
}  // namespace

std::string_view to_string(TsoError e) {
  switch (e) {
    case TsoError::none: return "none";
    case TsoError::not_ip: return "not_ip";
    case TsoError::malformed: return "malformed";
    case TsoError::truncated: return "truncated";
    case TsoError::not_tcp: return "not_tcp";
    case TsoError::fragment: return "fragment";
    case TsoError::mss_zero: return "mss_zero";
    case TsoError::header_too_long: return "header_too_long";
  }
  return "?";
}

TsoResult tso_segment(std::span<const std::uint8_t> frame, std::uint16_t mss) {
  TsoResult r;
  const LayoutResult pr = parse_layout(frame);
  switch (pr.error) {
    case LayoutError::none: break;
    case LayoutError::not_ip: r.error = TsoError::not_ip; return r;
    case LayoutError::too_short:
    case LayoutError::bad_length: r.error = TsoError::truncated; return r;
    case LayoutError::bad_version:
    case LayoutError::bad_ihl: r.error = TsoError::malformed; return r;
  }
  const FrameLayout& l = pr.layout;
  if (l.fragment) {
    r.error = TsoError::fragment;
    return r;
  }
  if (l.l4_proto != kProtoTcp) {
    r.error = TsoError::not_tcp;
    return r;
  }
  if (mss == 0) {
    r.error = TsoError::mss_zero;
    return r;
  }
  if (l.l4_len() < 20) {
    r.error = TsoError::truncated;
    return r;
  }
  const std::size_t tcp_len = std::size_t(frame[l.l4_off + 12] >> 4) * 4;
  if (tcp_len < 20) {
    r.error = TsoError::malformed;
    return r;
  }
  if (tcp_len > l.l4_len()) {
    r.error = TsoError::truncated;
    return r;
  }
  const std::size_t hdr_len = l.l4_off + tcp_len;
  if (hdr_len > kTsoMaxHeaderLen) {
    r.error = TsoError::header_too_long;
    return r;
  }

  const bool v4 = l.l3 == L3Type::ipv4;
  const auto headers = frame.first(hdr_len);
  const auto payload = frame.subspan(hdr_len, l.l3_end - hdr_len);
  const std::size_t nseg = payload.empty() ? 1 : (payload.size() + mss - 1) / mss;
  const std::uint16_t ip_id = v4 ? be::load16(frame, l.l3_off + 4) : 0;
  const std::uint32_t seq = be::load32(frame, l.l4_off + 4);
  const std::uint8_t flags = frame[l.l4_off + 13];
  const std::size_t ip_ext_len = l.l4_off - l.l3_off - l.ip_hdr_len;  // IPv4 options are in ip_hdr_len

  r.segments.reserve(nseg);
  for (std::size_t i = 0; i < nseg; ++i) {
    const std::size_t off = i * mss;
    const std::size_t len = std::min<std::size_t>(mss, payload.size() - off);
    std::vector<std::uint8_t> seg(headers.begin(), headers.end());
    seg.insert(seg.end(), payload.begin() + static_cast<std::ptrdiff_t>(off),
               payload.begin() + static_cast<std::ptrdiff_t>(off + len));
    const std::span<std::uint8_t> s(seg);
    const std::size_t l4_total = tcp_len + len;

    std::uint8_t f = flags;
    if (i != 0) f = static_cast<std::uint8_t>(f & ~kTcpCwr);
    if (i + 1 != nseg) f = static_cast<std::uint8_t>(f & ~(kTcpFin | kTcpPsh));
    s[l.l4_off + 13] = f;
    be::store32(s, l.l4_off + 4, seq + static_cast<std::uint32_t>(off));
    be::store16(s, l.l4_off + 16, 0);

    std::uint32_t pseudo = 0;
    if (v4) {
      be::store16(s, l.l3_off + 2, static_cast<std::uint16_t>(l.ip_hdr_len + l4_total));
      be::store16(s, l.l3_off + 4, static_cast<std::uint16_t>(ip_id + i));
      be::store16(s, l.l3_off + 10, 0);
      be::store16(s, l.l3_off + 10, internet_checksum(s.subspan(l.l3_off, l.ip_hdr_len)));
      pseudo = pseudo_header_v4(s.subspan(l.l3_off + 12).first<4>(), s.subspan(l.l3_off + 16).first<4>(), kProtoTcp,
                                static_cast<std::uint16_t>(l4_total));
    } else {
      be::store16(s, l.l3_off + 4, static_cast<std::uint16_t>(ip_ext_len + l4_total));
      pseudo = pseudo_header_v6(s.subspan(l.l3_off + 8).first<16>(), s.subspan(l.l3_off + 24).first<16>(), kProtoTcp,
                                static_cast<std::uint32_t>(l4_total));
    }
    be::store16(s, l.l4_off + 16, internet_checksum(s.subspan(l.l4_off), pseudo));
    r.segments.push_back(std::move(seg));
  }
  return r;
}

}  // namespace vd::offload
