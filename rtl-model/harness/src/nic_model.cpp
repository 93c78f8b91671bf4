#include "veridian/rtl/nic_model.hpp"

#include <verilated.h>
#include <verilated_fst_c.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <stdexcept>
#include <type_traits>

#ifdef VD_HAVE_W64
#include "Vnic_w64.h"
#endif
#ifdef VD_HAVE_W512
#include "Vnic_w512.h"
#endif

namespace vd::rtl {
namespace {

// Verilator maps a port of <=64 bits to an integer and a wider one to
// VlWide<N> (32-bit words, least significant first). These two helpers move
// little-endian bytes in and out of either form.
template <class T>
void sig_put(T& sig, const std::uint8_t* src, std::size_t n) {
  if constexpr (std::is_integral_v<T>) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n && i < sizeof(T); ++i) v |= std::uint64_t(src[i]) << (8 * i);
    sig = static_cast<T>(v);
  } else {
    constexpr std::size_t words = sizeof(sig.m_storage) / sizeof(sig.m_storage[0]);
    for (std::size_t w = 0; w < words; ++w) {
      std::uint32_t v = 0;
      for (std::size_t b = 0; b < 4; ++b) {
        std::size_t i = w * 4 + b;
        if (i < n) v |= std::uint32_t(src[i]) << (8 * b);
      }
      sig[w] = v;
    }
  }
}

template <class T>
void sig_get(const T& sig, std::uint8_t* dst, std::size_t n) {
  if constexpr (std::is_integral_v<T>) {
    std::uint64_t v = sig;
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::uint8_t>(v >> (8 * i));
  } else {
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::uint8_t>(sig[i / 4] >> (8 * (i % 4)));
  }
}

struct RspBeat {
  std::uint64_t ready_cycle;
  std::uint8_t tag;
  bool last, err;
  std::vector<std::uint8_t> data;
};

struct RxFrame {
  std::vector<std::uint8_t> bytes;
  std::uint64_t at_cycle;
  bool err;
};

template <class V>
class NicModelImpl final : public NicModel {
 public:
  NicModelImpl(const NicModelConfig& cfg, HostMemory& mem)
      : cfg_(cfg), mem_(mem), ctx_(std::make_unique<VerilatedContext>()) {
    ctx_->traceEverOn(true);
    m_ = std::make_unique<V>(ctx_.get(), "nic");
    bb_ = cfg.data_width / 8;
    const double cyc_ns = 1e3 / cfg.clock_mhz;
    lat_cycles_ = static_cast<std::uint64_t>(std::ceil(cfg.dma.latency_ns / cyc_ns));
    dma_bytes_per_cycle_ = cfg.dma.gbps / 8.0 * cyc_ns;
    mac_bytes_per_cycle_ = cfg.mac_gbps > 0 ? cfg.mac_gbps / 8.0 * cyc_ns : 0.0;
    // Reset for a few cycles with all inputs quiet.
    zero_inputs();
    m_->rst_n = 0;
    for (int i = 0; i < 4; ++i) clock();
    m_->rst_n = 1;
    clock();
  }

  ~NicModelImpl() override {
    close_trace();
    m_->final();
  }

  const NicModelConfig& config() const override { return cfg_; }

  void mmio_write(std::uint32_t addr, std::uint32_t data) override { mmio_q_.push_back({addr, data}); }

  std::uint32_t mmio_read(std::uint32_t addr) override {
    while (!mmio_q_.empty()) step();
    ++stats_.mmio_reads;
    count_tlp(stats_.pcie_down, 0);  // the read request
    count_tlp(stats_.pcie_up, 4);    // its completion
    rd_pending_ = true;
    rd_addr_ = addr;
    step();  // request cycle
    rd_pending_ = false;
    step();  // data is registered: valid one cycle later
    return rd_data_;
  }

  void rx_frame(std::vector<std::uint8_t> frame, std::uint64_t at_cycle, bool error) override {
    rx_q_.push_back({std::move(frame), std::max(at_cycle, cycle_), error});
  }

  std::uint64_t tick(std::uint64_t n, bool stop_on_output) override {
    std::uint64_t done = 0;
    while (done < n) {
      output_flag_ = false;
      step();
      ++done;
      if (stop_on_output && output_flag_) break;
    }
    return done;
  }

  bool idle() const override {
    // An interrupt pulse registered on the last edge is still to be sampled.
    return m_->idle && m_->irq == 0 && mmio_q_.empty() && rsp_q_.empty() && !rx_active_ &&
           (rx_q_.empty() || rx_q_.front().at_cycle > cycle_) && tx_buf_.empty() && !wr_active_;
  }

  std::uint64_t next_input_cycle() const override {
    return rx_q_.empty() ? UINT64_MAX : rx_q_.front().at_cycle;
  }

  void skip_to(std::uint64_t c) override {
    if (c > cycle_) cycle_ = c;
  }

  std::uint64_t cycle() const override { return cycle_; }
  NicRxDrops rx_drops() const override {
    return {m_->stat_rx_drop_nodesc, m_->stat_rx_drop_err, m_->stat_rx_drop_full};
  }
  void on_tx(TxHandler h) override { on_tx_ = std::move(h); }
  void on_irq(IrqHandler h) override { on_irq_ = std::move(h); }

  void open_trace(const std::string& path) override {
    close_trace();
    fst_ = std::make_unique<VerilatedFstC>();
    m_->trace(fst_.get(), 99);
    fst_->open(path.c_str());
    if (!fst_->isOpen()) {
      fst_.reset();
      throw std::runtime_error("cannot open FST trace file: " + path);
    }
  }

  void close_trace() override {
    if (fst_) {
      fst_->close();
      fst_.reset();
    }
  }

  const NicModelStats& stats() const override { return stats_; }

 private:
  void zero_inputs() {
    m_->clk = 0;
    m_->csr_wr_en = 0;
    m_->csr_rd_en = 0;
    m_->dma_rd_req_ready = 0;
    m_->dma_rd_rsp_valid = 0;
    m_->dma_wr_ready = 0;
    m_->mac_tx_tready = 0;
    m_->mac_rx_tvalid = 0;
  }

  void clock() {
    m_->clk = 0;
    m_->eval();
    if (fst_) fst_->dump(2 * cycle_);
    m_->clk = 1;
    m_->eval();
    if (fst_) fst_->dump(2 * cycle_ + 1);
  }

  std::size_t tlps_for(std::size_t len) const {
    return std::max<std::size_t>(1, (len + cfg_.dma.max_payload - 1) / cfg_.dma.max_payload);
  }
  // Beats a DMA transfer of len bytes keeps the link busy, TLP overhead included.
  // (A zero-length transfer is a bad descriptor's: counted as one TLP, charged nothing.)
  double link_cycles(std::size_t len) const {
    const std::size_t tlps = (len + cfg_.dma.max_payload - 1) / cfg_.dma.max_payload;
    return double(len + tlps * cfg_.dma.tlp_overhead) / dma_bytes_per_cycle_;
  }
  void count_tlp(PcieDirStats& d, std::size_t payload) const {
    ++d.tlps;
    d.payload_bytes += payload;
    d.bytes += payload + cfg_.dma.tlp_overhead;
  }
  // A transfer of len bytes split into max-payload TLPs, charged to d's link.
  void count_transfer(PcieDirStats& d, std::size_t len) const {
    const std::size_t n = tlps_for(len);
    d.tlps += n;
    d.payload_bytes += len;
    d.bytes += len + n * cfg_.dma.tlp_overhead;
    d.busy_cycles += link_cycles(len);
  }

  void step() {
    V& m = *m_;
    // ---- drive inputs for this cycle
    if (!mmio_q_.empty()) {
      m.csr_wr_en = 1;
      m.csr_wr_addr = static_cast<std::uint16_t>(mmio_q_.front().first);
      m.csr_wr_data = mmio_q_.front().second;
    } else {
      m.csr_wr_en = 0;
    }
    m.csr_rd_en = rd_pending_ ? 1 : 0;
    m.csr_rd_addr = static_cast<std::uint16_t>(rd_addr_);

    if (!rsp_q_.empty() && rsp_q_.front().ready_cycle <= cycle_) {
      const RspBeat& b = rsp_q_.front();
      m.dma_rd_rsp_valid = 1;
      m.dma_rd_rsp_tag = b.tag;
      m.dma_rd_rsp_last = b.last;
      m.dma_rd_rsp_err = b.err;
      sig_put(m.dma_rd_rsp_data, b.data.data(), b.data.size());
    } else {
      m.dma_rd_rsp_valid = 0;
    }
    m.dma_rd_req_ready = (outstanding_reads_ < cfg_.dma.max_tags) ? 1 : 0;
    m.dma_wr_ready = (double(cycle_) >= wr_link_free_) ? 1 : 0;
    m.mac_tx_tready = (double(cycle_) >= mac_free_) ? 1 : 0;

    if (!rx_active_ && !rx_q_.empty() && rx_q_.front().at_cycle <= cycle_) {
      rx_active_ = true;
      rx_off_ = 0;
    }
    if (rx_active_) {
      const RxFrame& f = rx_q_.front();
      const std::size_t n = std::min<std::size_t>(bb_, f.bytes.size() - rx_off_);
      m.mac_rx_tvalid = 1;
      sig_put(m.mac_rx_tdata, f.bytes.data() + rx_off_, n);
      m.mac_rx_tkeep = static_cast<std::remove_reference_t<decltype(m.mac_rx_tkeep)>>(n >= 64 ? ~0ull : ((1ull << n) - 1));
      m.mac_rx_tlast = (rx_off_ + n >= f.bytes.size()) ? 1 : 0;
      m.mac_rx_tuser = (m.mac_rx_tlast && f.err) ? 1 : 0;
    } else {
      m.mac_rx_tvalid = 0;
    }

    // ---- settle combinational outputs, then sample handshakes
    m.clk = 0;
    m.eval();
    if (fst_) fst_->dump(2 * cycle_);

    if (m.csr_wr_en) {
      mmio_q_.pop_front();
      ++stats_.mmio_writes;
      count_tlp(stats_.pcie_down, 4);
    }
    for (unsigned busy = m.eng_busy, e = 0; busy != 0; busy >>= 1, ++e)
      if (busy & 1u) ++stats_.engine_busy_cycles[e];
    if (m.csr_rd_valid) rd_data_ = m.csr_rd_data;
    if (m.dma_rd_rsp_valid) {
      if (rsp_q_.front().last) --outstanding_reads_;
      rsp_q_.pop_front();
    }
    if (m.dma_rd_req_valid && m.dma_rd_req_ready) service_read(m.dma_rd_req_addr, m.dma_rd_req_len, m.dma_rd_req_tag);
    if (m.dma_wr_valid && m.dma_wr_ready) accept_write_beat(m);
    if (m.mac_tx_tvalid && m.mac_tx_tready) accept_tx_beat(m);
    if (rx_active_ && m.mac_rx_tready) {
      rx_off_ += bb_;
      if (rx_off_ >= rx_q_.front().bytes.size()) {
        rx_q_.pop_front();
        rx_active_ = false;
        ++stats_.rx_frames;
      }
    }
    const std::uint32_t irq = m.irq;
    if (irq) {
      ++stats_.irqs;
      output_flag_ = true;
      if (on_irq_) on_irq_(irq, cycle_);
    }

    m.clk = 1;
    m.eval();
    if (fst_) fst_->dump(2 * cycle_ + 1);
    ++cycle_;
    ++stats_.cycles;
  }

  void service_read(std::uint64_t addr, std::uint32_t len, std::uint8_t tag) {
    ++stats_.dma_reads;
    ++outstanding_reads_;
    count_tlp(stats_.pcie_up, 0);  // the read request
    std::vector<std::uint8_t> buf(len);
    bool err = len == 0 || !mem_.read(addr, buf);
    if (err) {
      ++stats_.dma_read_errors;
      std::fill(buf.begin(), buf.end(), 0);
    } else {
      stats_.dma_read_bytes += len;
    }
    // Completions share the downstream link: each starts after the latency
    // and after the previous one finished, and its beats spread over the
    // time the link needs to carry it.
    const double start = std::max(double(cycle_ + lat_cycles_), rd_link_free_);
    const double dur = link_cycles(len);
    count_transfer(stats_.pcie_down, len);
    rd_link_free_ = start + dur;
    stats_.dma_read_latency_cycles += static_cast<std::uint64_t>(std::ceil(start + dur)) - cycle_;
    const std::size_t nbeats = std::max<std::size_t>(1, (len + bb_ - 1) / bb_);
    for (std::size_t i = 0; i < nbeats; ++i) {
      RspBeat b;
      b.ready_cycle = static_cast<std::uint64_t>(std::ceil(start + dur * double(i + 1) / double(nbeats)));
      b.tag = tag;
      b.last = (i + 1 == nbeats);
      b.err = err;
      const std::size_t off = i * bb_;
      const std::size_t n = off < buf.size() ? std::min<std::size_t>(bb_, buf.size() - off) : 0;
      b.data.assign(buf.begin() + static_cast<std::ptrdiff_t>(off), buf.begin() + static_cast<std::ptrdiff_t>(off + n));
      rsp_q_.push_back(std::move(b));
    }
  }

  void accept_write_beat(V& m) {
    if (!wr_active_) {
      wr_active_ = true;
      wr_addr_ = m.dma_wr_addr;
      wr_len_ = m.dma_wr_len;
      wr_start_ = cycle_;
      wr_buf_.clear();
    }
    const std::size_t off = wr_buf_.size();
    wr_buf_.resize(off + bb_);
    sig_get(m.dma_wr_data, wr_buf_.data() + off, bb_);
    if (m.dma_wr_last) {
      wr_active_ = false;
      ++stats_.dma_writes;
      const std::size_t n = std::min<std::size_t>(wr_len_, wr_buf_.size());
      if (wr_len_ > wr_buf_.size() || !mem_.write(wr_addr_, {wr_buf_.data(), n})) {
        ++stats_.dma_write_errors;  // posted write to a bad address: dropped, as PCIe would
      } else {
        stats_.dma_write_bytes += n;
      }
      // A posted write streams onto the link as its beats arrive: it holds
      // the link for its serialisation time from its first beat (or from
      // when the previous write left the link), not after its last beat.
      wr_link_free_ = std::max(double(wr_start_), wr_link_free_) + link_cycles(n);
      count_transfer(stats_.pcie_up, n);
    }
  }

  void accept_tx_beat(V& m) {
    const std::uint64_t keep = static_cast<std::uint64_t>(m.mac_tx_tkeep);
    std::size_t n = 0;
    while (n < bb_ && (n >= 64 || (keep >> n) & 1)) ++n;
    const std::size_t off = tx_buf_.size();
    tx_buf_.resize(off + bb_);
    sig_get(m.mac_tx_tdata, tx_buf_.data() + off, bb_);
    tx_buf_.resize(off + n);
    if (m.mac_tx_tlast) {
      ++stats_.tx_frames;
      output_flag_ = true;
      if (mac_bytes_per_cycle_ > 0) {
        // preamble+SFD (8), FCS (4) and inter-frame gap (12) occupy the wire too
        const double wire = double(std::max<std::size_t>(tx_buf_.size(), 60) + 24);
        mac_free_ = std::max(double(cycle_), mac_free_) + wire / mac_bytes_per_cycle_;
      }
      std::vector<std::uint8_t> f;
      f.swap(tx_buf_);
      if (on_tx_) on_tx_(std::move(f), cycle_);
    }
  }

  NicModelConfig cfg_;
  HostMemory& mem_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<V> m_;
  std::unique_ptr<VerilatedFstC> fst_;
  std::size_t bb_ = 64;
  std::uint64_t cycle_ = 0;
  std::uint64_t lat_cycles_ = 0;
  double dma_bytes_per_cycle_ = 1, mac_bytes_per_cycle_ = 0;
  double rd_link_free_ = 0, wr_link_free_ = 0, mac_free_ = 0;
  std::uint64_t wr_start_ = 0;
  std::deque<std::pair<std::uint32_t, std::uint32_t>> mmio_q_;
  bool rd_pending_ = false;
  std::uint32_t rd_addr_ = 0, rd_data_ = 0;
  std::deque<RspBeat> rsp_q_;
  unsigned outstanding_reads_ = 0;
  std::deque<RxFrame> rx_q_;
  bool rx_active_ = false;
  std::size_t rx_off_ = 0;
  bool wr_active_ = false;
  std::uint64_t wr_addr_ = 0;
  std::size_t wr_len_ = 0;
  std::vector<std::uint8_t> wr_buf_, tx_buf_;
  bool output_flag_ = false;
  TxHandler on_tx_;
  IrqHandler on_irq_;
  NicModelStats stats_;
};

}  // namespace

std::vector<unsigned> NicModel::available_widths() {
  std::vector<unsigned> w;
#ifdef VD_HAVE_W64
  w.push_back(64);
#endif
#ifdef VD_HAVE_W512
  w.push_back(512);
#endif
  return w;
}

std::unique_ptr<NicModel> NicModel::create(const NicModelConfig& cfg, HostMemory& mem) {
  if (cfg.clock_mhz <= 0 || cfg.dma.gbps <= 0 || cfg.dma.max_payload == 0 || cfg.dma.max_tags == 0)
    throw std::invalid_argument("NicModel: clock, DMA rate, max payload and tags must be positive");
#ifdef VD_HAVE_W64
  if (cfg.data_width == 64) return std::make_unique<NicModelImpl<Vnic_w64>>(cfg, mem);
#endif
#ifdef VD_HAVE_W512
  if (cfg.data_width == 512) return std::make_unique<NicModelImpl<Vnic_w512>>(cfg, mem);
#endif
  throw std::invalid_argument("NicModel: data_width " + std::to_string(cfg.data_width) +
                              " was not built (VD_RTL_WIDTHS)");
}

}  // namespace vd::rtl
