// Veridian NIC top: CSRs over MMIO, the TX and RX engines, and the DMA
// read/write arbitration in front of one DMA master port.
//
// DMA port contract (the harness implements the host side):
//  * read request: addr/len/tag, handshake valid&ready. Several requests may
//    be in flight; responses come back per tag as ceil(len/(DW/8)) beats
//    (the beats of one response are contiguous: responses to different
//    requests do not interleave, though they may come in any order),
//    beat 0 carrying bytes addr..addr+DW/8-1 in bits [7:0] upward; `err`
//    marks a response to an address outside host memory. Responses are never
//    back-pressured (each engine owns the buffer for its tag).
//  * write: a burst of ceil(len/(DW/8)) beats, addr and len held for the
//    whole burst, handshake valid&ready per beat, `last` on the final beat.
//    Writes complete in order.
`default_nettype none
module vd_nic_top #(
  parameter int DW = 512,                    // MAC and DMA data width (bits per beat): a power of two, 64..1024
  parameter int NQ = 16,                     // queues (TX and RX each)
  parameter int TAGW = 5                     // DMA read tag width
) (
  input  wire logic            clk,
  input  wire logic            rst_n,
  // MMIO
  input  wire logic            csr_wr_en,
  input  wire logic [15:0]     csr_wr_addr,
  input  wire logic [31:0]     csr_wr_data,
  input  wire logic            csr_rd_en,
  input  wire logic [15:0]     csr_rd_addr,
  output logic      [31:0]     csr_rd_data,
  output logic                 csr_rd_valid,
  // DMA read
  output logic                 dma_rd_req_valid,
  input  wire logic            dma_rd_req_ready,
  output logic      [63:0]     dma_rd_req_addr,
  output logic      [15:0]     dma_rd_req_len,
  output logic      [TAGW-1:0] dma_rd_req_tag,
  input  wire logic            dma_rd_rsp_valid,
  input  wire logic [TAGW-1:0] dma_rd_rsp_tag,
  input  wire logic [DW-1:0]   dma_rd_rsp_data,
  input  wire logic            dma_rd_rsp_last,
  input  wire logic            dma_rd_rsp_err,
  // DMA write
  output logic                 dma_wr_valid,
  input  wire logic            dma_wr_ready,
  output logic      [63:0]     dma_wr_addr,
  output logic      [15:0]     dma_wr_len,
  output logic      [DW-1:0]   dma_wr_data,
  output logic                 dma_wr_last,
  // MAC TX
  output logic                 mac_tx_tvalid,
  input  wire logic            mac_tx_tready,
  output logic      [DW-1:0]   mac_tx_tdata,
  output logic      [DW/8-1:0] mac_tx_tkeep,
  output logic                 mac_tx_tlast,
  output logic                 mac_tx_tuser,
  // MAC RX
  input  wire logic            mac_rx_tvalid,
  output logic                 mac_rx_tready,
  input  wire logic [DW-1:0]   mac_rx_tdata,
  input  wire logic [DW/8-1:0] mac_rx_tkeep,
  input  wire logic            mac_rx_tlast,
  input  wire logic            mac_rx_tuser,
  // interrupts: one line per queue pair (TX and RX completions of queue i)
  output logic      [NQ-1:0]   irq,
  // no work in progress and none posted: the harness may skip clock cycles
  output logic                 idle,
  // the RX drop counters the STAT_RX_DROP_* registers read, as a sideband
  // the harness samples without an MMIO read (which would clock the NIC)
  output logic      [31:0]     stat_rx_drop_nodesc,
  output logic      [31:0]     stat_rx_drop_err,
  output logic      [31:0]     stat_rx_drop_full,
  // per-engine activity, sampled by the harness each clocked cycle for
  // utilisation (bit order: see vd_tx_engine's and vd_rx_engine's eng_busy):
  // [4:0] TX fetch, TX reads, TX header, TX emit, TX completions;
  // [7:5] RX MAC, RX RSS, RX processing
  output logic      [7:0]      eng_busy
);
  localparam int QW = $clog2(NQ);

  initial begin
    if (NQ < 2 || 32'(NQ) > vd_abi_pkg::MAX_QUEUES || (NQ & (NQ - 1)) != 0)
      $error("vd_nic_top: NQ must be a power of two in 2..MAX_QUEUES");
    if (TAGW < 5) $error("vd_nic_top: TAGW must be at least 5 (TX uses 16 frame tags, a descriptor tag; RX one tag)");
  end

  // ---------------------------------------------------------------- CSRs
  logic        ctrl_enable;
  logic        srst;
  logic [QW-1:0] default_q;
  logic [31:0] st_tx_pkts, st_tx_bytes, st_rx_pkts, st_rx_bytes;
  logic [31:0] st_drop_nodesc, st_drop_err, st_drop_full, st_desc_err, st_dma_rd, st_dma_wr;

  wire is_txq_wr = csr_wr_en && csr_wr_addr >= 16'(vd_abi_pkg::TXQ_BASE) && csr_wr_addr < 16'(vd_abi_pkg::RXQ_BASE);
  wire is_rxq_wr = csr_wr_en && csr_wr_addr >= 16'(vd_abi_pkg::RXQ_BASE) && csr_wr_addr < 16'(vd_abi_pkg::RXQ_BASE + 32'h1000);
  wire [11:0] q_wr_addr = csr_wr_addr[11:0];
  wire [11:0] q_rd_addr = csr_rd_addr[11:0];
  logic [31:0] txq_rd_data, rxq_rd_data, rss_rd_data;
  wire is_rss_rd = csr_rd_addr == 16'(vd_abi_pkg::REG_RSS_TYPES) ||
                   (csr_rd_addr >= 16'(vd_abi_pkg::REG_RSS_KEY) &&
                    csr_rd_addr < 16'(vd_abi_pkg::REG_RSS_TABLE + 4 * vd_abi_pkg::RSS_TABLE_COUNT));

  // Soft reset is a one-cycle pulse that returns every engine and queue to its reset state.
  logic soft_reset;
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      ctrl_enable <= 1'b0;
      soft_reset  <= 1'b0;
      default_q   <= '0;
    end else begin
      soft_reset <= csr_wr_en && csr_wr_addr == 16'(vd_abi_pkg::REG_CTRL) && csr_wr_data[vd_abi_pkg::CTRL_RESET_BIT];
      if (csr_wr_en && csr_wr_addr == 16'(vd_abi_pkg::REG_CTRL)) ctrl_enable <= csr_wr_data[vd_abi_pkg::CTRL_ENABLE_BIT];
      if (csr_wr_en && csr_wr_addr == 16'(vd_abi_pkg::REG_RX_DEFAULT_Q)) default_q <= csr_wr_data[QW-1:0];
    end
  end
  assign srst = !rst_n || soft_reset;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      csr_rd_valid <= 1'b0;
      csr_rd_data  <= '0;
    end else begin
      csr_rd_valid <= csr_rd_en;
      if (csr_rd_en) begin
        if (csr_rd_addr >= 16'(vd_abi_pkg::TXQ_BASE) && csr_rd_addr < 16'(vd_abi_pkg::RXQ_BASE))
          csr_rd_data <= txq_rd_data;
        else if (csr_rd_addr >= 16'(vd_abi_pkg::RXQ_BASE) && csr_rd_addr < 16'(vd_abi_pkg::RXQ_BASE + 32'h1000))
          csr_rd_data <= rxq_rd_data;
        else if (is_rss_rd)
          csr_rd_data <= rss_rd_data;
        else begin
          case (32'(csr_rd_addr))
            vd_abi_pkg::REG_ABI_ID:       csr_rd_data <= vd_abi_pkg::ABI_ID_VALUE;
            vd_abi_pkg::REG_VERSION:      csr_rd_data <= vd_abi_pkg::ABI_VERSION;
            vd_abi_pkg::REG_FEATURES:     csr_rd_data <= (32'd1 << vd_abi_pkg::FEAT_MULTIQUEUE_BIT) |
                                                         (32'd1 << vd_abi_pkg::FEAT_IRQ_PER_QUEUE_BIT) |
                                                         (32'd1 << vd_abi_pkg::FEAT_TX_CSUM_BIT) |
                                                         (32'd1 << vd_abi_pkg::FEAT_RX_CSUM_BIT) |
                                                         (32'd1 << vd_abi_pkg::FEAT_RSS_BIT) |
                                                         (32'd1 << vd_abi_pkg::FEAT_RSS_IPV6_BIT) |
                                                         (32'd1 << vd_abi_pkg::FEAT_TSO_BIT);
            vd_abi_pkg::REG_QUEUE_COUNT:  csr_rd_data <= 32'(NQ) | (32'(NQ) << 8);
            vd_abi_pkg::REG_CTRL:         csr_rd_data <= 32'(ctrl_enable);
            vd_abi_pkg::REG_STATUS:       csr_rd_data <= 32'(idle);
            vd_abi_pkg::REG_DATA_WIDTH:   csr_rd_data <= 32'(DW);
            vd_abi_pkg::REG_RX_DEFAULT_Q: csr_rd_data <= 32'(default_q);
            vd_abi_pkg::REG_STAT_TX_PKTS:  csr_rd_data <= st_tx_pkts;
            vd_abi_pkg::REG_STAT_TX_BYTES: csr_rd_data <= st_tx_bytes;
            vd_abi_pkg::REG_STAT_RX_PKTS:  csr_rd_data <= st_rx_pkts;
            vd_abi_pkg::REG_STAT_RX_BYTES: csr_rd_data <= st_rx_bytes;
            vd_abi_pkg::REG_STAT_RX_DROP_NODESC: csr_rd_data <= st_drop_nodesc;
            vd_abi_pkg::REG_STAT_RX_DROP_ERR:    csr_rd_data <= st_drop_err;
            vd_abi_pkg::REG_STAT_RX_DROP_FULL:   csr_rd_data <= st_drop_full;
            vd_abi_pkg::REG_STAT_DESC_ERR:       csr_rd_data <= st_desc_err;
            vd_abi_pkg::REG_STAT_DMA_RD:         csr_rd_data <= st_dma_rd;
            vd_abi_pkg::REG_STAT_DMA_WR:         csr_rd_data <= st_dma_wr;
            default: csr_rd_data <= 32'hdead_beef;
          endcase
        end
      end
    end
  end

  // ---------------------------------------------------------------- engines
  logic            tx_rd_valid, tx_rd_ready, rx_rd_valid, rx_rd_ready;
  logic [63:0]     tx_rd_addr, rx_rd_addr;
  logic [15:0]     tx_rd_len, rx_rd_len;
  logic [TAGW-1:0] tx_rd_tag, rx_rd_tag;
  logic            tx_wr_valid, tx_wr_ready, tx_wr_last, rx_wr_valid, rx_wr_ready, rx_wr_last;
  logic [63:0]     tx_wr_addr, rx_wr_addr;
  logic [15:0]     tx_wr_len, rx_wr_len;
  logic [DW-1:0]   tx_wr_data, rx_wr_data;
  logic [NQ-1:0]   tx_irq, rx_irq;
  logic            ev_tx_pkt, ev_tx_desc_err, tx_busy;
  logic [15:0]     ev_tx_len, ev_rx_len;
  logic            ev_rx_pkt, ev_drop_nodesc, ev_drop_err, ev_drop_full, ev_rx_desc_err, rx_busy;

  vd_tx_engine #(.DW(DW), .NQ(NQ), .TAGW(TAGW)) u_tx (
    .clk, .srst, .enable(ctrl_enable),
    .q_wr_en(is_txq_wr), .q_wr_addr, .q_wr_data(csr_wr_data), .q_rd_addr, .q_rd_data(txq_rd_data),
    .irq(tx_irq),
    .rd_req_valid(tx_rd_valid), .rd_req_ready(tx_rd_ready), .rd_req_addr(tx_rd_addr),
    .rd_req_len(tx_rd_len), .rd_req_tag(tx_rd_tag),
    .rd_rsp_valid(dma_rd_rsp_valid && dma_rd_rsp_tag != rx_rd_tag), .rd_rsp_tag(dma_rd_rsp_tag),
    .rd_rsp_data(dma_rd_rsp_data),
    .rd_rsp_last(dma_rd_rsp_last), .rd_rsp_err(dma_rd_rsp_err),
    .wr_valid(tx_wr_valid), .wr_ready(tx_wr_ready), .wr_addr(tx_wr_addr), .wr_len(tx_wr_len),
    .wr_data(tx_wr_data), .wr_last(tx_wr_last),
    .tx_tvalid(mac_tx_tvalid), .tx_tready(mac_tx_tready), .tx_tdata(mac_tx_tdata),
    .tx_tkeep(mac_tx_tkeep), .tx_tlast(mac_tx_tlast),
    .ev_tx_pkt, .ev_tx_len, .ev_desc_err(ev_tx_desc_err), .busy(tx_busy), .eng_busy(eng_busy[4:0]));
  assign mac_tx_tuser = 1'b0;

  vd_rx_engine #(.DW(DW), .NQ(NQ), .TAGW(TAGW)) u_rx (
    .clk, .srst, .enable(ctrl_enable), .default_q,
    .rss_wr_en(csr_wr_en), .rss_wr_addr(csr_wr_addr), .rss_wr_data(csr_wr_data),
    .rss_rd_addr(csr_rd_addr), .rss_rd_data,
    .q_wr_en(is_rxq_wr), .q_wr_addr, .q_wr_data(csr_wr_data), .q_rd_addr, .q_rd_data(rxq_rd_data),
    .irq(rx_irq),
    .rd_req_valid(rx_rd_valid), .rd_req_ready(rx_rd_ready), .rd_req_addr(rx_rd_addr),
    .rd_req_len(rx_rd_len), .rd_req_tag(rx_rd_tag),
    .rd_rsp_valid(dma_rd_rsp_valid && dma_rd_rsp_tag == rx_rd_tag), .rd_rsp_data(dma_rd_rsp_data),
    .rd_rsp_last(dma_rd_rsp_last), .rd_rsp_err(dma_rd_rsp_err),
    .wr_valid(rx_wr_valid), .wr_ready(rx_wr_ready), .wr_addr(rx_wr_addr), .wr_len(rx_wr_len),
    .wr_data(rx_wr_data), .wr_last(rx_wr_last),
    .rx_tvalid(mac_rx_tvalid), .rx_tready(mac_rx_tready), .rx_tdata(mac_rx_tdata),
    .rx_tkeep(mac_rx_tkeep), .rx_tlast(mac_rx_tlast), .rx_tuser(mac_rx_tuser),
    .ev_rx_pkt, .ev_rx_len, .ev_drop_nodesc, .ev_drop_err, .ev_drop_full,
    .ev_desc_err(ev_rx_desc_err), .busy(rx_busy), .eng_busy(eng_busy[7:5]));

  assign irq = tx_irq | rx_irq;

  // ---------------------------------------------------------------- DMA read arbitration
  // Requests are single handshakes. RX goes first because its frame slots
  // fill from the wire and cannot wait; it has at most one read outstanding,
  // so TX (descriptor bursts and up to 16 frame reads in flight, one tag
  // each) is never starved for long. Responses go to RX by its tag, all
  // others to TX.
  always_comb begin
    if (rx_rd_valid) begin
      dma_rd_req_valid = 1'b1;
      dma_rd_req_addr  = rx_rd_addr;
      dma_rd_req_len   = rx_rd_len;
      dma_rd_req_tag   = rx_rd_tag;
    end else begin
      dma_rd_req_valid = tx_rd_valid;
      dma_rd_req_addr  = tx_rd_addr;
      dma_rd_req_len   = tx_rd_len;
      dma_rd_req_tag   = tx_rd_tag;
    end
    rx_rd_ready = dma_rd_req_ready && rx_rd_valid;
    tx_rd_ready = dma_rd_req_ready && !rx_rd_valid;
  end

  // ---------------------------------------------------------------- DMA write arbitration
  // A burst holds the port until its last beat.
  logic wr_locked, wr_owner_rx;
  wire  grant_rx = wr_locked ? wr_owner_rx : rx_wr_valid;
  always_ff @(posedge clk) begin
    if (srst) begin
      wr_locked <= 1'b0;
      wr_owner_rx <= 1'b0;
    end else if (dma_wr_valid && dma_wr_ready) begin
      wr_locked   <= !dma_wr_last;
      wr_owner_rx <= grant_rx;
    end
  end
  always_comb begin
    dma_wr_valid = grant_rx ? rx_wr_valid : tx_wr_valid;
    dma_wr_addr  = grant_rx ? rx_wr_addr  : tx_wr_addr;
    dma_wr_len   = grant_rx ? rx_wr_len   : tx_wr_len;
    dma_wr_data  = grant_rx ? rx_wr_data  : tx_wr_data;
    dma_wr_last  = grant_rx ? rx_wr_last  : tx_wr_last;
    rx_wr_ready  = dma_wr_ready && grant_rx;
    tx_wr_ready  = dma_wr_ready && !grant_rx;
  end

  // ---------------------------------------------------------------- statistics
  always_ff @(posedge clk) begin
    if (srst) begin
      st_tx_pkts <= '0; st_tx_bytes <= '0; st_rx_pkts <= '0; st_rx_bytes <= '0;
      st_drop_nodesc <= '0; st_drop_err <= '0; st_drop_full <= '0; st_desc_err <= '0;
      st_dma_rd <= '0; st_dma_wr <= '0;
    end else begin
      if (ev_tx_pkt) begin st_tx_pkts <= st_tx_pkts + 1; st_tx_bytes <= st_tx_bytes + 32'(ev_tx_len); end
      if (ev_rx_pkt) begin st_rx_pkts <= st_rx_pkts + 1; st_rx_bytes <= st_rx_bytes + 32'(ev_rx_len); end
      if (ev_drop_nodesc) st_drop_nodesc <= st_drop_nodesc + 1;
      if (ev_drop_err)    st_drop_err <= st_drop_err + 1;
      if (ev_drop_full)   st_drop_full <= st_drop_full + 1;
      st_desc_err <= st_desc_err + 32'(ev_tx_desc_err) + 32'(ev_rx_desc_err);
      if (dma_rd_req_valid && dma_rd_req_ready) st_dma_rd <= st_dma_rd + 1;
      if (dma_wr_valid && dma_wr_ready && dma_wr_last) st_dma_wr <= st_dma_wr + 1;
    end
  end

  assign idle = !tx_busy && !rx_busy && !mac_rx_tvalid && !wr_locked;
  assign stat_rx_drop_nodesc = st_drop_nodesc;
  assign stat_rx_drop_err    = st_drop_err;
  assign stat_rx_drop_full   = st_drop_full;
endmodule
`default_nettype wire
