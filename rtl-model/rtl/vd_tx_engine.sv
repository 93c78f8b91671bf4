// TX path: pick a queue with posted descriptors (round robin), fetch its
// descriptor and frame by DMA into a store-and-forward buffer, stream the
// frame to the MAC, then write a completion and fire the queue's interrupt.
// Store-and-forward is deliberate: checksum and TSO engines need the whole
// frame before the header can be finalised.
`default_nettype none
module vd_tx_engine #(
  parameter int DW = 512,
  parameter int NQ = 16,
  parameter int TAGW = 4,
  parameter int QW = $clog2(NQ)
) (
  input  wire logic          clk,
  input  wire logic          srst,
  input  wire logic          enable,
  // queue register window (TX queues)
  input  wire logic          q_wr_en,
  input  wire logic [11:0]   q_wr_addr,
  input  wire logic [31:0]   q_wr_data,
  input  wire logic [11:0]   q_rd_addr,
  output logic      [31:0]   q_rd_data,
  output logic      [NQ-1:0] irq,
  // DMA read request/response (responses for our tag only)
  output logic               rd_req_valid,
  input  wire logic          rd_req_ready,
  output logic      [63:0]   rd_req_addr,
  output logic      [15:0]   rd_req_len,
  output logic      [TAGW-1:0] rd_req_tag,
  input  wire logic          rd_rsp_valid,
  input  wire logic [DW-1:0] rd_rsp_data,
  input  wire logic          rd_rsp_last,
  input  wire logic          rd_rsp_err,
  // DMA write (completions)
  output logic               wr_valid,
  input  wire logic          wr_ready,
  output logic      [63:0]   wr_addr,
  output logic      [15:0]   wr_len,
  output logic      [DW-1:0] wr_data,
  output logic               wr_last,
  // MAC TX stream
  output logic               tx_tvalid,
  input  wire logic          tx_tready,
  output logic      [DW-1:0] tx_tdata,
  output logic      [DW/8-1:0] tx_tkeep,
  output logic               tx_tlast,
  // events for statistics
  output logic               ev_tx_pkt,
  output logic      [15:0]   ev_tx_len,
  output logic               ev_desc_err,
  output logic               busy        // mid-packet, or descriptors posted and the NIC enabled
);
  localparam int BB    = DW / 8;                         // bytes per beat
  localparam int DEPTH = vd_abi_pkg::MAX_FRAME / BB;     // beats per frame buffer
  localparam int AW    = $clog2(DEPTH);
  localparam int IW    = $clog2(BB) + 1;                // byte index within a beat, plus one bit
  localparam int CPL_BEATS = (DW >= 128) ? 1 : 128 / DW;
  localparam logic [TAGW-1:0] TAG = TAGW'(0);

  initial begin
    if (DW < 64 || DW > 1024 || (DW & (DW - 1)) != 0) $error("vd_tx_engine: DW must be a power of two in 64..1024");
    if (vd_abi_pkg::MAX_FRAME % BB != 0) $error("vd_tx_engine: MAX_FRAME must be a multiple of the beat size");
  end

  typedef enum logic [2:0] {S_IDLE, S_DESC_REQ, S_DESC_WAIT, S_DATA_REQ, S_DATA_WAIT, S_EMIT, S_CPL} state_t;
  state_t state;

  // ---------------------------------------------------------------- queues
  logic [QW-1:0] q;
  logic [63:0] ring_base, cpl_base;
  logic [3:0]  size_log2;
  logic [15:0] cons, cpl_prod;
  logic        cons_inc, cpl_inc;
  logic [NQ-1:0] pending;
  logic          tmr_busy;       // an interrupt moderation timer is running
  /* verilator lint_off UNUSEDSIGNAL */  // TX learns of posted descriptors from `pending`
  logic [15:0] tx_prod;
  logic        tx_no_csum;  // an RX-only control
  /* verilator lint_on UNUSEDSIGNAL */

  vd_queue_regs #(.NQ(NQ)) u_regs (
    .clk, .srst, .wr_en(q_wr_en), .wr_addr(q_wr_addr), .wr_data(q_wr_data),
    .rd_addr(q_rd_addr), .rd_data(q_rd_data), .sel(q),
    .ring_base, .cpl_base, .size_log2, .prod(tx_prod), .no_csum(tx_no_csum), .cons, .cpl_prod,
    .cons_inc, .cpl_inc, .irq, .tmr_busy, .pending);

  wire [15:0] ring_mask = 16'((32'd1 << size_log2) - 1);

  // Round robin: the first pending queue after the last one served.
  logic [QW-1:0] rr_next;
  logic          rr_found;
  always_comb begin
    rr_next = q;
    rr_found = 1'b0;
    for (int i = 1; i <= NQ; i++) begin
      if (!rr_found && pending[QW'((32'(q) + i) % NQ)]) begin
        rr_next = QW'((32'(q) + i) % NQ);
        rr_found = 1'b1;
      end
    end
  end

  // ---------------------------------------------------------------- descriptor
  /* verilator lint_off UNUSEDSIGNAL */  // the MSS field is not consumed until TSO lands
  logic [127:0] desc;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [15:0]  status;
  wire  [63:0]  d_addr = desc[vd_abi_pkg::TX_DESC_ADDR_LSB +: 64];
  wire  [15:0]  d_len  = desc[vd_abi_pkg::TX_DESC_LEN_LSB +: 16];
  wire  [15:0]  d_flags = desc[vd_abi_pkg::TX_DESC_FLAGS_LSB +: 16];
  wire  [7:0]   d_cstart = desc[vd_abi_pkg::TX_DESC_CSUM_START_LSB +: 8];
  wire  [7:0]   d_coff   = desc[vd_abi_pkg::TX_DESC_CSUM_OFFSET_LSB +: 8];

  // ---------------------------------------------------------------- partial checksum
  // Linux CHECKSUM_PARTIAL: the field at start+offset holds the folded
  // pseudo-header sum; the NIC sums from start to the end of the frame as it
  // arrives by DMA and writes the complement into the field on the way out.
  wire          csum_en  = d_flags[vd_abi_pkg::TXF_CSUM_PARTIAL_BIT];
  wire  [15:0]  cfield   = 16'(d_cstart) + 16'(d_coff);
  wire          csum_bad = csum_en && (32'(cfield) + 2 > 32'(d_len));
  logic [31:0]  csum_acc;
  logic [31:0]  beat_sum;
  logic [16:0]  fold1;
  logic [15:0]  csum_val;
  // ---------------------------------------------------------------- frame buffer
  logic [DW-1:0] mem [DEPTH];
  logic [AW-1:0] wptr, rptr;
  logic [15:0]   frame_len;
  wire  [AW:0]   nbeats = (AW+1)'((32'(frame_len) + BB - 1) / BB);
  logic          overflow;

  // emit pipeline: one registered read stage in front of the MAC
  logic [AW:0]   issued;     // beats read from mem
  logic          ov;         // output register valid
  logic [DW-1:0] od;
  logic          olast;
  logic [DW/8-1:0] okeep;
  logic [15:0]   obase;      // frame offset of the output beat's byte 0
  logic [DW-1:0] od_patched;

  // The checksum goes into the output beat, not into the buffer memory, so
  // the memory keeps a plain registered read port (block RAM).
  // The field's two bytes may fall in one beat or straddle two.
  wire [15:0] fi  = cfield - obase;         // field offset in this beat (wraps if before it)
  wire [15:0] fi1 = cfield + 16'd1 - obase;
  always_comb begin
    od_patched = od;
    if (csum_en) begin
      if (fi < 16'(BB))  od_patched[8*fi[IW-2:0] +: 8]  = csum_val[15:8];
      if (fi1 < 16'(BB)) od_patched[8*fi1[IW-2:0] +: 8] = csum_val[7:0];
    end
  end
  wire           adv = !ov || tx_tready;

  function automatic logic [DW/8-1:0] keep_for(input logic [15:0] len);
    logic [DW/8-1:0] k;
    int rem;
    rem = 32'(len) % BB;
    for (int i = 0; i < BB; i++) k[i] = (rem == 0) || (i < rem);
    keep_for = k;
  endfunction

  // Sum of the 16-bit words (relative to start) in the beat being received.
  // The byte window [lo, hi) of this beat that lies in [start, len) is found
  // once per beat, so the per-byte work is a compare on small indices.
  wire [15:0] bbase = 16'(32'(wptr) * BB);
  logic [IW-1:0] lo, hi;
  always_comb begin
    lo = (16'(d_cstart) > bbase) ? IW'((16'(d_cstart) - bbase > 16'(BB)) ? 16'(BB) : 16'(d_cstart) - bbase) : '0;
    hi = (frame_len > bbase) ? IW'(((frame_len - bbase) > 16'(BB)) ? 16'(BB) : frame_len - bbase) : '0;
    beat_sum = '0;
    if (csum_en) begin
      for (int i = 0; i < BB; i++) begin
        if (IW'(i) >= lo && IW'(i) < hi) begin
          // even distance from start: high byte of a word
          if ((bbase[0] ^ 1'(i) ^ d_cstart[0]) == 1'b0) beat_sum = beat_sum + {16'h0, rd_rsp_data[8*i +: 8], 8'h00};
          else                                         beat_sum = beat_sum + {24'h0, rd_rsp_data[8*i +: 8]};
        end
      end
    end
    fold1    = 17'(csum_acc[15:0]) + 17'(csum_acc[31:16]);
    csum_val = ~(fold1[15:0] + 16'(fold1[16]));
  end

  // ---------------------------------------------------------------- completion
  logic [127:0] cpl;
  logic [$clog2(CPL_BEATS+1)-1:0] cpl_beat;

  // A 16-byte descriptor or completion is one beat on a wide bus and two on a 64-bit one.
  logic [127:0]  desc_next;
  logic [DW-1:0] cpl_word;
  if (DW >= 128) begin : g_wide
    assign desc_next = rd_rsp_data[127:0];
    assign cpl_word  = DW'(cpl);
  end else begin : g_narrow
    assign desc_next = {rd_rsp_data[63:0], desc[127:64]};
    assign cpl_word  = cpl_beat[0] ? cpl[127:64] : cpl[63:0];
  end

  always_ff @(posedge clk) begin
    if (srst) begin
      state <= S_IDLE;
      q <= '0;
      desc <= '0;
      status <= '0;
      wptr <= '0; rptr <= '0; issued <= '0;
      ov <= 1'b0; olast <= 1'b0; okeep <= '0; obase <= '0; csum_acc <= '0;
      frame_len <= '0;
      overflow <= 1'b0;
      cpl_beat <= '0;
    end else begin
      case (state)
        S_IDLE: if (enable && rr_found) begin
          q <= rr_next;
          state <= S_DESC_REQ;
        end
        S_DESC_REQ: if (rd_req_ready) state <= S_DESC_WAIT;
        S_DESC_WAIT: if (rd_rsp_valid) begin
          desc <= desc_next;
          if (rd_rsp_last) begin
            status <= rd_rsp_err ? 16'(vd_abi_pkg::ERR_DMA) : 16'(vd_abi_pkg::ERR_OK);
            state  <= rd_rsp_err ? S_CPL : S_DATA_REQ;
          end
        end
        S_DATA_REQ: begin
          // A zero or oversize length is the driver's bug: complete with an error.
          frame_len <= d_len;
          if (d_len == 16'd0 || 32'(d_len) > vd_abi_pkg::MAX_FRAME) begin
            status <= 16'(vd_abi_pkg::ERR_DESC_LEN);
            state  <= S_CPL;
          end else if (csum_bad) begin
            // The checksum field must lie inside the frame.
            status <= 16'(vd_abi_pkg::ERR_DESC_FLAGS);
            state  <= S_CPL;
          end else if (rd_req_ready) begin
            wptr <= '0;
            csum_acc <= '0;
            overflow <= 1'b0;
            state <= S_DATA_WAIT;
          end
        end
        S_DATA_WAIT: if (rd_rsp_valid) begin
          if (32'(wptr) < DEPTH) mem[wptr] <= rd_rsp_data;
          else overflow <= 1'b1;
          csum_acc <= csum_acc + beat_sum;
          wptr <= wptr + 1'b1;
          if (rd_rsp_err) status <= 16'(vd_abi_pkg::ERR_DMA);
          if (rd_rsp_last) begin
            rptr <= '0; issued <= '0; ov <= 1'b0;
            state <= (rd_rsp_err || status != 16'(vd_abi_pkg::ERR_OK) || overflow) ? S_CPL : S_EMIT;
            if (overflow) status <= 16'(vd_abi_pkg::ERR_DMA);
          end
        end
        S_EMIT: begin
          if (adv) begin
            if (issued < nbeats) begin
              od <= mem[rptr];
              obase <= 16'(32'(issued) * BB);
              ov <= 1'b1;
              olast <= (issued == nbeats - 1'b1);
              okeep <= (issued == nbeats - 1'b1) ? keep_for(frame_len) : '1;
              rptr <= rptr + 1'b1;
              issued <= issued + 1'b1;
            end else begin
              ov <= 1'b0;
            end
          end
          if (ov && tx_tready && olast) begin
            ov <= 1'b0;
            state <= S_CPL;
          end
        end
        S_CPL: if (wr_ready) begin
          if (32'(cpl_beat) == CPL_BEATS - 1) begin
            cpl_beat <= '0;
            status <= '0;
            state <= S_IDLE;
          end else begin
            cpl_beat <= cpl_beat + 1'b1;
          end
        end
        default: state <= S_IDLE;
      endcase
    end
  end

  always_comb begin
    cpl = '0;
    cpl[vd_abi_pkg::CPL_INDEX_LSB +: 16]  = cons & ring_mask;
    cpl[vd_abi_pkg::CPL_LEN_LSB +: 16]    = (status == 16'(vd_abi_pkg::ERR_OK)) ? frame_len : 16'd0;
    cpl[vd_abi_pkg::CPL_STATUS_LSB +: 16] = status;
    cpl[vd_abi_pkg::CPL_QUEUE_LSB +: 8]   = 8'(q);
    // Phase is 1 on the first pass so a zeroed ring reads as empty.
    cpl[vd_abi_pkg::CPL_PHASE_LSB]        = ~cpl_prod[size_log2];
  end

  // DMA read requests
  always_comb begin
    rd_req_valid = (state == S_DESC_REQ) ||
                   (state == S_DATA_REQ && d_len != 16'd0 && 32'(d_len) <= vd_abi_pkg::MAX_FRAME && !csum_bad);
    rd_req_addr  = (state == S_DESC_REQ) ? ring_base + 64'({(cons & ring_mask), 4'b0}) : d_addr;
    rd_req_len   = (state == S_DESC_REQ) ? 16'(vd_abi_pkg::DESC_SIZE) : d_len;
    rd_req_tag   = TAG;
  end

  // completion write
  always_comb begin
    wr_valid = (state == S_CPL);
    wr_addr  = cpl_base + 64'({(cpl_prod & ring_mask), 4'b0});
    wr_len   = 16'(vd_abi_pkg::CPL_SIZE);
    wr_last  = (32'(cpl_beat) == CPL_BEATS - 1);
    wr_data  = '0;
    wr_data  = cpl_word;
  end

  wire cpl_done = (state == S_CPL) && wr_ready && (32'(cpl_beat) == CPL_BEATS - 1);
  assign cons_inc = cpl_done;
  assign cpl_inc  = cpl_done;

  assign tx_tvalid = ov;
  assign tx_tdata  = od_patched;
  assign tx_tkeep  = okeep;
  assign tx_tlast  = olast;

  assign ev_tx_pkt   = ov && tx_tready && olast;
  assign ev_tx_len   = frame_len;
  assign ev_desc_err = cpl_done && status != 16'(vd_abi_pkg::ERR_OK);
  assign busy        = (state != S_IDLE) || (enable && |pending) || tmr_busy;
endmodule
`default_nettype wire
