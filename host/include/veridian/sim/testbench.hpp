// NicTestbench: one NIC (RtlNic or SoftNic) alone on the simulation clock,
// for raw offload tests. Frames are injected from a wire (a Link, so they
// arrive paced at line rate) and frames the NIC sends are captured off the
// same link; RX completions keep the NIC's per-frame results (queue, RSS
// hash/type, checksum status). No stack: the test is the host.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "veridian/sim/event_queue.hpp"
#include "veridian/sim/link.hpp"
#include "veridian/sim/simulation.hpp"

namespace vd::sim {

struct RxCompletion {
  std::vector<std::uint8_t> data;
  std::uint16_t queue = 0;
  std::uint32_t rss_hash = 0;
  std::uint8_t rss_type = 0;
  std::uint8_t csum_ip = 0, csum_l4 = 0;  // 0 not checked, 1 good, 2 bad
  TimePs time = 0;                        // when the host saw it
};

struct WireFrame {
  std::vector<std::uint8_t> data;
  TimePs time = 0;  // last bit on the far end of the wire
};

// TX offload requests for one send (PacketMeta by another name).
struct TxRequest {
  bool csum_ip = false, csum_l4 = false;
  bool csum_partial = false;
  std::uint16_t csum_start = 0, csum_offset = 0;
  std::uint16_t tso_mss = 0;
  std::uint16_t queue = 0;
};

class NicTestbench final : public FrameSink {
 public:
  explicit NicTestbench(const NicSpec& spec, LinkConfig wire = {});
  ~NicTestbench() override;

  dev::WiredDevice& nic() { return *nic_; }
  dev::RtlNic* rtl_nic() { return dynamic_cast<dev::RtlNic*>(nic_.get()); }
  EventQueue& events() { return ev_; }
  Link& wire() { return *link_; }

  void set_rss(const RssConfig& c) { nic_->set_rss(c); }
  // A frame the far end puts on the wire now (after frames already queued there).
  void inject(std::vector<std::uint8_t> frame);
  // Posts a frame for transmission; false (and counted by the NIC) if refused.
  bool send(std::span<const std::uint8_t> frame, const TxRequest& r);
  // Runs until no event is pending (the NIC idle, the wire empty) or `timeout`
  // of simulated time has passed; true if it went idle.
  bool run_until_idle(TimePs timeout);

  std::vector<RxCompletion> take_rx() { return std::exchange(rx_, {}); }
  std::vector<WireFrame> take_wire() { return std::exchange(wire_, {}); }
  void frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) override;

 private:
  EventQueue ev_;
  std::unique_ptr<HostMemory> mem_;
  std::unique_ptr<dev::WiredDevice> nic_;
  std::unique_ptr<Link> link_;
  std::vector<RxCompletion> rx_;
  std::vector<WireFrame> wire_;
};

}  // namespace vd::sim
