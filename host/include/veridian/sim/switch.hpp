// A learning L2 switch (store-and-forward) with N ports, each a link end.
//
// A frame arriving on port p (whole, since a link delivers it at its last
// bit) is dropped if its FCS is bad; otherwise its source MAC is learnt on p
// (unicast sources only), and it goes to the port its destination was learnt
// on, or, for broadcast, multicast and unknown destinations, to every other
// cabled port (flooding). A frame whose destination sits on the port it came
// in on is filtered. Entries age out `ageing` after the station was last heard
// from (checked on virtual time when an entry is looked up or listed: no
// timers, so an idle switch costs no events). No VLANs, no spanning tree:
// cabling switches in a loop makes broadcast frames circle for ever.
// Egress queues are the links' own (unbounded) transmit queues.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "veridian/core/mac_table.hpp"
#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"
#include "veridian/sim/link.hpp"

namespace vd::sim {

struct SwitchConfig {
  unsigned ports = 8;
  TimePs ageing = s_to_ps(300);  // IEEE 802.1D default
  TimePs latency = 0;            // forwarding delay after a frame has fully arrived
  std::size_t table_size = 4096; // MAC table entries; when full, new stations are not learnt (flooded)
};

struct SwitchPortStats {
  std::uint64_t rx_frames = 0, rx_bytes = 0;
  std::uint64_t tx_frames = 0, tx_bytes = 0;
  std::uint64_t rx_fcs_errors = 0;
};

struct SwitchStats {
  std::uint64_t rx_frames = 0;    // frames received on any port
  std::uint64_t forwarded = 0;    // sent to the one port their destination was learnt on
  std::uint64_t flooded = 0;      // sent to every other port (broadcast, multicast, unknown)
  std::uint64_t filtered = 0;     // destination on the ingress port: not sent
  std::uint64_t fcs_drops = 0;    // bad FCS: not sent
  std::uint64_t runts = 0;        // shorter than an Ethernet header: not sent
  std::uint64_t learned = 0;      // new table entries
  std::uint64_t moved = 0;        // a known station heard on another port
  std::uint64_t aged_out = 0;     // entries removed by ageing
  std::uint64_t table_full = 0;   // stations not learnt for want of room
};

using vd::MacEntry;

class Switch {
 public:
  Switch(Scheduler& sched, std::string name, SwitchConfig cfg = {});
  ~Switch();
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  const std::string& name() const { return name_; }
  const SwitchConfig& config() const { return cfg_; }
  unsigned ports() const { return cfg_.ports; }

  // Cables `port` to `side` of `link`. Throws std::out_of_range for a port
  // the switch lacks, std::logic_error if it is cabled already.
  void attach(unsigned port, Link& link, int side);
  bool cabled(unsigned port) const;
  // The lowest port with no cable, if any.
  std::optional<unsigned> free_port() const;

  // The port `mac` was learnt on, if it has not aged out.
  std::optional<unsigned> lookup(const MacAddr& mac) { return table_.lookup(mac); }
  // Live entries in MAC order (ageing first removes the expired ones).
  std::vector<MacEntry> mac_table() { return table_.entries(); }
  // Forgets every learnt station.
  void flush_table() { table_.clear(); }

  SwitchStats stats() const;
  const SwitchPortStats& port_stats(unsigned port) const;

 private:
  struct Port;
  void receive(unsigned port, std::vector<std::uint8_t>&& frame, bool fcs_error);
  void transmit(unsigned port, const std::vector<std::uint8_t>& frame, TimePs at);

  Scheduler& sched_;
  std::string name_;
  SwitchConfig cfg_;
  std::vector<std::unique_ptr<Port>> ports_;
  MacTable table_;
  SwitchStats stats_;  // the table's counters are added by stats()
};

}  // namespace vd::sim
