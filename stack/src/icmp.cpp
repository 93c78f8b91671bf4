// ICMP (RFC 792, RFC 1122 3.2.2, RFC 1812 4.3): echo, the errors we send
// (rate limited), the errors we receive, and path MTU discovery (RFC 1191).
#include <algorithm>
#include <cstring>

#include "stack_impl.hpp"

namespace vd::stack {

namespace {

// Types that are queries or replies, not errors: an error may answer them.
bool is_icmp_informational(std::uint8_t type) {
  return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

}  // namespace

// ------------------------------------------------------------ input

void Stack::Impl::icmp_input(Iface& ifc, const Ipv4Info& info, Packet&& p) {
  count_work(Work::icmp);
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
    case wire::kIcmpDestUnreachable:
    case wire::kIcmpTimeExceeded:
    case wire::kIcmpParamProblem:
      return icmp_error_input(info, *icmp);
    default:
      return drop("icmp", "unsupported_type");
  }
}

// Turns the request into the reply in its own buffer (zero-copy): same id,
// seq and payload, type 0, addresses swapped, out of the interface it came in.
void Stack::Impl::icmp_echo_reply(Iface& ifc, const Ipv4Info& info, Packet&& p) {
  const std::size_t kHdrs = wire::kEthHeaderLen + (ifc.vid ? wire::kVlanTagLen : 0) + wire::kIpv4MinHeaderLen;
  const std::size_t min_tail = wire::kEthMinFrame > kHdrs ? wire::kEthMinFrame - kHdrs : 0;
  const std::size_t pad = p.size() < min_tail ? min_tail - p.size() : 0;
  if (p.headroom() < kHdrs || p.tailroom() < pad) {
    // A device buffer without room for our headers: copy once, counted.
    Packet q = packet_from_bytes(p.size() + kHdrs + pad <= ifc.dev->pool().buf_size() ? ifc.dev->pool() : large(),
                                 p.bytes());
    if (!q) return drop("icmp", "no_buffer");
    p = std::move(q);
  }
  p.data()[0] = wire::kIcmpEchoReply;
  p.data()[1] = 0;
  wire::fill_icmp_checksum(p);
  p.meta = OffloadMeta{};
  const std::size_t n = p.size();
  // Back the way the request came when the source is on-link there (the
  // route lookup agrees in the usual case, and a reply to a directly
  // attached peer must not leave by a default route elsewhere).
  std::optional<Route> r;
  if (ifc.on_link(info.src) || !(r = route(info.src)))
    r = Route{&ifc, info.dst, info.src, info.src, false};
  else
    r->src = info.dst;
  count_work(Work::icmp);
  if (!ipv4_output(*r, wire::kIpProtoIcmp, std::move(p))) count_tx("icmp", n);
}

void Stack::Impl::icmp_record_reply(const Ipv4Info& info, const wire::IcmpView& v) {
  const auto it = echo_sent.find({v.echo_ident(), v.echo_seq()});
  if (it == echo_sent.end()) return drop("icmp", "unmatched_reply");
  count_rx("icmp", v.size());
  st.echo_replies_.push_back(
      EchoReply{info.src, v.echo_ident(), v.echo_seq(), it->second, st.sched_.now(), v.payload().size()});
  echo_sent.erase(it);
}

// An error about something we sent: remembered (traceroute, tests), and a
// "fragmentation needed" lowers the path MTU to its destination.
void Stack::Impl::icmp_error_input(const Ipv4Info& info, const wire::IcmpView& v) {
  if (!info.to_us_unicast) return drop("icmp", "broadcast_error");
  // The quote: an IPv4 header (checked loosely: it was cut short on purpose)
  // and at least 8 bytes of what followed it.
  const auto q = v.payload();
  if (q.size() < wire::kIpv4MinHeaderLen || (q[0] >> 4) != 4) return drop("icmp", "bad_quote");
  const std::size_t qhl = std::size_t(q[0] & 0x0f) * 4;
  if (qhl < wire::kIpv4MinHeaderLen || q.size() < qhl + 8) return drop("icmp", "bad_quote");
  IcmpErrorInfo e;
  e.from = info.src;
  e.type = v.type();
  e.code = v.code();
  e.orig_src = Ipv4Addr{{q[12], q[13], q[14], q[15]}};
  e.orig_dst = Ipv4Addr{{q[16], q[17], q[18], q[19]}};
  e.orig_proto = q[9];
  if (e.orig_proto == wire::kIpProtoUdp || e.orig_proto == 6) {
    e.orig_src_port = wire::load_be16(q, qhl);
    e.orig_dst_port = wire::load_be16(q, qhl + 2);
  }
  e.at = st.sched_.now();
  // Only errors about datagrams we could have sent are believed.
  if (!is_our_addr(e.orig_src)) return drop("icmp", "error_not_ours");
  count_rx("icmp", v.size());
  if (e.type == wire::kIcmpDestUnreachable && e.code == wire::kIcmpCodeFragNeeded) {
    std::size_t mtu = v.rest() & 0xffffu;
    // RFC 1191 5: an old router says 0; guess the plateau below the size
    // of the quoted datagram. Never believe anything under 68 (RFC 791).
    if (mtu == 0) mtu = std::max<std::size_t>(wire::load_be16(q, 2) / 2, 576);
    mtu = std::max<std::size_t>(mtu, 68);
    e.mtu = static_cast<std::uint16_t>(mtu);
    auto& pe = pmtu4[e.orig_dst];
    if (pe.expires <= st.sched_.now() || mtu < pe.mtu) pe.mtu = mtu;
    pe.expires = st.sched_.now() + cfg.pmtu_lifetime;
    event("icmp", "pmtu_updated");
  }
  constexpr std::size_t kMaxErrors = 4096;  // bounded: oldest forgotten first
  if (st.icmp_errors_.size() >= kMaxErrors) st.icmp_errors_.erase(st.icmp_errors_.begin());
  st.icmp_errors_.push_back(e);
}

// ------------------------------------------------------------ errors we send

bool Stack::Impl::icmp_rate_ok() {
  const TimePs now = st.sched_.now();
  if (!icmp_bucket_init) {
    icmp_bucket_init = true;
    icmp_tokens = cfg.icmp_burst;
    icmp_refilled = now;
  }
  icmp_tokens = std::min<double>(cfg.icmp_burst,
                                 icmp_tokens + double(now - icmp_refilled) * cfg.icmp_rate_per_s / double(s_to_ps(1)));
  icmp_refilled = now;
  if (icmp_tokens < 1.0) return false;
  icmp_tokens -= 1.0;
  return true;
}

// RFC 1812 4.3.2.7: never about an ICMP error, a non-first fragment, a
// link-layer or IP broadcast/multicast, or a datagram whose source is not a
// unicast host.
void Stack::Impl::icmp_error(std::span<const std::uint8_t> orig, bool link_bcast, std::uint8_t type,
                             std::uint8_t code, std::uint32_t rest) {
  if (orig.size() < wire::kIpv4MinHeaderLen || (orig[0] >> 4) != 4) return;
  const std::size_t hl = std::size_t(orig[0] & 0x0f) * 4;
  if (hl < wire::kIpv4MinHeaderLen || hl > orig.size()) return;
  const Ipv4Addr src{{orig[12], orig[13], orig[14], orig[15]}};
  const Ipv4Addr dst{{orig[16], orig[17], orig[18], orig[19]}};
  const std::uint16_t frag = wire::load_be16(orig, 6) & 0x1fff;
  if (link_bcast || frag != 0) return drop("icmp", "error_suppressed");
  if (dst.is_broadcast() || dst.is_multicast() || src.is_unspecified() || src.is_broadcast() ||
      src.is_multicast() || (src.b[0] == 127) || is_our_addr(src))
    return drop("icmp", "error_suppressed");
  for (const auto& ifc : ifaces)
    if (ifc->is_subnet_broadcast(dst) || ifc->is_subnet_broadcast(src)) return drop("icmp", "error_suppressed");
  if (orig[9] == wire::kIpProtoIcmp && (orig.size() < hl + 1 || !is_icmp_informational(orig[hl])))
    return drop("icmp", "error_suppressed");
  const auto r = route(src);
  if (!r) return drop("icmp", "error_no_route");
  if (!icmp_rate_ok()) return drop("icmp", "rate_limited");
  const std::size_t quote =
      std::min(orig.size(), wire::kIcmpErrorMaxLen - wire::kIpv4MinHeaderLen - wire::kIcmpHeaderLen);
  Packet p = r->ifc->dev->pool().alloc();
  if (!p || !fits(p, quote)) return drop("icmp", "no_buffer");
  std::memcpy(p.append(quote), orig.data(), quote);
  wire::emit_icmp(p, type, code, rest);
  const std::size_t n = p.size();
  if (!ipv4_output(*r, wire::kIpProtoIcmp, std::move(p))) {
    count_tx("icmp", n);
    count_work(Work::icmp);
    event("icmp", "errors_sent");
  }
}

// ------------------------------------------------------------ echo

std::error_code Stack::Impl::send_echo(Ipv4Addr dst, std::uint16_t id, std::uint16_t seq, std::size_t len,
                                       std::uint8_t ttl) {
  if (len > wire::kUdpMaxPayload) return make_err(std::errc::message_size);  // 65535 - 20 - 8
  const auto r = route(dst);
  if (!r) return make_err(std::errc::network_unreachable);
  Packet p = alloc_for(*r->ifc, wire::kIcmpHeaderLen + len);
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
  Ipv4TxOpts o;
  o.ttl = ttl;
  const std::error_code ec = ipv4_output(*r, wire::kIpProtoIcmp, std::move(p), o);
  if (ec) return ec;
  count_tx("icmp", n);
  count_work(Work::icmp);
  return {};
}

}  // namespace vd::stack
