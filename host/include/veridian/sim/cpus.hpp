// Host CPUs in virtual time. A host's work (interrupts and their polls,
// timers, socket calls) runs on cores; each piece of work takes the time
// its counted operations cost (core/work.hpp, priced by a CostTable), and a
// core runs one piece at a time, so a saturated core shows up as queueing:
// later interrupts wait, outputs leave later, throughput drops.
//
// Interrupts and timers run at interrupt level, as Linux's hard and soft
// interrupts do: they wait only for each other, and they preempt an
// application's work on the same core, which then ends that much later.
//
// How time is spent without pausing C++ code: a piece of work runs to
// completion at once, at the time its core is free (interrupt polls are
// deferred to then; a socket call or timer, which cannot be deferred, runs
// now and its time starts when the core is free). What it sends leaves at
// its start plus the cost of the work done before the send (CpuTxGate), so
// a long software segmentation spaces its segments as a CPU would. See
// docs/cpu.md for the model and its limits.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "veridian/core/netdev.hpp"
#include "veridian/core/time.hpp"
#include "veridian/core/work.hpp"

namespace vd::sim {

// What each kind of work costs: cycles per operation, or per byte for
// copy_bytes and csum_bytes. Data, not code: the text form is TOML, one
// `name = cycles` per work kind under [cycles], provenance under [source].
struct CostTable {
  std::array<double, kWorkKinds> cycles{};
  std::string source;  // where the numbers came from (the calibration run)

  // The table that ships with Veridian (docs/cpu.md gives its provenance).
  static CostTable defaults();
  // Throws CostTableError naming the line and column of what is wrong.
  static CostTable parse(std::string_view text, std::string_view origin = "<text>");
  static CostTable load(const std::string& path);
  std::string to_text() const;

  double& operator[](Work w) { return cycles[static_cast<std::size_t>(w)]; }
  double operator[](Work w) const { return cycles[static_cast<std::size_t>(w)]; }
  double cost(const WorkCounts& done) const {
    double c = 0;
    for (std::size_t i = 0; i < kWorkKinds; ++i) c += cycles[i] * static_cast<double>(done.n[i]);
    return c;
  }
};

class CostTableError : public std::runtime_error {
 public:
  CostTableError(std::string origin, int line, int col, const std::string& what);
  int line, col;
};

struct CpuConfig {
  unsigned cores = 4;
  double ghz = 3.0;
  CostTable table = CostTable::defaults();
  // irq_affinity[k][q]: the core that takes queue q of NIC k's interrupt.
  // Missing entries are spread as irqbalance would: the host's queues in
  // order (NIC 0's first) round-robin over the cores.
  std::vector<std::vector<unsigned>> irq_affinity;
  unsigned app_core = 0;  // where a socket runs unless it names its core
};

enum class CpuUse : std::uint8_t { irq, timer, app, kCount };
inline constexpr std::array<std::string_view, 3> kCpuUseNames = {"irq", "timer", "app"};

struct CoreStats {
  TimePs busy = 0;                                     // time spent working
  std::array<TimePs, 3> busy_by_use{};                 // ... by CpuUse
  std::array<double, kWorkKinds> cycles_by_work{};     // ... by kind of work, in cycles
  std::array<std::uint64_t, kWorkKinds> work_done{};   // operations (bytes for *_bytes) done here
  std::uint64_t items = 0;                             // pieces of work run
  std::uint64_t waited = 0;                            // ... that found the core busy
  TimePs wait_total = 0, wait_max = 0;                 // how long they waited for it
};

class HostCpus final : public WorkHook {
 public:
  HostCpus(Scheduler& sched, CpuConfig cfg);
  HostCpus(const HostCpus&) = delete;
  HostCpus& operator=(const HostCpus&) = delete;
  ~HostCpus();

  unsigned cores() const { return static_cast<unsigned>(cores_.size()); }
  const CpuConfig& config() const { return cfg_; }
  const CoreStats& stats(unsigned core) const { return cores_.at(core).stats; }
  // When the core has finished the work it has been given so far.
  TimePs free_at(unsigned core) const { return cores_.at(core).free_at; }

  // The core for queue q of the host's NIC k (irq_affinity, else spread);
  // `queues_before` is how many queues the host's earlier NICs have.
  unsigned irq_core(std::size_t nic, unsigned q, unsigned queues_before) const;
  unsigned app_core(int requested) const;

  // Interrupt work: fn runs on `core` when the core is free (now, or once
  // the work before it there is done), in the order submitted.
  void submit(unsigned core, CpuUse use, std::function<void()> fn);
  // Work that cannot wait (a socket call, a timer): runs fn now; its time
  // starts when the core is free (of interrupt-level work, for a timer).
  // Inside other work it is part of that work.
  void run_now(unsigned core, CpuUse use, const std::function<void()>& fn);
  // The same as a pair, for callers that cannot wrap their work in a
  // function (the stack's socket calls).
  void begin_now(unsigned core, CpuUse use);
  void end_now();
  // WorkHook: a socket call is application work on its core.
  void app_begin(int core) override { begin_now(app_core(core), CpuUse::app); }
  void app_end() override { end_now(); }

  bool working() const { return active_.has_value(); }
  // The core of the work running now (or the application core).
  unsigned current_core() const { return active_ ? active_->core : cfg_.app_core; }
  // When something the running work produces now would leave the CPU: its
  // start plus the cost of what it has done so far (now() outside work).
  TimePs emit_time() const;
  // Cycles → virtual time at this host's clock, rounded up.
  TimePs cycles_to_ps(double cycles) const;

 private:
  struct Pending {
    CpuUse use;
    TimePs submitted;
    std::function<void()> fn;
  };
  struct Core {
    TimePs free_at = 0;      // all work given to the core so far is done
    TimePs irq_free_at = 0;  // ... all interrupt-level work (interrupts, timers)
    std::deque<Pending> queue;
    TimerId dispatch = kNoTimer;
    CoreStats stats;
  };
  struct Active {
    unsigned core;
    CpuUse use;
    TimePs start;
    WorkCounts at_start;
    unsigned depth = 1;
  };
  void begin(unsigned core, CpuUse use, TimePs start, TimePs asked);
  void run(unsigned core, CpuUse use, TimePs start, TimePs asked, const std::function<void()>& fn);
  TimePs start_for(unsigned core, CpuUse use) const;
  void finish();
  void dispatch(unsigned core);
  void schedule_dispatch(unsigned core);

  Scheduler& sched_;
  CpuConfig cfg_;
  std::vector<Core> cores_;
  std::optional<Active> active_;
};

// The stack's view of a device on a host with CPUs: frames it sends leave
// at the CPU's emit_time(), in order, instead of at once. Everything else
// is the device's own.
class CpuTxGate final : public NetDevice {
 public:
  CpuTxGate(Scheduler& sched, HostCpus& cpus, NetDevice& dev) : sched_(sched), cpus_(cpus), dev_(dev) {}
  ~CpuTxGate() override;

  std::string kind() const override { return dev_.kind(); }
  const DeviceFeatures& features() const override { return dev_.features(); }
  MacAddr mac() const override { return dev_.mac(); }
  BufferPool& pool() override { return dev_.pool(); }
  BufferPool* tso_pool() override { return dev_.tso_pool(); }
  bool transmit(Packet&& frame, std::uint16_t queue) override;
  void set_rx_handler(RxHandler h) override { dev_.set_rx_handler(std::move(h)); }
  bool set_rx_burst_end(std::function<void()> h) override { return dev_.set_rx_burst_end(std::move(h)); }
  Counters stats() const override { return dev_.stats(); }
  bool carrier() const override { return dev_.carrier(); }
  void set_admin_up(bool up) override { dev_.set_admin_up(up); }
  void set_rss(const RssConfig& c) override { dev_.set_rss(c); }
  std::size_t held() const { return held_.size(); }

 private:
  struct Held {
    TimePs at;
    Packet frame;
    std::uint16_t queue;
  };
  void release();

  Scheduler& sched_;
  HostCpus& cpus_;
  NetDevice& dev_;
  std::deque<Held> held_;
  TimerId timer_ = kNoTimer;
};

// The stack's scheduler on a host with CPUs: a timer's callback is work on
// the core that armed it (the application core when armed outside work).
class CpuTimerScheduler final : public Scheduler {
 public:
  CpuTimerScheduler(Scheduler& inner, HostCpus& cpus) : inner_(inner), cpus_(cpus) {}
  TimePs now() const override { return inner_.now(); }
  TimerId schedule_at(TimePs t, std::function<void()> fn) override;
  void cancel(TimerId id) override { inner_.cancel(id); }
  TimePs horizon() const override { return inner_.horizon(); }

 private:
  Scheduler& inner_;
  HostCpus& cpus_;
};

}  // namespace vd::sim
