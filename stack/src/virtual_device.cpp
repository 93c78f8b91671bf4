// VirtualDevice: a queue drained by a zero-delay event.
#include "veridian/stack/virtual_device.hpp"

#include <utility>

namespace vd::stack {

VirtualDevice::~VirtualDevice() {
  *alive_ = false;
  sched_.cancel(timer_);
}

void VirtualDevice::deliver_later(Packet&& p) {
  q_.push_back(std::move(p));
  if (timer_ != kNoTimer) return;
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

// Delivers what was queued when the delivery started; frames sent while it
// runs (ACKs, replies) go in the next one.
void VirtualDevice::deliver() {
  std::deque<Packet> batch;
  batch.swap(q_);
  for (Packet& p : batch) {
    ++rx_packets_;
    rx_bytes_ += p.size();
    if (rx_) rx_(std::move(p));
  }
  if (!batch.empty() && burst_end_) burst_end_();
}

}  // namespace vd::stack
