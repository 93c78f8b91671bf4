// Per-queue register file shared by the TX and RX engines: ring bases, size,
// enable, the driver's producer index (doorbell), the NIC's consumer and
// completion indices, the interrupt arm bit and interrupt moderation.
//
// Moderation: while armed, a completion fires the interrupt once the count
// since the last interrupt reaches MOD_N (0/1: every completion); otherwise
// the first such completion starts a timer of MOD_T * IRQ_MOD_UNIT cycles,
// and the interrupt fires when it runs out.
`default_nettype none
module vd_queue_regs #(
  parameter int NQ = 16,                     // queues (TX and RX each)
  parameter int QW = $clog2(NQ)              // queue index width
) (
  input  wire logic         clk,
  input  wire logic         srst,
  // MMIO write into this block (addr is the offset inside the queue window)
  input  wire logic         wr_en,
  input  wire logic [11:0]  wr_addr,
  input  wire logic [31:0]  wr_data,
  input  wire logic [11:0]  rd_addr,
  output logic      [31:0]  rd_data,
  // the engine's view of one queue (sel)
  input  wire logic [QW-1:0] sel,
  output logic      [63:0]  ring_base,
  output logic      [63:0]  cpl_base,
  output logic      [3:0]   size_log2,
  output logic      [15:0]  prod,       // the driver's producer index
  output logic              no_csum,    // QCTRL_RX_NO_CSUM
  output logic      [15:0]  cons,
  output logic      [15:0]  cpl_prod,
  // a second view (fsel): where a queue's descriptors are, for a prefetcher
  // working on another queue than the completions (sel)
  input  wire logic [QW-1:0] fsel,
  output logic      [63:0]  f_ring_base,
  output logic      [3:0]   f_size_log2,
  // every queue's producer index, flattened (queue i in [16i+15:16i])
  output logic      [NQ*16-1:0] prod_all,
  // engine updates for queue sel
  input  wire logic         cons_inc,
  input  wire logic         cpl_inc,    // a completion was written: advance, maybe fire the IRQ
  output logic      [NQ-1:0] irq,
  output logic               tmr_busy,  // a moderation timer is running (the NIC is not idle)
  // which queues have descriptors posted and are enabled
  output logic      [NQ-1:0] pending
);
  logic [63:0] r_ring [NQ];
  logic [63:0] r_cpl  [NQ];
  logic [3:0]  r_log2 [NQ];
  logic        r_en   [NQ];
  logic        r_nocs [NQ];      // QCTRL_RX_NO_CSUM
  logic [15:0] r_prod [NQ];
  logic [15:0] r_cons [NQ];
  logic [15:0] r_cprod[NQ];
  logic        r_arm  [NQ];
  logic [31:0] r_mod  [NQ];      // {timer units, count}
  logic [NQ*16-1:0] cnt_v;       // completions since the last interrupt
  logic [NQ*24-1:0] tmr_v;       // moderation timer, cycles left
  logic [NQ-1:0]    tmr_on;
  localparam int unsigned UNIT = vd_abi_pkg::IRQ_MOD_UNIT;

  localparam int unsigned STRIDE = vd_abi_pkg::Q_STRIDE;
  wire [QW-1:0] wq = QW'(wr_addr / 12'(STRIDE));
  wire [5:0]    wo = 6'(wr_addr % 12'(STRIDE));
  wire [QW-1:0] rq = QW'(rd_addr / 12'(STRIDE));
  wire [5:0]    ro = 6'(rd_addr % 12'(STRIDE));
  wire          wr_hit = wr_en && (wr_addr < 12'(NQ * STRIDE));
  // Completions written but not consumed, as an IRQ_ARM write states them
  // (a completion being written this cycle included).
  wire [15:0]   arm_pend = r_cprod[wq] + 16'((cpl_inc && sel == wq) ? 1 : 0) - wr_data[31:16];

  always_ff @(posedge clk) begin
    if (srst) begin
      for (int i = 0; i < NQ; i++) begin
        r_ring[i] <= '0; r_cpl[i] <= '0; r_log2[i] <= 4'(vd_abi_pkg::MIN_RING_LOG2);
        r_en[i] <= 1'b0; r_nocs[i] <= 1'b0; r_prod[i] <= '0; r_cons[i] <= '0; r_cprod[i] <= '0; r_arm[i] <= 1'b0;
        r_mod[i] <= '0;
      end
      irq <= '0;
      cnt_v <= '0; tmr_v <= '0; tmr_on <= '0;
    end else begin
      irq <= '0;
      // moderation timers run down; one that runs out fires an armed queue
      for (int i = 0; i < NQ; i++) begin
        if (tmr_on[i]) begin
          tmr_v[24*i +: 24] <= tmr_v[24*i +: 24] - 24'd1;
          if (tmr_v[24*i +: 24] <= 24'd1) begin
            tmr_on[i] <= 1'b0;
            if (r_arm[i]) begin
              irq[i] <= 1'b1;
              r_arm[i] <= 1'b0;
              cnt_v[16*i +: 16] <= '0;
            end
          end
        end
      end
      if (wr_hit) begin
        case (32'(wo))
          vd_abi_pkg::REG_Q_RING_LO:   r_ring[wq][31:0]  <= wr_data;
          vd_abi_pkg::REG_Q_RING_HI:   r_ring[wq][63:32] <= wr_data;
          vd_abi_pkg::REG_Q_CPL_LO:    r_cpl[wq][31:0]   <= wr_data;
          vd_abi_pkg::REG_Q_CPL_HI:    r_cpl[wq][63:32]  <= wr_data;
          vd_abi_pkg::REG_Q_SIZE_LOG2: begin
            // Clamp to the supported range so a bad value cannot index past a ring.
            if (wr_data < vd_abi_pkg::MIN_RING_LOG2)      r_log2[wq] <= 4'(vd_abi_pkg::MIN_RING_LOG2);
            else if (wr_data > vd_abi_pkg::MAX_RING_LOG2) r_log2[wq] <= 4'(vd_abi_pkg::MAX_RING_LOG2);
            else                                          r_log2[wq] <= wr_data[3:0];
          end
          vd_abi_pkg::REG_Q_CTRL: begin
            r_en[wq] <= wr_data[vd_abi_pkg::QCTRL_ENABLE_BIT];
            r_nocs[wq] <= wr_data[vd_abi_pkg::QCTRL_RX_NO_CSUM_BIT];
            if (!wr_data[vd_abi_pkg::QCTRL_ENABLE_BIT]) begin
              // Disabling a queue rewinds it, as a driver expects before re-init.
              r_prod[wq] <= '0; r_cons[wq] <= '0; r_cprod[wq] <= '0; r_arm[wq] <= 1'b0;
            end
          end
          vd_abi_pkg::REG_Q_PROD:    r_prod[wq] <= wr_data[15:0];
          vd_abi_pkg::REG_Q_IRQ_ARM: begin
            // The driver arms with the completion count it has consumed. If
            // the NIC has already written more, those count towards the
            // moderation threshold (with no moderation: fire at once), or a
            // completion landing just before the arm would never be signalled.
            if (wr_data[0] && arm_pend != 16'd0 && (r_mod[wq][15:0] <= 16'd1 || arm_pend >= r_mod[wq][15:0])) begin
              irq[wq] <= 1'b1;
              cnt_v[16*wq +: 16] <= '0;
            end else begin
              r_arm[wq] <= wr_data[0];
              cnt_v[16*wq +: 16] <= arm_pend;
              if (wr_data[0] && arm_pend != 16'd0 && r_mod[wq][31:16] != 16'd0 && !tmr_on[wq]) begin
                tmr_on[wq] <= 1'b1;
                tmr_v[24*wq +: 24] <= 24'(r_mod[wq][31:16]) * 24'(UNIT);
              end
            end
          end
          vd_abi_pkg::REG_Q_IRQ_MOD: r_mod[wq] <= wr_data;
          default: ;
        endcase
      end
      if (cons_inc) r_cons[sel] <= r_cons[sel] + 16'd1;
      if (cpl_inc) begin
        r_cprod[sel] <= r_cprod[sel] + 16'd1;
        if (r_arm[sel]) begin
          if (r_mod[sel][15:0] <= 16'd1 || cnt_v[16*sel +: 16] + 16'd1 >= r_mod[sel][15:0]) begin
            irq[sel]   <= 1'b1;
            r_arm[sel] <= 1'b0;
            cnt_v[16*sel +: 16] <= '0;
            tmr_on[sel] <= 1'b0;
          end else begin
            cnt_v[16*sel +: 16] <= cnt_v[16*sel +: 16] + 16'd1;
            if (r_mod[sel][31:16] != 16'd0 && !tmr_on[sel]) begin
              tmr_on[sel] <= 1'b1;
              tmr_v[24*sel +: 24] <= 24'(r_mod[sel][31:16]) * 24'(UNIT);
            end
          end
        end
      end
    end
  end

  always_comb begin
    rd_data = '0;
    if (rd_addr < 12'(NQ * STRIDE)) begin
      case (32'(ro))
        vd_abi_pkg::REG_Q_RING_LO:   rd_data = r_ring[rq][31:0];
        vd_abi_pkg::REG_Q_RING_HI:   rd_data = r_ring[rq][63:32];
        vd_abi_pkg::REG_Q_CPL_LO:    rd_data = r_cpl[rq][31:0];
        vd_abi_pkg::REG_Q_CPL_HI:    rd_data = r_cpl[rq][63:32];
        vd_abi_pkg::REG_Q_SIZE_LOG2: rd_data = 32'(r_log2[rq]);
        vd_abi_pkg::REG_Q_CTRL:      rd_data = 32'(r_en[rq]) | (32'(r_nocs[rq]) << vd_abi_pkg::QCTRL_RX_NO_CSUM_BIT);
        vd_abi_pkg::REG_Q_PROD:      rd_data = 32'(r_prod[rq]);
        vd_abi_pkg::REG_Q_CONS:      rd_data = 32'(r_cons[rq]);
        vd_abi_pkg::REG_Q_IRQ_ARM:   rd_data = 32'(r_arm[rq]);
        vd_abi_pkg::REG_Q_CPL_PROD:  rd_data = 32'(r_cprod[rq]);
        vd_abi_pkg::REG_Q_IRQ_MOD:   rd_data = r_mod[rq];
        default: rd_data = '0;
      endcase
    end
  end

  assign tmr_busy = |tmr_on;

  always_comb begin
    ring_base = r_ring[sel];
    cpl_base  = r_cpl[sel];
    size_log2 = r_log2[sel];
    prod      = r_prod[sel];
    no_csum   = r_nocs[sel];
    cons      = r_cons[sel];
    cpl_prod  = r_cprod[sel];
    f_ring_base = r_ring[fsel];
    f_size_log2 = r_log2[fsel];
    for (int i = 0; i < NQ; i++) prod_all[16*i +: 16] = r_prod[i];
    for (int i = 0; i < NQ; i++) pending[i] = r_en[i] && (r_prod[i] != r_cons[i]);
  end
endmodule
`default_nettype wire
