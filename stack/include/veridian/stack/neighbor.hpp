// Neighbour reachability (RFC 4861 section 7.3, "NUD"), shared by ARP and
// IPv6 neighbour discovery: one state machine, two address families. The
// protocol specifics (how a solicitation looks, what to do with packets that
// could not be delivered) are hooks; timers run on the stack's Scheduler.
//
//   (none) --output--> INCOMPLETE --solicited/unsolicited answer--> REACHABLE / STALE
//   INCOMPLETE --max_multicast_solicit tries--> deleted, queued packets failed
//   REACHABLE --reachable_time--> STALE --output--> DELAY --delay_first_probe--> PROBE
//   DELAY/PROBE --confirmation--> REACHABLE;  PROBE --max_unicast_solicit tries--> deleted
//   STALE unused for stale_lifetime --> deleted (garbage collection)
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "veridian/core/hostmem.hpp"
#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"

namespace vd::stack {

enum class NudState : std::uint8_t { Incomplete, Reachable, Stale, Delay, Probe };

inline const char* nud_state_name(NudState s) {
  switch (s) {
    case NudState::Incomplete: return "incomplete";
    case NudState::Reachable: return "reachable";
    case NudState::Stale: return "stale";
    case NudState::Delay: return "delay";
    case NudState::Probe: return "probe";
  }
  return "?";
}

struct NudConfig {
  TimePs reachable_time = s_to_ps(30);
  TimePs retrans_timer = s_to_ps(1);
  TimePs delay_first_probe = s_to_ps(5);
  TimePs stale_lifetime = s_to_ps(60);  // a STALE entry nobody uses is forgotten after this
  // An unsolicited announcement may not change a link address set or
  // confirmed less than this long ago (Linux's "locktime"): a spoofed ARP
  // racing a genuine one loses. 0 disables the lock.
  TimePs locktime = s_to_ps(1);
  unsigned max_multicast_solicit = 3;
  unsigned max_unicast_solicit = 3;
  // Packets held per unresolved address, at most queue_limit of them and
  // queue_bytes in all (Linux's unres_qlen and unres_qlen_bytes); beyond
  // either the oldest are discarded, so the newest always wait.
  std::size_t queue_limit = 101;
  std::size_t queue_bytes = 212992;
  std::size_t max_entries = 1024; // beyond this, new resolutions are refused
};

template <class A>
class NeighborCache {
 public:
  struct Entry {
    NudState state = NudState::Incomplete;
    MacAddr mac{};
    TimePs confirmed_at = 0;  // last reachability confirmation
    TimePs updated_at = 0;    // last time the link address was set
    TimePs used_at = 0;       // last packet sent through the entry
    unsigned probes = 0;      // solicitations sent in this state
    TimerId timer = kNoTimer;
    std::deque<Packet> queue; // only while INCOMPLETE
    std::size_t queued_bytes = 0;
  };

  struct Hooks {
    // Send a solicitation for `target`: to its last known link address when
    // `unicast` is given (PROBE), else multicast/broadcast (INCOMPLETE).
    std::function<void(const A& target, const MacAddr* unicast)> solicit;
    // Put a resolved packet on the wire; false when the device refused it.
    std::function<bool(const MacAddr& mac, Packet&& p)> transmit;
    // Resolution failed: these packets will never go (ICMP unreachable, drops).
    std::function<void(const A& target, std::deque<Packet>&& q)> failed;
    // n queued packets were discarded to make room for newer ones (optional).
    std::function<void(std::size_t n)> discarded;
  };

  enum class Output { Sent, Queued, TableFull, TxFailed };
  enum class Update { Created, Changed, Refreshed, Locked, Ignored };

  NeighborCache(Scheduler& sched, NudConfig cfg, Hooks hooks)
      : sched_(sched), cfg_(cfg), hooks_(std::move(hooks)) {}
  ~NeighborCache() { clear(); }
  NeighborCache(const NeighborCache&) = delete;
  NeighborCache& operator=(const NeighborCache&) = delete;

  const NudConfig& config() const { return cfg_; }
  void set_config(const NudConfig& c) { cfg_ = c; }

  // Sends p to `ip` now if its link address is known, else queues it and
  // starts (or joins) resolution.
  Output output(const A& ip, Packet&& p) {
    auto it = table_.find(ip);
    if (it == table_.end()) {
      if (table_.size() >= cfg_.max_entries && !evict_one()) return Output::TableFull;
      it = table_.emplace(ip, Entry{}).first;
      Entry& e = it->second;
      enqueue(e, std::move(p));
      e.used_at = now();
      arm(ip, e, cfg_.retrans_timer);
      e.probes = 1;
      hooks_.solicit(ip, nullptr);  // last: it may re-enter and resolve ip at once
      return Output::Queued;
    }
    Entry& e = it->second;
    e.used_at = now();
    if (e.state == NudState::Incomplete) {
      enqueue(e, std::move(p));
      return Output::Queued;
    }
    if (e.state == NudState::Stale) {
      e.state = NudState::Delay;
      e.probes = 0;
      arm(ip, e, cfg_.delay_first_probe);
    }
    const MacAddr mac = e.mac;
    return hooks_.transmit(mac, std::move(p)) ? Output::Sent : Output::TxFailed;
  }

  // A solicited answer to our solicitation (ARP reply to us, NA with S set):
  // the neighbour is reachable at `mac`. `override_mac` is NA's O flag
  // (always true for ARP). Returns false if we held no entry (not asked).
  bool confirm(const A& ip, const MacAddr& mac, bool override_mac = true) {
    auto it = table_.find(ip);
    if (it == table_.end()) return false;
    Entry& e = it->second;
    if (e.state != NudState::Incomplete && mac != e.mac && !override_mac) {
      // RFC 4861 7.2.5: a non-override answer with another address only
      // demotes a REACHABLE entry; it does not take over the entry.
      if (e.state == NudState::Reachable) set_state(ip, e, NudState::Stale);
      return true;
    }
    e.mac = mac;
    e.updated_at = now();
    make_reachable(ip, e);
    return true;
  }

  // An upper layer saw forward progress (a TCP ACK for new data): reachable.
  void hint_reachable(const A& ip) {
    auto it = table_.find(ip);
    if (it != table_.end() && it->second.state != NudState::Incomplete) make_reachable(ip, it->second);
  }

  // Unsolicited information: an ARP request or announcement from ip, an NS
  // with a source link-layer option, an unsolicited NA or a redirect.
  // `create` says whether an unknown address gets an entry (RFC 826 merge
  // creates one only when the packet was for us).
  Update learn(const A& ip, const MacAddr& mac, bool create) {
    auto it = table_.find(ip);
    if (it == table_.end()) {
      if (!create) return Update::Ignored;
      if (table_.size() >= cfg_.max_entries && !evict_one()) return Update::Ignored;
      it = table_.emplace(ip, Entry{}).first;
      it->second.mac = mac;
      it->second.used_at = now();
      it->second.updated_at = now();
      set_state(ip, it->second, NudState::Stale);
      return Update::Created;
    }
    Entry& e = it->second;
    if (e.state == NudState::Incomplete) {
      e.mac = mac;
      e.updated_at = now();
      set_state(ip, e, NudState::Stale);
      flush(ip, e);
      return Update::Created;
    }
    if (e.mac == mac) return Update::Refreshed;
    if (cfg_.locktime && e.updated_at + cfg_.locktime > now()) return Update::Locked;
    e.mac = mac;
    e.updated_at = now();
    set_state(ip, e, NudState::Stale);
    return Update::Changed;
  }

  const Entry* find(const A& ip) const {
    auto it = table_.find(ip);
    return it == table_.end() ? nullptr : &it->second;
  }
  const std::map<A, Entry>& entries() const { return table_; }

  bool remove(const A& ip) {
    auto it = table_.find(ip);
    if (it == table_.end()) return false;
    sched_.cancel(it->second.timer);
    table_.erase(it);
    return true;
  }

  void clear() {
    for (auto& [ip, e] : table_) sched_.cancel(e.timer);
    table_.clear();
  }

 private:
  TimePs now() const { return sched_.now(); }

  void arm(const A& ip, Entry& e, TimePs after) {
    sched_.cancel(e.timer);
    e.timer = sched_.schedule_in(after, [this, ip] { on_timer(ip); });
  }

  void set_state(const A& ip, Entry& e, NudState s) {
    e.state = s;
    e.probes = 0;
    if (s == NudState::Reachable) arm(ip, e, cfg_.reachable_time);
    else if (s == NudState::Stale) arm(ip, e, cfg_.stale_lifetime);
  }

  void make_reachable(const A& ip, Entry& e) {
    const bool was_incomplete = e.state == NudState::Incomplete;
    e.confirmed_at = now();
    e.updated_at = now();
    set_state(ip, e, NudState::Reachable);
    if (was_incomplete) flush(ip, e);
  }

  // Sends what waited. The queue is moved out first: transmitting may
  // re-enter the stack and touch this table.
  void flush(const A& ip, Entry& e) {
    std::deque<Packet> q = std::move(e.queue);
    e.queue.clear();
    e.queued_bytes = 0;
    const MacAddr mac = e.mac;
    (void)ip;
    for (Packet& p : q) (void)hooks_.transmit(mac, std::move(p));
  }

  void on_timer(const A& ip) {
    auto it = table_.find(ip);
    if (it == table_.end()) return;
    Entry& e = it->second;
    e.timer = kNoTimer;
    switch (e.state) {
      case NudState::Incomplete:
        if (e.probes < cfg_.max_multicast_solicit) {
          ++e.probes;
          arm(ip, e, cfg_.retrans_timer);
          hooks_.solicit(ip, nullptr);
          return;
        }
        return fail(it);
      case NudState::Reachable:
        e.state = NudState::Stale;
        e.probes = 0;
        // Garbage-collect relative to the last use, not to now.
        arm(ip, e, e.used_at + cfg_.stale_lifetime > now() ? e.used_at + cfg_.stale_lifetime - now() : 0);
        return;
      case NudState::Stale:
        if (e.used_at + cfg_.stale_lifetime > now()) {
          arm(ip, e, e.used_at + cfg_.stale_lifetime - now());
          return;
        }
        table_.erase(it);
        return;
      case NudState::Delay:
        e.state = NudState::Probe;
        e.probes = 1;
        arm(ip, e, cfg_.retrans_timer);
        probe(ip, e);
        return;
      case NudState::Probe:
        if (e.probes < cfg_.max_unicast_solicit) {
          ++e.probes;
          arm(ip, e, cfg_.retrans_timer);
          probe(ip, e);
          return;
        }
        return fail(it);
    }
  }

  void probe(const A& ip, const Entry& e) {
    const MacAddr mac = e.mac;
    hooks_.solicit(ip, &mac);
  }

  // Queues p behind what waits, then discards from the front (the oldest)
  // until the queue is within both limits again; p itself always stays.
  void enqueue(Entry& e, Packet&& p) {
    e.queued_bytes += p.size();
    e.queue.push_back(std::move(p));
    std::size_t n = 0;
    while (e.queue.size() > 1 && (e.queue.size() > cfg_.queue_limit || e.queued_bytes > cfg_.queue_bytes)) {
      e.queued_bytes -= e.queue.front().size();
      e.queue.pop_front();
      ++n;
    }
    if (n && hooks_.discarded) hooks_.discarded(n);
  }

  void fail(typename std::map<A, Entry>::iterator it) {
    const A ip = it->first;
    std::deque<Packet> q = std::move(it->second.queue);
    table_.erase(it);
    hooks_.failed(ip, std::move(q));
  }

  // Makes room by forgetting the least recently used STALE entry.
  bool evict_one() {
    auto victim = table_.end();
    for (auto it = table_.begin(); it != table_.end(); ++it)
      if (it->second.state == NudState::Stale && (victim == table_.end() || it->second.used_at < victim->second.used_at))
        victim = it;
    if (victim == table_.end()) return false;
    sched_.cancel(victim->second.timer);
    table_.erase(victim);
    return true;
  }

  Scheduler& sched_;
  NudConfig cfg_;
  Hooks hooks_;
  std::map<A, Entry> table_;
};

}  // namespace vd::stack
