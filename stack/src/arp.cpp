// ARP (RFC 826) for IPv4 over Ethernet: replies, a neighbour cache aged on
// virtual time, and a bounded queue per unresolved address with retries.
#include "stack_impl.hpp"

namespace vd::stack {

namespace {

bool bad_sender(const wire::ArpView& v) {
  const Ipv4Addr ip = v.sender_ip();
  return ip.is_broadcast() || ip.is_multicast() || wire::is_multicast_mac(v.sender_mac());
}

}  // namespace

void Stack::Impl::arp_input(Iface& ifc, Packet&& p) {
  const auto arp = wire::ArpView::parse(p.bytes());
  if (!arp) return drop("arp", arp.reason());
  if (bad_sender(*arp)) return drop("arp", "bad_sender");
  const Ipv4Addr sip = arp->sender_ip();
  const bool for_us = ifc.has_addr(arp->target_ip());
  const bool is_request = arp->oper() == wire::kArpOpRequest;
  // RFC 826 merge: refresh an entry we already hold, whoever was asked.
  const bool known = ifc.neighbors.count(sip) != 0;
  if (is_request && !for_us) {
    if (known) learn(ifc, sip, arp->sender_mac());
    return drop("arp", "not_for_us");
  }
  count_rx("arp", wire::kArpLen);
  // Sender 0.0.0.0 is an address probe (RFC 5227): answer, but learn nothing.
  if (!sip.is_unspecified()) learn(ifc, sip, arp->sender_mac());
  if (is_request) {
    arp_send(ifc, arp->sender_mac(),
             {wire::kArpOpReply, ifc.mac, arp->target_ip(), arp->sender_mac(), sip});
  }
}

void Stack::Impl::arp_send(Iface& ifc, const MacAddr& eth_dst, const wire::ArpRepr& r) {
  Packet p = ifc.dev->pool().alloc();
  if (!p) return drop("arp", "no_buffer");
  wire::emit_arp(p, r);
  if (!eth_output(ifc, eth_dst, wire::kEthertypeArp, std::move(p))) count_tx("arp", wire::kArpLen);
}

void Stack::Impl::arp_request(Iface& ifc, Ipv4Addr target) {
  arp_send(ifc, wire::kBroadcastMac,
           {wire::kArpOpRequest, ifc.mac, ifc.source_for(target), MacAddr{}, target});
}

const Neighbor* Stack::Impl::neighbor(Iface& ifc, Ipv4Addr ip) {
  auto it = ifc.neighbors.find(ip);
  if (it == ifc.neighbors.end()) return nullptr;
  if (it->second.expires <= st.sched_.now()) {  // aged out: forget lazily
    ifc.neighbors.erase(it);
    return nullptr;
  }
  return &it->second;
}

void Stack::Impl::learn(Iface& ifc, Ipv4Addr ip, const MacAddr& mac) {
  ifc.neighbors[ip] = Neighbor{mac, st.sched_.now() + cfg.arp_entry_lifetime};
  arp_flush(ifc, ip, mac);
}

// Sends what waited for `ip`. The queue is moved out first: transmitting can
// re-enter the stack (a device delivering synchronously) and touch `pending`.
void Stack::Impl::arp_flush(Iface& ifc, Ipv4Addr ip, const MacAddr& mac) {
  auto it = ifc.pending.find(ip);
  if (it == ifc.pending.end()) return;
  st.sched_.cancel(it->second.timer);
  std::deque<Packet> q = std::move(it->second.queue);
  ifc.pending.erase(it);
  for (Packet& p : q) (void)eth_output(ifc, mac, wire::kEthertypeIpv4, std::move(p));
}

std::error_code Stack::Impl::neigh_output(Iface& ifc, Ipv4Addr next_hop, bool broadcast, Packet&& p) {
  if (broadcast) return eth_output(ifc, wire::kBroadcastMac, wire::kEthertypeIpv4, std::move(p));
  if (const Neighbor* n = neighbor(ifc, next_hop)) {
    const MacAddr mac = n->mac;
    return eth_output(ifc, mac, wire::kEthertypeIpv4, std::move(p));
  }
  return arp_enqueue(ifc, next_hop, std::move(p));
}

std::error_code Stack::Impl::arp_enqueue(Iface& ifc, Ipv4Addr ip, Packet&& p) {
  auto [it, fresh] = ifc.pending.try_emplace(ip);
  PendingResolution& pr = it->second;
  std::error_code ec;
  if (pr.queue.size() >= cfg.arp_queue_limit) {
    drop("arp", "queue_full");
    ec = make_err(std::errc::no_buffer_space);
  } else {
    pr.queue.push_back(std::move(p));
  }
  if (fresh) {
    const int idx = ifc.index;
    pr.timer = st.sched_.schedule_in(cfg.arp_retry_interval, [this, idx, ip] { arp_timer(idx, ip); });
    arp_request(ifc, ip);  // last: it may re-enter and resolve `ip` at once
  }
  return ec;
}

// Retry until arp_max_retries requests after the first have gone unanswered,
// then give up on everything queued for the address.
void Stack::Impl::arp_timer(int ifindex, Ipv4Addr ip) {
  Iface& ifc = *ifaces[static_cast<std::size_t>(ifindex)];
  auto it = ifc.pending.find(ip);
  if (it == ifc.pending.end()) return;
  PendingResolution& pr = it->second;
  pr.timer = kNoTimer;
  if (pr.retries < cfg.arp_max_retries) {
    ++pr.retries;
    pr.timer = st.sched_.schedule_in(cfg.arp_retry_interval, [this, ifindex, ip] { arp_timer(ifindex, ip); });
    arp_request(ifc, ip);
    return;
  }
  const std::size_t n = pr.queue.size();
  ifc.pending.erase(it);
  if (n) drop("arp", "resolution_failed", n);
}

}  // namespace vd::stack
