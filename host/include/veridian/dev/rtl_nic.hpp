// RtlNic: the Verilated NIC behind the host driver, as a NetDevice on the
// simulation clock. It ticks the model only while the RTL has work, never
// past the next simulation event (conservative synchronisation), and jumps
// over idle stretches: an idle NIC costs no cycles at all.
#pragma once

#include <memory>
#include <string>

#include "veridian/core/time.hpp"
#include "veridian/dev/device.hpp"
#include "veridian/dev/nic_driver.hpp"
#include "veridian/rtl/nic_model.hpp"

namespace vd::dev {

struct RtlNicConfig {
  rtl::NicModelConfig model{};
  DriverConfig driver{};
  std::uint16_t mtu = 1500;
  TimePs irq_latency = ns_to_ps(200);  // MSI-X write to handler start
  // Packet buffers in host memory; 0 = enough to fill every RX and TX ring
  // twice over. Each holds headroom plus one MTU-sized frame.
  std::size_t buffers = 0;
  std::string trace_path;              // FST waveform; empty = none
  bool tx_csum = true;                 // use the NIC's TX checksum offload when it has one
  bool tso = true;                     // advertise TSO when the NIC has it (FEATURES.TSO)
};

struct RtlNicRunStats {
  std::uint64_t cycles_evaluated = 0;
  std::uint64_t cycles_skipped = 0;
  std::uint64_t wakeups = 0;
};

class RtlNic final : public WiredDevice {
 public:
  // Builds the model, runs the driver's init (throws AbiMismatch on a mismatch).
  RtlNic(Scheduler& sched, HostMemory& mem, MacAddr mac, RtlNicConfig cfg);
  ~RtlNic() override;

  std::string kind() const override { return "rtl"; }
  const DeviceFeatures& features() const override { return features_; }
  MacAddr mac() const override { return mac_; }
  BufferPool& pool() override { return pool_; }
  BufferPool* tso_pool() override { return features_.tso ? &tso_pool_ : nullptr; }
  bool transmit(Packet&& frame, std::uint16_t queue) override;
  void set_rx_handler(RxHandler h) override { driver_.set_rx_handler(std::move(h)); }
  bool set_rx_burst_end(std::function<void()> h) override {
    driver_.set_rx_burst_end(std::move(h));
    return true;
  }
  Counters stats() const override;
  void set_rss(const RssConfig& c) override;
  void frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) override;
  bool set_irq_dispatch(IrqDispatch d) override {
    dispatch_ = std::move(d);
    return true;
  }

  // MMIO read of a NIC register (costs NIC cycles, like a real read).
  std::uint32_t read_reg(std::uint32_t addr);
  Counters nic_registers();
  rtl::NicModel& model() { return *model_; }
  const RtlNicRunStats& run_stats() const { return run_; }
  TimePs cycle_time(std::uint64_t c) const { return c * period_ps_; }

 private:
  void wake();
  void run();
  void catch_up();

  Scheduler& sched_;
  MacAddr mac_;
  RtlNicConfig cfg_;
  DeviceFeatures features_;
  BufferPool pool_;
  BufferPool tso_pool_;  // 64 KiB buffers for TSO sends
  std::unique_ptr<rtl::NicModel> model_;
  NicDriver driver_;
  TimePs period_ps_;
  bool scheduled_ = false;
  TimerId timer_ = kNoTimer;
  RtlNicRunStats run_;
  IrqDispatch dispatch_;  // the host CPU model's, if any
  Counters extra_;
};

}  // namespace vd::dev
