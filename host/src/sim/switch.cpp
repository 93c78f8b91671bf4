#include "veridian/sim/switch.hpp"

#include <stdexcept>

namespace vd::sim {

struct Switch::Port final : FrameSink {
  Switch* sw = nullptr;
  unsigned index = 0;
  Link* link = nullptr;
  int side = 0;
  SwitchPortStats stats;
  void frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) override {
    sw->receive(index, std::move(frame), fcs_error);
  }
};

Switch::Switch(Scheduler& sched, std::string name, SwitchConfig cfg)
    : sched_(sched), name_(std::move(name)), cfg_(cfg) {
  if (cfg_.ports < 1 || cfg_.ports > 1024) throw std::invalid_argument("Switch: ports must be in 1..1024");
  if (cfg_.ageing == 0) throw std::invalid_argument("Switch: ageing must be positive");
  for (unsigned i = 0; i < cfg_.ports; ++i) {
    auto p = std::make_unique<Port>();
    p->sw = this;
    p->index = i;
    ports_.push_back(std::move(p));
  }
}

Switch::~Switch() = default;

void Switch::attach(unsigned port, Link& link, int side) {
  if (port >= ports_.size())
    throw std::out_of_range("Switch '" + name_ + "': no port " + std::to_string(port) + " (it has " +
                            std::to_string(ports_.size()) + ")");
  Port& p = *ports_[port];
  if (p.link) throw std::logic_error("Switch '" + name_ + "': port " + std::to_string(port) + " is already cabled");
  link.attach(side, &p);
  p.link = &link;
  p.side = side;
}

bool Switch::cabled(unsigned port) const { return port < ports_.size() && ports_[port]->link != nullptr; }

std::optional<unsigned> Switch::free_port() const {
  for (const auto& p : ports_)
    if (!p->link) return p->index;
  return std::nullopt;
}

const SwitchPortStats& Switch::port_stats(unsigned port) const {
  if (port >= ports_.size()) throw std::out_of_range("Switch '" + name_ + "': no port " + std::to_string(port));
  return ports_[port]->stats;
}

std::uint64_t Switch::key(const MacAddr& m) {
  std::uint64_t k = 0;
  for (auto b : m) k = (k << 8) | b;
  return k;
}

bool Switch::expired(TimePs last_seen) const { return sched_.now() - last_seen >= cfg_.ageing; }

std::optional<unsigned> Switch::lookup(const MacAddr& mac) {
  auto it = table_.find(key(mac));
  if (it == table_.end()) return std::nullopt;
  if (expired(it->second.last_seen)) {
    table_.erase(it);
    ++stats_.aged_out;
    return std::nullopt;
  }
  return it->second.port;
}

std::vector<MacEntry> Switch::mac_table() {
  std::vector<MacEntry> out;
  for (auto it = table_.begin(); it != table_.end();) {
    if (expired(it->second.last_seen)) {
      it = table_.erase(it);
      ++stats_.aged_out;
    } else {
      out.push_back(it->second);
      ++it;
    }
  }
  return out;
}

void Switch::learn(const MacAddr& src, unsigned port) {
  const std::uint64_t k = key(src);
  auto it = table_.find(k);
  if (it != table_.end()) {
    if (expired(it->second.last_seen)) {
      ++stats_.aged_out;
      ++stats_.learned;  // gone, then heard again: a new entry
    } else if (it->second.port != port) {
      ++stats_.moved;
    }
    it->second.port = port;
    it->second.last_seen = sched_.now();
    return;
  }
  if (table_.size() >= cfg_.table_size) {
    mac_table();  // make room by ageing
    if (table_.size() >= cfg_.table_size) {
      ++stats_.table_full;
      return;
    }
  }
  table_.emplace(k, MacEntry{src, port, sched_.now()});
  ++stats_.learned;
}

void Switch::transmit(unsigned port, const std::vector<std::uint8_t>& frame, TimePs at) {
  Port& p = *ports_[port];
  ++p.stats.tx_frames;
  p.stats.tx_bytes += frame.size();
  p.link->send(p.side, frame, at);
}

void Switch::receive(unsigned port, std::vector<std::uint8_t>&& frame, bool fcs_error) {
  Port& in = *ports_[port];
  ++stats_.rx_frames;
  ++in.stats.rx_frames;
  in.stats.rx_bytes += frame.size();
  if (fcs_error) {
    ++in.stats.rx_fcs_errors;
    ++stats_.fcs_drops;
    return;
  }
  if (frame.size() < 14) {
    ++stats_.runts;
    return;
  }
  MacAddr dst{}, src{};
  std::copy(frame.begin(), frame.begin() + 6, dst.begin());
  std::copy(frame.begin() + 6, frame.begin() + 12, src.begin());
  if (!(src[0] & 1)) learn(src, port);

  const TimePs at = sched_.now() + cfg_.latency;
  if (!(dst[0] & 1)) {  // unicast
    if (auto out = lookup(dst)) {
      if (*out == port) {
        ++stats_.filtered;
      } else {
        ++stats_.forwarded;
        transmit(*out, frame, at);
      }
      return;
    }
  }
  ++stats_.flooded;
  for (const auto& p : ports_)
    if (p->index != port && p->link) transmit(p->index, frame, at);
}

}  // namespace vd::sim
