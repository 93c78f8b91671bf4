#include "veridian/offload/csum_offload.hpp"

#include "veridian/offload/checksum.hpp"
#include "veridian/offload/frame_layout.hpp"

namespace vd::offload {

namespace {

// Position of the L4 checksum field, or 0 when this frame has none we handle.
std::size_t l4_csum_field(const FrameLayout& l) {
  if (l.fragment) return 0;
  if (l.l4_proto == kProtoTcp && l.l4_len() >= 20) return l.l4_off + 16;
  if (l.l4_proto == kProtoUdp && l.l4_len() >= 8) return l.l4_off + 6;
  return 0;
}

std::uint32_t pseudo(std::span<const std::uint8_t> f, const FrameLayout& l) {
  if (l.l3 == L3Type::ipv4) {
    return pseudo_header_v4(f.subspan(l.l3_off + 12).first<4>(), f.subspan(l.l3_off + 16).first<4>(), l.l4_proto,
                            static_cast<std::uint16_t>(l.l4_len()));
  }
  return pseudo_header_v6(f.subspan(l.l3_off + 8).first<16>(), f.subspan(l.l3_off + 24).first<16>(), l.l4_proto,
                          static_cast<std::uint32_t>(l.l4_len()));
}

}  // namespace

bool insert_partial(std::span<std::uint8_t> frame, std::size_t start, std::size_t offset) {
  const std::size_t n = frame.size();
  if (start > n || offset > n - start || n - start - offset < 2) return false;
  const std::uint16_t c = internet_checksum(frame.subspan(start));
  be::store16(frame, start + offset, c);
  return true;
}

InsertResult insert_full(std::span<std::uint8_t> frame) {
  InsertResult r;
  const LayoutResult pr = parse_layout(frame);
  if (!pr.ok()) return r;
  r.parsed = true;
  const FrameLayout& l = pr.layout;
  if (l.l3 == L3Type::ipv4) {
    be::store16(frame, l.l3_off + 10, 0);
    be::store16(frame, l.l3_off + 10, internet_checksum(frame.subspan(l.l3_off, l.ip_hdr_len)));
    r.ip_header = true;
  }
  const std::size_t field = l4_csum_field(l);
  if (field != 0) {
    be::store16(frame, field, 0);
    std::uint16_t c = internet_checksum(frame.subspan(l.l4_off, l.l4_len()), pseudo(frame, l));
    if (c == 0 && l.l4_proto == kProtoUdp) c = 0xffff;
    be::store16(frame, field, c);
    r.l4 = true;
  }
  return r;
}

std::string_view to_string(CsumStatus s) {
  switch (s) {
    case CsumStatus::not_checked: return "not_checked";
    case CsumStatus::good: return "good";
    case CsumStatus::bad: return "bad";
  }
  return "?";
}

RxCsum verify(std::span<const std::uint8_t> frame, std::size_t parse_window) {
  RxCsum r;
  const LayoutResult pr = parse_layout(frame, parse_window);
  if (!pr.ok()) return r;
  const FrameLayout& l = pr.layout;
  if (l.l3 == L3Type::ipv4) {
    r.ip = internet_checksum(frame.subspan(l.l3_off, l.ip_hdr_len)) == 0 ? CsumStatus::good : CsumStatus::bad;
  }
  const std::size_t field = l4_csum_field(l);
  if (field == 0) return r;
  if (parse_window < 8 || l.l4_off > parse_window - 8) return r;  // past what the parser sees
  if (l.l4_proto == kProtoUdp && be::load16(frame, field) == 0) {
    r.l4 = l.l3 == L3Type::ipv4 ? CsumStatus::not_checked : CsumStatus::bad;
    return r;
  }
  r.l4 = internet_checksum(frame.subspan(l.l4_off, l.l4_len()), pseudo(frame, l)) == 0 ? CsumStatus::good
                                                                                         : CsumStatus::bad;
  return r;
}

}  // namespace vd::offload
