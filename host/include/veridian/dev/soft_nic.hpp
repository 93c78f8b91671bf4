// SoftNic: the NetDevice in plain C++. No RTL, no driver rings: frames go
// straight between the stack and the link. It runs at native speed, so the
// stack can be measured alone and every offload compared hardware vs software.
#pragma once

#include <vector>

#include "veridian/core/time.hpp"
#include "veridian/dev/device.hpp"

namespace vd::dev {

struct SoftNicConfig {
  std::uint16_t queues = 1;
  std::uint16_t mtu = 1500;
  std::size_t rx_buffers = 1024;
  bool tx_csum = true;  // offer CHECKSUM_PARTIAL, done by the offload/ reference model
  bool tso = true;      // offer TSO (with tx_csum), done by offload::tso_segment
  bool rx_csum = true;  // verify RX checksums (offload::verify) and report them per packet
  // Interrupt moderation, as on the RTL NIC: received frames are handed to
  // the stack in bursts of up to irq_frames, or irq_delay after the first
  // frame of a burst, whichever comes first. 1 / 0: every frame at once.
  std::uint16_t irq_frames = 1;
  TimePs irq_delay = 0;
};

class SoftNic final : public WiredDevice {
 public:
  SoftNic(Scheduler& sched, HostMemory& mem, MacAddr mac, SoftNicConfig cfg = {});
  ~SoftNic() override;
  SoftNic(const SoftNic&) = delete;
  SoftNic& operator=(const SoftNic&) = delete;

  std::string kind() const override { return "soft"; }
  const DeviceFeatures& features() const override { return features_; }
  MacAddr mac() const override { return mac_; }
  BufferPool& pool() override { return pool_; }
  BufferPool* tso_pool() override { return features_.tso ? &tso_pool_ : nullptr; }
  bool transmit(Packet&& frame, std::uint16_t queue) override;
  void set_rx_handler(RxHandler h) override { rx_ = std::move(h); }
  bool set_rx_burst_end(std::function<void()> h) override;
  Counters stats() const override { return counters_.to_map(); }
  void set_rss(const RssConfig& c) override;
  void frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) override;
  bool set_irq_dispatch(IrqDispatch d) override;
  // With host CPUs: frames one poll of a queue hands up, as Linux's NAPI weight.
  static constexpr std::size_t kNapiBudget = 64;

 private:
  Scheduler& sched_;
  MacAddr mac_;
  SoftNicConfig cfg_;
  DeviceFeatures features_;
  BufferPool pool_;
  BufferPool tso_pool_;  // 64 KiB buffers for TSO sends
  RxHandler rx_;
  std::function<void()> burst_end_;
  std::vector<Packet> rx_pending_;  // DMA done, interrupt not yet raised
  TimerId irq_timer_ = kNoTimer;
  void rx_poll();
  // With host CPUs: frames per RX queue waiting for that queue's poll.
  IrqDispatch dispatch_;
  std::vector<std::vector<Packet>> queued_;
  std::vector<bool> poll_pending_;
  void raise(std::uint16_t q);
  void poll_queue(std::uint16_t q);
  RssConfig rss_;
  enum Ctr : std::size_t {
    tx_packets, tx_bytes, rx_packets, rx_bytes, tx_drop_no_link, tx_drop_oversize, rx_drop_error, rx_drop_runt,
    rx_drop_oversize, rx_drop_no_buffer, tx_drop_invalid, tx_drop_bad_offload, tx_csum_offloaded, tx_tso_sends,
    kCounters
  };
  CounterSlots<kCounters> counters_{{"tx_packets", "tx_bytes", "rx_packets", "rx_bytes", "tx_drop_no_link",
                                     "tx_drop_oversize", "rx_drop_error", "rx_drop_runt", "rx_drop_oversize",
                                     "rx_drop_no_buffer", "tx_drop_invalid", "tx_drop_bad_offload",
                                     "tx_csum_offloaded", "tx_tso_sends"}};
};

}  // namespace vd::dev
