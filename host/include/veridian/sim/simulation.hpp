// A co-simulation: hosts (stack + NIC), links and captures on one virtual
// clock. Python's veridian.Simulation is a thin layer over this class.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "veridian/dev/rtl_nic.hpp"
#include "veridian/dev/soft_nic.hpp"
#include "veridian/sim/event_queue.hpp"
#include "veridian/sim/link.hpp"
#include "veridian/sim/pcap.hpp"
#include "veridian/sim/tap.hpp"
#include "veridian/stack/stack.hpp"

namespace vd::sim {

struct NicSpec {
  enum class Kind { Rtl, Soft };
  Kind kind = Kind::Soft;
  std::uint16_t queues = 4;
  std::uint16_t mtu = 1500;
  bool tx_csum = true;  // offer TX checksum offload to the stack
  // RtlNic only
  unsigned data_width = 512;
  double clock_mhz = 250.0;
  rtl::DmaConfig dma{};
  unsigned ring_log2 = 8;
  bool rx_csum = true;               // RtlNic: let the RTL verify RX checksums
  std::uint16_t irq_frames = 1;      // interrupt moderation: completions per interrupt
  double irq_delay_ns = 0;           // ... or this long after the first (0 = no timer)
  std::optional<std::uint32_t> expect_abi_id;
  std::string trace_path;
};

// Builds the NIC a spec describes (RtlNic runs its driver's init here).
std::unique_ptr<dev::WiredDevice> make_nic(Scheduler& sched, HostMemory& mem, MacAddr mac, const NicSpec& spec);

class Host {
 public:
  Host(EventQueue& ev, std::string name, std::size_t index, const NicSpec& spec);
  const std::string& name() const { return name_; }
  stack::Stack& stack() { return *stack_; }
  dev::WiredDevice& nic() { return *nic_; }
  dev::RtlNic* rtl_nic() { return dynamic_cast<dev::RtlNic*>(nic_.get()); }
  HostMemory& memory() { return *mem_; }
  const NicSpec& spec() const { return spec_; }
  std::uint16_t next_ping_id() { return ++ping_id_; }
  int ifindex() const { return ifindex_; }

 private:
  std::string name_;
  NicSpec spec_;
  std::unique_ptr<HostMemory> mem_;
  std::unique_ptr<dev::WiredDevice> nic_;
  std::unique_ptr<stack::Stack> stack_;
  std::uint16_t ping_id_ = 0;
  int ifindex_ = 0;
};

class Simulation {
 public:
  explicit Simulation(std::uint64_t seed = 1) : seed_(seed) {}
  ~Simulation();

  Host& add_host(const std::string& name, const NicSpec& spec);
  Host& host(const std::string& name);
  const std::vector<std::unique_ptr<Host>>& hosts() const { return hosts_; }
  // Cables a's NIC to b's NIC. Throws if either is already cabled.
  Link& connect(Host& a, Host& b, LinkConfig cfg);
  void capture(Link& link, const std::string& path);
  void flush_captures() {
    for (auto& p : pcaps_) p->flush();
  }

  // Cables the host's NIC to a Linux TAP device (see tap.hpp) and switches
  // the simulation to real time: from then on every run_* call is paced so
  // virtual time never runs ahead of the wall clock, and frames from the
  // kernel enter as they arrive. Throws std::system_error if the TAP cannot
  // be opened.
  TapBridge& attach_tap(Host& h, const std::string& ifname, LinkConfig cfg);
  bool realtime() const { return !taps_.empty(); }
  const std::vector<std::unique_ptr<TapBridge>>& taps() const { return taps_; }

  void run_for(TimePs d) { run_until(ev_.now() + d); }
  void run_until(TimePs t) {
    if (realtime()) (void)run_paced(t, nullptr);
    else ev_.run_until(t);
  }
  bool run_until(const std::function<bool()>& pred, TimePs timeout) {
    if (realtime()) return run_paced(ev_.now() + timeout, &pred);
    return ev_.run_until(ev_.now() + timeout, pred);
  }
  TimePs now() const { return ev_.now(); }
  EventQueue& events() { return ev_; }
  std::uint64_t seed() const { return seed_; }

  // Sends `count` echo requests one after another, each waiting up to
  // `timeout` for its reply; returns the RTT of each (nullopt if lost).
  // ttl 0 = the stack's default.
  std::vector<std::optional<TimePs>> ping(Host& from, stack::Ipv4Addr dst, int count, TimePs timeout,
                                          std::size_t payload_len = 56, std::uint8_t ttl = 0);

  const std::vector<std::unique_ptr<Link>>& links() const { return links_; }

 private:
  std::uint64_t seed_;
  EventQueue ev_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<std::shared_ptr<PcapWriter>> pcaps_;
  std::vector<std::unique_ptr<TapBridge>> taps_;
  // Real time: virtual time `anchor_virt_` was wall time `anchor_wall_ns_`.
  TimePs anchor_virt_ = 0;
  std::int64_t anchor_wall_ns_ = 0;
  bool run_paced(TimePs until, const std::function<bool()>* pred);
};

}  // namespace vd::sim
