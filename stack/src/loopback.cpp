// The loopback device: a queue drained by a zero-delay event.
#include "veridian/stack/loopback.hpp"

#include <utility>

namespace vd::stack {

LoopbackDevice::LoopbackDevice(Scheduler& sched) : sched_(sched) {
  features_.tx_csum_ip = true;
  features_.tx_csum_l4 = true;
  features_.mtu = 65535;
}

LoopbackDevice::~LoopbackDevice() {
  *alive_ = false;
  sched_.cancel(timer_);
  q_.clear();  // before pool_: the buffers go back to it
}

BufferPool& LoopbackDevice::pool() {
  if (!pool_) {
    mem_ = std::make_unique<HostMemory>(kBufSize * kBufs + 4096);
    pool_ = std::make_unique<BufferPool>(*mem_, kBufSize, kBufs);
  }
  return *pool_;
}

bool LoopbackDevice::transmit(Packet&& frame, std::uint16_t /*queue*/) {
  if (!frame) {
    ++drops_;
    return false;
  }
  // What the sender asked the "hardware" to do is what lo vouches for.
  OffloadMeta& m = frame.meta;
  m.rx_csum_ip = OffloadMeta::Csum::Good;
  m.rx_csum_l4 = OffloadMeta::Csum::Good;
  m.tx_csum_ip = m.tx_csum_l4 = m.tx_csum_partial = false;
  m.tso_mss = 0;
  m.queue = 0;
  q_.push_back(std::move(frame));
  if (timer_ == kNoTimer) {
    std::weak_ptr<bool> alive = alive_;
    timer_ = sched_.schedule_in(0, [this, alive] {
      if (alive.expired() || !*alive.lock()) return;
      timer_ = kNoTimer;
      if (dispatch_) {
        dispatch_(0, [this, alive] {
          if (!alive.expired() && *alive.lock()) deliver();
        });
      } else {
        deliver();
      }
    });
  }
  return true;
}

// Delivers what was queued when the delivery started; frames sent while it
// runs (ACKs, replies) go in the next one, so a conversation over lo never
// recurses.
void LoopbackDevice::deliver() {
  std::deque<Packet> batch;
  batch.swap(q_);
  for (Packet& p : batch) {
    ++packets_;
    bytes_ += p.size();
    if (rx_) rx_(std::move(p));
  }
  if (!batch.empty() && burst_end_) burst_end_();
}

Counters LoopbackDevice::stats() const {
  // One device is both ends: what it sent, it received.
  return {{"tx_packets", packets_}, {"tx_bytes", bytes_}, {"rx_packets", packets_}, {"rx_bytes", bytes_},
          {"tx_drops", drops_}, {"pending", q_.size()}};
}

}  // namespace vd::stack
