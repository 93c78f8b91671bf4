// A learning bridge's forwarding database (802.1D): which port each unicast
// station was last heard on, forgotten `ageing` after that. Ageing is lazy,
// on virtual time, when an entry is looked up, refreshed or listed, so an
// idle table schedules no events. Shared by the simulated switch
// (sim::Switch) and the in-host bridge device (stack::BridgeDevice).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"

namespace vd {

struct MacEntry {
  MacAddr mac{};
  unsigned port = 0;
  TimePs last_seen = 0;
};

struct MacTableStats {
  std::uint64_t learned = 0;     // new entries
  std::uint64_t moved = 0;       // a known station heard on another port
  std::uint64_t aged_out = 0;    // entries removed by ageing
  std::uint64_t table_full = 0;  // stations not learnt for want of room
};

class MacTable {
 public:
  // ageing > 0 (std::invalid_argument otherwise); capacity 0 learns nothing.
  MacTable(const Scheduler& sched, TimePs ageing, std::size_t capacity);

  // The port `mac` was learnt on, if it has not aged out.
  std::optional<unsigned> lookup(const MacAddr& mac);
  // `src` was heard on `port` now (call for unicast sources only). When the
  // table is full, expired entries are purged; if it is still full the
  // station is not learnt (table_full).
  void learn(const MacAddr& src, unsigned port);
  // Live entries in MAC order (expired ones are removed first).
  std::vector<MacEntry> entries();
  void clear() { table_.clear(); }
  // Forgets every station on `port` (the port left the bridge).
  void forget_port(unsigned port);
  const MacTableStats& stats() const { return stats_; }
  std::size_t size() const { return table_.size(); }

 private:
  bool expired(TimePs last_seen) const { return sched_.now() - last_seen >= ageing_; }
  static std::uint64_t key(const MacAddr& m);

  const Scheduler& sched_;
  TimePs ageing_;
  std::size_t capacity_;
  std::map<std::uint64_t, MacEntry> table_;
  MacTableStats stats_;
};

}  // namespace vd
