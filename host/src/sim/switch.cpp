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

namespace {
const SwitchConfig& checked(const SwitchConfig& c) {
  if (c.ports < 1 || c.ports > 1024) throw std::invalid_argument("Switch: ports must be in 1..1024");
  if (c.ageing == 0) throw std::invalid_argument("Switch: ageing must be positive");
  return c;
}
}  // namespace

Switch::Switch(Scheduler& sched, std::string name, SwitchConfig cfg)
    : sched_(sched), name_(std::move(name)), cfg_(checked(cfg)), table_(sched, cfg_.ageing, cfg_.table_size) {
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

SwitchStats Switch::stats() const {
  SwitchStats s = stats_;
  const MacTableStats& t = table_.stats();
  s.learned = t.learned;
  s.moved = t.moved;
  s.aged_out = t.aged_out;
  s.table_full = t.table_full;
  return s;
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
  if (!(src[0] & 1)) table_.learn(src, port);

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
