#include "veridian/stack/wire/tcp.hpp"

#include <stdexcept>

#include "veridian/offload/checksum.hpp"
#include "sw_checksum.hpp"

namespace vd::stack::wire {

namespace csum = vd::stack::sw_csum;

Parsed<TcpView> TcpView::parse(std::span<const std::uint8_t> b) {
  if (b.size() < kTcpMinHeaderLen) return ParseError::too_short;
  const std::size_t hl = std::size_t(b[12] >> 4) * 4;
  if (hl < kTcpMinHeaderLen || hl > b.size()) return ParseError::bad_length;
  return TcpView(b);
}

std::optional<TcpOptions> TcpView::options() const {
  TcpOptions o;
  const auto s = options_bytes();
  std::size_t i = 0;
  while (i < s.size()) {
    const std::uint8_t kind = s[i];
    if (kind == 0) break;  // end of list
    if (kind == 1) {       // no-op
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return std::nullopt;
    const std::size_t len = s[i + 1];
    if (len < 2 || i + len > s.size()) return std::nullopt;
    const auto v = s.subspan(i + 2, len - 2);
    switch (kind) {
      case 2:
        if (len == 4) o.mss = load_be16(v, 0);
        break;
      case 3:
        if (len == 3) o.wscale = v[0];
        break;
      case 4:
        if (len == 2) o.sack_permitted = true;
        break;
      case 5:
        if ((len - 2) % 8 == 0) {
          for (std::size_t k = 0; k + 8 <= v.size() && o.sack_count < o.sack.size(); k += 8)
            o.sack[o.sack_count++] = {load_be32(v, k), load_be32(v, k + 4)};
        }
        break;
      case 8:
        if (len == 10) o.timestamps = std::pair{load_be32(v, 0), load_be32(v, 4)};
        break;
      default:
        break;  // unknown: skipped by its length
    }
    i += len;
  }
  return o;
}

bool TcpView::checksum_ok(Ipv4Addr src, Ipv4Addr dst) const {
  const std::uint32_t ph = csum::pseudo_header_v4(src.b, dst.b, kIpProtoTcp, static_cast<std::uint16_t>(b_.size()));
  return csum::internet_checksum(b_, ph) == 0;
}

bool TcpView::checksum_ok(const Ipv6Addr& src, const Ipv6Addr& dst) const {
  const std::uint32_t ph = csum::pseudo_header_v6(src.b, dst.b, kIpProtoTcp, static_cast<std::uint32_t>(b_.size()));
  return csum::internet_checksum(b_, ph) == 0;
}

std::size_t tcp_header_len(const TcpOptions& o) {
  std::size_t n = 0;
  if (o.mss) n += 4;
  if (o.wscale) n += 4;          // NOP + 3
  if (o.sack_permitted) n += 4;  // NOP NOP + 2 (or with timestamps)
  if (o.timestamps) n += 12;     // NOP NOP + 10
  if (o.sack_count) n += 4 + 8 * std::size_t(o.sack_count);  // NOP NOP + 2 + 8n
  return kTcpMinHeaderLen + ((n + 3) & ~std::size_t(3));
}

namespace {

// Writes the header (checksum field zero) in front of the payload; returns
// it. `len` gets the segment length (header + payload).
std::uint8_t* write_tcp_header(Packet& p, const TcpRepr& r, std::size_t& len) {
  const std::size_t hl = tcp_header_len(r.opts);
  if (hl > kTcpMaxHeaderLen) throw std::length_error("emit_tcp: options exceed 40 bytes");
  len = hl + p.size();
  if (len > 0xffff) throw std::length_error("emit_tcp: segment exceeds 65535 bytes");
  std::uint8_t* h = p.push(hl);
  store_be16(h, r.src_port);
  store_be16(h + 2, r.dst_port);
  store_be32(h + 4, r.seq);
  store_be32(h + 8, r.ack);
  h[12] = static_cast<std::uint8_t>((hl / 4) << 4);
  h[13] = r.flags;
  store_be16(h + 14, r.window);
  store_be16(h + 16, 0);
  store_be16(h + 18, 0);
  std::uint8_t* o = h + kTcpMinHeaderLen;
  if (r.opts.mss) {
    o[0] = 2, o[1] = 4;
    store_be16(o + 2, *r.opts.mss);
    o += 4;
  }
  if (r.opts.sack_permitted) {
    o[0] = 1, o[1] = 1, o[2] = 4, o[3] = 2;
    o += 4;
  }
  if (r.opts.timestamps) {
    o[0] = 1, o[1] = 1, o[2] = 8, o[3] = 10;
    store_be32(o + 4, r.opts.timestamps->first);
    store_be32(o + 8, r.opts.timestamps->second);
    o += 12;
  }
  if (r.opts.wscale) {
    o[0] = 1, o[1] = 3, o[2] = 3, o[3] = *r.opts.wscale;
    o += 4;
  }
  if (r.opts.sack_count) {
    o[0] = 1, o[1] = 1, o[2] = 5, o[3] = static_cast<std::uint8_t>(2 + 8 * r.opts.sack_count);
    o += 4;
    for (std::size_t k = 0; k < r.opts.sack_count; ++k, o += 8) {
      store_be32(o, r.opts.sack[k].left);
      store_be32(o + 4, r.opts.sack[k].right);
    }
  }
  while (o < h + hl) *o++ = 0;  // end-of-list padding
  return h;
}

void finish_checksum(Packet& p, std::uint8_t* h, std::uint32_t ph, bool offload) {
  if (offload) {
    store_be16(h + 16, csum::csum_fold(ph));
    p.meta.tx_csum_partial = true;
    p.meta.csum_offset = 16;
    return;
  }
  store_be16(h + 16, csum::internet_checksum(p.bytes(), ph));
}

}  // namespace

void emit_tcp(Packet& p, const TcpRepr& r, Ipv4Addr src, Ipv4Addr dst, bool offload) {
  std::size_t len = 0;
  std::uint8_t* h = write_tcp_header(p, r, len);
  finish_checksum(p, h, csum::pseudo_header_v4(src.b, dst.b, kIpProtoTcp, static_cast<std::uint16_t>(len)), offload);
}

void emit_tcp(Packet& p, const TcpRepr& r, const Ipv6Addr& src, const Ipv6Addr& dst, bool offload) {
  std::size_t len = 0;
  std::uint8_t* h = write_tcp_header(p, r, len);
  finish_checksum(p, h, csum::pseudo_header_v6(src.b, dst.b, kIpProtoTcp, static_cast<std::uint32_t>(len)), offload);
}

}  // namespace vd::stack::wire
