// IPv4: input checks and options, local delivery, forwarding, output and
// fragmentation. Reassembly is in ipv4_reasm.cpp, ICMP in icmp.cpp.
#include <algorithm>
#include <cstring>

#include "stack_impl.hpp"
#include "wire/sw_checksum.hpp"
#include "tcp/transport.hpp"
#include "veridian/offload/checksum.hpp"
#include "veridian/offload/csum_offload.hpp"

namespace vd::stack {

namespace {

using Csum = OffloadMeta::Csum;

// Trust the device's verdict when it checked; verify in software otherwise.
bool header_csum_ok(Csum dev, const wire::Ipv4View& ip) {
  if (dev == Csum::Good) return true;
  if (dev == Csum::Bad) return false;
  return ip.checksum_ok();
}

constexpr std::uint8_t kOptEol = 0, kOptNop = 1;
constexpr std::uint8_t kOptLsrr = 131, kOptSsrr = 137;

// Walks the options (RFC 791 3.1). Returns the offset (from the start of the
// IP header) of the first malformed byte for a parameter problem, 0 when the
// options are well formed. Sets *source_route for LSRR/SSRR, which we refuse
// to honour (RFC 7126 4.3/4.4: a classic spoofing tool).
std::size_t check_options(std::span<const std::uint8_t> opts, bool* source_route) {
  std::size_t i = 0;
  while (i < opts.size()) {
    const std::uint8_t t = opts[i];
    if (t == kOptEol) break;
    if (t == kOptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= opts.size()) return wire::kIpv4MinHeaderLen + i;
    const std::size_t len = opts[i + 1];
    if (len < 2 || i + len > opts.size()) return wire::kIpv4MinHeaderLen + i + 1;
    if (t == kOptLsrr || t == kOptSsrr) *source_route = true;
    i += len;
  }
  return 0;
}

// The options a later fragment repeats: those with the "copied" bit
// (RFC 791 3.2), padded with end-of-list to a multiple of four bytes.
std::vector<std::uint8_t> copied_options(std::span<const std::uint8_t> opts) {
  std::vector<std::uint8_t> out;
  std::size_t i = 0;
  while (i < opts.size() && opts[i] != kOptEol) {
    if (opts[i] == kOptNop) {
      ++i;
      continue;
    }
    const std::size_t len = opts[i + 1];  // validated by check_options
    if (opts[i] & 0x80) out.insert(out.end(), opts.begin() + static_cast<std::ptrdiff_t>(i),
                                   opts.begin() + static_cast<std::ptrdiff_t>(i + len));
    i += len;
  }
  while (out.size() % 4) out.push_back(kOptEol);
  return out;
}

}  // namespace

// ------------------------------------------------------------ input

bool Stack::Impl::ipv4_accepts(const Iface& ifc, Ipv4Addr dst) const {
  // Weak host model: any of our addresses, whichever interface it came in on.
  // On lo, all of 127/8 is ours (Linux's "local 127.0.0.0/8 dev lo").
  return is_our_addr(dst) || dst.is_broadcast() || ifc.is_subnet_broadcast(dst) || (ifc.loopback && dst.b[0] == 127);
}

void Stack::Impl::ipv4_input(Iface& ifc, Packet&& p, bool link_bcast) {
  count_work(Work::ipv4_rx);
  const auto ip = wire::Ipv4View::parse(p.bytes());
  if (!ip) return drop("ipv4", ip.reason());
  if (!header_csum_ok(p.meta.rx_csum_ip, *ip)) return drop("ipv4", "bad_checksum");
  const Ipv4Addr src = ip->src();
  if (src.is_broadcast() || src.is_multicast() || ifc.is_subnet_broadcast(src)) return drop("ipv4", "bad_source");
  if (!ifc.loopback) {
    // 127/8 never comes off a wire (RFC 1122 3.2.1.3(g); Linux's martians).
    if (src.b[0] == 127 || ip->dst().b[0] == 127) return drop("ipv4", "martian");
    if (is_our_addr(src)) return drop("ipv4", "own_source");  // spoofed, or looped back to us
  }
  if (ip->header_len() > wire::kIpv4MinHeaderLen) {
    bool source_route = false;
    if (const std::size_t bad = check_options(ip->options(), &source_route)) {
      icmp_error(ip->header(), link_bcast, wire::kIcmpParamProblem, 0, std::uint32_t(bad) << 24);
      return drop("ipv4", "bad_option");
    }
    if (source_route) return drop("ipv4", "source_route");
  }
  p.trim(ip->total_length());  // Ethernet padding is not part of the datagram
  if (!pass_hook(filter::Family::ipv4, filter::Hook::prerouting, p, ifc.index, -1)) return;
  if (ipv4_accepts(ifc, ip->dst())) return ipv4_local(ifc, std::move(p), link_bcast);
  if (!cfg.ip_forward) return drop("ipv4", "not_for_us");
  ipv4_forward(ifc, std::move(p), link_bcast);
}

void Stack::Impl::ipv4_local(Iface& ifc, Packet&& p, bool link_bcast) {
  {
    const auto ip = wire::Ipv4View::parse(p.bytes());
    if (ip->more_fragments() || ip->frag_offset() != 0) {
      p = ipv4_reassemble(ifc, std::move(p));
      if (!p) return;
    }
  }
  if (!pass_hook(filter::Family::ipv4, filter::Hook::input, p, ifc.index, -1)) return;
  const auto ip = wire::Ipv4View::parse(p.bytes());  // the whole datagram now
  if (!ip) return drop("ipv4", ip.reason());
  const std::uint8_t proto = ip->protocol();
  const Ipv4Info info{ip->src(), ip->dst(), is_our_addr(ip->dst()), link_bcast, ip->ttl(), ip->header_len()};
  // Raw sockets get a copy first, header included (Linux semantics); a
  // protocol only they handle is not refused with ICMP.
  const bool raw = !raw_all.empty() && raw_input(info.src, info.dst, proto, p.bytes());
  if (proto != wire::kIpProtoIcmp && proto != wire::kIpProtoUdp && proto != wire::kIpProtoTcp) {
    if (raw) return count_rx("ipv4", ip->total_length());
    if (info.to_us_unicast) icmp_error(p.bytes(), link_bcast, wire::kIcmpDestUnreachable, wire::kIcmpCodeProtocol);
    return drop("ipv4", "unknown_protocol");
  }
  count_rx("ipv4", ip->total_length());
  p.pull(ip->header_len());  // options, if any, are skipped
  if (proto == wire::kIpProtoIcmp)
    icmp_input(ifc, info, std::move(p));
  else if (proto == wire::kIpProtoTcp)
    tcp_input(*tcp, info, std::move(p));
  else
    udp_input(ifc, info, std::move(p));
}

// RFC 1812 5.2/5.3: no link-layer broadcasts, no multicast, TTL decremented
// with an incremental checksum update, ICMP time exceeded / unreachable /
// fragmentation needed as the case may be.
void Stack::Impl::ipv4_forward(Iface& in, Packet&& p, bool link_bcast) {
  count_work(Work::ipv4_tx);
  const auto ip = wire::Ipv4View::parse(p.bytes());
  if (link_bcast) return drop("ipv4", "forward_link_broadcast");
  const Ipv4Addr dst = ip->dst();
  if (dst.is_multicast() || dst.is_unspecified() || ip->src().is_unspecified())
    return drop("ipv4", "forward_not_unicast");
  if (ip->ttl() <= 1) {
    icmp_error(p.bytes(), false, wire::kIcmpTimeExceeded, wire::kIcmpCodeTtl);
    return drop("ipv4", "ttl_exceeded");
  }
  const auto r = route(dst);
  if (!r) {
    icmp_error(p.bytes(), false, wire::kIcmpDestUnreachable, wire::kIcmpCodeNet);
    return drop("ipv4", "no_route");
  }
  if (r->broadcast) return drop("ipv4", "forward_directed_broadcast");  // RFC 2644
  // TTL lives in the high byte of the 16-bit word at offset 8.
  std::uint8_t* h = p.data();
  const std::uint16_t old_word = static_cast<std::uint16_t>((h[8] << 8) | h[9]);
  h[8] = static_cast<std::uint8_t>(h[8] - 1);
  const std::uint16_t new_word = static_cast<std::uint16_t>((h[8] << 8) | h[9]);
  wire::store_be16(h + 10, offload::csum_update16(ip->checksum(), old_word, new_word));
  // Linux runs forward, then postrouting, before fragmenting (ip_forward.c, ip_output.c).
  if (!pass_hook(filter::Family::ipv4, filter::Hook::forward, p, in.index, r->ifc->index)) return;
  if (!pass_hook(filter::Family::ipv4, filter::Hook::postrouting, p, in.index, r->ifc->index)) return;
  const std::size_t mtu = r->ifc->mtu();
  p.meta = OffloadMeta{};
  if (p.size() > mtu) {
    if (ip->dont_fragment()) {
      icmp_error(p.bytes(), false, wire::kIcmpDestUnreachable, wire::kIcmpCodeFragNeeded,
                 static_cast<std::uint32_t>(mtu));
      return drop("ipv4", "frag_needed");
    }
    if (!ipv4_fragment(*r, std::move(p), mtu)) event("ipv4", "forwarded");
    return;
  }
  if (!ipv4_send_datagram(*r, std::move(p))) event("ipv4", "forwarded");
}

// ------------------------------------------------------------ output

std::error_code Stack::Impl::ipv4_output(const Route& r, std::uint8_t proto, Packet&& p, const Ipv4TxOpts& o) {
  count_work(Work::ipv4_tx);
  // A TSO send is larger than the MTU on purpose: the NIC cuts it.
  const std::size_t mtu = p.meta.tso_mss ? wire::kIpv4MaxTotalLen : path_mtu(r);
  const std::size_t total = wire::kIpv4MinHeaderLen + p.size();
  if (total > wire::kIpv4MaxTotalLen) return make_err(std::errc::message_size);
  if (total > mtu && o.dont_fragment) return make_err(std::errc::message_size);
  wire::emit_ipv4(p, {r.src, r.dst, proto, o.ttl ? o.ttl : cfg.default_ttl, next_ip_id++, o.tos, o.dont_fragment});
  // The IPv4 header checksum is computed here; an L4 checksum request set by
  // the transport (CHECKSUM_PARTIAL) is kept for the device.
  p.meta.l3_offset = wire::kEthHeaderLen;
  p.meta.l4_offset = wire::kEthHeaderLen + wire::kIpv4MinHeaderLen;
  // A datagram a hook drops on the way out fails with EPERM, as on Linux.
  if (!pass_hook(filter::Family::ipv4, filter::Hook::output, p, -1, r.ifc->index) ||
      !pass_hook(filter::Family::ipv4, filter::Hook::postrouting, p, -1, r.ifc->index))
    return make_err(std::errc::operation_not_permitted);
  if (total > mtu) return ipv4_fragment(r, std::move(p), mtu);
  return ipv4_send_datagram(r, std::move(p));
}

std::error_code Stack::Impl::ipv4_send_datagram(const Route& r, Packet&& p) {
  BufferPool& pool = r.ifc->dev->pool();
  if (p.pool() != &pool && p.pool() != r.ifc->dev->tso_pool()) {
    // Built in the stack's large pool, which the device cannot DMA from:
    // one counted copy into a device buffer, if the datagram fits one.
    Packet q = pool.alloc();
    if (!q) return make_err(std::errc::no_buffer_space);
    if (q.tailroom() < std::max(p.size(), wire::kEthMinFrame) ||
        q.headroom() < wire::kEthHeaderLen + wire::kVlanTagLen) {
      drop("ipv4", "datagram_exceeds_buffer");
      return make_err(std::errc::message_size);
    }
    std::memcpy(q.append(p.size()), p.data(), p.size());
    pool.count_copy_in(p.size());
    q.meta = p.meta;
    p = std::move(q);
  }
  const std::size_t n = p.size();
  const std::error_code ec = neigh_output(*r.ifc, r.next_hop, r.broadcast, std::move(p));
  if (!ec) count_tx("ipv4", n);
  return ec;
}

// RFC 791 3.2: every fragment but the last carries a multiple of 8 payload
// bytes; the first keeps all options, later ones only the "copied" ones.
// A checksum the device was to finish cannot span fragments, so it is
// finished here first.
std::error_code Stack::Impl::ipv4_fragment(const Route& r, Packet&& p, std::size_t mtu) {
  if (p.meta.tx_csum_partial) {
    const std::size_t start = p.meta.csum_start - p.meta.l3_offset;
    if (!offload::insert_partial(p.bytes(), start, p.meta.csum_offset)) {
      drop("ipv4", "bad_csum_request");
      return make_err(std::errc::invalid_argument);
    }
  }
  const auto ip = wire::Ipv4View::parse(p.bytes());
  if (!ip) {
    drop("ipv4", "fragment_bad_datagram");
    return make_err(std::errc::invalid_argument);
  }
  const std::span<const std::uint8_t> head = ip->header();
  const std::vector<std::uint8_t> later_opts = copied_options(ip->options());
  const std::span<const std::uint8_t> payload = ip->payload();
  const std::size_t base_off = std::size_t(ip->frag_offset()) * 8;
  const bool orig_mf = ip->more_fragments();
  BufferPool& pool = r.ifc->dev->pool();
  std::size_t off = 0;
  unsigned sent = 0;
  while (off < payload.size()) {
    const std::size_t hlen = off == 0 ? head.size() : wire::kIpv4MinHeaderLen + later_opts.size();
    if (mtu < hlen + 8) {
      drop("ipv4", "mtu_too_small");
      return make_err(std::errc::message_size);
    }
    const std::size_t room = (mtu - hlen) & ~std::size_t(7);
    const std::size_t n = std::min(room, payload.size() - off);
    const bool last = off + n == payload.size();
    Packet f = pool.alloc();
    if (!f || f.tailroom() < std::max(hlen + n, wire::kEthMinFrame)) {
      drop("ipv4", "fragment_no_buffer");
      return make_err(std::errc::no_buffer_space);
    }
    std::uint8_t* d = f.append(hlen + n);
    std::memcpy(d, head.data(), wire::kIpv4MinHeaderLen);
    if (off == 0)
      std::memcpy(d + wire::kIpv4MinHeaderLen, head.data() + wire::kIpv4MinHeaderLen, head.size() - wire::kIpv4MinHeaderLen);
    else if (!later_opts.empty())
      std::memcpy(d + wire::kIpv4MinHeaderLen, later_opts.data(), later_opts.size());
    std::memcpy(d + hlen, payload.data() + off, n);
    pool.count_copy_in(hlen + n);
    d[0] = static_cast<std::uint8_t>(0x40 | (hlen / 4));
    wire::store_be16(d + 2, static_cast<std::uint16_t>(hlen + n));
    const std::uint16_t flags = static_cast<std::uint16_t>((ip->dont_fragment() ? wire::kIpv4FlagDf : 0) |
                                                           ((!last || orig_mf) ? wire::kIpv4FlagMf : 0));
    wire::store_be16(d + 6, static_cast<std::uint16_t>(flags | ((base_off + off) / 8)));
    wire::store_be16(d + 10, 0);
    wire::store_be16(d + 10, sw_csum::internet_checksum({d, hlen}));
    f.meta.l3_offset = wire::kEthHeaderLen;
    if (const auto ec = ipv4_send_datagram(r, std::move(f))) return ec;
    ++sent;
    off += n;
  }
  event("ipv4", "fragmented");
  event("ipv4", "fragments_sent", sent);
  return {};
}

}  // namespace vd::stack
