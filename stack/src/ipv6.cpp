// IPv6 (RFC 8200): input with the extension-header chain, output with
// source fragmentation at the path MTU, forwarding and routing. The public
// IPv6 API of Stack is in ipv6_api.cpp, reassembly in ipv6_reasm.cpp.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "ipv6_impl.hpp"
#include "tcp/transport.hpp"

namespace vd::stack {

namespace {

constexpr std::size_t kEth = wire::kEthHeaderLen;
constexpr std::size_t kHdr = wire::kIpv6HeaderLen;


}  // namespace

const char* to_string(Addr6State s) {
  switch (s) {
    case Addr6State::tentative: return "tentative";
    case Addr6State::preferred: return "preferred";
    case Addr6State::duplicate: return "duplicate";
  }
  return "unknown";
}

void Stack::Ip6Deleter::operator()(Stack::Ip6* p) const { delete p; }

// ------------------------------------------------------------ lifetime

Stack::Ip6::Ip6(Stack::Impl& impl)
    : im(impl), st(impl.st), sched(impl.st.sched_), cfg(impl.cfg.ipv6) {
  icmp_credit = cfg.icmp_error_interval * cfg.icmp_error_burst;  // a full bucket
  forwarding = cfg.forward;
  for (const char* l : {"ipv6", "icmpv6", "nd"}) st.stats_.layers[l];  // listed from the start, like IPv4's
  icmp_last = sched.now();
}

Stack::Ip6::~Ip6() { shutdown(); }

void Stack::Ip6::shutdown() {
  alive.reset();  // every timer scheduled through after() becomes a no-op
  for (auto& f : ifs) {
    for (auto& a : f.addrs) sched.cancel(a.dad_timer);
    sched.cancel(f.rs_timer);
    sched.cancel(f.ra_timer);
    f.neigh.reset();
  }
  ifs.clear();
  for (auto& [k, r] : reasm) sched.cancel(r.timer);
  reasm.clear();
  for (auto& [k, t] : router_expiry) sched.cancel(t);
  router_expiry.clear();
}

void Stack::Ip6::event(const char* layer, std::string_view what, std::uint64_t n) {
  std::string key(layer);
  key.append(".").append(what);
  st.stats_.events[key] += n;
}

TimerId Stack::Ip6::after(TimePs delay, std::function<void()> fn) {
  std::weak_ptr<int> w = alive;
  return sched.schedule_in(delay, [w, fn = std::move(fn)] {
    if (w.lock()) fn();
  });
}

Stack::Ip6::If6& Stack::Ip6::if6(int ifindex) {
  if (!im.find_iface(ifindex)) throw std::invalid_argument("ipv6: no interface " + std::to_string(ifindex));
  if (ifs.size() < im.ifaces.size()) ifs.resize(im.ifaces.size());
  return ifs[static_cast<std::size_t>(ifindex)];
}

const Stack::Ip6::If6* Stack::Ip6::if6_or_null(int ifindex) const {
  if (ifindex < 0 || static_cast<std::size_t>(ifindex) >= ifs.size()) return nullptr;
  return &ifs[static_cast<std::size_t>(ifindex)];
}

// ------------------------------------------------------------ addresses and groups

void Stack::Ip6::attach(int ifindex) {
  (void)if6(ifindex);  // sized now, so no later call moves If6 entries under a caller's reference
  if (cfg.auto_enable) enable(ifindex);
}

void Stack::Ip6::detach(int ifindex) {
  If6* f = ifindex >= 0 && static_cast<std::size_t>(ifindex) < ifs.size() ? &ifs[static_cast<std::size_t>(ifindex)]
                                                                           : nullptr;
  if (!f) return;
  for (auto& a : f->addrs) sched.cancel(a.dad_timer);
  sched.cancel(f->rs_timer);
  sched.cancel(f->ra_timer);
  *f = If6{};  // the neighbour cache's destructor cancels its timers
  routes.remove_interface(ifindex);
  std::erase_if(redirects, [&](const auto& kv) { return kv.second.ifindex == ifindex; });
  std::erase_if(router_expiry, [&](const auto& kv) {
    if (kv.first.first != ifindex) return false;
    sched.cancel(kv.second);
    return true;
  });
}

void Stack::Ip6::enable(int ifindex) {
  If6& f = if6(ifindex);
  if (f.enabled) return;
  f.enabled = true;
  make_neigh(ifindex);
  join(ifindex, all_nodes());
  if (forwarding) join(ifindex, all_routers());
  add_address(ifindex, Ipv6Addr::link_local_from_mac(iface(ifindex).mac), 64, true);
  // Solicit routers unless we are one (RFC 4861 6.3.7).
  if (!forwarding) {
    f.rs_sent = 0;
    f.rs_timer = after(0, [this, ifindex] { rs_timer(ifindex); });
  }
}

// lo: ::1/128, usable at once (no DAD), no link-local address, no router
// solicitation and no neighbour discovery.
void Stack::Ip6::enable_loopback(int ifindex) {
  If6& f = if6(ifindex);
  f.enabled = true;
  Addr ad;
  ad.addr = Ipv6Addr::loopback();
  ad.prefix = 128;
  ad.state = Addr6State::preferred;
  f.addrs.push_back(ad);
}

void Stack::Ip6::join(int ifindex, const Ipv6Addr& g) { ++if6(ifindex).groups[g]; }

void Stack::Ip6::leave(int ifindex, const Ipv6Addr& g) {
  auto& groups = if6(ifindex).groups;
  auto it = groups.find(g);
  if (it != groups.end() && --it->second == 0) groups.erase(it);
}

bool Stack::Ip6::accepts_mac(const Iface& ifc, const MacAddr& dst) const {
  if (dst[0] != 0x33 || dst[1] != 0x33) return false;
  const If6* f = if6_or_null(ifc.index);
  if (!f || !f->enabled) return false;
  for (const auto& [g, n] : f->groups)
    if (g.multicast_mac() == dst) return true;
  return false;
}

void Stack::Ip6::add_address(int ifindex, const Ipv6Addr& a, int prefix, bool autoconf) {
  If6& f = if6(ifindex);
  for (const auto& x : f.addrs)
    if (x.addr == a) return;  // idempotent
  Addr ad;
  ad.addr = a;
  ad.prefix = prefix;
  ad.autoconf = autoconf;
  const bool dad = cfg.dad_transmits > 0 && !iface(ifindex).loopback;  // lo needs no DAD
  ad.state = dad ? Addr6State::tentative : Addr6State::preferred;
  f.addrs.push_back(ad);
  join(ifindex, a.solicited_node());
  if (!a.is_link_local() && prefix < 128) {
    RouteEntry<Ipv6Addr> e;
    e.prefix = a;
    e.len = prefix;
    e.ifindex = ifindex;
    e.metric = 256;
    e.connected = true;
    routes.add(e);
  }
  if (dad) start_dad(ifindex, a);
}

Stack::Ip6::Addr* Stack::Ip6::find_addr(int ifindex, const Ipv6Addr& a) {
  if (ifindex < 0 || static_cast<std::size_t>(ifindex) >= ifs.size()) return nullptr;
  for (auto& x : ifs[static_cast<std::size_t>(ifindex)].addrs)
    if (x.addr == a) return &x;
  return nullptr;
}

bool Stack::Ip6::is_our_addr(const Ipv6Addr& a) const {
  for (const auto& f : ifs)
    for (const auto& x : f.addrs)
      if (x.addr == a && x.state == Addr6State::preferred) return true;
  return false;
}

std::optional<Ipv6Addr> Stack::Ip6::link_local(int ifindex) const {
  const If6* f = if6_or_null(ifindex);
  if (!f) return std::nullopt;
  for (const auto& x : f->addrs)
    if (x.addr.is_link_local() && x.state == Addr6State::preferred) return x.addr;
  return std::nullopt;
}

// A simplified RFC 6724: link-local for link-scope destinations; otherwise a
// preferred global address of the outgoing interface, longest common prefix
// with dst first, then any interface's, then the link-local one.
std::optional<Ipv6Addr> Stack::Ip6::source_for(int ifindex, const Ipv6Addr& dst) const {
  const bool link_scope = dst.is_link_local() || (dst.is_multicast() && (dst.b[1] & 0x0f) <= 2);
  if (link_scope) return link_local(ifindex);
  auto common = [&](const Ipv6Addr& a) {
    int n = 0;
    while (n < 128 && prefix_match(a, dst, n + 1)) ++n;
    return n;
  };
  const Addr* best = nullptr;
  if (const If6* f = if6_or_null(ifindex))
    for (const auto& x : f->addrs)
      if (!x.addr.is_link_local() && x.state == Addr6State::preferred && (!best || common(x.addr) > common(best->addr)))
        best = &x;
  if (best) return best->addr;
  for (const auto& f : ifs)
    for (const auto& x : f.addrs)
      if (!x.addr.is_link_local() && !x.addr.is_loopback() && x.state == Addr6State::preferred) return x.addr;
  return link_local(ifindex);
}

// ------------------------------------------------------------ input

void Stack::Ip6::input(Iface& ifc, Packet&& p, bool link_multicast) {
  count_work(Work::ipv6_rx);
  const If6* f = if6_or_null(ifc.index);
  if (!f || !f->enabled) return drop("ipv6", "disabled");
  const auto ip = wire::Ipv6View::parse(p.bytes());
  if (!ip) return drop("ipv6", ip.reason());
  const Ipv6Addr src = ip->src(), dst = ip->dst();
  if (src.is_multicast()) return drop("ipv6", "bad_source");
  if (dst.is_unspecified()) return drop("ipv6", "bad_address");
  // ::1 only on lo (RFC 4291 2.5.3); and only lo carries our own source.
  if (!ifc.loopback && (src.is_loopback() || dst.is_loopback())) return drop("ipv6", "bad_address");
  p.trim(kHdr + ip->payload_length());  // Ethernet padding is not part of the packet
  if (!im.pass_hook(filter::Family::ipv6, filter::Hook::prerouting, p, ifc.index, -1)) return;
  bool for_us;
  if (dst.is_multicast())
    for_us = f->groups.count(dst) != 0;
  else
    for_us = is_our_addr(dst);
  if (!for_us) {
    if (!dst.is_multicast() && forwarding) return forward(ifc, std::move(p), *ip, link_multicast);
    return drop("ipv6", "not_for_us");
  }
  if (!im.pass_hook(filter::Family::ipv6, filter::Hook::input, p, ifc.index, -1)) return;
  im.count_rx("ipv6", p.size());
  Rx6 rx;
  rx.ifindex = ifc.index;
  rx.src = src;
  rx.dst = dst;
  rx.hop_limit = ip->hop_limit();
  rx.link_multicast = link_multicast;
  rx.packet = p.bytes();
  rx.pkt = &p;
  rx.l4_csum = p.meta.rx_csum_l4;
  process_chain(rx, ip->next_header(), kHdr, 6);
}

void Stack::Ip6::process_chain(Rx6 rx, std::uint8_t first_nh, std::size_t start, std::size_t nh_field) {
  const wire::ExtChain c = wire::walk_ext_headers(first_nh, rx.packet.subspan(start), start, nh_field);
  if (c.error == wire::ExtChain::Error::hbh_not_first) {
    send_error(rx, wire::kIcmpv6ParamProblem, wire::kParamUnknownNextHeader, static_cast<std::uint32_t>(c.nh_field_offset));
    return drop("ipv6", wire::to_string(c.error));
  }
  if (c.error != wire::ExtChain::Error::none) return drop("ipv6", wire::to_string(c.error));
  for (const auto& h : c.headers) {
    const auto hb = rx.packet.subspan(h.offset, h.len);
    switch (h.type) {
      case wire::kIpv6HopByHop:
      case wire::kIpv6DestOpts: {
        const auto opts = wire::parse_ipv6_options(hb);
        if (!opts) {
          send_error(rx, wire::kIcmpv6ParamProblem, wire::kParamErroneousField, static_cast<std::uint32_t>(h.offset + 1));
          return drop("ipv6", "bad_options");
        }
        for (const auto& o : *opts) {
          if (o.type == wire::kIpv6OptPad1 || o.type == wire::kIpv6OptPadN) continue;
          if (o.type == wire::kIpv6OptRouterAlert && h.type == wire::kIpv6HopByHop) continue;
          const auto ptr = static_cast<std::uint32_t>(h.offset + o.offset);
          using A = wire::Ipv6Option::Action;
          switch (o.unknown_action()) {
            case A::skip: continue;
            case A::discard: return drop("ipv6", "unknown_option");
            case A::discard_icmp:
              send_error(rx, wire::kIcmpv6ParamProblem, wire::kParamUnknownOption, ptr, true);
              return drop("ipv6", "unknown_option");
            case A::discard_icmp_unless_multicast:
              if (!rx.dst.is_multicast()) send_error(rx, wire::kIcmpv6ParamProblem, wire::kParamUnknownOption, ptr);
              return drop("ipv6", "unknown_option");
          }
        }
        break;
      }
      case wire::kIpv6Routing: {
        // We process no routing type (a host): segments left 0 -> ignore
        // the header; otherwise a parameter problem at the routing type
        // (RFC 8200 4.4; type 0 likewise, RFC 5095).
        if (hb[3] == 0) break;
        send_error(rx, wire::kIcmpv6ParamProblem, wire::kParamErroneousField, static_cast<std::uint32_t>(h.offset + 2));
        return drop("ipv6", hb[2] == 0 ? "routing_type0" : "unknown_routing_type");
      }
      case wire::kIpv6Fragment:
        return frag_input(rx, h.offset, c.headers.size() > 1 ? c.headers[c.headers.size() - 2].offset : nh_field);
      default:
        break;
    }
  }
  // Raw sockets get a copy of the payload (Linux semantics); a protocol
  // only they handle is not refused with ICMPv6.
  const bool raw = !im.raw_all.empty() && c.upper_proto != wire::kIpv6NoNext &&
                   im.raw_input(rx.src, rx.dst, c.upper_proto, rx.packet.subspan(c.upper_offset));
  switch (c.upper_proto) {
    case wire::kIpProtoIcmpv6:
    case wire::kIpProtoUdp:
    case wire::kIpProtoTcp:
      rx.l4 = rx.packet.subspan(c.upper_offset);
      return deliver(rx, c.upper_proto);
    case wire::kIpv6NoNext:
      return drop("ipv6", "no_next_header");
    default:
      if (raw) return;
      send_error(rx, wire::kIcmpv6ParamProblem, wire::kParamUnknownNextHeader, static_cast<std::uint32_t>(c.nh_field_offset));
      return drop("ipv6", "unknown_protocol");
  }
}

void Stack::Ip6::deliver(const Rx6& rx, std::uint8_t proto) {
  if (proto == wire::kIpProtoIcmpv6) return icmp_input(rx);
  if (proto == wire::kIpProtoTcp) return tcp_input(*im.tcp, rx);
  return udp_input(rx);
}

// ------------------------------------------------------------ forwarding

void Stack::Ip6::forward(Iface& in, Packet&& p, const wire::Ipv6View& ip, bool link_multicast) {
  count_work(Work::ipv6_tx);
  const Ipv6Addr src = ip.src(), dst = ip.dst();
  if (link_multicast) return drop("ipv6", "fwd_link_multicast");
  if (src.is_unspecified()) return drop("ipv6", "fwd_bad_source");
  if (src.is_link_local() || dst.is_link_local()) {
    // Beyond the scope of the source address (RFC 4443 3.1 code 2).
    if (src.is_link_local() && !dst.is_link_local())
      send_error_raw(in.index, p.bytes(), false, wire::kIcmpv6DestUnreachable, 2, 0);
    return drop("ipv6", "fwd_link_local");
  }
  if (ip.hop_limit() <= 1) {
    send_error_raw(in.index, p.bytes(), false, wire::kIcmpv6TimeExceeded, wire::kTimeExceededHopLimit, 0);
    return drop("ipv6", "hop_limit_exceeded");
  }
  const auto r = route(dst);
  if (!r) {
    send_error_raw(in.index, p.bytes(), false, wire::kIcmpv6DestUnreachable, wire::kUnreachNoRoute, 0);
    return drop("ipv6", "no_route");
  }
  const std::uint32_t mtu = link_mtu(r->ifindex);
  if (p.size() > mtu) {
    send_error_raw(in.index, p.bytes(), false, wire::kIcmpv6PacketTooBig, 0, mtu);
    return drop("ipv6", "packet_too_big");
  }
  if (r->ifindex != in.index) {
    // The buffer belongs to the receiving device: copy into the sender's pool.
    Packet q = packet_from_bytes(iface(r->ifindex).dev->pool(), p.bytes());
    if (!q) return drop("ipv6", "no_buffer");
    p = std::move(q);
  }
  p.data()[7] = static_cast<std::uint8_t>(p.data()[7] - 1);
  p.meta = OffloadMeta{};
  if (!im.pass_hook(filter::Family::ipv6, filter::Hook::forward, p, in.index, r->ifindex)) return;
  if (!im.pass_hook(filter::Family::ipv6, filter::Hook::postrouting, p, in.index, r->ifindex)) return;
  event("ipv6", "forwarded");
  const std::size_t n = p.size();
  if (!link_output(r->ifindex, r->next_hop, std::move(p))) im.count_tx("ipv6", n);
}

// ------------------------------------------------------------ routing and output

bool Stack::Ip6::admin_up(int ifindex) const {
  const Iface& ifc = *im.ifaces.at(static_cast<std::size_t>(ifindex));
  return ifc.up && (ifc.parent < 0 || im.ifaces[static_cast<std::size_t>(ifc.parent)]->up);
}

std::optional<Route6> Stack::Ip6::route(const Ipv6Addr& dst, int ifindex) const {
  if (dst.is_unspecified()) return std::nullopt;
  // ::1 and our own addresses (link-local ones too) go through lo.
  if (dst.is_loopback() || is_our_addr(dst))
    return Route6{Stack::kLoopbackIfindex, dst, dst, dst};
  if (dst.is_multicast() || dst.is_link_local()) {
    int i = ifindex;
    if (i < 0)
      for (std::size_t k = 0; k < ifs.size() && i < 0; ++k)
        if (ifs[k].enabled && k != static_cast<std::size_t>(Stack::kLoopbackIfindex)) i = static_cast<int>(k);
    const If6* f = if6_or_null(i);
    if (!f || !f->enabled || !admin_up(i)) return std::nullopt;
    const auto src = source_for(i, dst);
    if (!src) return std::nullopt;
    return Route6{i, *src, dst, dst};
  }
  if (const auto it = redirects.find(dst); it != redirects.end() && admin_up(it->second.ifindex)) {
    const auto src = source_for(it->second.ifindex, dst);
    if (src) return Route6{it->second.ifindex, *src, dst, it->second.next_hop};
  }
  const RouteEntry<Ipv6Addr>* e = routes.lookup(dst);
  if (!e) return std::nullopt;
  const If6* f = if6_or_null(e->ifindex);
  if (!f || !f->enabled || !admin_up(e->ifindex)) return std::nullopt;  // a down interface has no routes
  const auto src = source_for(e->ifindex, dst);
  if (!src) return std::nullopt;
  return Route6{e->ifindex, *src, dst, e->gateway.value_or(dst)};
}

std::uint32_t Stack::Ip6::link_mtu(int ifindex) const {
  std::uint32_t m = im.ifaces.at(static_cast<std::size_t>(ifindex))->dev->features().mtu;
  if (const If6* f = if6_or_null(ifindex); f && f->ra_mtu) m = std::min(m, f->ra_mtu);
  return std::max<std::uint32_t>(m, wire::kIpv6MinMtu);
}

std::uint32_t Stack::Ip6::path_mtu(const Ipv6Addr& dst, int ifindex) const {
  std::uint32_t m = link_mtu(ifindex);
  if (const auto it = pmtu.find(dst); it != pmtu.end() && it->second.expires > sched.now())
    m = std::min(m, it->second.mtu);
  return m;
}

std::uint32_t Stack::Ip6::path_mtu(const Route6& r) const { return path_mtu(r.dst, r.ifindex); }

std::uint8_t Stack::Ip6::hop_limit_for(int ifindex) const {
  const If6* f = if6_or_null(ifindex);
  return f && f->cur_hop_limit ? f->cur_hop_limit : cfg.hop_limit;
}

std::error_code Stack::Ip6::output(const Route6& r, std::uint8_t proto, Packet&& l4, std::uint8_t hop_limit) {
  count_work(Work::ipv6_tx);
  // A TSO send (tso_mss) is larger than the MTU on purpose: the NIC cuts it.
  if ((!l4.meta.tso_mss && kHdr + l4.size() > path_mtu(r)) || l4.headroom() < kEth + kHdr) {
    Packet held = std::move(l4);  // kept alive while its bytes are copied
    return output_bytes(r, proto, held.bytes(), {}, hop_limit);
  }
  wire::emit_ipv6(l4, {r.src, r.dst, proto, hop_limit ? hop_limit : hop_limit_for(r.ifindex)});
  l4.meta.l3_offset = kEth;
  l4.meta.l4_offset = static_cast<std::uint16_t>(kEth + kHdr);
  if (!local_out_hooks(r.ifindex, l4)) return make_err(std::errc::operation_not_permitted);
  const std::size_t n = l4.size();
  const std::error_code ec = link_output(r.ifindex, r.next_hop, std::move(l4));
  if (!ec) im.count_tx("ipv6", n);
  return ec;
}

std::error_code Stack::Ip6::output_bytes(const Route6& r, std::uint8_t proto, std::span<const std::uint8_t> a,
                                         std::span<const std::uint8_t> b, std::uint8_t hop_limit) {
  const std::size_t total = a.size() + b.size();
  if (total > wire::kIpv6MaxPayload) return make_err(std::errc::message_size);
  const std::uint8_t hl = hop_limit ? hop_limit : hop_limit_for(r.ifindex);
  BufferPool& pool = iface(r.ifindex).dev->pool();
  auto gather = [&](std::uint8_t* out, std::size_t off, std::size_t n) {
    for (std::size_t i = 0; i < n;) {
      const std::size_t at = off + i;
      if (at < a.size()) {
        const std::size_t k = std::min(n - i, a.size() - at);
        std::memcpy(out + i, a.data() + at, k);
        i += k;
      } else {
        const std::size_t k = std::min(n - i, total - at);
        std::memcpy(out + i, b.data() + (at - a.size()), k);
        i += k;
      }
    }
  };
  const std::uint32_t mtu = path_mtu(r);
  constexpr std::size_t kMinTail = wire::kEthMinFrame - kEth - kHdr;
  if (kHdr + total <= mtu) {
    Packet p = pool.alloc();
    if (!p) return make_err(std::errc::no_buffer_space);
    if (p.tailroom() < std::max(total, kMinTail) || p.headroom() < kEth + kHdr) return make_err(std::errc::message_size);
    if (total) gather(p.append(total), 0, total);
    return output(r, proto, std::move(p), hl);
  }
  // Source fragmentation (RFC 8200 4.5): every fragment but the last
  // carries a multiple of 8 bytes; the unfragmentable part is the fixed
  // header alone (we send no extension headers of our own).
  const std::size_t chunk = (mtu - kHdr - wire::kIpv6FragHeaderLen) & ~std::size_t(7);
  const std::uint32_t ident = next_frag_id++;
  std::size_t sent = 0;
  for (std::size_t off = 0; off < total; off += chunk) {
    const std::size_t n = std::min(chunk, total - off);
    Packet p = pool.alloc();
    if (!p) {
      drop("ipv6", "frag_no_buffer");
      return make_err(std::errc::no_buffer_space);
    }
    if (p.tailroom() < std::max(n, kMinTail) || p.headroom() < kEth + kHdr + wire::kIpv6FragHeaderLen)
      return make_err(std::errc::message_size);
    gather(p.append(n), off, n);
    wire::emit_ipv6_frag(p, proto, off, off + n < total, ident);
    wire::emit_ipv6(p, {r.src, r.dst, wire::kIpv6Fragment, hl});
    p.meta.l3_offset = kEth;
    // Each fragment passes output and postrouting on its own: the datagram is
    // never whole in one buffer here (a gap to Linux, noted in docs/stack.md).
    if (!local_out_hooks(r.ifindex, p)) return make_err(std::errc::operation_not_permitted);
    const std::size_t len = p.size();
    if (const auto ec = link_output(r.ifindex, r.next_hop, std::move(p))) return ec;
    im.count_tx("ipv6", len);
    ++sent;
  }
  event("ipv6", "fragments_sent", sent);
  event("ipv6", "fragmented");
  return {};
}

bool Stack::Ip6::local_out_hooks(int ifindex, Packet& p) {
  return im.pass_hook(filter::Family::ipv6, filter::Hook::output, p, -1, ifindex) &&
         im.pass_hook(filter::Family::ipv6, filter::Hook::postrouting, p, -1, ifindex);
}

std::error_code Stack::Ip6::link_output(int ifindex, const Ipv6Addr& next_hop, Packet&& p) {
  Iface& ifc = iface(ifindex);
  if (ifc.loopback) return im.eth_output(ifc, ifc.mac, wire::kEthertypeIpv6, std::move(p));  // no ND on lo
  if (next_hop.is_multicast()) return im.eth_output(ifc, next_hop.multicast_mac(), wire::kEthertypeIpv6, std::move(p));
  If6& f = if6(ifindex);
  make_neigh(ifindex);
  using Out = NeighborCache<Ipv6Addr>::Output;
  switch (f.neigh->output(next_hop, std::move(p))) {
    case Out::Sent:
    case Out::Queued:
      return {};
    case Out::TableFull:
      drop("nd", "cache_full");
      return make_err(std::errc::no_buffer_space);
    case Out::TxFailed:
      return make_err(std::errc::no_buffer_space);  // eth_output counted it
  }
  return {};
}

}  // namespace vd::stack
