#include "veridian/dev/nic_driver.hpp"

#include <array>
#include <sstream>

#include "veridian/abi.hpp"

namespace vd::dev {

namespace {
std::string hex(std::uint32_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}
}  // namespace

NicDriver::NicDriver(MmioPort& nic, HostMemory& mem, BufferPool& pool, DriverConfig cfg)
    : nic_(nic), mem_(mem), pool_(pool), cfg_(cfg) {
  if (cfg_.ring_log2 < abi::MIN_RING_LOG2 || cfg_.ring_log2 > abi::MAX_RING_LOG2)
    throw std::invalid_argument("NicDriver: ring_log2 must be in [" + std::to_string(abi::MIN_RING_LOG2) + ", " +
                                std::to_string(abi::MAX_RING_LOG2) + "]");
  if (cfg_.queues == 0) throw std::invalid_argument("NicDriver: at least one queue");
}

void NicDriver::init() {
  const std::uint32_t expect = cfg_.expect_abi_id.value_or(abi::ABI_ID_VALUE);
  abi_id_ = nic_.mmio_read(abi::REG_ABI_ID);
  if (abi_id_ != expect)
    throw AbiMismatch("NIC reports ABI id " + hex(abi_id_) + " but the driver was built for " + hex(expect) +
                      ": rebuild the RTL model and the driver from the same offload/abi/nic_abi.json");
  const std::uint32_t version = nic_.mmio_read(abi::REG_VERSION);
  if (version != abi::ABI_VERSION)
    throw AbiMismatch("NIC ABI version " + std::to_string(version) + ", driver expects " +
                      std::to_string(abi::ABI_VERSION));
  features_ = nic_.mmio_read(abi::REG_FEATURES);
  const std::uint32_t qc = nic_.mmio_read(abi::REG_QUEUE_COUNT);
  const unsigned ntx = qc & 0xff, nrx = (qc >> 8) & 0xff;
  if (cfg_.queues > ntx || cfg_.queues > nrx)
    throw std::runtime_error("NicDriver: " + std::to_string(cfg_.queues) + " queues requested but the NIC has " +
                             std::to_string(std::min(ntx, nrx)));

  nic_.mmio_write(abi::REG_CTRL, 1u << abi::CTRL_RESET_BIT);
  txr_.clear();
  rxr_.clear();
  txr_.resize(cfg_.queues);
  rxr_.resize(cfg_.queues);
  for (unsigned q = 0; q < cfg_.queues; ++q) {
    setup_ring(txr_[q], true, q);
    setup_ring(rxr_[q], false, q);
  }
  nic_.mmio_write(abi::REG_RX_DEFAULT_Q, 0);
  nic_.mmio_write(abi::REG_CTRL, 1u << abi::CTRL_ENABLE_BIT);
  for (unsigned q = 0; q < cfg_.queues; ++q) {
    refill_rx(q);
    nic_.mmio_write(abi::txq_reg(q, abi::REG_Q_IRQ_ARM), 1);
    nic_.mmio_write(abi::rxq_reg(q, abi::REG_Q_IRQ_ARM), 1);
  }
  // Read back to be sure the NIC took the configuration.
  if (nic_.mmio_read(abi::REG_CTRL) != (1u << abi::CTRL_ENABLE_BIT))
    throw std::runtime_error("NicDriver: NIC did not enable");
}

void NicDriver::setup_ring(Ring& r, bool tx, unsigned q) {
  r.log2 = cfg_.ring_log2;
  r.size = 1u << r.log2;
  r.desc = mem_.alloc(std::size_t(r.size) * abi::DESC_SIZE, 4096);
  r.cpl = mem_.alloc(std::size_t(r.size) * abi::CPL_SIZE, 4096);
  std::fill_n(mem_.ptr(r.cpl, r.size * abi::CPL_SIZE), r.size * abi::CPL_SIZE, 0);  // phase 0 = empty
  r.slots.clear();
  r.slots.resize(r.size);
  auto reg = [&](std::uint32_t off) { return tx ? abi::txq_reg(q, off) : abi::rxq_reg(q, off); };
  nic_.mmio_write(reg(abi::REG_Q_CTRL), 0);
  nic_.mmio_write(reg(abi::REG_Q_RING_LO), static_cast<std::uint32_t>(r.desc));
  nic_.mmio_write(reg(abi::REG_Q_RING_HI), static_cast<std::uint32_t>(r.desc >> 32));
  nic_.mmio_write(reg(abi::REG_Q_CPL_LO), static_cast<std::uint32_t>(r.cpl));
  nic_.mmio_write(reg(abi::REG_Q_CPL_HI), static_cast<std::uint32_t>(r.cpl >> 32));
  nic_.mmio_write(reg(abi::REG_Q_SIZE_LOG2), r.log2);
  const std::uint32_t units =
      std::min<std::uint32_t>(0xffff, (cfg_.irq_delay_cycles + abi::IRQ_MOD_UNIT - 1) / abi::IRQ_MOD_UNIT);
  nic_.mmio_write(reg(abi::REG_Q_IRQ_MOD), units << 16 | cfg_.irq_frames);
  nic_.mmio_write(reg(abi::REG_Q_CTRL), 1u << abi::QCTRL_ENABLE_BIT |
                                           (!tx && !cfg_.rx_csum ? 1u << abi::QCTRL_RX_NO_CSUM_BIT : 0u));
}

void NicDriver::set_rss(const RssConfig& c) {
  if (!((features_ >> abi::FEAT_RSS_BIT) & 1u)) throw std::runtime_error("NicDriver: the NIC has no RSS");
  validate_rss(c, cfg_.queues);
  // Off while the key and table change, so no frame is steered by half a configuration.
  nic_.mmio_write(abi::REG_RSS_TYPES, 0);
  for (unsigned w = 0; w < abi::RSS_KEY_COUNT; ++w) {
    const std::uint32_t v = std::uint32_t(c.key[4 * w]) << 24 | std::uint32_t(c.key[4 * w + 1]) << 16 |
                            std::uint32_t(c.key[4 * w + 2]) << 8 | c.key[4 * w + 3];
    nic_.mmio_write(abi::REG_RSS_KEY + 4 * w, v);
  }
  if (!c.table.empty())
    for (unsigned i = 0; i < abi::RSS_TABLE_COUNT; ++i)
      nic_.mmio_write(abi::REG_RSS_TABLE + 4 * i, c.table[i % c.table.size()]);
  nic_.mmio_write(abi::REG_RSS_TYPES, c.types);
  // MMIO writes are posted: read back so the whole configuration has landed
  // before the caller goes on (as a kernel driver flushes with a read).
  if (nic_.mmio_read(abi::REG_RSS_TYPES) != c.types)
    throw std::runtime_error("NicDriver: the NIC did not take the RSS configuration");
}

std::size_t NicDriver::tx_in_flight(std::uint16_t q) const {
  return q < txr_.size() ? RingIndex::used(txr_[q].prod, txr_[q].cpl_cons) : 0;
}

bool NicDriver::transmit(Packet&& frame, std::uint16_t queue) {
  Packet p = std::move(frame);
  // A zero-length frame is posted on purpose: the NIC completes it with
  // ERR_DESC_LEN, which is how a driver bug shows up on real hardware too.
  if (!p || txr_.empty()) {
    ++counters_[tx_invalid];
    return false;
  }
  // LEN is 16 bits: a larger send cannot be described. TSO needs the
  // NIC to have it (FEATURES.TSO); otherwise the descriptor would be refused.
  if (p.size() > 0xffff || (p.meta.tso_mss != 0 && !((features_ >> abi::FEAT_TSO_BIT) & 1u))) {
    ++counters_[tx_invalid];
    return false;
  }
  Ring& r = txr_[queue % txr_.size()];
  const unsigned q = queue % static_cast<unsigned>(txr_.size());
  if (RingIndex::full(r.prod, r.cpl_cons, r.size)) {
    ++counters_[tx_ring_full];
    return false;
  }
  const std::uint32_t slot = RingIndex::slot(r.prod, r.size);
  abi::TxDesc d;
  d.addr = p.dma_addr();
  d.len = static_cast<std::uint16_t>(p.size());
  d.flags = static_cast<std::uint16_t>((p.meta.tx_csum_ip ? 1u << abi::TXF_CSUM_IP_BIT : 0u) |
                                       (p.meta.tx_csum_l4 ? 1u << abi::TXF_CSUM_L4_BIT : 0u) |
                                       (p.meta.tx_csum_partial ? 1u << abi::TXF_CSUM_PARTIAL_BIT : 0u) |
                                       (p.meta.tso_mss ? 1u << abi::TXF_TSO_BIT : 0u));
  d.mss = p.meta.tso_mss;
  d.csum_start = static_cast<std::uint8_t>(p.meta.csum_start);
  d.csum_offset = static_cast<std::uint8_t>(p.meta.csum_offset);
  d.pack({mem_.ptr(r.desc + std::uint64_t(slot) * abi::DESC_SIZE, abi::DESC_SIZE), abi::DESC_SIZE});
  ++counters_[tx_packets];
  counters_[tx_bytes] += p.size();
  r.slots[slot] = std::move(p);  // the NIC reads the buffer in place; freed on completion
  ++r.prod;
  nic_.mmio_write(abi::txq_reg(q, abi::REG_Q_PROD), r.prod);
  return true;
}

void NicDriver::refill_rx(unsigned q) {
  Ring& r = rxr_[q];
  bool posted = false;
  while (!RingIndex::full(r.prod, r.cpl_cons, r.size)) {
    Packet p = pool_.alloc(0);
    if (!p) {
      ++counters_[rx_no_buffer];
      break;
    }
    const std::uint32_t slot = RingIndex::slot(r.prod, r.size);
    abi::RxDesc d;
    d.addr = p.dma_addr();
    d.len = static_cast<std::uint16_t>(std::min<std::size_t>(p.tailroom(), 0xffff));
    d.pack({mem_.ptr(r.desc + std::uint64_t(slot) * abi::DESC_SIZE, abi::DESC_SIZE), abi::DESC_SIZE});
    r.slots[slot] = std::move(p);
    ++r.prod;
    posted = true;
  }
  if (posted) nic_.mmio_write(abi::rxq_reg(q, abi::REG_Q_PROD), r.prod);
}

void NicDriver::process_tx(unsigned q) {
  Ring& r = txr_[q];
  while (RingIndex::used(r.prod, r.cpl_cons) > 0) {
    const std::uint32_t slot = RingIndex::slot(r.cpl_cons, r.size);
    const auto c = abi::Cpl::unpack({mem_.ptr(r.cpl + std::uint64_t(slot) * abi::CPL_SIZE, abi::CPL_SIZE), abi::CPL_SIZE});
    if ((c.phase & 1) != RingIndex::phase(r.cpl_cons, r.log2)) break;  // not written yet
    if (c.status != abi::ERR_OK) ++counters_[tx_errors];
    r.slots[RingIndex::slot(c.index, r.size)].release();
    ++r.cpl_cons;
  }
}

void NicDriver::process_rx(unsigned q) {
  Ring& r = rxr_[q];
  while (RingIndex::used(r.prod, r.cpl_cons) > 0) {
    const std::uint32_t slot = RingIndex::slot(r.cpl_cons, r.size);
    const auto c = abi::Cpl::unpack({mem_.ptr(r.cpl + std::uint64_t(slot) * abi::CPL_SIZE, abi::CPL_SIZE), abi::CPL_SIZE});
    if ((c.phase & 1) != RingIndex::phase(r.cpl_cons, r.log2)) break;
    Packet p = std::move(r.slots[RingIndex::slot(c.index, r.size)]);
    ++r.cpl_cons;
    if (c.status != abi::ERR_OK || !p || c.len > p.tailroom()) {
      ++counters_[rx_errors];
      continue;  // p goes back to the pool
    }
    p.append(c.len);
    p.meta.queue = static_cast<std::uint16_t>(q);
    p.meta.rss_hash = c.rss_hash;
    p.meta.rss_type = c.rss_type;
    // CSUM: [1:0] IPv4 header, [3:2] TCP/UDP; 0 not checked, 1 good, 2 bad.
    auto st = [](unsigned v) {
      return v == 1 ? OffloadMeta::Csum::Good : v == 2 ? OffloadMeta::Csum::Bad : OffloadMeta::Csum::NotChecked;
    };
    p.meta.rx_csum_ip = st(c.csum & 3u);
    p.meta.rx_csum_l4 = st((c.csum >> 2) & 3u);
    ++counters_[rx_packets];
    counters_[rx_bytes] += c.len;
    if (rx_) rx_(std::move(p));
  }
  refill_rx(q);
}

void NicDriver::handle_irq(std::uint32_t mask) {
  ++counters_[irqs];
  const std::uint64_t rx_before = counters_[rx_packets];
  for (unsigned q = 0; q < txr_.size(); ++q) {
    if (!(mask & (1u << q))) continue;
    process_tx(q);
    process_rx(q);
    // Arm both completion rings of the pair with what we consumed; the NIC
    // fires at once if it wrote more in the meantime.
    nic_.mmio_write(abi::txq_reg(q, abi::REG_Q_IRQ_ARM), 1u | (std::uint32_t(txr_[q].cpl_cons) << 16));
    nic_.mmio_write(abi::rxq_reg(q, abi::REG_Q_IRQ_ARM), 1u | (std::uint32_t(rxr_[q].cpl_cons) << 16));
  }
  if (burst_end_ && counters_[rx_packets] != rx_before) burst_end_();
}

}  // namespace vd::dev
