// IPv4 input/output and ICMP echo.
#include <cstring>

#include "stack_impl.hpp"

namespace vd::stack {

namespace {

using Csum = OffloadMeta::Csum;

// Trust the device's verdict when it checked; verify in software otherwise.
bool header_csum_ok(Csum dev, const wire::Ipv4View& ip) {
  if (dev == Csum::Good) return true;
  if (dev == Csum::Bad) return false;
  return ip.checksum_ok();
}

constexpr std::size_t kL3Offset = wire::kEthHeaderLen;
constexpr std::size_t kL4Offset = wire::kEthHeaderLen + wire::kIpv4MinHeaderLen;

}  // namespace

// ------------------------------------------------------------ IPv4

bool Stack::Impl::ipv4_accepts(const Iface& ifc, Ipv4Addr dst) const {
  // Weak host model: any of our addresses, whichever interface it came in on.
  return is_our_addr(dst) || dst.is_broadcast() || ifc.is_subnet_broadcast(dst);
}

void Stack::Impl::ipv4_input(Iface& ifc, Packet&& p) {
  const auto ip = wire::Ipv4View::parse(p.bytes());
  if (!ip) return drop("ipv4", ip.reason());
  if (!header_csum_ok(p.meta.rx_csum_ip, *ip)) return drop("ipv4", "bad_checksum");
  if (ip->more_fragments() || ip->frag_offset() != 0) return drop("ipv4", "fragment_unsupported");
  if (!ipv4_accepts(ifc, ip->dst())) return drop("ipv4", "not_for_us");
  const Ipv4Addr src = ip->src();
  if (src.is_broadcast() || src.is_multicast() || ifc.is_subnet_broadcast(src)) return drop("ipv4", "bad_source");
  const std::uint8_t proto = ip->protocol();
  if (proto != wire::kIpProtoIcmp && proto != wire::kIpProtoUdp) return drop("ipv4", "unknown_protocol");
  count_rx("ipv4", ip->total_length());
  const Ipv4Info info{src, ip->dst(), is_our_addr(ip->dst())};
  p.trim(ip->total_length());  // Ethernet padding is not part of the datagram
  p.pull(ip->header_len());    // options, if any, are skipped
  if (proto == wire::kIpProtoIcmp)
    icmp_input(ifc, info, std::move(p));
  else
    udp_input(ifc, info, std::move(p));
}

std::error_code Stack::Impl::ipv4_output(const Route& r, std::uint8_t proto, Packet&& p) {
  wire::emit_ipv4(p, {r.src, r.dst, proto, cfg.default_ttl, next_ip_id++});
  // The IPv4 header checksum is computed here; an L4 checksum request set by
  // the transport (CHECKSUM_PARTIAL) is kept for the device.
  p.meta.l3_offset = kL3Offset;
  p.meta.l4_offset = kL4Offset;
  const std::size_t n = p.size();
  const std::error_code ec = neigh_output(*r.ifc, r.dst, r.broadcast, std::move(p));
  if (!ec) count_tx("ipv4", n);
  return ec;
}

// ------------------------------------------------------------ ICMP

void Stack::Impl::icmp_input(Iface& ifc, const Ipv4Info& info, Packet&& p) {
  const auto icmp = wire::IcmpView::parse(p.bytes());
  if (!icmp) return drop("icmp", icmp.reason());
  if (!icmp->checksum_ok()) return drop("icmp", "bad_checksum");
  switch (icmp->type()) {
    case wire::kIcmpEchoRequest:
      // Like Linux's icmp_echo_ignore_broadcasts: no reply storms.
      if (!info.to_us_unicast) return drop("icmp", "broadcast_ignored");
      if (info.src.is_unspecified()) return drop("icmp", "bad_source");
      count_rx("icmp", icmp->size());
      return icmp_echo_reply(ifc, info, std::move(p));
    case wire::kIcmpEchoReply:
      return icmp_record_reply(info, *icmp);
    default:
      return drop("icmp", "unsupported_type");
  }
}

// Turns the request into the reply in its own buffer (zero-copy): same id,
// seq and payload, type 0, addresses swapped, out of the interface it came in.
void Stack::Impl::icmp_echo_reply(Iface& ifc, const Ipv4Info& info, Packet&& p) {
  constexpr std::size_t kMinTail = wire::kEthMinFrame - kL4Offset;
  const std::size_t pad = p.size() < kMinTail ? kMinTail - p.size() : 0;
  if (p.headroom() < kL4Offset || p.tailroom() < pad) {
    // A device buffer without room for our headers: copy once, counted.
    Packet q = packet_from_bytes(ifc.dev->pool(), p.bytes());
    if (!q) return drop("icmp", "no_buffer");
    p = std::move(q);
  }
  p.data()[0] = wire::kIcmpEchoReply;
  p.data()[1] = 0;
  wire::fill_icmp_checksum(p);
  const std::size_t n = p.size();
  const Route r{&ifc, info.dst, info.src, false};
  if (!ipv4_output(r, wire::kIpProtoIcmp, std::move(p))) count_tx("icmp", n);
}

void Stack::Impl::icmp_record_reply(const Ipv4Info& info, const wire::IcmpView& v) {
  const auto it = echo_sent.find({v.echo_ident(), v.echo_seq()});
  if (it == echo_sent.end()) return drop("icmp", "unmatched_reply");
  count_rx("icmp", v.size());
  st.echo_replies_.push_back(
      EchoReply{info.src, v.echo_ident(), v.echo_seq(), it->second, st.sched_.now(), v.payload().size()});
  echo_sent.erase(it);
}

std::error_code Stack::Impl::send_echo(Ipv4Addr dst, std::uint16_t id, std::uint16_t seq, std::size_t len) {
  if (len > wire::kUdpMaxPayload) return make_err(std::errc::message_size);  // 65535 - 20 - 8
  const auto r = route(dst);
  if (!r) return make_err(std::errc::network_unreachable);
  if (kL4Offset - kL3Offset + wire::kIcmpHeaderLen + len > r->ifc->dev->features().mtu)
    return make_err(std::errc::message_size);  // no fragmentation yet
  Packet p = r->ifc->dev->pool().alloc();
  if (!p) return make_err(std::errc::no_buffer_space);
  if (!fits(p, len)) return make_err(std::errc::message_size);
  std::uint8_t* d = p.append(len);
  for (std::size_t i = 0; i < len; ++i) d[i] = static_cast<std::uint8_t>(i);  // ping's pattern
  wire::emit_icmp_echo(p, wire::kIcmpEchoRequest, id, seq);
  // Bounded: forget the oldest request when too many go unanswered.
  if (echo_sent.size() >= kMaxEchoInFlight) {
    auto oldest = echo_sent.begin();
    for (auto it = echo_sent.begin(); it != echo_sent.end(); ++it)
      if (it->second < oldest->second) oldest = it;
    echo_sent.erase(oldest);
  }
  // Recorded before sending: the reply may arrive re-entrantly.
  echo_sent[{id, seq}] = st.sched_.now();
  const std::size_t n = p.size();
  const std::error_code ec = ipv4_output(*r, wire::kIpProtoIcmp, std::move(p));
  if (ec) return ec;
  count_tx("icmp", n);
  return {};
}

}  // namespace vd::stack
