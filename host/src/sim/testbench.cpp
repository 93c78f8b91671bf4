#include "veridian/sim/testbench.hpp"

#include <stdexcept>

namespace vd::sim {

NicTestbench::NicTestbench(const NicSpec& spec, LinkConfig wire)
    : mem_(std::make_unique<HostMemory>(std::size_t(256) << 20)) {
  nic_ = make_nic(ev_, *mem_, MacAddr{0x02, 0x56, 0x44, 0x00, 0x00, 0x01}, spec);
  link_ = std::make_unique<Link>(ev_, wire);
  nic_->attach_link(link_.get(), 0);
  link_->attach(1, this);
  nic_->set_rx_handler([this](Packet&& p) {
    RxCompletion c;
    c.data.assign(p.data(), p.data() + p.size());
    c.queue = p.meta.queue;
    c.rss_hash = p.meta.rss_hash;
    c.rss_type = p.meta.rss_type;
    c.csum_ip = static_cast<std::uint8_t>(p.meta.rx_csum_ip);
    c.csum_l4 = static_cast<std::uint8_t>(p.meta.rx_csum_l4);
    c.time = ev_.now();
    rx_.push_back(std::move(c));
  });
}

NicTestbench::~NicTestbench() {
  // The NIC holds timers in the event queue and a pointer to the link.
  nic_.reset();
}

void NicTestbench::inject(std::vector<std::uint8_t> frame) { link_->send(1, std::move(frame), ev_.now()); }

bool NicTestbench::send(std::span<const std::uint8_t> frame, const TxRequest& r) {
  if (frame.empty()) throw std::invalid_argument("NicTestbench::send: empty frame");
  const auto& f = nic_->features();
  if (r.queue >= f.tx_queues)
    throw std::invalid_argument("NicTestbench::send: queue " + std::to_string(r.queue) + " but the NIC has " +
                                std::to_string(f.tx_queues) + " TX queues");
  BufferPool* pool = &nic_->pool();
  if (frame.size() + BufferPool::kDefaultHeadroom > pool->buf_size() && r.tso_mss && nic_->tso_pool())
    pool = nic_->tso_pool();  // a TSO send bigger than a frame buffer
  Packet p = packet_from_bytes(*pool, frame);
  if (!p)
    throw std::invalid_argument("NicTestbench::send: a " + std::to_string(frame.size()) +
                                "-byte frame does not fit the NIC's buffers");
  p.meta.tx_csum_ip = r.csum_ip;
  p.meta.tx_csum_l4 = r.csum_l4;
  p.meta.tx_csum_partial = r.csum_partial;
  p.meta.csum_start = r.csum_start;
  p.meta.csum_offset = r.csum_offset;
  p.meta.tso_mss = r.tso_mss;
  return nic_->transmit(std::move(p), r.queue);
}

bool NicTestbench::run_until_idle(TimePs timeout) {
  const TimePs end = ev_.now() + timeout;
  while (!ev_.empty()) {
    if (ev_.horizon() > end) {
      ev_.run_until(end);
      return false;
    }
    ev_.run_one();
  }
  return true;
}

void NicTestbench::frame_arrived(std::vector<std::uint8_t>&& frame, bool /*fcs_error*/) {
  wire_.push_back({std::move(frame), ev_.now()});
}

}  // namespace vd::sim
