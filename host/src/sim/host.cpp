// sim::Host: its NICs, its CPUs and its root namespace. Namespaces, veth
// pairs and moving interfaces between them are in host_netns.cpp.
#include <cmath>
#include <stdexcept>

#include "veridian/offload/rss.hpp"
#include "veridian/sim/rng.hpp"
#include "veridian/sim/simulation.hpp"

namespace vd::sim {

namespace {
// An RSS key as a Linux driver makes one (netdev_rss_key_fill: random bytes
// at boot), but drawn from a generator seeded by the host's number, so runs
// repeat. (The verification-suite key spreads sequential ephemeral ports
// badly over the low hash bits: 8 flows landed on 2 of 4 queues.)
std::array<std::uint8_t, 40> rss_key_for(std::size_t host_index) {
  Rng rng(derive_seed(0x7273735f6b6579ull, {host_index}));  // "rss_key"
  std::array<std::uint8_t, 40> k{};
  for (auto& b : k) b = static_cast<std::uint8_t>(rng.next() >> 56);
  return k;
}
MacAddr host_mac(std::size_t index, std::size_t nic) {
  // Locally administered unicast (0x02), NIC number in the third byte, host
  // index in the low bytes.
  return MacAddr{0x02, 0x56, static_cast<std::uint8_t>(0x44 + nic), static_cast<std::uint8_t>(index >> 16),
                 static_cast<std::uint8_t>(index >> 8), static_cast<std::uint8_t>(index)};
}
}  // namespace

std::unique_ptr<dev::WiredDevice> make_nic(Scheduler& sched, HostMemory& mem, MacAddr mac, const NicSpec& spec) {
  if (spec.kind == NicSpec::Kind::Rtl) {
    dev::RtlNicConfig c;
    c.model.data_width = spec.data_width;
    c.model.clock_mhz = spec.clock_mhz;
    c.model.dma = spec.dma;
    c.driver.queues = spec.queues;
    c.driver.ring_log2 = spec.ring_log2;
    c.driver.expect_abi_id = spec.expect_abi_id;
    c.driver.irq_frames = spec.irq_frames;
    c.driver.rx_csum = spec.rx_csum;
    c.driver.irq_delay_cycles = static_cast<std::uint32_t>(std::ceil(spec.irq_delay_ns * spec.clock_mhz / 1000.0));
    c.mtu = spec.mtu;
    c.trace_path = spec.trace_path;
    c.tx_csum = spec.tx_csum;
    c.tso = spec.tso && spec.tx_csum;
    return std::make_unique<dev::RtlNic>(sched, mem, mac, c);
  }
  dev::SoftNicConfig c;
  c.queues = spec.queues;
  c.mtu = spec.mtu;
  c.tx_csum = spec.tx_csum;
  c.tso = spec.tso;
  c.rx_csum = spec.rx_csum;
  c.irq_frames = spec.irq_frames;
  c.irq_delay = static_cast<TimePs>(std::llround(spec.irq_delay_ns * 1000.0));
  return std::make_unique<dev::SoftNic>(sched, mem, mac, c);
}

Host::Host(EventQueue& ev, std::string name, std::size_t index, const NicSpec& spec, std::optional<CpuConfig> cpus)
    : ev_(ev), name_(std::move(name)), index_(index), mem_(std::make_unique<HostMemory>(std::size_t(256) << 20)) {
  nics_.reserve(kMaxNics);
  nics_.push_back(Nic{spec, make_nic(ev, *mem_, host_mac(index + 1, 0), spec)});
  if (cpus) {
    cpus_ = std::make_unique<HostCpus>(ev, std::move(*cpus));
    cpu_timers_ = std::make_unique<CpuTimerScheduler>(ev, *cpus_);
  }
  namespaces_.push_back(std::make_shared<NetNamespace>("", make_stack("", {})));
  ns_by_name_[""] = namespaces_.back().get();
  Nic& n = nics_[0];
  n.attached = &attach(0);
  n.ns = &root();
  n.ifindex = root().stack().add_interface(*n.attached);
}

// Stacks go before the devices they hold references to, named ones first;
// a handle someone still holds then reports deleted().
Host::~Host() {
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) (*it)->stack_.reset();
}

std::unique_ptr<stack::Stack> Host::make_stack(const std::string& ns_name, stack::StackConfig cfg) {
  auto st = std::make_unique<stack::Stack>(cpus_ ? static_cast<Scheduler&>(*cpu_timers_) : ev_,
                                           ns_name.empty() ? name_ : name_ + ":" + ns_name, std::move(cfg));
  if (cpus_) st->set_work_hook(cpus_.get());
  return st;
}

// Readies NIC k for a stack and returns what the stack should attach; with
// CPUs, a gate that holds its output until the CPU has made it, with its
// interrupts on their cores and RSS on, as a Linux driver sets it up (an
// even table over the queues). Done once per NIC: moving it to another
// namespace keeps all of this.
NetDevice& Host::attach(std::size_t k) {
  dev::WiredDevice& dev = *nics_[k].dev;
  if (!cpus_) return dev;
  const unsigned before = queues_;
  queues_ += dev.features().rx_queues;
  dev.set_irq_dispatch([c = cpus_.get(), k, before](std::uint16_t q, std::function<void()> poll) {
    c->submit(c->irq_core(k, q, before), CpuUse::irq, std::move(poll));
  });
  if (dev.features().rx_hash && dev.features().rx_queues > 1) {
    RssConfig r;
    r.key = rss_key_for(index_);
    r.types = offload::kRssEnableAll;
    for (unsigned i = 0; i < 128; ++i) r.table.push_back(static_cast<std::uint16_t>(i % dev.features().rx_queues));
    dev.set_rss(r);
  }
  gates_.push_back(std::make_unique<CpuTxGate>(ev_, *cpus_, dev));
  return *gates_.back();
}

const Host::Nic& Host::at(std::size_t k) const {
  if (k >= nics_.size())
    throw std::out_of_range("host '" + name_ + "' has no NIC " + std::to_string(k) + " (it has " +
                            std::to_string(nics_.size()) + ")");
  return nics_[k];
}

int Host::add_nic(const NicSpec& spec) {
  if (nics_.size() >= kMaxNics)
    throw std::length_error("host '" + name_ + "': at most " + std::to_string(kMaxNics) + " NICs");
  const std::size_t k = nics_.size();
  // Built before it joins nics_, so a constructor that throws (an ABI
  // mismatch, say) leaves the host as it was.
  auto dev = make_nic(ev_, *mem_, host_mac(index_ + 1, k), spec);
  nics_.push_back(Nic{spec, std::move(dev)});
  Nic& n = nics_.back();
  n.attached = &attach(k);
  n.ns = &root();
  n.ifindex = root().stack().add_interface(*n.attached);
  return n.ifindex;
}

std::optional<std::size_t> Host::nic_for_ifindex(int ifindex) const {
  for (std::size_t k = 0; k < nics_.size(); ++k)
    if (nics_[k].ns == namespaces_.front().get() && nics_[k].ifindex == ifindex) return k;
  return std::nullopt;
}

}  // namespace vd::sim
