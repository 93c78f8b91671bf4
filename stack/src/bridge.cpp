// BridgeDevice: learning, forwarding and flooding between ports and br0.
#include "veridian/stack/bridge.hpp"

#include <cstring>
#include <stdexcept>

#include "veridian/stack/virtual_device.hpp"

namespace vd::stack {

namespace {
constexpr std::size_t kEthHeader = 14;
MacAddr dst_of(const Packet& f) {
  MacAddr m{};
  std::memcpy(m.data(), f.data(), 6);
  return m;
}
MacAddr src_of(const Packet& f) {
  MacAddr m{};
  std::memcpy(m.data(), f.data() + 6, 6);
  return m;
}
bool group(const MacAddr& m) { return (m[0] & 1) != 0; }  // broadcast or multicast
}  // namespace

BridgeDevice::BridgeDevice(Scheduler& sched, BufferPool& pool, MacAddr mac, BridgeConfig cfg)
    : pool_(pool), mac_(mac), fdb_(sched, cfg.ageing, cfg.fdb_size) {
  if (cfg.mtu < 68 || cfg.mtu > 9000) throw std::invalid_argument("BridgeDevice: MTU must be 68..9000");
  features_.mtu = cfg.mtu;
}

BridgeDevice::~BridgeDevice() {
  for (auto& p : ports_)
    if (p.dev) {
      p.dev->set_rx_handler(nullptr);
      p.dev->set_rx_burst_end(nullptr);
    }
}

unsigned BridgeDevice::add_port(NetDevice& dev) {
  if (&dev == this) throw std::invalid_argument("add_port: a bridge cannot be its own port");
  if (port_of(dev)) throw std::invalid_argument("add_port: the device is a port of this bridge already");
  const auto idx = static_cast<unsigned>(ports_.size());
  ports_.push_back(Port{&dev});
  dev.set_rx_handler([this, idx](Packet&& f) { from_port(idx, std::move(f)); });
  // A burst on any port ends a burst for br0's stack (its one ACK per burst).
  dev.set_rx_burst_end([this] {
    if (burst_end_) burst_end_();
  });
  dev.set_admin_up(true);
  return idx;
}

void BridgeDevice::remove_port(NetDevice& dev) {
  const auto idx = port_of(dev);
  if (!idx) throw std::invalid_argument("remove_port: the device is not a port of this bridge");
  dev.set_rx_handler(nullptr);
  dev.set_rx_burst_end(nullptr);
  ports_[*idx].dev = nullptr;
  fdb_.forget_port(*idx);
}

std::size_t BridgeDevice::port_count() const {
  std::size_t n = 0;
  for (const auto& p : ports_) n += p.dev != nullptr;
  return n;
}

std::optional<unsigned> BridgeDevice::port_of(const NetDevice& dev) const {
  for (unsigned i = 0; i < ports_.size(); ++i)
    if (ports_[i].dev == &dev) return i;
  return std::nullopt;
}

bool BridgeDevice::carrier() const {
  bool any = false;
  for (const auto& p : ports_) {
    if (!p.dev) continue;
    if (p.dev->carrier()) return true;
    any = true;
  }
  return !any;  // Linux shows a bridge with no ports as LOWER_UP
}

Counters BridgeDevice::stats() const {
  return {{"tx_packets", tx_packets_},
          {"tx_bytes", tx_bytes_},
          {"rx_packets", rx_packets_},
          {"rx_bytes", rx_bytes_},
          {"forwarded", stats_.forwarded},
          {"flooded", stats_.flooded},
          {"filtered", stats_.filtered},
          {"copies", stats_.copies},
          {"drop_no_buffer", stats_.drop_no_buffer},
          {"drop_port_busy", stats_.drop_port_busy},
          {"drop_down", stats_.drop_down},
          {"runts", stats_.runts},
          {"fdb_learned", fdb_.stats().learned},
          {"fdb_moved", fdb_.stats().moved},
          {"fdb_aged_out", fdb_.stats().aged_out},
          {"fdb_full", fdb_.stats().table_full}};
}

bool BridgeDevice::takes(NetDevice& dev, const Packet& f) {
  return f.pool() == &dev.pool() || dynamic_cast<VirtualDevice*>(&dev) != nullptr;
}

Packet BridgeDevice::copy(const Packet& f, BufferPool& pool) {
  Packet c = pool.alloc();
  if (!c || c.tailroom() < f.size()) {
    ++stats_.drop_no_buffer;
    return {};
  }
  std::memcpy(c.append(f.size()), f.data(), f.size());
  pool.count_copy_in(f.size());
  c.meta = f.meta;
  ++stats_.copies;
  return c;
}

void BridgeDevice::to_port(unsigned port, Packet&& frame) {
  NetDevice& dev = *ports_[port].dev;
  if (!takes(dev, frame)) {
    frame = copy(frame, dev.pool());
    if (!frame) return;
  }
  if (!dev.transmit(std::move(frame))) ++stats_.drop_port_busy;
}

void BridgeDevice::up(Packet&& frame) {
  if (!rx_) return;
  ++stats_.to_host;
  ++rx_packets_;
  rx_bytes_ += frame.size();
  rx_(std::move(frame));
}

void BridgeDevice::flood(std::optional<unsigned> except, bool to_host, Packet&& frame) {
  ++stats_.flooded;
  std::vector<unsigned> targets;
  for (unsigned i = 0; i < ports_.size(); ++i)
    if (ports_[i].dev && i != except && ports_[i].dev->carrier()) targets.push_back(i);
  // Every target but the last gets a copy; the last takes the frame.
  if (to_host) {
    if (targets.empty()) return up(std::move(frame));
    Packet c = copy(frame, pool_);
    if (c) up(std::move(c));
  }
  for (std::size_t k = 0; k < targets.size(); ++k) {
    if (k + 1 == targets.size()) return to_port(targets[k], std::move(frame));
    Packet c = copy(frame, ports_[targets[k]].dev->pool());
    if (c) to_port(targets[k], std::move(c));
  }
}

void BridgeDevice::from_port(unsigned port, Packet&& frame) {
  ++stats_.rx_frames;
  if (frame.size() < kEthHeader) {
    ++stats_.runts;
    return;
  }
  if (!up_) {
    ++stats_.drop_down;
    return;
  }
  const MacAddr dst = dst_of(frame), src = src_of(frame);
  if (!group(src)) fdb_.learn(src, port);
  if (dst == mac_) return up(std::move(frame));
  if (!group(dst)) {
    if (const auto out = fdb_.lookup(dst)) {
      if (*out == port) {
        ++stats_.filtered;
        return;
      }
      ++stats_.forwarded;
      return to_port(*out, std::move(frame));
    }
    return flood(port, false, std::move(frame));  // unknown unicast: not for br0 (not its MAC)
  }
  flood(port, true, std::move(frame));
}

bool BridgeDevice::transmit(Packet&& frame, std::uint16_t /*queue*/) {
  if (frame.size() < kEthHeader || !up_) return false;
  ++tx_packets_;
  tx_bytes_ += frame.size();
  const MacAddr dst = dst_of(frame);
  if (!group(dst)) {
    if (const auto out = fdb_.lookup(dst)) {
      ++stats_.forwarded;
      to_port(*out, std::move(frame));
      return true;
    }
  }
  flood(std::nullopt, false, std::move(frame));
  return true;
}

}  // namespace vd::stack
