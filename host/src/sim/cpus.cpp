// Host CPUs in virtual time: cores, the work queued on them, and the gates
// that hold a host's output until its CPU has produced it (cpus.hpp).
#include "veridian/sim/cpus.hpp"

#include <algorithm>
#include <cmath>

namespace vd::sim {

namespace {
Work entry_work(CpuUse use) {
  switch (use) {
    case CpuUse::irq: return Work::irq;
    case CpuUse::timer: return Work::timer;
    default: return Work::socket_call;
  }
}
}  // namespace

HostCpus::HostCpus(Scheduler& sched, CpuConfig cfg) : sched_(sched), cfg_(std::move(cfg)) {
  if (cfg_.cores == 0 || cfg_.cores > 1024) throw std::invalid_argument("cores must be 1..1024");
  if (!(cfg_.ghz > 0) || !std::isfinite(cfg_.ghz)) throw std::invalid_argument("ghz must be > 0");
  if (cfg_.app_core >= cfg_.cores) throw std::invalid_argument("app_core is not one of the host's cores");
  for (const auto& nic : cfg_.irq_affinity)
    for (unsigned c : nic)
      if (c >= cfg_.cores) throw std::invalid_argument("irq_affinity names core " + std::to_string(c) + " of " +
                                                       std::to_string(cfg_.cores));
  cores_.resize(cfg_.cores);
}

HostCpus::~HostCpus() {
  for (auto& c : cores_) sched_.cancel(c.dispatch);
}

unsigned HostCpus::irq_core(std::size_t nic, unsigned q, unsigned queues_before) const {
  if (nic < cfg_.irq_affinity.size() && q < cfg_.irq_affinity[nic].size()) return cfg_.irq_affinity[nic][q];
  return (queues_before + q) % cores();
}

unsigned HostCpus::app_core(int requested) const {
  if (requested < 0) return cfg_.app_core;
  return static_cast<unsigned>(requested) % cores();
}

TimePs HostCpus::cycles_to_ps(double cycles) const {
  return static_cast<TimePs>(std::ceil(cycles * 1000.0 / cfg_.ghz));
}

TimePs HostCpus::emit_time() const {
  if (!active_) return sched_.now();
  return active_->start + cycles_to_ps(cfg_.table.cost(work_meter() - active_->at_start));
}

void HostCpus::begin(unsigned core, CpuUse use, TimePs start, TimePs asked) {
  if (active_) {  // inside other work (a socket call from a callback): part of it
    ++active_->depth;
    return;
  }
  CoreStats& st = cores_[core].stats;
  ++st.items;
  if (start > asked) {
    ++st.waited;
    st.wait_total += start - asked;
    st.wait_max = std::max(st.wait_max, start - asked);
  }
  active_ = Active{core, use, start, work_meter()};
  count_work(entry_work(use));
}

void HostCpus::finish() {
  if (!active_ || --active_->depth > 0) return;
  const Active a = *active_;
  active_.reset();
  const WorkCounts done = work_meter() - a.at_start;
  Core& c = cores_[a.core];
  const TimePs dur = cycles_to_ps(cfg_.table.cost(done));
  if (a.use == CpuUse::app) {
    c.free_at = a.start + dur;  // it started once everything before it was done
  } else {
    // Interrupt-level work preempts an application's: that work, running
    // or waiting until free_at, is pushed back by as long as this took.
    c.irq_free_at = a.start + dur;
    c.free_at = c.free_at > a.start ? c.free_at + dur : a.start + dur;
  }
  c.stats.busy += dur;
  c.stats.busy_by_use[static_cast<std::size_t>(a.use)] += dur;
  for (std::size_t i = 0; i < kWorkKinds; ++i) {
    c.stats.work_done[i] += done.n[i];
    c.stats.cycles_by_work[i] += cfg_.table.cycles[i] * static_cast<double>(done.n[i]);
  }
}

void HostCpus::submit(unsigned core, CpuUse use, std::function<void()> fn) {
  Core& c = cores_.at(core);
  if (!active_ && c.queue.empty() && c.dispatch == kNoTimer && c.irq_free_at <= sched_.now()) {
    return run(core, use, sched_.now(), sched_.now(), fn);  // a free core takes it at once
  }
  c.queue.push_back(Pending{use, sched_.now(), std::move(fn)});
  if (c.dispatch == kNoTimer) schedule_dispatch(core);
}

void HostCpus::schedule_dispatch(unsigned core) {
  Core& c = cores_[core];
  c.dispatch = sched_.schedule_at(std::max(sched_.now(), c.irq_free_at), [this, core] { dispatch(core); });
}

void HostCpus::dispatch(unsigned core) {
  Core& c = cores_[core];
  c.dispatch = kNoTimer;
  // A timer may have taken the core since this was scheduled.
  if (c.irq_free_at > sched_.now() || active_) return schedule_dispatch(core);
  Pending p = std::move(c.queue.front());
  c.queue.pop_front();
  run(core, p.use, sched_.now(), p.submitted, p.fn);
  if (!c.queue.empty() && c.dispatch == kNoTimer) schedule_dispatch(core);
}

TimePs HostCpus::start_for(unsigned core, CpuUse use) const {
  const Core& c = cores_.at(core);
  return std::max(sched_.now(), use == CpuUse::app ? c.free_at : c.irq_free_at);
}

void HostCpus::begin_now(unsigned core, CpuUse use) { begin(core, use, start_for(core, use), sched_.now()); }

void HostCpus::end_now() { finish(); }

void HostCpus::run_now(unsigned core, CpuUse use, const std::function<void()>& fn) {
  run(core, use, start_for(core, use), sched_.now(), fn);
}

void HostCpus::run(unsigned core, CpuUse use, TimePs start, TimePs asked, const std::function<void()>& fn) {
  begin(core, use, start, asked);
  struct Finish {  // also when fn throws: the core's time is still spent
    HostCpus* h;
    ~Finish() { h->finish(); }
  } guard{this};
  fn();
}

// ------------------------------------------------------------ CpuTxGate

CpuTxGate::~CpuTxGate() { sched_.cancel(timer_); }

bool CpuTxGate::transmit(Packet&& frame, std::uint16_t queue) {
  TimePs at = cpus_.emit_time();
  if (held_.empty() && at <= sched_.now()) return dev_.transmit(std::move(frame), queue);
  if (!held_.empty()) at = std::max(at, held_.back().at);  // frames leave in the order sent
  held_.push_back(Held{at, std::move(frame), queue});
  if (timer_ == kNoTimer) timer_ = sched_.schedule_at(held_.front().at, [this] { release(); });
  return true;
}

void CpuTxGate::release() {
  timer_ = kNoTimer;
  while (!held_.empty() && held_.front().at <= sched_.now()) {
    Held h = std::move(held_.front());
    held_.pop_front();
    // A full device queue by now is the device's counted drop (tx_ring_full).
    (void)dev_.transmit(std::move(h.frame), h.queue);
  }
  if (!held_.empty()) timer_ = sched_.schedule_at(held_.front().at, [this] { release(); });
}

// ------------------------------------------------------------ timers

TimerId CpuTimerScheduler::schedule_at(TimePs t, std::function<void()> fn) {
  const unsigned core = cpus_.current_core();
  return inner_.schedule_at(t, [c = &cpus_, core, fn = std::move(fn)] { c->run_now(core, CpuUse::timer, fn); });
}

}  // namespace vd::sim
