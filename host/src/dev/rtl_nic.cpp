#include "veridian/dev/rtl_nic.hpp"

#include <cmath>

#include "veridian/abi.hpp"

namespace vd::dev {

namespace {
std::size_t buffer_size(std::uint16_t mtu) {
  const std::size_t need = BufferPool::kDefaultHeadroom + std::size_t(mtu) + 18;  // + Ethernet + VLAN tag
  return (need + 255) / 256 * 256;
}
std::size_t buffer_count(const RtlNicConfig& c) {
  if (c.buffers) return c.buffers;
  return 2 * std::size_t(c.driver.queues) * (std::size_t(1) << c.driver.ring_log2) * 2;
}
}  // namespace

RtlNic::RtlNic(Scheduler& sched, HostMemory& mem, MacAddr mac, RtlNicConfig cfg)
    : sched_(sched),
      mac_(mac),
      cfg_(cfg),
      pool_(mem, buffer_size(cfg.mtu), buffer_count(cfg)),
      tso_pool_(mem, BufferPool::kDefaultHeadroom + 0x10000, cfg.tso ? kTsoBuffers : 1),
      model_(rtl::NicModel::create(cfg.model, mem)),
      driver_(*model_, mem, pool_, cfg.driver),
      period_ps_(static_cast<TimePs>(std::llround(1e6 / cfg.model.clock_mhz))) {
  if (!cfg_.trace_path.empty()) model_->open_trace(cfg_.trace_path);
  // Align the model's cycle counter with the simulation clock before init.
  model_->skip_to((sched_.now() + period_ps_ - 1) / period_ps_);
  driver_.init();
  features_.tx_queues = driver_.queues();
  features_.rx_queues = driver_.queues();
  features_.mtu = cfg_.mtu;
  features_.tx_csum_partial = cfg_.tx_csum && ((driver_.nic_features() >> abi::FEAT_TX_CSUM_BIT) & 1u);
  features_.rx_csum = cfg_.driver.rx_csum && ((driver_.nic_features() >> abi::FEAT_RX_CSUM_BIT) & 1u);
  features_.rx_hash = (driver_.nic_features() >> abi::FEAT_RSS_BIT) & 1u;
  features_.tx_csum_ip = features_.tx_csum_partial;  // full insertion: same engine, same feature bit
  features_.tx_csum_l4 = features_.tx_csum_partial;
  features_.tso = cfg_.tso && ((driver_.nic_features() >> abi::FEAT_TSO_BIT) & 1u);
  extra_["tx_drop_no_link"] = 0;
  extra_["tx_drop_oversize"] = 0;

  model_->on_tx([this](std::vector<std::uint8_t>&& f, std::uint64_t cyc) {
    if (link_) link_->send(side_, std::move(f), cycle_time(cyc));
    else ++extra_["tx_drop_no_link"];
  });
  model_->on_irq([this](std::uint32_t mask, std::uint64_t cyc) {
    sched_.schedule_at(cycle_time(cyc) + cfg_.irq_latency, [this, mask] {
      if (!dispatch_) {
        catch_up();
        driver_.handle_irq(mask);
        wake();
        return;
      }
      // With host CPUs, each queue's poll is work on that queue's core.
      for (std::uint16_t q = 0; q < 32; ++q)
        if (mask & (1u << q))
          dispatch_(q, [this, q] {
            catch_up();
            driver_.handle_irq(1u << q);
            wake();
          });
    });
  });
  wake();
}

RtlNic::~RtlNic() {
  if (timer_ != kNoTimer) sched_.cancel(timer_);
}

void RtlNic::catch_up() {
  // An idle model is left behind by the clock; bring it to now before the
  // driver talks to it, so the idle stretch is skipped rather than ticked.
  const std::uint64_t now_cycle = (sched_.now() + period_ps_ - 1) / period_ps_;
  if (model_->cycle() < now_cycle && model_->idle()) {
    run_.cycles_skipped += now_cycle - model_->cycle();
    model_->skip_to(now_cycle);
  }
}

bool RtlNic::transmit(Packet&& frame, std::uint16_t queue) {
  catch_up();
  // A TSO send may be up to 65535 bytes (the descriptor's LEN); it must then
  // come from a pool with buffers that large (this device's pool() has
  // 10240-byte buffers). Each segment is checked by the NIC.
  const bool tso = frame.meta.tso_mss != 0 && features_.tso;
  if (tso ? frame.size() > 0xffff : (frame.size() > std::size_t(cfg_.mtu) + 18 || frame.size() > abi::MAX_FRAME)) {
    ++extra_["tx_drop_oversize"];
    return false;
  }
  const bool ok = driver_.transmit(std::move(frame), queue);
  if (ok) wake();
  return ok;
}

void RtlNic::frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) {
  catch_up();
  const std::uint64_t at = (sched_.now() + period_ps_ - 1) / period_ps_;
  model_->rx_frame(std::move(frame), at, fcs_error);
  wake();
}

void RtlNic::wake() {
  if (scheduled_) return;
  scheduled_ = true;
  const TimePs t = std::max(sched_.now(), cycle_time(model_->cycle()));
  timer_ = sched_.schedule_at(t, [this] { run(); });
}

void RtlNic::set_rss(const RssConfig& c) {
  catch_up();  // the register writes happen at the current simulated time
  driver_.set_rss(c);
  wake();
}

void RtlNic::run() {
  scheduled_ = false;
  timer_ = kNoTimer;
  ++run_.wakeups;
  catch_up();
  const std::uint64_t now_cycle = (sched_.now() + period_ps_ - 1) / period_ps_;
  if (model_->cycle() < now_cycle) run_.cycles_evaluated += model_->tick(now_cycle - model_->cycle());
  // Tick while there is work, but never past the next event of anyone else:
  // that event may talk to the NIC (a doorbell, a frame) at its own time.
  // The batch bound keeps a wedged model from hanging the caller: it yields
  // to the event loop, whose run_until() has a time limit.
  constexpr std::uint64_t kBatch = 1u << 20;
  for (std::uint64_t n = 0; n < kBatch && !model_->idle(); ++n) {
    // A cycle at exactly the horizon is ticked: the edge then happens before
    // that event, and two NICs woken at the same time cannot wait on each
    // other forever.
    if (cycle_time(model_->cycle()) > sched_.horizon()) break;
    run_.cycles_evaluated += model_->tick(1);
  }
  if (!model_->idle()) {
    scheduled_ = true;
    timer_ = sched_.schedule_at(cycle_time(model_->cycle()), [this] { run(); });
  } else if (model_->next_input_cycle() != UINT64_MAX) {
    scheduled_ = true;
    timer_ = sched_.schedule_at(cycle_time(model_->next_input_cycle()), [this] { run(); });
  }
}

std::uint32_t RtlNic::read_reg(std::uint32_t addr) {
  catch_up();
  const std::uint64_t before = model_->cycle();
  const std::uint32_t v = model_->mmio_read(addr);
  run_.cycles_evaluated += model_->cycle() - before;
  wake();
  return v;
}

Counters RtlNic::nic_registers() {
  Counters c;
  c["nic_tx_packets"] = read_reg(abi::REG_STAT_TX_PKTS);
  c["nic_tx_bytes"] = read_reg(abi::REG_STAT_TX_BYTES);
  c["nic_rx_packets"] = read_reg(abi::REG_STAT_RX_PKTS);
  c["nic_rx_bytes"] = read_reg(abi::REG_STAT_RX_BYTES);
  c["nic_rx_drop_no_desc"] = read_reg(abi::REG_STAT_RX_DROP_NODESC);
  c["nic_rx_drop_error"] = read_reg(abi::REG_STAT_RX_DROP_ERR);
  c["nic_rx_drop_full"] = read_reg(abi::REG_STAT_RX_DROP_FULL);
  c["nic_desc_errors"] = read_reg(abi::REG_STAT_DESC_ERR);
  return c;
}

Counters RtlNic::stats() const {
  Counters c = driver_.counters();
  for (const auto& [k, v] : extra_) c[k] = v;
  const auto& m = model_->stats();
  c["cycles_evaluated"] = m.cycles;  // every clocked cycle: traffic, MMIO and init
  c["cycles_skipped"] = run_.cycles_skipped;
  c["dma_reads"] = m.dma_reads;
  c["dma_read_bytes"] = m.dma_read_bytes;
  c["dma_read_errors"] = m.dma_read_errors;
  c["dma_read_latency_cycles"] = m.dma_read_latency_cycles;
  c["dma_writes"] = m.dma_writes;
  c["dma_write_bytes"] = m.dma_write_bytes;
  c["dma_write_errors"] = m.dma_write_errors;
  c["mac_tx_frames"] = m.tx_frames;
  c["mac_rx_frames"] = m.rx_frames;
  c["mmio_writes"] = m.mmio_writes;
  c["mmio_reads"] = m.mmio_reads;
  c["irq_pulses"] = m.irqs;
  for (std::size_t e = 0; e < rtl::kNicEngines.size(); ++e)
    c[std::string("busy_cycles_") + rtl::kNicEngines[e]] = m.engine_busy_cycles[e];
  for (const auto& [dir, d] : {std::pair{"up", &m.pcie_up}, std::pair{"down", &m.pcie_down}}) {
    const std::string p = std::string("pcie_") + dir + "_";
    c[p + "tlps"] = d->tlps;
    c[p + "bytes"] = d->bytes;
    c[p + "payload_bytes"] = d->payload_bytes;
    c[p + "busy_cycles"] = static_cast<std::uint64_t>(d->busy_cycles + 0.5);
  }
  // Frames the NIC itself dropped, which the driver never sees.
  const rtl::NicRxDrops d = model_->rx_drops();
  c["rx_drop_no_desc"] = d.no_desc;
  c["rx_drop_error"] = d.error;
  c["rx_drop_full"] = d.full;
  return c;
}

}  // namespace vd::dev
