// A neighbour cache with Neighbor Unreachability Detection (RFC 4861 7.3):
// INCOMPLETE -> REACHABLE/STALE -> DELAY -> PROBE, timers on the Scheduler
// (virtual time), a bounded queue of packets per unresolved neighbour.
//
// It knows nothing of ND message formats: the owner passes in what a
// message said (on_advert, on_lla_hint) and is called back to send a
// solicitation, to transmit what waited for an address, or to give up.
// That keeps it usable for ARP as well (an ARP request is a multicast
// solicitation, a reply an advertisement with solicited = override = true).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "veridian/core/hostmem.hpp"
#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"
#include "veridian/stack/ipv6.hpp"

namespace vd::stack {

template <class A>
class NudCache {
 public:
  struct Params {
    TimePs retrans = ms_to_ps(1000);
    TimePs reachable = s_to_ps(30);
    TimePs delay_first_probe = s_to_ps(5);
    unsigned max_multicast_solicit = 3;
    unsigned max_unicast_solicit = 3;
    std::size_t queue_limit = 16;
    std::size_t cache_limit = 256;
  };
  struct Hooks {
    // Send a solicitation for `a`: unicast to *mac (a NUD probe) or, with
    // nullptr, multicast (address resolution).
    std::function<void(const A& a, const MacAddr* mac)> solicit;
    // `a` resolved: send what waited for it.
    std::function<void(const A& a, const MacAddr& mac, std::deque<Packet>&& q)> resolved;
    // Resolution failed: what waited for `a` is handed back.
    std::function<void(const A& a, std::deque<Packet>&& q)> failed;
  };
  struct Entry {
    NudState state = NudState::incomplete;
    MacAddr mac{};
    bool is_router = false;
    unsigned probes = 0;
    TimerId timer = kNoTimer;
    std::deque<Packet> queue;
  };
  enum class Out { send, queued, queue_full, cache_full };

  NudCache(Scheduler& s, Params p, Hooks h) : sched_(s), p_(p), h_(std::move(h)), alive_(std::make_shared<int>(0)) {}
  ~NudCache() { clear(); }
  NudCache(const NudCache&) = delete;
  NudCache& operator=(const NudCache&) = delete;

  void clear() {
    for (auto& [a, e] : m_) sched_.cancel(e.timer);
    m_.clear();
  }

  const Entry* find(const A& a) const {
    const auto it = m_.find(a);
    return it == m_.end() ? nullptr : &it->second;
  }
  std::size_t size() const { return m_.size(); }
  const std::map<A, Entry>& entries() const { return m_; }

  // A packet for `a`: Out::send with *mac set (the packet is left alone),
  // or the packet is queued until resolution (moved from), or refused.
  Out output(const A& a, Packet& p, MacAddr& mac) {
    auto it = m_.find(a);
    if (it == m_.end()) {
      if (m_.size() >= p_.cache_limit && !evict()) return Out::cache_full;
      Entry& e = m_[a];
      e.queue.push_back(std::move(p));
      e.probes = 1;
      arm(a, e, p_.retrans);
      h_.solicit(a, nullptr);  // last: it may re-enter and resolve `a`
      return Out::queued;
    }
    Entry& e = it->second;
    if (e.state == NudState::incomplete) {
      if (e.queue.size() >= p_.queue_limit) return Out::queue_full;
      e.queue.push_back(std::move(p));
      return Out::queued;
    }
    mac = e.mac;
    if (e.state == NudState::stale) {  // 7.3.3: first use of a stale entry
      e.state = NudState::delay;
      arm(a, e, p_.delay_first_probe);
    }
    return Out::send;
  }

  // A Neighbor Advertisement (RFC 4861 7.2.5).
  void on_advert(const A& a, std::optional<MacAddr> lla, bool solicited, bool override, bool is_router) {
    auto it = m_.find(a);
    if (it == m_.end()) return;  // no entry: unsolicited adverts create none
    Entry& e = it->second;
    if (e.state == NudState::incomplete) {
      if (!lla) return;
      e.mac = *lla;
      e.is_router = is_router;
      enter(a, e, solicited ? NudState::reachable : NudState::stale);
      flush(a);
      return;
    }
    const bool differs = lla && *lla != e.mac;
    if (!override && differs) {
      if (e.state == NudState::reachable) enter(a, e, NudState::stale);
      return;
    }
    if (lla) e.mac = *lla;
    e.is_router = is_router;
    if (solicited)
      enter(a, e, NudState::reachable);
    else if (differs)
      enter(a, e, NudState::stale);
  }

  // A link-layer address learnt from an NS, RS, RA or redirect (7.2.3,
  // 6.3.4, 8.3): new or changed -> STALE; an incomplete entry resolves.
  // With create=false only an existing entry is updated.
  void on_lla_hint(const A& a, const MacAddr& lla, bool create = true, std::optional<bool> is_router = {}) {
    auto it = m_.find(a);
    if (it == m_.end()) {
      if (!create || (m_.size() >= p_.cache_limit && !evict())) return;
      Entry& e = m_[a];
      e.mac = lla;
      if (is_router) e.is_router = *is_router;
      enter(a, e, NudState::stale);
      return;
    }
    Entry& e = it->second;
    if (is_router) e.is_router = *is_router;
    if (e.state == NudState::incomplete) {
      e.mac = lla;
      enter(a, e, NudState::stale);
      flush(a);
    } else if (e.mac != lla) {
      e.mac = lla;
      enter(a, e, NudState::stale);
    }
  }

  // Upper-layer reachability confirmation (7.3.1).
  void confirm(const A& a) {
    auto it = m_.find(a);
    if (it != m_.end() && it->second.state != NudState::incomplete) enter(a, it->second, NudState::reachable);
  }

  void remove(const A& a) {
    auto it = m_.find(a);
    if (it == m_.end()) return;
    sched_.cancel(it->second.timer);
    m_.erase(it);
  }

 private:
  void arm(const A& a, Entry& e, TimePs delay) {
    sched_.cancel(e.timer);
    std::weak_ptr<int> alive = alive_;
    e.timer = sched_.schedule_in(delay, [this, alive, a] {
      if (alive.lock()) timeout(a);
    });
  }

  void enter(const A& a, Entry& e, NudState s) {
    e.state = s;
    e.probes = 0;
    sched_.cancel(e.timer);
    e.timer = kNoTimer;
    if (s == NudState::reachable) arm(a, e, p_.reachable);
  }

  void flush(const A& a) {
    auto it = m_.find(a);
    if (it == m_.end() || it->second.queue.empty()) return;
    std::deque<Packet> q = std::move(it->second.queue);
    it->second.queue.clear();
    const MacAddr mac = it->second.mac;
    h_.resolved(a, mac, std::move(q));  // may re-enter: no reference held
  }

  void timeout(const A& a) {
    auto it = m_.find(a);
    if (it == m_.end()) return;
    Entry& e = it->second;
    e.timer = kNoTimer;
    switch (e.state) {
      case NudState::incomplete:
        if (e.probes < p_.max_multicast_solicit) {
          ++e.probes;
          arm(a, e, p_.retrans);
          h_.solicit(a, nullptr);
          return;
        }
        fail(it);
        return;
      case NudState::reachable:
        enter(a, e, NudState::stale);
        return;
      case NudState::stale:
        return;
      case NudState::delay:
        e.state = NudState::probe;
        e.probes = 0;
        [[fallthrough]];
      case NudState::probe:
        if (e.probes < p_.max_unicast_solicit) {
          ++e.probes;
          arm(a, e, p_.retrans);
          const MacAddr mac = e.mac;
          h_.solicit(a, &mac);
          return;
        }
        fail(it);
        return;
    }
  }

  void fail(typename std::map<A, Entry>::iterator it) {
    const A a = it->first;
    std::deque<Packet> q = std::move(it->second.queue);
    m_.erase(it);
    h_.failed(a, std::move(q));
  }

  // Makes room by dropping a STALE entry (the oldest address first, which is
  // deterministic); false when every entry is in use.
  bool evict() {
    for (auto it = m_.begin(); it != m_.end(); ++it)
      if (it->second.state == NudState::stale) {
        sched_.cancel(it->second.timer);
        m_.erase(it);
        return true;
      }
    return false;
  }

  Scheduler& sched_;
  Params p_;
  Hooks h_;
  std::map<A, Entry> m_;
  std::shared_ptr<int> alive_;  // timers scheduled by a dead cache do nothing
};

}  // namespace vd::stack
