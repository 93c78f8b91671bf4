// ARP (RFC 826) for IPv4 over Ethernet on top of the shared neighbour
// reachability machine (neighbor.hpp): replies, announcements (RFC 5227
// gratuitous ARP), unicast probes of stale entries, a bounded queue per
// unresolved address, and ICMP host-unreachable when resolution fails.
//
// Spoofing policy: an entry is only created by an ARP packet addressed to us
// (RFC 826 merge rule); an unsolicited packet may not change a link address
// set or confirmed within NudConfig::locktime; a reply while probing counts
// as an answer only from the probed address; an ARP claiming one of our own
// addresses is a conflict, never learnt.
#include "stack_impl.hpp"

namespace vd::stack {

namespace {

bool bad_sender(const wire::ArpView& v) {
  const Ipv4Addr ip = v.sender_ip();
  return ip.is_broadcast() || ip.is_multicast() || wire::is_multicast_mac(v.sender_mac());
}

}  // namespace

void Stack::Impl::arp_attach(Iface& ifc) {
  Iface* i = &ifc;
  NeighborCache<Ipv4Addr>::Hooks h;
  h.solicit = [this, i](const Ipv4Addr& target, const MacAddr* unicast) { arp_solicit(*i, target, unicast); };
  h.transmit = [this, i](const MacAddr& mac, Packet&& p) {
    return !eth_output(*i, mac, wire::kEthertypeIpv4, std::move(p));
  };
  h.failed = [this, i](const Ipv4Addr& target, std::deque<Packet>&& q) { arp_failed(*i, target, std::move(q)); };
  h.discarded = [this](std::size_t n) { drop("arp", "unres_discards", n); };
  ifc.arp = std::make_unique<NeighborCache<Ipv4Addr>>(st.sched_, cfg.arp, std::move(h));
}

void Stack::Impl::arp_input(Iface& ifc, Packet&& p) {
  count_work(Work::neigh);
  const auto arp = wire::ArpView::parse(p.bytes());
  if (!arp) return drop("arp", arp.reason());
  if (bad_sender(*arp)) return drop("arp", "bad_sender");
  const Ipv4Addr sip = arp->sender_ip();
  const MacAddr smac = arp->sender_mac();
  if (is_our_addr(sip)) {
    // Someone else claims our address (or our own announcement came back
    // through a loop): never let it redirect our traffic.
    return drop("arp", smac == ifc.mac ? "own_packet" : "address_conflict");
  }
  const bool for_us = ifc.has_addr(arp->target_ip());
  const bool is_request = arp->oper() == wire::kArpOpRequest;
  const bool is_reply = arp->oper() == wire::kArpOpReply;
  if (!is_request && !is_reply) return drop("arp", "bad_opcode");
  if (!for_us) {
    // RFC 826 merge: refresh an entry we already hold (announcements).
    if (!sip.is_unspecified() && ifc.arp->learn(sip, smac, false) == NeighborCache<Ipv4Addr>::Update::Locked)
      return drop("arp", "update_locked");
    // An announcement (RFC 5227: sender == target) is for everyone.
    if (sip == arp->target_ip()) return count_rx("arp", wire::kArpLen);
    return drop("arp", "not_for_us");
  }
  count_rx("arp", wire::kArpLen);
  // Sender 0.0.0.0 is an address probe (RFC 5227): answer, but learn nothing.
  if (!sip.is_unspecified()) {
    const auto* e = ifc.arp->find(sip);
    // A reply we asked for: any answer while resolving; while probing only
    // one from the address we probed (another is treated as unsolicited).
    const bool awaited = e && (e->state == NudState::Incomplete ||
                               ((e->state == NudState::Delay || e->state == NudState::Probe) && e->mac == smac));
    if (is_reply && awaited) {
      ifc.arp->confirm(sip, smac);  // the answer to our request or probe
    } else if (ifc.arp->learn(sip, smac, true) == NeighborCache<Ipv4Addr>::Update::Locked) {
      drop("arp", "update_locked");
    }
  }
  if (is_request) {
    arp_send(ifc, smac, {wire::kArpOpReply, ifc.mac, arp->target_ip(), smac, sip});
  }
}

void Stack::Impl::arp_send(Iface& ifc, const MacAddr& eth_dst, const wire::ArpRepr& r) {
  count_work(Work::neigh);
  Packet p = ifc.dev->pool().alloc();
  if (!p) return drop("arp", "no_buffer");
  wire::emit_arp(p, r);
  if (!eth_output(ifc, eth_dst, wire::kEthertypeArp, std::move(p))) count_tx("arp", wire::kArpLen);
}

// Broadcast while resolving; unicast to the cached address when probing a
// stale entry (RFC 1122 2.3.2.1 suggests unicast polls).
void Stack::Impl::arp_solicit(Iface& ifc, Ipv4Addr target, const MacAddr* unicast) {
  arp_send(ifc, unicast ? *unicast : wire::kBroadcastMac,
           {wire::kArpOpRequest, ifc.mac, ifc.source_for(target), MacAddr{}, target});
}

// Gratuitous ARP (RFC 5227 announcement): sender == target == our address,
// so neighbours that knew an old owner of the address update their caches.
void Stack::Impl::arp_announce(Iface& ifc, Ipv4Addr addr) {
  arp_send(ifc, wire::kBroadcastMac, {wire::kArpOpRequest, ifc.mac, addr, MacAddr{}, addr});
  event("arp", "gratuitous_sent");
}

std::error_code Stack::Impl::neigh_output(Iface& ifc, Ipv4Addr next_hop, bool broadcast, Packet&& p) {
  if (ifc.loopback) return eth_output(ifc, ifc.mac, wire::kEthertypeIpv4, std::move(p));  // no ARP on lo
  if (broadcast) return eth_output(ifc, wire::kBroadcastMac, wire::kEthertypeIpv4, std::move(p));
  using Out = NeighborCache<Ipv4Addr>::Output;
  switch (ifc.arp->output(next_hop, std::move(p))) {
    case Out::Sent:
    case Out::Queued:
      return {};
    case Out::TableFull:
      drop("arp", "table_full");
      return make_err(std::errc::no_buffer_space);
    case Out::TxFailed:  // counted by eth_output
      return make_err(std::errc::no_buffer_space);
  }
  return {};
}

// Nobody answered: every queued datagram is lost. Those we were forwarding
// earn their sender an ICMP host unreachable (RFC 1812 4.3.3.1); our own
// just count.
void Stack::Impl::arp_failed(Iface& ifc, Ipv4Addr target, std::deque<Packet>&& q) {
  (void)target;
  if (q.empty()) return;
  drop("arp", "resolution_failed", q.size());
  for (Packet& p : q) {
    const auto ip = wire::Ipv4View::parse(p.bytes());
    if (ip && !is_our_addr(ip->src())) icmp_error(p.bytes(), false, wire::kIcmpDestUnreachable, wire::kIcmpCodeHost);
  }
  (void)ifc;
}

}  // namespace vd::stack
