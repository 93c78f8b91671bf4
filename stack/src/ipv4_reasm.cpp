// IPv4 reassembly (RFC 791 3.2, RFC 815) with defined limits and policy:
//  * a datagram waits at most reasm_timeout; the sender then gets ICMP time
//    exceeded (code 1) if its first fragment had come (RFC 792);
//  * memory for all partial datagrams and fragments per datagram are
//    bounded; beyond reasm_max_datagrams or reasm_max_bytes the oldest
//    datagrams are evicted;
//  * overlaps: an exact duplicate (same offset, length and bytes, as link
//    duplication produces) is ignored; any other overlap drops the whole
//    datagram, as Linux does since 2018 and RFC 5722 asks for IPv6 (it
//    closes the overlapping-fragment evasion attacks of RFC 1858/3128);
//  * a non-last fragment must carry a multiple of 8 bytes; nothing may end
//    past 65535 bytes ("ping of death"); a first fragment must hold the
//    whole UDP/TCP header (RFC 1858 tiny fragments).
#include <algorithm>
#include <cstring>

#include "stack_impl.hpp"
#include "wire/sw_checksum.hpp"
#include "veridian/offload/checksum.hpp"

namespace vd::stack {

void Stack::Impl::reasm_erase(std::map<ReasmKey, ReasmEntry>::iterator it) {
  st.sched_.cancel(it->second.timer);
  reasm_bytes -= it->second.bytes;
  reasm.erase(it);
}

void Stack::Impl::reasm_expire(const ReasmKey& k) {
  auto it = reasm.find(k);
  if (it == reasm.end()) return;
  it->second.timer = kNoTimer;
  drop("ipv4", "reasm_timeout", it->second.frags.size());
  if (!it->second.first_header.empty()) {
    // Quote the first fragment's header and the start of its payload.
    std::vector<std::uint8_t> quote = it->second.first_header;
    const auto& first = it->second.frags.begin()->second;
    quote.insert(quote.end(), first.begin(), first.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(8, first.size())));
    wire::store_be16(quote.data() + 2, static_cast<std::uint16_t>(quote.size()));
    icmp_error(quote, false, wire::kIcmpTimeExceeded, wire::kIcmpCodeReassembly);
  }
  reasm_erase(it);
}

Packet Stack::Impl::ipv4_reassemble(Iface& ifc, Packet&& p) {
  const auto ip = wire::Ipv4View::parse(p.bytes());
  const ReasmKey key{ip->src(), ip->dst(), ip->ident(), ip->protocol()};
  const std::size_t off = std::size_t(ip->frag_offset()) * 8;
  const auto data = ip->payload();
  const bool last = !ip->more_fragments();
  event("ipv4", "fragments_received");
  if (!last && (data.size() % 8 != 0 || data.empty())) return drop("ipv4", "frag_bad_length"), Packet{};
  if (ip->header_len() + off + data.size() > wire::kIpv4MaxTotalLen) return drop("ipv4", "frag_too_big"), Packet{};
  if (off == 0 && !last) {
    const std::size_t need = ip->protocol() == wire::kIpProtoUdp ? wire::kUdpHeaderLen
                             : ip->protocol() == 6               ? 20
                                                                 : 0;
    if (data.size() < need) return drop("ipv4", "frag_tiny"), Packet{};
  }
  auto it = reasm.find(key);
  if (it == reasm.end()) {
    if (reasm.size() >= cfg.reasm_max_datagrams) {
      auto oldest = reasm.begin();
      for (auto j = reasm.begin(); j != reasm.end(); ++j)
        if (j->second.started < oldest->second.started) oldest = j;
      drop("ipv4", "reasm_evicted", oldest->second.frags.size());
      reasm_erase(oldest);
    }
    it = reasm.emplace(key, ReasmEntry{}).first;
    it->second.ifindex = ifc.index;
    it->second.started = st.sched_.now();
    it->second.timer = st.sched_.schedule_in(cfg.reasm_timeout, [this, key] { reasm_expire(key); });
  }
  ReasmEntry& e = it->second;
  auto fail = [&](const char* why) {
    drop("ipv4", why, e.frags.size() + 1);
    reasm_erase(it);
    return Packet{};
  };
  const std::size_t end = off + data.size();
  if (last) {
    if (e.total && *e.total != end) return fail("frag_inconsistent");
    e.total = end;
  }
  if (e.total && end > *e.total) return fail("frag_inconsistent");
  // Neighbours in offset order: the one at or before us, and the next.
  auto next = e.frags.lower_bound(off);
  if (next != e.frags.end() && next->first == off && next->second.size() == data.size() &&
      std::equal(data.begin(), data.end(), next->second.begin())) {
    drop("ipv4", "frag_duplicate");
    return Packet{};
  }
  if (next != e.frags.end() && next->first < end) return fail("frag_overlap");
  if (next != e.frags.begin()) {
    const auto prev = std::prev(next);
    if (prev->first + prev->second.size() > off) return fail("frag_overlap");
  }
  if (e.frags.size() >= cfg.reasm_max_frags) return fail("frag_too_many");
  // Over the memory bound: the oldest other datagrams make room, so a flood
  // of never-completed datagrams cannot lock out later traffic.
  while (reasm_bytes + data.size() > cfg.reasm_max_bytes) {
    auto oldest = reasm.end();
    for (auto j = reasm.begin(); j != reasm.end(); ++j)
      if (j != it && (oldest == reasm.end() || j->second.started < oldest->second.started)) oldest = j;
    if (oldest == reasm.end()) return fail("reasm_memory");
    drop("ipv4", "reasm_evicted", oldest->second.frags.size());
    reasm_erase(oldest);
  }
  e.frags.emplace(off, std::vector<std::uint8_t>(data.begin(), data.end()));
  e.bytes += data.size();
  reasm_bytes += data.size();
  if (off == 0) e.first_header.assign(ip->header().begin(), ip->header().end());
  // Done when the last fragment came and the pieces leave no hole.
  if (!e.total || e.first_header.empty()) return Packet{};
  std::size_t covered = 0;
  for (const auto& [o, b] : e.frags) {
    if (o != covered) return Packet{};
    covered += b.size();
  }
  if (covered != *e.total) return Packet{};
  const std::size_t hl = e.first_header.size();
  Packet out = large().alloc();
  if (!out || out.tailroom() < hl + covered) return fail("reasm_no_buffer");
  std::uint8_t* d = out.append(hl + covered);
  std::memcpy(d, e.first_header.data(), hl);
  for (const auto& [o, b] : e.frags) std::memcpy(d + hl + o, b.data(), b.size());
  large().count_copy_in(covered);
  wire::store_be16(d + 2, static_cast<std::uint16_t>(hl + covered));
  wire::store_be16(d + 6, static_cast<std::uint16_t>(wire::load_be16({d, hl}, 6) & wire::kIpv4FlagDf));
  wire::store_be16(d + 10, 0);
  wire::store_be16(d + 10, sw_csum::internet_checksum({d, hl}));
  event("ipv4", "reassembled");
  reasm_erase(it);
  return out;
}

}  // namespace vd::stack
