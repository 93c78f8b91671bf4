// veth pairs: transmit on one end is receive on the other.
#include "veridian/stack/veth.hpp"

#include <stdexcept>

#include "veridian/stack/wire/ethernet.hpp"

namespace vd::stack {

VethDevice::VethDevice(Scheduler& sched, BufferPool& pool, MacAddr mac) : VirtualDevice(sched), pool_(pool), mac_(mac) {
  if (pool.buf_size() < kBufSize)
    throw std::invalid_argument("VethDevice: pool buffers must hold " + std::to_string(kBufSize) + " bytes");
}

std::pair<std::unique_ptr<VethDevice>, std::unique_ptr<VethDevice>> VethDevice::make_pair(Scheduler& sched,
                                                                                          BufferPool& pool,
                                                                                          MacAddr a, MacAddr b) {
  std::unique_ptr<VethDevice> x(new VethDevice(sched, pool, a));
  std::unique_ptr<VethDevice> y(new VethDevice(sched, pool, b));
  x->peer_ = y.get();
  y->peer_ = x.get();
  return {std::move(x), std::move(y)};
}

VethDevice::~VethDevice() {
  if (peer_) peer_->peer_ = nullptr;
  discard_pending();
}

void VethDevice::set_mtu(std::uint16_t mtu) {
  if (mtu < kMinMtu || mtu > kMaxMtu)
    throw std::invalid_argument("veth MTU must be " + std::to_string(kMinMtu) + ".." + std::to_string(kMaxMtu));
  features_.mtu = mtu;
}

bool VethDevice::transmit(Packet&& frame, std::uint16_t /*queue*/) {
  if (!frame || !carrier()) {
    ++tx_drop_no_carrier_;
    return false;
  }
  // is_skb_forwardable: the receiver's MTU plus an Ethernet header and a
  // VLAN tag. Linux counts the drop on the sending end (veth_xmit).
  if (frame.size() > std::size_t{peer_->features_.mtu} + wire::kEthHeaderLen + wire::kVlanTagLen) {
    ++tx_drop_peer_mtu_;
    return false;
  }
  ++tx_packets_;
  tx_bytes_ += frame.size();
  frame.meta = OffloadMeta{};  // what the receiver sees is a plain frame
  peer_->deliver_later(std::move(frame));
  return true;
}

Counters VethDevice::stats() const {
  return {{"tx_packets", tx_packets_},         {"tx_bytes", tx_bytes_},
          {"rx_packets", rx_packets_},         {"rx_bytes", rx_bytes_},
          {"tx_drop_no_carrier", tx_drop_no_carrier_}, {"tx_drop_peer_mtu", tx_drop_peer_mtu_},
          {"pending", pending()}};
}

}  // namespace vd::stack
