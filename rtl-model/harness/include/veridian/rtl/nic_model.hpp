// The C++ harness around the Verilated NIC: it clocks the model, services
// its DMA port against HostMemory with a PCIe-like latency/bandwidth model,
// applies MMIO, feeds MAC RX frames in and collects MAC TX frames out, and
// reports interrupts. It knows nothing about simulation events: the owner
// (host/ RtlNic, or a testbench) decides when to tick and for how long, and
// asks idle() to skip cycles when nothing is happening.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "veridian/core/hostmem.hpp"
#include "veridian/core/mmio_port.hpp"

namespace vd::rtl {

// PCIe-like DMA model. Defaults: Gen3 x16 (8 GT/s, 128b/130b, 16 lanes).
struct DmaConfig {
  double latency_ns = 500.0;     // request to first completion byte
  double gbps = 126.0;           // usable link rate each way, before TLP overhead
  unsigned max_payload = 256;    // bytes of data per TLP
  unsigned tlp_overhead = 24;    // header+framing bytes per TLP
  unsigned max_tags = 32;        // reads in flight before rd_req_ready drops (PCIe: 32 without extended tags)

  static DmaConfig pcie_gen3_x16() { return DmaConfig{}; }
  static DmaConfig pcie_gen4_x16() { DmaConfig c; c.gbps = 252.0; return c; }
};

struct NicModelConfig {
  unsigned data_width = 512;     // 64 or 512 (the widths that are Verilated)
  double clock_mhz = 250.0;
  double mac_gbps = 0.0;         // MAC TX pacing; 0 = accept a beat every cycle
  DmaConfig dma{};
};

// The NIC's engines, in the bit order of vd_nic_top's eng_busy port.
inline constexpr std::array<const char*, 8> kNicEngines = {
    "tx_fetch",   // TX descriptor fetch and frame read issue
    "tx_read",    // TX frame reads in flight
    "tx_header",  // TX header unit: checksum, TSO headers
    "tx_emit",    // TX stream to the MAC
    "tx_cpl",     // TX completion writer
    "rx_mac",     // RX frame from the MAC into the packet buffer
    "rx_rss",     // RX frames waiting for or in the RSS classifier
    "rx_proc",    // RX descriptor, DMA write and completion
};

// PCIe traffic by direction, as the DMA model sees it. Upstream is the NIC
// to the host: posted writes (frame data, completions), read requests and
// MMIO read completions. Downstream is the host to the NIC: read
// completions, MMIO writes and MMIO read requests. Every TLP carries
// DmaConfig::tlp_overhead bytes beside its payload. The timing model charges
// the link for writes (upstream) and read completions (downstream); read
// requests and MMIO are counted here but take no link time.
struct PcieDirStats {
  std::uint64_t tlps = 0;
  std::uint64_t bytes = 0;         // payload + overhead
  std::uint64_t payload_bytes = 0;
  double busy_cycles = 0;          // link time charged by the timing model
};

struct NicModelStats {
  std::uint64_t cycles = 0;            // cycles evaluated
  std::uint64_t dma_reads = 0, dma_read_bytes = 0, dma_read_errors = 0;
  // Request to last completion beat, summed over reads (the PCIe latency
  // plus queueing behind earlier completions on the link, plus transfer).
  std::uint64_t dma_read_latency_cycles = 0;
  std::uint64_t dma_writes = 0, dma_write_bytes = 0, dma_write_errors = 0;
  std::uint64_t mmio_writes = 0, mmio_reads = 0;
  std::uint64_t tx_frames = 0, rx_frames = 0;
  std::uint64_t irqs = 0;
  // Clocked cycles in which each engine (kNicEngines) held work.
  std::array<std::uint64_t, kNicEngines.size()> engine_busy_cycles{};
  PcieDirStats pcie_up, pcie_down;
};

struct NicRxDrops {
  std::uint32_t no_desc = 0;  // no RX descriptor posted
  std::uint32_t error = 0;    // the MAC marked the frame bad (FCS)
  std::uint32_t full = 0;     // the RX packet buffer was full
};

// The MMIO half of the device is the MmioPort a driver programs.
class NicModel : public MmioPort {
 public:
  virtual ~NicModel() = default;

  // Builds the Verilated model for cfg.data_width; throws std::invalid_argument
  // for a width that was not built.
  static std::unique_ptr<NicModel> create(const NicModelConfig& cfg, HostMemory& mem);
  static std::vector<unsigned> available_widths();

  virtual const NicModelConfig& config() const = 0;
  double cycle_ps() const { return 1e6 / config().clock_mhz; }

  // MmioPort: a write is queued and reaches the CSRs on the next ticked
  // cycle; a read flushes queued writes, then clocks the model (a few cycles).
  // A frame from the wire; it enters the MAC RX stream at cycle >= at_cycle.
  virtual void rx_frame(std::vector<std::uint8_t> frame, std::uint64_t at_cycle, bool error = false) = 0;

  // Runs up to n cycles; returns the number evaluated. Stops early after a
  // cycle that produced an output (TX frame or IRQ) when stop_on_output.
  virtual std::uint64_t tick(std::uint64_t n, bool stop_on_output = false) = 0;
  // No work inside the RTL and nothing queued for it: ticking is pointless.
  virtual bool idle() const = 0;
  // Earliest cycle at which queued input (an RX frame) becomes due, or UINT64_MAX.
  virtual std::uint64_t next_input_cycle() const = 0;
  // Skips to cycle c without evaluating (only valid while idle()).
  virtual void skip_to(std::uint64_t c) = 0;
  virtual std::uint64_t cycle() const = 0;

  using TxHandler = std::function<void(std::vector<std::uint8_t>&&, std::uint64_t cycle)>;
  using IrqHandler = std::function<void(std::uint32_t mask, std::uint64_t cycle)>;
  virtual void on_tx(TxHandler h) = 0;
  virtual void on_irq(IrqHandler h) = 0;

  // FST waveform, only when asked (tracing costs speed).
  virtual void open_trace(const std::string& path) = 0;
  virtual void close_trace() = 0;

  virtual const NicModelStats& stats() const = 0;
  // The NIC's RX drop counters (STAT_RX_DROP_NODESC/ERR/FULL), read from a
  // sideband: no MMIO, so reading them changes nothing in the run.
  virtual NicRxDrops rx_drops() const = 0;
};

}  // namespace vd::rtl
