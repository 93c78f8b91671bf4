#include "veridian/dev/soft_nic.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "veridian/abi.hpp"
#include "veridian/offload/csum_offload.hpp"
#include "veridian/offload/frame_layout.hpp"
#include "veridian/offload/rss.hpp"
#include "veridian/offload/tso.hpp"

namespace vd::dev {

namespace {
constexpr std::size_t kEthHeader = 14, kVlanTag = 4, kMinFrame = 14;

// Full checksum insertion by the reference model, keeping only the layers asked for.
void insert_requested(std::span<std::uint8_t> f, bool ip, bool l4) {
  const auto pl = offload::parse_layout(f);
  if (!pl.ok()) return;  // nothing the model can fill in: sent as it is
  const auto& l = pl.layout;
  std::size_t l4_field = 0;
  if (l.l4_proto == offload::kProtoTcp && l.l4_len() >= 20) l4_field = l.l4_off + 16;
  if (l.l4_proto == offload::kProtoUdp && l.l4_len() >= 8) l4_field = l.l4_off + 6;
  const std::size_t ip_field = l.l3 == offload::L3Type::ipv4 ? l.l3_off + 10 : 0;
  std::uint8_t keep_ip[2] = {}, keep_l4[2] = {};
  if (ip_field) std::copy_n(f.begin() + ip_field, 2, keep_ip);
  if (l4_field) std::copy_n(f.begin() + l4_field, 2, keep_l4);
  offload::insert_full(f);
  if (!ip && ip_field) std::copy_n(keep_ip, 2, f.begin() + ip_field);
  if (!l4 && l4_field) std::copy_n(keep_l4, 2, f.begin() + l4_field);
}
}

SoftNic::SoftNic(Scheduler& sched, HostMemory& mem, MacAddr mac, SoftNicConfig cfg)
    : sched_(sched), mac_(mac), cfg_(cfg), pool_(mem, 16384, cfg.rx_buffers),
      tso_pool_(mem, BufferPool::kDefaultHeadroom + 0x10000, cfg.tx_csum && cfg.tso ? kTsoBuffers : 1) {
  features_.tx_queues = cfg.queues;
  features_.rx_queues = cfg.queues;
  features_.mtu = cfg.mtu;
  features_.tx_csum_partial = cfg.tx_csum;
  features_.tx_csum_ip = cfg.tx_csum;
  features_.tx_csum_l4 = cfg.tx_csum;
  features_.tso = cfg.tx_csum && cfg.tso;
  features_.rx_csum = cfg.rx_csum;
  features_.rx_hash = true;
}

SoftNic::~SoftNic() { sched_.cancel(irq_timer_); }

bool SoftNic::set_rx_burst_end(std::function<void()> h) {
  burst_end_ = std::move(h);
  return true;
}

// The interrupt: everything DMA'd so far goes up in one burst, or, with host
// CPUs, to its queue's poll on that queue's core.
void SoftNic::rx_poll() {
  sched_.cancel(irq_timer_);
  irq_timer_ = kNoTimer;
  if (dispatch_) {
    for (auto& p : rx_pending_) queued_[std::min<std::size_t>(p.meta.queue, queued_.size() - 1)].push_back(std::move(p));
    rx_pending_.clear();
    for (std::uint16_t q = 0; q < queued_.size(); ++q)
      if (!queued_[q].empty()) raise(q);
    return;
  }
  std::vector<Packet> burst;
  burst.swap(rx_pending_);
  for (auto& p : burst)
    if (rx_) rx_(std::move(p));
  if (burst_end_) burst_end_();
}

bool SoftNic::set_irq_dispatch(IrqDispatch d) {
  dispatch_ = std::move(d);
  queued_.clear();
  queued_.resize(features_.rx_queues);
  poll_pending_.assign(features_.rx_queues, false);
  return true;
}

void SoftNic::raise(std::uint16_t q) {
  if (poll_pending_[q]) return;  // NAPI: no new interrupt while a poll is scheduled
  poll_pending_[q] = true;
  dispatch_(q, [this, q] { poll_queue(q); });
}

// One poll: up to kNapiBudget frames; more waiting means another poll.
void SoftNic::poll_queue(std::uint16_t q) {
  poll_pending_[q] = false;
  auto& in = queued_[q];
  const std::size_t n = std::min(in.size(), kNapiBudget);
  std::vector<Packet> burst(std::make_move_iterator(in.begin()), std::make_move_iterator(in.begin() + static_cast<std::ptrdiff_t>(n)));
  in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
  for (auto& p : burst)
    if (rx_) rx_(std::move(p));
  if (burst_end_ && n) burst_end_();
  if (!in.empty()) raise(q);
}

bool SoftNic::transmit(Packet&& frame, std::uint16_t /*queue*/) {
  Packet p = std::move(frame);
  if (!p || p.size() == 0) {
    ++counters_[tx_drop_invalid];
    return false;
  }
  if (p.size() > std::size_t(cfg_.mtu) + kEthHeader + kVlanTag && !p.meta.tso_mss) {
    ++counters_[tx_drop_oversize];
    return false;
  }
  if (!link_) {
    ++counters_[tx_drop_no_link];
    return false;
  }
  if (p.meta.tx_csum_partial) {
    if (!features_.tx_csum_partial || !offload::insert_partial(p.bytes(), p.meta.csum_start, p.meta.csum_offset)) {
      ++counters_[tx_drop_bad_offload];
      return false;
    }
    ++counters_[tx_csum_offloaded];
  }
  if (p.meta.tso_mss) {
    // TSO by the reference model: every segment gets all its checksums.
    auto r = features_.tso ? offload::tso_segment(p.bytes(), p.meta.tso_mss) : offload::TsoResult{};
    if (!features_.tso || !r.ok()) {
      ++counters_[tx_drop_bad_offload];
      return false;
    }
    ++counters_[tx_tso_sends];
    for (auto& s : r.segments) {
      ++counters_[tx_packets];
      counters_[tx_bytes] += s.size();
      link_->send(side_, std::move(s), sched_.now());
    }
    return true;
  }
  if (p.meta.tx_csum_ip || p.meta.tx_csum_l4) {
    if (!features_.tx_csum_ip) {
      ++counters_[tx_drop_bad_offload];
      return false;
    }
    insert_requested(p.bytes(), p.meta.tx_csum_ip, p.meta.tx_csum_l4);
    ++counters_[tx_csum_offloaded];
  }
  ++counters_[tx_packets];
  counters_[tx_bytes] += p.size();
  // The wire carries its own copy of the bytes; the buffer goes back to the pool.
  link_->send(side_, std::vector<std::uint8_t>(p.data(), p.data() + p.size()), sched_.now());
  return true;
}

void SoftNic::frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) {
  if (fcs_error) {
    ++counters_[rx_drop_error];
    return;
  }
  if (frame.size() < kMinFrame) {
    ++counters_[rx_drop_runt];
    return;
  }
  if (frame.size() > std::size_t(cfg_.mtu) + kEthHeader + kVlanTag) {
    ++counters_[rx_drop_oversize];
    return;
  }
  Packet p = pool_.alloc(0);
  if (!p) {
    ++counters_[rx_drop_no_buffer];
    return;
  }
  if (cfg_.rx_csum) {
    const auto cs = offload::verify(frame, abi::PARSE_WINDOW);  // the RTL NIC's parser window
    p.meta.rx_csum_ip = static_cast<OffloadMeta::Csum>(cs.ip);
    p.meta.rx_csum_l4 = static_cast<OffloadMeta::Csum>(cs.l4);
  }
  if (rss_.types != 0) {
    // The same classifier and parse window as the RTL NIC, so both devices steer alike.
    const auto r = offload::rss_classify(frame, rss_.key, rss_.types, abi::PARSE_WINDOW);
    p.meta.rss_hash = r.hash;
    p.meta.rss_type = static_cast<std::uint8_t>(r.type);
    if (r.type != offload::RssType::none) p.meta.queue = offload::rss_queue(r.hash, rss_.table);
  }
  // Models the NIC's DMA write into a host buffer: not a CPU copy, so not counted as one.
  std::memcpy(p.append(frame.size()), frame.data(), frame.size());
  ++counters_[rx_packets];
  counters_[rx_bytes] += frame.size();
  rx_pending_.push_back(std::move(p));
  if (rx_pending_.size() >= std::max<std::size_t>(cfg_.irq_frames, 1) || cfg_.irq_delay == 0) rx_poll();
  else if (irq_timer_ == kNoTimer) irq_timer_ = sched_.schedule_in(cfg_.irq_delay, [this] { rx_poll(); });
}

void SoftNic::set_rss(const RssConfig& c) {
  validate_rss(c, features_.rx_queues);
  rss_ = c;
}

}  // namespace vd::dev
