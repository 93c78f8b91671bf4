// Test doubles for the stack's two seams: a Scheduler that runs virtual time
// only when told to, and a NetDevice that records what it is asked to send
// and delivers frames on request (or to a wired peer after a latency).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "veridian/core/hostmem.hpp"
#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"
#include "veridian/offload/tso.hpp"

namespace vd::test {

// A priority queue of events ordered by (time, id); ids grow monotonically,
// so equal-time events run in the order they were scheduled.
class FakeScheduler : public Scheduler {
 public:
  TimePs now() const override { return now_; }

  TimerId schedule_at(TimePs t, std::function<void()> fn) override {
    const TimerId id = next_id_++;
    if (t < now_) t = now_;
    events_.emplace(std::pair{t, id}, std::move(fn));
    when_[id] = t;
    return id;
  }

  void cancel(TimerId id) override {
    const auto it = when_.find(id);
    if (it == when_.end()) return;
    events_.erase({it->second, id});
    when_.erase(it);
  }

  // Runs every event due at or before t, then sets the clock to t.
  void run_until(TimePs t) {
    while (!events_.empty() && events_.begin()->first.first <= t) {
      auto node = events_.extract(events_.begin());
      when_.erase(node.key().second);
      now_ = node.key().first;
      node.mapped()();
    }
    if (t > now_) now_ = t;
  }
  void run_for(TimePs d) { run_until(now_ + d); }
  // Runs until no event is left (bounded, so a runaway timer fails a test
  // instead of hanging it).
  void run_all(std::size_t max_events = 1'000'000) {
    for (std::size_t i = 0; i < max_events && !events_.empty(); ++i) run_until(events_.begin()->first.first);
  }
  std::size_t pending() const { return events_.size(); }

 private:
  TimePs now_ = 0;
  TimerId next_id_ = 1;
  std::map<std::pair<TimePs, TimerId>, std::function<void()>> events_;
  std::map<TimerId, TimePs> when_;
};

struct SentFrame {
  std::vector<std::uint8_t> bytes;
  OffloadMeta meta;
  std::uint16_t queue = 0;
};

class FakeDevice : public NetDevice {
 public:
  explicit FakeDevice(MacAddr mac, std::size_t buf_size = 2048, std::size_t buffers = 512)
      : mac_(mac), mem_(16u << 20), pool_(mem_, buf_size, buffers) {}

  ~FakeDevice() override {  // before the pools they came from
    held.clear();
    rx_held_.clear();
  }

  std::string kind() const override { return "fake"; }
  const DeviceFeatures& features() const override { return features_; }
  MacAddr mac() const override { return mac_; }
  BufferPool& pool() override { return pool_; }

  bool transmit(Packet&& frame, std::uint16_t queue) override {
    Packet f = std::move(frame);  // the device owns it now; freed on return (or held: hold_tx)
    if (refuse_tx_) {
      ++counters_["tx_drop"];
      return false;
    }
    std::vector<std::vector<std::uint8_t>> frames;
    if (f.meta.tso_mss) {
      // TSO as the NICs do it (the reference model): every segment gets all its checksums.
      auto r = tso_pool_ ? offload::tso_segment(f.bytes(), f.meta.tso_mss) : offload::TsoResult{};
      if (!tso_pool_ || !r.ok()) {
        ++counters_["tx_drop"];
        return false;
      }
      ++counters_["tx_tso_sends"];
      frames = std::move(r.segments);
    } else {
      frames.emplace_back(f.bytes().begin(), f.bytes().end());
    }
    for (auto& fr : frames) {
      SentFrame s{std::move(fr), f.meta, queue};
      ++counters_["tx_packets"];
      std::vector<std::uint8_t> bytes = s.bytes;
      const bool lost = drop_filter && drop_filter(s);
      if (record_sent) sent.push_back(std::move(s));
      if (!peer_ || lost) continue;
      FakeDevice* peer = peer_;
      if (sync_)
        peer->deliver(bytes);  // re-enters the peer's stack from inside our transmit
      else
        sched_->schedule_in(latency_, [peer, bytes] { peer->deliver(bytes); });
    }
    if (hold_tx) held.push_back(std::move(f));  // as a TX ring not yet completed
    return true;
  }

  // TSO: a pool of 64 KiB send buffers, and sends with tso_mss cut into
  // segments here (as SoftNic does).
  void enable_tso(std::size_t buffers = 64) {
    tso_pool_ = std::make_unique<BufferPool>(mem_, BufferPool::kDefaultHeadroom + 0x10000, buffers);
    features_.tso = features_.tx_csum_ip = features_.tx_csum_l4 = true;
  }
  BufferPool* tso_pool() override { return tso_pool_.get(); }

  void set_rx_handler(RxHandler h) override { handler_ = std::move(h); }
  // With `bursty` set before the stack attaches, the device reports the end
  // of each receive burst: at once after every frame, or, while hold_rx is
  // set, when the test calls end_burst() (one interrupt's worth of frames).
  bool set_rx_burst_end(std::function<void()> h) override {
    burst_end_ = std::move(h);
    return bursty;
  }
  void end_burst() {
    std::vector<Packet> burst;
    burst.swap(rx_held_);
    for (auto& p : burst)
      if (handler_) handler_(std::move(p));
    if (burst_end_) burst_end_();
  }
  bool has_rx_handler() const { return static_cast<bool>(handler_); }
  Counters stats() const override { return counters_; }

  // The wire writes into a fresh buffer as DMA would: not a counted copy.
  void deliver(std::span<const std::uint8_t> bytes, OffloadMeta meta = {}) {
    Packet p = pool_.alloc(0);
    if (!p || bytes.size() > p.tailroom()) return;
    if (!bytes.empty()) std::memcpy(p.append(bytes.size()), bytes.data(), bytes.size());
    p.meta = meta;
    ++counters_["rx_packets"];
    if (bursty && hold_rx) return rx_held_.push_back(std::move(p));
    if (handler_) handler_(std::move(p));
    if (bursty && burst_end_) burst_end_();
  }

  // Wires two devices back to back: every transmitted frame reaches the peer
  // `latency` later on the scheduler, or, with `sync`, at once from inside
  // transmit() (to prove the stack copes with re-entrant calls).
  static void connect(FakeDevice& a, FakeDevice& b, Scheduler& s, TimePs latency, bool sync = false) {
    for (auto [x, y] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      x->peer_ = y;
      x->sched_ = &s;
      x->latency_ = latency;
      x->sync_ = sync;
    }
  }

  DeviceFeatures& mutable_features() { return features_; }
  void refuse_tx(bool on) { refuse_tx_ = on; }

  std::vector<SentFrame> sent;
  bool record_sent = true;  // off for bulk transfers
  // Frames for which this returns true are "lost on the wire" (still
  // recorded in `sent`, never delivered to the peer).
  std::function<bool(const SentFrame&)> drop_filter;
  // With hold_tx, transmitted packets stay here (their buffers held, as by
  // a NIC still reading them) until the test clears it.
  bool hold_tx = false;
  std::vector<Packet> held;
  bool bursty = false, hold_rx = false;

 private:
  MacAddr mac_;
  HostMemory mem_;
  BufferPool pool_;
  std::unique_ptr<BufferPool> tso_pool_;
  DeviceFeatures features_{};
  RxHandler handler_;
  std::function<void()> burst_end_;
  std::vector<Packet> rx_held_;
  Counters counters_;
  FakeDevice* peer_ = nullptr;
  Scheduler* sched_ = nullptr;
  TimePs latency_ = 0;
  bool refuse_tx_ = false;
  bool sync_ = false;
};

}  // namespace vd::test
