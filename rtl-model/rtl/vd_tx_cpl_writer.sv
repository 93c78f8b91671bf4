// TX completion writer: a small FIFO of finished sends and the DMA writer
// that drains it into the queues' completion rings in host memory.
//
// The emit stage pushes a completion when a frame's last beat has left (or,
// for a send that puts nothing on the wire, when it is handed over), so
// completions are written in descriptor order. One 16-byte completion is one
// DMA write: one beat on a bus of 128 bits or more, two on a 64-bit bus.
// The completion ring's position, the ring index completed (the consumer
// index) and the phase come from vd_queue_regs for the head entry's queue
// (sel_q); `done` advances both indices there.
`default_nettype none
module vd_tx_cpl_writer #(
  parameter int DW = 512,                 // DMA data width
  parameter int NQ = 16,                  // queues
  parameter int CF = 8,                   // completions buffered (a power of two)
  parameter int QW = $clog2(NQ),          // queue index width
  parameter int CFW = $clog2(CF)          // FIFO index width
) (
  input  wire logic           clk,
  input  wire logic           srst,
  // Push side (emit stage): one completion per cycle at most.
  input  wire logic           push,
  input  wire logic [QW-1:0]  push_q,
  input  wire logic [15:0]    push_status,   // ERR_* code
  input  wire logic [15:0]    push_len,      // bytes sent (0 on an error)
  output logic      [CFW:0]   fill,          // completions buffered
  // The head entry's queue, and that queue's registers (vd_queue_regs sel view).
  output logic      [QW-1:0]  sel_q,
  input  wire logic [63:0]    cpl_base,
  input  wire logic [3:0]     size_log2,
  input  wire logic [15:0]    cons,          // ring index of the descriptor completed
  input  wire logic [15:0]    cpl_prod,      // completion ring position (its wrap gives the phase)
  output logic                done,          // the head completion is written (advance cons and cpl_prod)
  output logic                done_err,      // ... and it reports an error (statistics)
  output logic                pending,       // completions are waiting (the NIC is busy)
  // DMA write
  output logic                wr_valid,
  input  wire logic           wr_ready,
  output logic      [63:0]    wr_addr,
  output logic      [15:0]    wr_len,
  output logic      [DW-1:0]  wr_data,
  output logic                wr_last
);
  localparam int CPL_BEATS = (DW >= 128) ? 1 : 128 / DW;
  logic [QW-1:0] cf_q   [CF];
  logic [15:0]   cf_st  [CF];
  logic [15:0]   cf_len [CF];
  logic [CFW:0]  cf_w, cf_r;
  assign fill = cf_w - cf_r;

  always_ff @(posedge clk) begin
    if (srst) begin
      cf_w <= '0;
    end else if (push) begin
      cf_q[cf_w[CFW-1:0]] <= push_q; cf_st[cf_w[CFW-1:0]] <= push_status; cf_len[cf_w[CFW-1:0]] <= push_len;
      cf_w <= cf_w + 1'b1;
    end
  end

  wire [15:0] ring_mask = 16'((32'd1 << size_log2) - 1);
  logic [127:0] cpl;
  logic [$clog2(CPL_BEATS+1)-1:0] cpl_beat;
  logic [DW-1:0] cpl_word;
  wire  [CFW-1:0] cfr = cf_r[CFW-1:0];
  assign sel_q = cf_q[cfr];
  if (DW >= 128) begin : g_wide
    assign cpl_word = DW'(cpl);
  end else begin : g_narrow
    assign cpl_word = cpl_beat[0] ? cpl[127:64] : cpl[63:0];
  end
  always_comb begin
    cpl = '0;
    cpl[vd_abi_pkg::CPL_INDEX_LSB +: 16]  = cons & ring_mask;
    cpl[vd_abi_pkg::CPL_LEN_LSB +: 16]    = cf_len[cfr];
    cpl[vd_abi_pkg::CPL_STATUS_LSB +: 16] = cf_st[cfr];
    cpl[vd_abi_pkg::CPL_QUEUE_LSB +: 8]   = 8'(sel_q);
    // Phase is 1 on the first pass so a zeroed ring reads as empty.
    cpl[vd_abi_pkg::CPL_PHASE_LSB]        = ~cpl_prod[size_log2];
  end
  assign pending  = cf_w != cf_r;
  assign done     = pending && wr_ready && (32'(cpl_beat) == CPL_BEATS - 1);
  assign done_err = done && cf_st[cfr] != 16'(vd_abi_pkg::ERR_OK);
  always_comb begin
    wr_valid = pending;
    wr_addr  = cpl_base + 64'({(cpl_prod & ring_mask), 4'b0});
    wr_len   = 16'(vd_abi_pkg::CPL_SIZE);
    wr_last  = (32'(cpl_beat) == CPL_BEATS - 1);
    wr_data  = cpl_word;
  end
  always_ff @(posedge clk) begin
    if (srst) begin
      cf_r <= '0;
      cpl_beat <= '0;
    end else if (pending && wr_ready) begin
      if (32'(cpl_beat) == CPL_BEATS - 1) begin
        cpl_beat <= '0;
        cf_r <= cf_r + 1'b1;
      end else begin
        cpl_beat <= cpl_beat + 1'b1;
      end
    end
  end
endmodule
`default_nettype wire
