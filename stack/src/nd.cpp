// Neighbor Discovery (RFC 4861) and stateless autoconfiguration (RFC 4862):
// NS/NA with the shared NUD cache (neighbor.hpp), DAD, router solicitation and
// advertisement, SLAAC from RA prefixes, default routers, redirects.
#include <algorithm>
#include <array>

#include "ipv6_impl.hpp"

namespace vd::stack {

namespace {

constexpr std::uint8_t kNdHopLimit = 255;


}  // namespace

// ------------------------------------------------------------ input

void Stack::Ip6::nd_input(const Rx6& rx, const wire::Icmpv6View& v) {
  count_work(Work::neigh);
  // RFC 4861 6.1/7.1/8.1 validity: hop limit 255 (off-link senders cannot
  // forge it), code 0, the fixed part present, well-formed options.
  if (rx.hop_limit != kNdHopLimit) return drop("nd", "bad_hop_limit");
  if (v.code() != 0) return drop("nd", "bad_code");
  const std::size_t fixed = wire::nd_fixed_len(v.type()).value_or(0);
  if (v.body().size() < fixed) return drop("nd", "too_short");
  const auto opts = wire::parse_nd_options(v.body().subspan(fixed));
  if (!opts) return drop("nd", "bad_option");
  count_nd_rx(v.type(), v.size());
  switch (v.type()) {
    case wire::kNdNeighborSolicit: return ns_input(rx, v, *opts);
    case wire::kNdNeighborAdvert: return na_input(rx, v, *opts);
    case wire::kNdRouterSolicit: return rs_input(rx, *opts);
    case wire::kNdRouterAdvert: return ra_input(rx, v, *opts);
    case wire::kNdRedirect: return redirect_input(rx, v, *opts);
    default: return;
  }
}

void Stack::Ip6::count_nd_rx(std::uint8_t type, std::size_t bytes) {
  im.count_rx("nd", bytes);
  switch (type) {
    case wire::kNdNeighborSolicit: return event("nd", "rx_ns");
    case wire::kNdNeighborAdvert: return event("nd", "rx_na");
    case wire::kNdRouterSolicit: return event("nd", "rx_rs");
    case wire::kNdRouterAdvert: return event("nd", "rx_ra");
    default: return event("nd", "rx_redirect");
  }
}

void Stack::Ip6::ns_input(const Rx6& rx, const wire::Icmpv6View& v, const wire::NdOptions& o) {
  const Ipv6Addr target = wire::load_ipv6(v.body(), 0);
  if (target.is_multicast()) return drop("nd", "bad_target");
  const bool dad = rx.src.is_unspecified();
  if (dad && (rx.dst != target.solicited_node() || o.source_lla)) return drop("nd", "bad_dad_probe");
  Addr* a = find_addr(rx.ifindex, target);
  if (!a) return drop("nd", "not_our_target");
  if (a->state == Addr6State::tentative) {
    // Another node probes the address we are probing: both lose (RFC 4862 5.4.3).
    if (dad) dad_failed(rx.ifindex, *a);
    return;
  }
  if (a->state == Addr6State::duplicate) return;
  if (!dad && o.source_lla) neigh_learn(rx.ifindex, rx.src, *o.source_lla, true);
  if (dad)
    send_na(rx.ifindex, target, all_nodes(), false, true);
  else
    send_na(rx.ifindex, target, rx.src, true, true);
}

void Stack::Ip6::na_input(const Rx6& rx, const wire::Icmpv6View& v, const wire::NdOptions& o) {
  const Ipv6Addr target = wire::load_ipv6(v.body(), 0);
  const std::uint32_t flags = v.rest();
  const bool solicited = (flags & wire::kNaSolicited) != 0;
  if (target.is_multicast()) return drop("nd", "bad_target");
  if (rx.dst.is_multicast() && solicited) return drop("nd", "solicited_to_multicast");
  if (Addr* a = find_addr(rx.ifindex, target)) {
    if (a->state == Addr6State::tentative) return dad_failed(rx.ifindex, *a);
    return event("nd", "address_conflict");  // someone else claims a preferred address
  }
  neigh_advert(rx.ifindex, target, o.target_lla, solicited, (flags & wire::kNaOverride) != 0,
               (flags & wire::kNaRouter) != 0);
}

void Stack::Ip6::rs_input(const Rx6& rx, const wire::NdOptions& o) {
  If6& f = if6(rx.ifindex);
  if (!f.ra) return drop("nd", "rs_not_router");
  if (!rx.src.is_unspecified() && o.source_lla) neigh_learn(rx.ifindex, rx.src, *o.source_lla, true);
  // Answered to all nodes (RFC 4861 6.2.6 allows either; this way every
  // host that was waiting learns at once).
  send_ra(rx.ifindex, all_nodes());
}

void Stack::Ip6::ra_input(const Rx6& rx, const wire::Icmpv6View& v, const wire::NdOptions& o) {
  if (!rx.src.is_link_local()) return drop("nd", "ra_bad_source");
  If6& f = if6(rx.ifindex);
  if (forwarding || f.ra) return event("nd", "ra_ignored_as_router");
  const std::uint32_t rest = v.rest();
  if (const auto hl = static_cast<std::uint8_t>(rest >> 24)) f.cur_hop_limit = hl;
  if (o.source_lla) neigh_learn(rx.ifindex, rx.src, *o.source_lla, true, true);
  if (o.mtu && *o.mtu >= wire::kIpv6MinMtu && *o.mtu <= iface(rx.ifindex).dev->features().mtu) f.ra_mtu = *o.mtu;
  const MacAddr mac = iface(rx.ifindex).mac;
  for (const auto& pi : o.prefixes) {
    if (pi.prefix.is_link_local() || pi.prefix.is_multicast() || pi.prefix_len > 128) continue;
    if (pi.preferred_lifetime > pi.valid_lifetime) continue;  // RFC 4862 5.5.3(c)
    const auto key = std::pair{prefix_of(pi.prefix, pi.prefix_len), int(pi.prefix_len)};
    if (pi.on_link) {
      if (pi.valid_lifetime == 0) {
        if (f.ra_prefixes.erase(key)) routes.remove(pi.prefix, pi.prefix_len, rx.ifindex);
      } else if (!f.ra_prefixes.count(key) && f.ra_prefixes.size() >= cfg.max_ra_prefixes) {
        drop("nd", "ra_prefix_limit");
      } else {
        f.ra_prefixes.insert(key);
        RouteEntry<Ipv6Addr> e;
        e.prefix = pi.prefix;
        e.len = pi.prefix_len;
        e.ifindex = rx.ifindex;
        e.metric = 256;
        e.connected = true;
        routes.add(e);
      }
    }
    if (pi.autonomous && pi.valid_lifetime > 0) {
      if (pi.prefix_len != 64) {  // an interface id of 64 bits (RFC 4862 5.5.3(d))
        event("nd", "slaac_bad_prefix_len");
        continue;
      }
      const Ipv6Addr a = Ipv6Addr::from_prefix_and_mac(pi.prefix, mac);
      if (!find_addr(rx.ifindex, a)) {
        std::size_t n = 0;
        for (const auto& x : f.addrs) n += x.autoconf && !x.addr.is_link_local();
        if (n >= cfg.max_slaac_addrs) {
          drop("nd", "slaac_limit");
          continue;
        }
        add_address(rx.ifindex, a, 64, true);
        event("nd", "slaac_address");
      }
    }
  }
  // Last: the router's lifetime (RFC 4861 6.3.4).
  set_default_router(rx.ifindex, rx.src, static_cast<std::uint16_t>(rest & 0xffff));
}

void Stack::Ip6::redirect_input(const Rx6& rx, const wire::Icmpv6View& v, const wire::NdOptions& o) {
  const Ipv6Addr target = wire::load_ipv6(v.body(), 0);
  const Ipv6Addr dest = wire::load_ipv6(v.body(), 16);
  // RFC 4861 8.1: from the current first hop for dest, on link-local, to a
  // link-local target (a better router) or the destination itself (on link).
  if (!rx.src.is_link_local() || dest.is_multicast()) return drop("nd", "redirect_invalid");
  if (!(target.is_link_local() || target == dest)) return drop("nd", "redirect_invalid");
  const auto r = route(dest);
  if (!r || r->ifindex != rx.ifindex || r->next_hop != rx.src) return drop("nd", "redirect_not_from_first_hop");
  if (!redirects.count(dest) && redirects.size() >= cfg.max_redirects) {
    redirects.erase(redirects.begin());  // bounded: forget one (deterministically)
    event("nd", "redirect_evicted");
  }
  redirects[dest] = Redirect{target, rx.ifindex};
  if (o.target_lla) neigh_learn(rx.ifindex, target, *o.target_lla, true, target != dest);
  event("nd", "redirect_applied");
}

// ------------------------------------------------------------ output

void Stack::Ip6::send_ns(int ifindex, const Ipv6Addr& target, const MacAddr* unicast_mac, bool dad) {
  count_work(Work::neigh);
  Ipv6Addr src{};
  if (!dad) {
    // The link-local address, or any usable one when that is not ready.
    auto s = link_local(ifindex);
    if (!s) s = source_for(ifindex, target);
    if (!s) return drop("nd", "no_source_address");
    src = *s;
  }
  const Ipv6Addr dst = unicast_mac ? target : target.solicited_node();
  const MacAddr dst_mac = unicast_mac ? *unicast_mac : dst.multicast_mac();
  const MacAddr mac = iface(ifindex).mac;
  const auto ec = send_icmp(
      ifindex, src, dst, wire::kNdNeighborSolicit, 0, 0,
      [&](Packet& p) {
        if (!dad) wire::emit_nd_lla(p, wire::kNdOptSourceLla, mac);
        wire::push_addr(p, target);
      },
      kNdHopLimit, dst_mac);
  if (!ec) event("nd", dad ? "tx_dad_ns" : "tx_ns");
}

void Stack::Ip6::send_na(int ifindex, const Ipv6Addr& target, const Ipv6Addr& dst, bool solicited, bool override) {
  count_work(Work::neigh);
  const MacAddr mac = iface(ifindex).mac;
  const std::uint32_t flags =
      (forwarding ? wire::kNaRouter : 0) | (solicited ? wire::kNaSolicited : 0) | (override ? wire::kNaOverride : 0);
  const auto ec = send_icmp(
      ifindex, target, dst, wire::kNdNeighborAdvert, 0, flags,
      [&](Packet& p) {
        wire::emit_nd_lla(p, wire::kNdOptTargetLla, mac);
        wire::push_addr(p, target);
      },
      kNdHopLimit);
  if (!ec) event("nd", "tx_na");
}

void Stack::Ip6::send_rs(int ifindex) {
  count_work(Work::neigh);
  const auto ll = link_local(ifindex);
  const Ipv6Addr src = ll.value_or(Ipv6Addr{});
  const MacAddr mac = iface(ifindex).mac;
  const auto ec = send_icmp(
      ifindex, src, all_routers(), wire::kNdRouterSolicit, 0, 0,
      [&](Packet& p) {
        if (ll) wire::emit_nd_lla(p, wire::kNdOptSourceLla, mac);  // never with ::
      },
      kNdHopLimit);
  if (!ec) event("nd", "tx_rs");
}

void Stack::Ip6::send_ra(int ifindex, const Ipv6Addr& dst) {
  count_work(Work::neigh);
  If6& f = if6(ifindex);
  if (!f.ra) return;
  const auto ll = link_local(ifindex);
  if (!ll) return drop("nd", "ra_no_link_local");  // a router speaks from its link-local address
  const RouterAdvertConfig ra = *f.ra;
  const MacAddr mac = iface(ifindex).mac;
  const std::uint32_t rest = (std::uint32_t(ra.cur_hop_limit) << 24) | ra.router_lifetime_s;
  const auto ec = send_icmp(
      ifindex, *ll, dst, wire::kNdRouterAdvert, 0, rest,
      [&](Packet& p) {
        for (auto it = ra.prefixes.rbegin(); it != ra.prefixes.rend(); ++it) {
          wire::PrefixInfo pi;
          pi.prefix = it->prefix;
          pi.prefix_len = static_cast<std::uint8_t>(it->prefix_len);
          pi.on_link = it->on_link;
          pi.autonomous = it->autonomous;
          pi.valid_lifetime = it->valid_lifetime;
          pi.preferred_lifetime = it->preferred_lifetime;
          wire::emit_nd_prefix(p, pi);
        }
        if (ra.mtu) wire::emit_nd_mtu(p, ra.mtu);
        wire::emit_nd_lla(p, wire::kNdOptSourceLla, mac);
        const std::array<std::uint8_t, 8> times{};  // reachable time, retrans timer: unspecified
        wire::push_bytes(p, times);
      },
      kNdHopLimit);
  if (!ec) event("nd", "tx_ra");
}

// ------------------------------------------------------------ timers

void Stack::Ip6::rs_timer(int ifindex) {
  If6& f = if6(ifindex);
  f.rs_timer = kNoTimer;
  if (f.ra || forwarding || f.rs_sent >= cfg.max_rtr_solicitations) return;
  // Wait for the link-local address so the RS can carry our MAC.
  bool ll_tentative = false;
  for (const auto& a : f.addrs) ll_tentative = ll_tentative || (a.addr.is_link_local() && a.state == Addr6State::tentative);
  if (ll_tentative) {
    f.rs_timer = after(cfg.retrans_timer, [this, ifindex] { rs_timer(ifindex); });
    return;
  }
  // A router already known: no need to ask.
  for (const auto& [k, t] : router_expiry)
    if (k.first == ifindex) return;
  ++f.rs_sent;
  const bool again = f.rs_sent < cfg.max_rtr_solicitations;
  if (again) f.rs_timer = after(cfg.rtr_solicitation_interval, [this, ifindex] { rs_timer(ifindex); });
  send_rs(ifindex);
}

void Stack::Ip6::ra_timer(int ifindex) {
  If6& f = if6(ifindex);
  f.ra_timer = kNoTimer;
  if (!f.ra) return;
  f.ra_timer = after(f.ra->interval, [this, ifindex] { ra_timer(ifindex); });
  send_ra(ifindex, all_nodes());
}

void Stack::Ip6::start_dad(int ifindex, const Ipv6Addr& a) {
  Addr* x = find_addr(ifindex, a);
  if (!x) return;
  x->dad_sent = 1;
  x->dad_timer = after(cfg.retrans_timer, [this, ifindex, a] { dad_timer(ifindex, a); });
  send_ns(ifindex, a, nullptr, true);  // last: may re-enter and find a duplicate
}

void Stack::Ip6::dad_timer(int ifindex, const Ipv6Addr& a) {
  Addr* x = find_addr(ifindex, a);
  if (!x || x->state != Addr6State::tentative) return;
  x->dad_timer = kNoTimer;
  if (x->dad_sent < cfg.dad_transmits) {
    ++x->dad_sent;
    x->dad_timer = after(cfg.retrans_timer, [this, ifindex, a] { dad_timer(ifindex, a); });
    send_ns(ifindex, a, nullptr, true);
    return;
  }
  x->state = Addr6State::preferred;
  event("nd", "dad_ok");
}

void Stack::Ip6::dad_failed(int ifindex, Addr& a) {
  sched.cancel(a.dad_timer);
  a.dad_timer = kNoTimer;
  a.state = Addr6State::duplicate;  // kept, for the record, but never used
  event("nd", "dad_duplicate");
  const Ipv6Addr addr = a.addr;
  const int prefix = a.prefix;
  leave(ifindex, addr.solicited_node());
  // Its on-link route goes unless another address of ours covers the prefix.
  bool covered = false;
  for (const auto& x : if6(ifindex).addrs)
    covered = covered || (x.state != Addr6State::duplicate && x.prefix == prefix && prefix_match(x.addr, addr, prefix));
  if (!covered && !addr.is_link_local()) routes.remove(addr, prefix, ifindex);
}

// ------------------------------------------------------------ neighbours and routers

void Stack::Ip6::make_neigh(int ifindex) {
  If6& f = if6(ifindex);
  if (f.neigh) return;
  // The shared NUD machine (neighbor.hpp), with ND's timers and limits.
  NudConfig p;
  p.retrans_timer = cfg.retrans_timer;
  p.reachable_time = cfg.reachable_time;
  p.delay_first_probe = cfg.delay_first_probe;
  p.max_multicast_solicit = cfg.max_multicast_solicit;
  p.max_unicast_solicit = cfg.max_unicast_solicit;
  p.queue_limit = cfg.nd_queue_limit;
  p.queue_bytes = cfg.nd_queue_bytes;
  p.max_entries = cfg.nd_cache_limit;
  p.locktime = 0;  // ND has the override flag for that (RFC 4861 7.2.5)
  NeighborCache<Ipv6Addr>::Hooks h;
  h.solicit = [this, ifindex](const Ipv6Addr& a, const MacAddr* mac) { send_ns(ifindex, a, mac, false); };
  h.transmit = [this, ifindex](const MacAddr& mac, Packet&& pk) {
    return !im.eth_output(iface(ifindex), mac, wire::kEthertypeIpv6, std::move(pk));
  };
  h.failed = [this, ifindex](const Ipv6Addr& a, std::deque<Packet>&& q) { neigh_failed(ifindex, a, std::move(q)); };
  h.discarded = [this](std::size_t n) { drop("nd", "unres_discards", n); };
  f.neigh = std::make_unique<NeighborCache<Ipv6Addr>>(sched, p, std::move(h));
}

void Stack::Ip6::neigh_learn(int ifindex, const Ipv6Addr& a, const MacAddr& mac, bool create, bool router) {
  If6& f = if6(ifindex);
  if (router) f.routers.insert(a);
  (void)f.neigh->learn(a, mac, create);
}

void Stack::Ip6::neigh_advert(int ifindex, const Ipv6Addr& target, std::optional<MacAddr> lla, bool solicited,
                              bool override, bool router) {
  If6& f = if6(ifindex);
  const auto* e = f.neigh->find(target);
  if (!e) return;  // nobody asked: an unsolicited NA creates no entry
  const NudState state = e->state;
  const MacAddr cached = e->mac;
  if (state == NudState::Incomplete) {
    if (!lla) return;
    if (solicited)
      f.neigh->confirm(target, *lla, true);  // REACHABLE, queue flushed
    else
      (void)f.neigh->learn(target, *lla, false);  // STALE, queue flushed
  } else if (solicited) {
    // REACHABLE; a different address only with override (else REACHABLE -> STALE).
    f.neigh->confirm(target, lla.value_or(cached), override);
  } else if (lla && *lla != cached) {
    if (override)
      (void)f.neigh->learn(target, *lla, false);  // new address, STALE
    else
      f.neigh->confirm(target, *lla, false);  // only demotes REACHABLE to STALE
  }
  if (router) {
    f.routers.insert(target);
  } else if (f.routers.erase(target)) {
    // No longer a router (RFC 4861 7.2.5): not a default router any more.
    set_default_router(ifindex, target, 0);
  }
}

void Stack::Ip6::neigh_failed(int ifindex, const Ipv6Addr& a, std::deque<Packet>&& q) {
  event("nd", "unreachable");
  if (q.empty()) return;
  drop("nd", "resolution_failed", q.size());
  // RFC 4861 7.2.2: address unreachable for each packet that waited.
  for (Packet& p : q) {
    if (p.size() < wire::kIpv6HeaderLen) continue;
    const Ipv6Addr src = wire::load_ipv6(p.bytes(), 8);
    bool ours = false;
    for (const auto& f : ifs)
      for (const auto& x : f.addrs) ours = ours || x.addr == src;
    if (ours)
      event("icmpv6", "local_address_unreachable");  // we sent it: no loopback to tell ourselves
    else
      send_error_raw(ifindex, p.bytes(), false, wire::kIcmpv6DestUnreachable, wire::kUnreachAddress, 0);
  }
  // A default router that cannot be reached is dropped too.
  if (router_expiry.count({ifindex, a})) set_default_router(ifindex, a, 0);
}

void Stack::Ip6::set_default_router(int ifindex, const Ipv6Addr& router, std::uint16_t lifetime_s) {
  const auto key = std::pair{ifindex, router};
  const auto it = router_expiry.find(key);
  if (it != router_expiry.end()) sched.cancel(it->second);
  if (lifetime_s == 0) {
    if (it == router_expiry.end()) return;
    router_expiry.erase(it);
    event("nd", "default_router_removed");
  } else {
    if (it == router_expiry.end()) {
      std::size_t n = 0;
      for (const auto& [k, t] : router_expiry) n += k.first == ifindex;
      if (n >= cfg.max_default_routers) return drop("nd", "router_limit");
      event("nd", "default_router_added");
    }
    router_expiry[key] = after(s_to_ps(lifetime_s), [this, ifindex, router] { set_default_router(ifindex, router, 0); });
  }
  // Rebuild the default routes of this interface from the router list; the
  // first router learnt has the lowest metric.
  routes.remove(Ipv6Addr{}, 0, ifindex);
  std::uint32_t metric = 1024;
  for (const auto& [k, t] : router_expiry) {
    if (k.first != ifindex) continue;
    RouteEntry<Ipv6Addr> e;
    e.len = 0;
    e.gateway = k.second;
    e.ifindex = ifindex;
    e.metric = metric++;
    routes.add(e);
  }
}

// ------------------------------------------------------------ Stack API

void Stack::set_router_advert(int ifindex, RouterAdvertConfig cfg) {
  auto& ip6 = *impl_->ip6;
  ip6.enable(ifindex);
  auto& f = ip6.if6(ifindex);
  f.ra = std::move(cfg);
  ip6.join(ifindex, all_routers());
  impl_->st.sched_.cancel(f.ra_timer);
  sched_.cancel(f.rs_timer);
  f.rs_timer = kNoTimer;
  // The first advertisement once the link-local address is usable (DAD);
  // ra_timer re-arms every interval.
  f.ra_timer = ip6.after(impl_->cfg.ipv6.retrans_timer * (impl_->cfg.ipv6.dad_transmits + 1),
                         [&ip6, ifindex] { ip6.ra_timer(ifindex); });
}

}  // namespace vd::stack
