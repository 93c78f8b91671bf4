// The loopback device: transmit is receive.
#include "veridian/stack/loopback.hpp"

#include <utility>

namespace vd::stack {

LoopbackDevice::LoopbackDevice(Scheduler& sched) : VirtualDevice(sched) {
  features_.tx_csum_ip = true;
  features_.tx_csum_l4 = true;
  features_.mtu = 65535;
}

LoopbackDevice::~LoopbackDevice() { discard_pending(); }  // before pool_: the buffers go back to it

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
  ++tx_packets_;
  tx_bytes_ += frame.size();
  deliver_later(std::move(frame));
  return true;
}

Counters LoopbackDevice::stats() const {
  return {{"tx_packets", tx_packets_}, {"tx_bytes", tx_bytes_}, {"rx_packets", rx_packets_},
          {"rx_bytes", rx_bytes_}, {"tx_drops", drops_}, {"pending", pending()}};
}

}  // namespace vd::stack
