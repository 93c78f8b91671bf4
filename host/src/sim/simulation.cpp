#include "veridian/sim/simulation.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace vd::sim {

Simulation::~Simulation() {
  // Stacks and NICs hold timers in the event queue; drop hosts first.
  hosts_.clear();
}

namespace {
std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

TapBridge& Simulation::attach_tap(Host& h, const std::string& ifname, LinkConfig cfg) {
  if (h.nic().cabled()) throw std::logic_error("Simulation::attach_tap: host '" + h.name() + "' is already cabled");
  Link& l = new_link(cfg);
  auto tap = std::make_unique<TapBridge>(ev_, l, 1, ifname, std::size_t(h.spec().mtu) + 18);
  h.nic().attach_link(&l, 0);
  if (taps_.empty()) {
    anchor_virt_ = ev_.now();
    anchor_wall_ns_ = wall_ns();
  }
  taps_.push_back(std::move(tap));
  return *taps_.back();
}

// Runs events no later than the wall clock allows, sleeping in poll() on
// the TAPs until the next event is due or a frame arrives. If the model is
// slower than real time (a busy RTL NIC), virtual time simply lags.
bool Simulation::run_paced(TimePs until, const std::function<bool()>* pred) {
  std::vector<pollfd> fds;
  for (auto& t : taps_) fds.push_back({t->fd(), POLLIN, 0});
  auto wall_virt = [&] {
    return anchor_virt_ + static_cast<TimePs>(std::max<std::int64_t>(0, wall_ns() - anchor_wall_ns_)) * kPsPerNs;
  };
  for (;;) {
    for (auto& t : taps_) t->poll_in();
    const TimePs limit = std::min(until, wall_virt());
    if (pred) {
      if (ev_.run_until(limit, *pred)) return true;
    } else {
      ev_.run_until(limit);
    }
    if (limit >= until) return pred ? (*pred)() : true;
    // Sleep until the next event, the end, or a frame (at most 10 ms, so a
    // predicate that depends on nothing here is still re-checked).
    const TimePs next = std::min(ev_.horizon(), until);
    const TimePs now = wall_virt();
    const TimePs wait_ps = next > now ? next - now : 0;
    const int wait_ms = static_cast<int>(std::min<TimePs>(wait_ps / (1000 * kPsPerNs * 1000), 10));
    if (wait_ms > 0 || wait_ps > 0) (void)::poll(fds.data(), fds.size(), wait_ms);
  }
}

void Simulation::check_name_free(const std::string& name) const {
  for (auto& h : hosts_)
    if (h->name() == name) throw std::invalid_argument("Simulation: a host named '" + name + "' exists already");
  for (auto& w : switches_)
    if (w->name() == name) throw std::invalid_argument("Simulation: a switch named '" + name + "' exists already");
}

Host& Simulation::add_host(const std::string& name, const NicSpec& spec, std::optional<CpuConfig> cpus) {
  check_name_free(name);
  hosts_.push_back(std::make_unique<Host>(ev_, name, hosts_.size(), spec, std::move(cpus)));
  return *hosts_.back();
}

Host& Simulation::host(const std::string& name) {
  for (auto& h : hosts_)
    if (h->name() == name) return *h;
  throw std::out_of_range("Simulation: no host named '" + name + "'");
}

Switch& Simulation::add_switch(const std::string& name, SwitchConfig cfg) {
  check_name_free(name);
  switches_.push_back(std::make_unique<Switch>(ev_, name, cfg));
  return *switches_.back();
}

Switch& Simulation::get_switch(const std::string& name) {
  for (auto& w : switches_)
    if (w->name() == name) return *w;
  throw std::out_of_range("Simulation: no switch named '" + name + "'");
}

// Link i's faults draw from a stream derived from the simulation's seed and i
// (and, inside the link, the direction): same seed and topology, same faults.
Link& Simulation::new_link(LinkConfig cfg) {
  const std::uint64_t seed = derive_seed(seed_, {0x4c696e6bull /* "Link" */, links_.size()});
  links_.push_back(std::make_unique<Link>(ev_, cfg, seed));
  return *links_.back();
}

namespace {
void check_nic_free(Host& h, std::size_t k) {
  if (h.nic(k).cabled())
    throw std::logic_error("Simulation::connect: host '" + h.name() + "'" + (k ? " NIC " + std::to_string(k) : "") +
                           " is already cabled");
}
unsigned pick_port(Switch& sw, std::optional<unsigned> port) {
  if (port) {
    if (*port >= sw.ports())
      throw std::out_of_range("Simulation::connect: switch '" + sw.name() + "' has no port " + std::to_string(*port));
    if (sw.cabled(*port))
      throw std::logic_error("Simulation::connect: switch '" + sw.name() + "' port " + std::to_string(*port) +
                             " is already cabled");
    return *port;
  }
  auto p = sw.free_port();
  if (!p) throw std::logic_error("Simulation::connect: switch '" + sw.name() + "' has no free port");
  return *p;
}
}  // namespace

Link& Simulation::connect(Host& a, Host& b, LinkConfig cfg, std::size_t a_nic, std::size_t b_nic) {
  if (&a == &b) throw std::invalid_argument("Simulation::connect: a host cannot be cabled to itself");
  check_nic_free(a, a_nic);
  check_nic_free(b, b_nic);
  Link& l = new_link(cfg);
  a.nic(a_nic).attach_link(&l, 0);
  b.nic(b_nic).attach_link(&l, 1);
  return l;
}

Link& Simulation::connect(Host& h, Switch& sw, LinkConfig cfg, std::size_t h_nic, std::optional<unsigned> port) {
  check_nic_free(h, h_nic);
  const unsigned p = pick_port(sw, port);
  Link& l = new_link(cfg);
  h.nic(h_nic).attach_link(&l, 0);
  sw.attach(p, l, 1);
  return l;
}

Link& Simulation::connect(Switch& a, Switch& b, LinkConfig cfg, std::optional<unsigned> a_port,
                          std::optional<unsigned> b_port) {
  if (&a == &b) throw std::invalid_argument("Simulation::connect: a switch cannot be cabled to itself");
  const unsigned pa = pick_port(a, a_port);
  const unsigned pb = pick_port(b, b_port);
  Link& l = new_link(cfg);
  a.attach(pa, l, 0);
  b.attach(pb, l, 1);
  return l;
}

void Simulation::capture(Link& link, const std::string& path) {
  auto w = std::make_shared<PcapWriter>(path);
  pcaps_.push_back(w);
  link.capture(w);
}

void Simulation::capture_delivered(Link& link, const std::string& path) {
  auto w = std::make_shared<PcapWriter>(path);
  pcaps_.push_back(w);
  link.capture_delivered(w);
}

std::vector<std::optional<TimePs>> Simulation::ping(NetNamespace& from, stack::Ipv4Addr dst, int count, TimePs timeout,
                                                    std::size_t payload_len, std::uint8_t ttl) {
  if (count < 0) throw std::invalid_argument("ping: count must be >= 0");
  std::vector<std::optional<TimePs>> out;
  const std::uint16_t id = from.next_ping_id();
  auto& st = from.stack();
  for (int i = 0; i < count; ++i) {
    const auto seq = static_cast<std::uint16_t>(i + 1);
    const std::size_t seen = st.echo_replies().size();
    if (auto ec = st.send_echo(dst, id, seq, payload_len, ttl)) throw std::system_error(ec, "ping " + dst.str());
    std::optional<TimePs> rtt;
    auto got = [&] {
      const auto& r = st.echo_replies();
      for (std::size_t k = seen; k < r.size(); ++k)
        if (r[k].id == id && r[k].seq == seq) {
          rtt = r[k].received_at - r[k].sent_at;
          return true;
        }
      return false;
    };
    run_until(got, timeout);
    out.push_back(rtt);
  }
  return out;
}

}  // namespace vd::sim
