// ICMPv6 (RFC 4443): echo, the errors we send (with a token-bucket rate
// limit on virtual time and the 2.4(e) rules), and the errors we receive
// (counted; Packet Too Big lowers the path MTU, RFC 8201).
#include <algorithm>
#include <array>
#include <cstring>

#include "ipv6_impl.hpp"
#include "tcp/transport.hpp"
#include "wire/sw_checksum.hpp"
#include "veridian/offload/checksum.hpp"

namespace vd::stack {

namespace {

constexpr std::size_t kHdr = wire::kIpv6HeaderLen;
// An error message must not make the packet exceed the minimum MTU.
constexpr std::size_t kMaxQuote = wire::kIpv6MinMtu - kHdr - wire::kIcmpv6HeaderLen;

std::array<std::uint8_t, 8> icmp_header(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t type, std::uint8_t code,
                                        std::uint32_t rest, std::span<const std::uint8_t> body) {
  std::array<std::uint8_t, 8> h{};
  h[0] = type;
  h[1] = code;
  wire::store_be32(&h[4], rest);
  const auto len = static_cast<std::uint32_t>(h.size() + body.size());
  std::uint32_t sum = offload::pseudo_header_v6(src.b, dst.b, wire::kIpProtoIcmpv6, len);
  sum = offload::csum_partial(h, sum);  // 8 bytes: the body chains on a word boundary
  wire::store_be16(&h[2], sw_csum::internet_checksum(body, sum));
  return h;
}

const char* error_name(std::uint8_t type) {
  switch (type) {
    case wire::kIcmpv6DestUnreachable: return "dest_unreachable";
    case wire::kIcmpv6PacketTooBig: return "packet_too_big";
    case wire::kIcmpv6TimeExceeded: return "time_exceeded";
    case wire::kIcmpv6ParamProblem: return "param_problem";
    default: return "unknown_error";
  }
}

}  // namespace

void Stack::Ip6::icmp_input(const Rx6& rx) {
  count_work(Work::icmp);
  const auto v = wire::Icmpv6View::parse(rx.l4);
  if (!v) return drop("icmpv6", v.reason());
  if (!v->checksum_ok(rx.src, rx.dst)) return drop("icmpv6", "bad_checksum");
  im.count_rx("icmpv6", v->size());
  switch (v->type()) {
    case wire::kIcmpv6EchoRequest:
      if (rx.src.is_unspecified()) return drop("icmpv6", "bad_source");
      return echo_reply(rx, *v);
    case wire::kIcmpv6EchoReply: {
      if (v->size() < wire::kIcmpv6HeaderLen) return drop("icmpv6", "too_short");
      const auto it = echo_sent.find({v->echo_ident(), v->echo_seq()});
      if (it == echo_sent.end()) return drop("icmpv6", "unmatched_reply");
      echo_replies.push_back(EchoReply6{rx.src, v->echo_ident(), v->echo_seq(), it->second, sched.now(),
                                        v->size() - wire::kIcmpv6HeaderLen});
      echo_sent.erase(it);
      return;
    }
    case wire::kNdRouterSolicit:
    case wire::kNdRouterAdvert:
    case wire::kNdNeighborSolicit:
    case wire::kNdNeighborAdvert:
    case wire::kNdRedirect:
      return nd_input(rx, *v);
    default:
      if (v->is_error()) return icmp_error_input(rx, *v);
      return drop("icmpv6", "unsupported_type");
  }
}

void Stack::Ip6::icmp_error_input(const Rx6& /*rx*/, const wire::Icmpv6View& v) {
  event("icmpv6", std::string("rx_") + error_name(v.type()));
  const auto quote = v.body();
  if (quote.size() < kHdr) return drop("icmpv6", "error_too_short");
  const Ipv6Addr osrc = wire::load_ipv6(quote, 8), odst = wire::load_ipv6(quote, 24);
  if (v.type() != wire::kIcmpv6PacketTooBig) return;
  // Only about packets we sent (RFC 8201 4: a PTB is checked against
  // what it quotes).
  bool ours = false;
  for (const auto& f : ifs)
    for (const auto& a : f.addrs) ours = ours || a.addr == osrc;
  if (!ours) return drop("icmpv6", "ptb_not_ours");
  // Below the IPv6 minimum: use 1280 (RFC 8201 4, RFC 8021: no atomic fragments).
  const std::uint32_t mtu = std::max<std::uint32_t>(v.mtu(), wire::kIpv6MinMtu);
  const auto r = route(odst);
  const std::uint32_t cur = r ? path_mtu(*r) : std::numeric_limits<std::uint32_t>::max();
  if (mtu >= cur) return;  // never raised by a PTB
  if (!pmtu.count(odst) && pmtu.size() >= cfg.max_pmtu_entries) {
    std::erase_if(pmtu, [&](const auto& kv) { return kv.second.expires <= sched.now(); });
    if (pmtu.size() >= cfg.max_pmtu_entries) pmtu.erase(pmtu.begin());  // bounded
  }
  pmtu[odst] = Pmtu{mtu, sched.now() + cfg.pmtu_lifetime};
  event("icmpv6", "pmtu_updated");
  tcp_pmtu6_lowered(*im.tcp, odst, mtu);  // TCP connections to odst shrink their MSS (RFC 8201 5.2)
}

bool Stack::Ip6::rate_ok() {
  if (cfg.icmp_error_interval == 0) return true;
  const TimePs now = sched.now();
  const TimePs cap = cfg.icmp_error_interval * cfg.icmp_error_burst;
  icmp_credit = std::min(cap, icmp_credit + (now - icmp_last));
  icmp_last = now;
  if (icmp_credit < cfg.icmp_error_interval) return false;
  icmp_credit -= cfg.icmp_error_interval;
  return true;
}

void Stack::Ip6::send_error(const Rx6& rx, std::uint8_t type, std::uint8_t code, std::uint32_t rest,
                            bool multicast_ok) {
  send_error_raw(rx.ifindex, rx.packet, rx.link_multicast, type, code, rest, multicast_ok);
}

void Stack::Ip6::send_error_raw(int ifindex, std::span<const std::uint8_t> pkt, bool link_multicast,
                                std::uint8_t type, std::uint8_t code, std::uint32_t rest, bool multicast_ok) {
  if (pkt.size() < kHdr) return;
  const Ipv6Addr osrc = wire::load_ipv6(pkt, 8), odst = wire::load_ipv6(pkt, 24);
  // RFC 4443 2.4(e): not to an unspecified or multicast source, not about a
  // multicast packet (except Packet Too Big and an unknown option whose
  // type says so), not about an ICMPv6 error or a redirect.
  if (osrc.is_unspecified() || osrc.is_multicast()) return event("icmpv6", "error_suppressed");
  if ((odst.is_multicast() || link_multicast) && !multicast_ok && type != wire::kIcmpv6PacketTooBig)
    return event("icmpv6", "error_suppressed");
  const wire::ExtChain c = wire::walk_ext_headers(pkt[6], pkt.subspan(kHdr));
  if (c.error == wire::ExtChain::Error::none && !c.stopped_at_fragment && c.upper_proto == wire::kIpProtoIcmpv6 &&
      c.upper_offset < pkt.size()) {
    const std::uint8_t t = pkt[c.upper_offset];
    if (t < 128 || t == wire::kNdRedirect) return event("icmpv6", "error_suppressed");
  }
  if (!rate_ok()) return event("icmpv6", "error_rate_limited");
  auto r = route(osrc, ifindex);
  if (!r) return drop("icmpv6", "error_no_route");
  bool dst_ours = false;
  for (const auto& f : ifs)
    for (const auto& a : f.addrs) dst_ours = dst_ours || (a.addr == odst && a.state == Addr6State::preferred);
  if (dst_ours) r->src = odst;
  const auto quote = pkt.first(std::min(pkt.size(), kMaxQuote));
  const auto h = icmp_header(r->src, r->dst, type, code, rest, quote);
  if (output_bytes(*r, wire::kIpProtoIcmpv6, h, quote, 0)) return;
  im.count_tx("icmpv6", h.size() + quote.size());
  count_work(Work::icmp);
  event("icmpv6", std::string("tx_") + error_name(type));
}

void Stack::Ip6::echo_reply(const Rx6& rx, const wire::Icmpv6View& v) {
  auto r = route(rx.src, rx.ifindex);
  if (!r) return drop("icmpv6", "no_route");
  // To a multicast group: answered from a unicast address of ours (RFC 4443 4.2).
  if (!rx.dst.is_multicast()) r->src = rx.dst;
  const auto body = v.body();
  const auto h = icmp_header(r->src, r->dst, wire::kIcmpv6EchoReply, 0, v.rest(), body);
  if (output_bytes(*r, wire::kIpProtoIcmpv6, h, body, 0)) return;
  im.count_tx("icmpv6", h.size() + body.size());
  count_work(Work::icmp);
}

std::error_code Stack::Ip6::send_echo(const Ipv6Addr& dst, std::uint16_t id, std::uint16_t seq, std::size_t len,
                                      int ifindex, std::uint8_t hop_limit) {
  if (len > wire::kIpv6MaxPayload - wire::kIcmpv6HeaderLen) return make_err(std::errc::message_size);
  const auto r = route(dst, ifindex);
  if (!r) return make_err(std::errc::network_unreachable);
  std::vector<std::uint8_t> body(len);
  for (std::size_t i = 0; i < len; ++i) body[i] = static_cast<std::uint8_t>(i);
  const auto h = icmp_header(r->src, r->dst, wire::kIcmpv6EchoRequest, 0, (std::uint32_t(id) << 16) | seq, body);
  if (echo_sent.size() >= 4096) echo_sent.erase(echo_sent.begin());  // bounded
  echo_sent[{id, seq}] = sched.now();  // before sending: the reply may come re-entrantly
  if (const auto ec = output_bytes(*r, wire::kIpProtoIcmpv6, h, body, hop_limit)) {
    echo_sent.erase({id, seq});
    return ec;
  }
  im.count_tx("icmpv6", h.size() + body.size());
  count_work(Work::icmp);
  return {};
}

std::error_code Stack::Ip6::send_icmp(int ifindex, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t type,
                                      std::uint8_t code, std::uint32_t rest, const std::function<void(Packet&)>& fill,
                                      std::uint8_t hop_limit, std::optional<MacAddr> dst_mac) {
  Iface& ifc = iface(ifindex);
  Packet p = ifc.dev->pool().alloc();
  if (!p) {
    drop("icmpv6", "no_buffer");
    return make_err(std::errc::no_buffer_space);
  }
  fill(p);
  wire::emit_icmpv6(p, src, dst, type, code, rest);
  const std::size_t n = p.size();
  wire::emit_ipv6(p, {src, dst, wire::kIpProtoIcmpv6, hop_limit});
  p.meta.l3_offset = wire::kEthHeaderLen;
  p.meta.l4_offset = static_cast<std::uint16_t>(wire::kEthHeaderLen + kHdr);
  if (!local_out_hooks(ifindex, p)) return make_err(std::errc::operation_not_permitted);
  const std::size_t total = p.size();
  std::error_code ec;
  if (dst_mac)
    ec = im.eth_output(ifc, *dst_mac, wire::kEthertypeIpv6, std::move(p));
  else
    ec = link_output(ifindex, dst, std::move(p));
  if (!ec) {
    im.count_tx("ipv6", total);
    im.count_tx("icmpv6", n);
    count_work(Work::icmp);
  }
  return ec;
}

}  // namespace vd::stack
