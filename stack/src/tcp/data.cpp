// TCP receive data (RFC 9293 3.10.7.4 seventh check): in-order bytes into
// the receive buffer (zero-copy when the DMA buffer can be kept),
// out-of-order segments held and reassembled, and when to acknowledge
// (every second segment, stretch ACKs in a receive burst, delayed ACKs).
#include "layer.hpp"
#include "seq.hpp"

namespace vd::stack {

void TcpLayer::process_data(Tcb& t, const wire::TcpView& v) {
  auto data = v.payload();
  std::uint32_t seq = v.seq();
  if (data.empty()) return;
  if (seq_lt(seq, t.rcv_nxt)) {  // overlaps what we have: keep the new part
    const std::uint32_t skip = t.rcv_nxt - seq;
    if (skip >= data.size()) return send_ack(t);
    data = data.subspan(skip);
    seq = t.rcv_nxt;
  }
  if (seq == t.rcv_nxt) {
    // In order: keep the DMA buffer when we can, else copy.
    const bool kept = rx_pkt && t.rcvbuf.adopt(*rx_pkt, data);
    const std::size_t n = kept ? data.size() : t.rcvbuf.push(data);
    if (kept) t.info.rx_zero_copy_bytes += n;
    if (n < data.size()) impl.drop("tcp", "rcvbuf_overrun");
    t.rcv_nxt += static_cast<std::uint32_t>(n);
    t.info.bytes_received += n;
    const bool filled_hole = !t.ooo.empty();
    // Out-of-order segments that now fit follow.
    while (!t.ooo.empty()) {
      auto it = t.ooo.begin();
      if (seq_gt(it->first, t.rcv_nxt)) break;
      const std::uint32_t skip = t.rcv_nxt - it->first;
      if (skip < it->second.size()) {
        const auto rest = std::span<const std::uint8_t>(it->second).subspan(skip);
        const std::size_t m = t.rcvbuf.push(rest);
        t.rcv_nxt += static_cast<std::uint32_t>(m);
        t.info.bytes_received += m;
      }
      t.ooo_bytes -= it->second.size();
      t.ooo.erase(it);
    }
    ++t.ack_pending;
    // ACK at once every second segment, after filling a hole, or on PSH of a
    // small transfer; otherwise within the delayed-ACK time (RFC 1122 4.2.3.2).
    if (filled_hole) return send_ack(t);
    if (t.ack_pending >= 2) {
      // Inside a receive burst one ACK at its end covers every in-order
      // segment of it (a stretch ACK, as from a GRO receiver); out-of-order
      // data and filled holes are still answered at once, so loss recovery
      // sees every duplicate ACK. The delayed-ACK timer stays the backstop.
      if (!impl.in_rx_burst || t.ack_pending >= cfg.burst_ack_segments) return send_ack(t);
      if (!t.burst_ack) {
        t.burst_ack = true;
        burst_acks.push_back(&t);
      }
    }
    if (t.delack_timer == kNoTimer) {
      Tcb* p = &t;
      t.delack_timer = impl.st.scheduler().schedule_in(cfg.delayed_ack, [this, p] { on_delack(*p); });
    }
    return;
  }
  // Out of order: keep it if the buffer allows, and say what we expect.
  ++t.info.ooo_segments;
  const std::size_t room = t.rcvbuf.space() > t.ooo_bytes ? t.rcvbuf.space() - t.ooo_bytes : 0;
  if (data.size() <= room && !t.ooo.count(seq)) {
    t.ooo.emplace(seq, std::vector<std::uint8_t>(data.begin(), data.end()));
    t.ooo_bytes += data.size();
    t.last_ooo_seq = seq;
  } else {
    impl.drop("tcp", "ooo_no_room");
  }
  send_ack(t);
}

}  // namespace vd::stack
