// IPv6 reassembly (RFC 8200 4.5): fragments of one datagram collected by
// (source, destination, identification), any overlap dropping the whole
// datagram (RFC 5722), bounded memory and count per StackConfig, and ICMPv6
// time exceeded (code 1) after the timeout when the first fragment came.
#include <algorithm>
#include <cstring>

#include "ipv6_impl.hpp"

namespace vd::stack {

namespace {
constexpr std::size_t kHdr = wire::kIpv6HeaderLen;
}  // namespace

void Stack::Ip6::frag_input(const Rx6& rx, std::size_t frag_off, std::size_t frag_nh_field) {
  const auto fh = wire::Ipv6FragView::parse(rx.packet.subspan(frag_off));
  if (!fh) return drop("ipv6", "frag_too_short");  // (the chain walk checked the length)
  const std::size_t data_off = frag_off + wire::kIpv6FragHeaderLen;
  const auto data = rx.packet.subspan(data_off);
  if (fh->atomic()) {  // RFC 6946: processed on its own, not with real fragments
    event("ipv6", "atomic_fragment");
    return process_chain(rx, fh->next_header(), data_off, frag_off);
  }
  if (fh->more() && (data.size() % 8 != 0 || data.empty())) {
    send_error(rx, wire::kIcmpv6ParamProblem, wire::kParamErroneousField, 4);  // the payload length
    return drop("ipv6", "frag_bad_length");
  }
  if (fh->offset() + data.size() > wire::kIpv6MaxPayload) {
    send_error(rx, wire::kIcmpv6ParamProblem, wire::kParamErroneousField, static_cast<std::uint32_t>(frag_off + 2));
    return drop("ipv6", "frag_too_big");
  }
  const FragKey key{rx.src, rx.dst, fh->ident()};
  auto it = reasm.find(key);
  if (it == reasm.end()) {
    if (reasm.size() >= cfg.reassembly_max_datagrams) return drop("ipv6", "reasm_too_many_datagrams");
    it = reasm.emplace(key, Reasm{}).first;
    it->second.ifindex = rx.ifindex;
    it->second.timer = after(cfg.reassembly_timeout, [this, key] { reasm_timeout(key); });
  }
  Reasm& r = it->second;
  if (r.dead) return drop("ipv6", "frag_of_dropped_datagram");
  const std::size_t off = fh->offset(), end = off + data.size();
  auto kill = [&](std::string_view why) {
    drop("ipv6", why);
    reasm_bytes -= r.bytes;
    r.bytes = 0;
    r.frags.clear();
    r.head.clear();
    r.dead = true;  // kept until the timeout so the rest is dropped too
  };
  if (r.frags.size() >= cfg.reassembly_max_fragments) return kill("reasm_too_many_fragments");
  if (reasm_bytes + data.size() > cfg.reassembly_mem_limit) return drop("ipv6", "reasm_mem_limit");
  const bool total_known = r.total != std::numeric_limits<std::size_t>::max();
  if (!fh->more()) {
    if (total_known && r.total != end) return kill("frag_overlap");
    if (!r.frags.empty() && std::prev(r.frags.end())->first + std::prev(r.frags.end())->second.size() > end)
      return kill("frag_overlap");
    r.total = end;
  } else if (total_known && end > r.total) {
    return kill("frag_overlap");
  }
  // RFC 5722: any overlap drops the whole datagram; an exact duplicate is
  // only a duplicate.
  auto next = r.frags.lower_bound(off);
  if (next != r.frags.end() && next->first == off && next->second.size() == data.size() &&
      std::equal(data.begin(), data.end(), next->second.begin()))
    return drop("ipv6", "frag_duplicate");
  if (next != r.frags.end() && next->first < end) return kill("frag_overlap");
  if (next != r.frags.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.size() > off) return kill("frag_overlap");
  }
  r.frags.emplace(off, std::vector<std::uint8_t>(data.begin(), data.end()));
  r.bytes += data.size();
  reasm_bytes += data.size();
  if (off == 0) {
    r.head.assign(rx.packet.begin(), rx.packet.begin() + static_cast<std::ptrdiff_t>(frag_off));
    r.next_header = fh->next_header();
    r.frag_hdr_offset = frag_nh_field;  // where the byte naming the fragment header is
    r.have_first = true;
  }
  if (!r.have_first || r.total == std::numeric_limits<std::size_t>::max()) return;
  std::size_t have = 0;
  for (const auto& [o, d] : r.frags) {
    if (o != have) return;  // a hole
    have += d.size();
  }
  if (have != r.total) return;
  // Complete: the unfragmentable part, then the data, without the fragment header.
  std::vector<std::uint8_t> pkt = std::move(r.head);
  const std::size_t head_len = pkt.size();
  if (head_len - kHdr + r.total > wire::kIpv6MaxPayload) return kill("frag_too_big");
  pkt.reserve(head_len + r.total);
  for (const auto& [o, d] : r.frags) pkt.insert(pkt.end(), d.begin(), d.end());
  wire::store_be16(&pkt[4], static_cast<std::uint16_t>(pkt.size() - kHdr));
  pkt[r.frag_hdr_offset] = r.next_header;
  const std::uint8_t nh = r.next_header;
  const std::size_t r_nh_field = r.frag_hdr_offset;
  reasm_erase(it);
  event("ipv6", "reassembled");
  Rx6 whole = rx;
  whole.packet = pkt;
  whole.pkt = nullptr;
  whole.l4_csum = OffloadMeta::Csum::NotChecked;
  // Headers before the fragment header were handled with the first
  // fragment: continue after them, with what the fragment header named.
  process_chain(whole, nh, head_len, r_nh_field);
}

void Stack::Ip6::reasm_erase(std::map<FragKey, Reasm>::iterator it) {
  sched.cancel(it->second.timer);
  reasm_bytes -= it->second.bytes;
  reasm.erase(it);
}

void Stack::Ip6::reasm_timeout(const FragKey& k) {
  auto it = reasm.find(k);
  if (it == reasm.end()) return;
  Reasm& r = it->second;
  r.timer = kNoTimer;
  if (!r.dead) {
    drop("ipv6", "reasm_timeout");
    // RFC 8200 4.5: time exceeded (code 1) only if the first fragment came.
    if (r.have_first) {
      std::vector<std::uint8_t> quote = r.head;
      const auto& first = r.frags.begin()->second;
      if (r.frags.begin()->first == 0) quote.insert(quote.end(), first.begin(), first.end());
      if (quote.size() >= kHdr) {
        wire::store_be16(&quote[4], static_cast<std::uint16_t>(std::min<std::size_t>(quote.size() - kHdr, 0xffff)));
        send_error_raw(r.ifindex, quote, false, wire::kIcmpv6TimeExceeded, wire::kTimeExceededReassembly, 0);
      }
    }
  }
  // Looked up again: the error above may have re-entered the stack.
  if (const auto again = reasm.find(k); again != reasm.end()) reasm_erase(again);
}

}  // namespace vd::stack
