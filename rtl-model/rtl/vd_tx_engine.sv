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

  typedef enum logic [4:0] {S_IDLE, S_DESC_REQ, S_DESC_WAIT, S_DATA_REQ, S_DATA_WAIT, S_EMIT, S_CPL,
                            S_HDR_REQ, S_HDR_WAIT, S_P_IP, S_P_DEC, S_P_EXT, S_P_L4, S_CHECK, S_HSUM,
                            S_SEG, S_XREQ, S_PREP, S_PREP2} state_t;
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

  // Deficit round robin, so queues share the wire by bytes, not by
  // descriptors (one 64 KiB TSO send is one descriptor): each queue has a
  // credit; a send charges its length; a queue may be picked while its credit
  // is not negative; when no pending queue may, every credit gains
  // TX_DRR_QUANTUM bytes (capped at one quantum, so an idle queue does not
  // hoard). Among eligible queues: the first after the last one served.
  localparam int CRW = 18;                         // signed credit, bytes
  localparam logic [CRW-1:0] QUANTUM = CRW'(vd_abi_pkg::TX_DRR_QUANTUM);
  logic [NQ*CRW-1:0] credit_v;
  logic [NQ-1:0]     eligible;
  always_comb
    for (int i = 0; i < NQ; i++) eligible[i] = pending[i] && !credit_v[CRW*i + CRW - 1];
  wire replenish = enable && (|pending) && !(|eligible);

  logic [QW-1:0] rr_next;
  logic          rr_found;
  always_comb begin
    rr_next = q;
    rr_found = 1'b0;
    for (int i = 1; i <= NQ; i++) begin
      if (!rr_found && eligible[QW'((32'(q) + i) % NQ)]) begin
        rr_next = QW'((32'(q) + i) % NQ);
        rr_found = 1'b1;
      end
    end
  end

  // ---------------------------------------------------------------- descriptor
  logic [127:0] desc;
  logic [15:0]  status;
  wire  [63:0]  d_addr = desc[vd_abi_pkg::TX_DESC_ADDR_LSB +: 64];
  wire  [15:0]  d_len  = desc[vd_abi_pkg::TX_DESC_LEN_LSB +: 16];
  wire  [15:0]  d_flags = desc[vd_abi_pkg::TX_DESC_FLAGS_LSB +: 16];
  wire  [15:0]  d_mss  = desc[vd_abi_pkg::TX_DESC_MSS_LSB +: 16];
  wire  [7:0]   d_cstart = desc[vd_abi_pkg::TX_DESC_CSUM_START_LSB +: 8];
  wire  [7:0]   d_coff   = desc[vd_abi_pkg::TX_DESC_CSUM_OFFSET_LSB +: 8];

  // Offload mode, by precedence: TSO, then partial checksum, then full
  // (protocol-aware) checksum insertion.
  wire m_tso  = d_flags[vd_abi_pkg::TXF_TSO_BIT];
  wire m_part = !m_tso && d_flags[vd_abi_pkg::TXF_CSUM_PARTIAL_BIT];
  wire f_ip   = d_flags[vd_abi_pkg::TXF_CSUM_IP_BIT];
  wire f_l4   = d_flags[vd_abi_pkg::TXF_CSUM_L4_BIT];
  wire m_full = !m_tso && !m_part && (f_ip || f_l4);

  // ---------------------------------------------------------------- partial checksum
  // Linux CHECKSUM_PARTIAL: the field at start+offset holds the folded
  // pseudo-header sum; the NIC sums from start to the end of the frame as it
  // arrives by DMA and writes the complement into the field on the way out.
  wire          csum_en  = m_part;
  wire  [15:0]  cfield   = 16'(d_cstart) + 16'(d_coff);
  wire          csum_bad = csum_en && (32'(cfield) + 2 > 32'(d_len));
  logic [31:0]  csum_acc;
  logic [31:0]  beat_sum;
  logic [16:0]  fold1;
  logic [15:0]  csum_val;
  // The byte window [sum_lo, sum_hi) of the buffer summed while it arrives
  // (partial: [start, len); full: the L4 datagram; TSO: the segment payload).
  logic         sum_on;
  logic [15:0]  sum_lo, sum_hi;

  // ---------------------------------------------------------------- header engine (full checksum, TSO)
  // The first HBYTES bytes of the frame are read once into `hdr` and parsed
  // over a few cycles; the checksum bases of the unchanging header words are
  // summed one word per cycle; per frame / segment the patched header bytes
  // (hbeat, built as each of the first beats is issued) replace the first
  // patch_len bytes of the output.
  localparam int HBYTES = 128;                       // = offload::kTsoMaxHeaderLen
  localparam int HB  = (DW >= 8 * HBYTES) ? 1 : 8 * HBYTES / DW;  // beats of header
  localparam int HPW = (HB > 1) ? $clog2(HB) : 1;
  logic [8*HBYTES-1:0] hdr;
  logic [HPW-1:0] hptr;
  // Header reads: at l3o + k (l3o is 14 or 18: a 2-way mux), or the
  // big-endian word at an even offset (one word mux). No wider variable
  // selects, and no variable-position writes (they synthesise to shifters).
  `define L3B(k) ((l3o == 7'd18) ? hdr[(18 + (k)) * 8 +: 8] : hdr[(14 + (k)) * 8 +: 8])
  `define HWE(i) {hdr[{(i), 4'b0000} +: 8], hdr[{(i), 4'b1000} +: 8]}
  // parse results
  logic        perr;          // not parsed (as offload::parse_layout fails): full checksum sends unchanged
  logic        plim;          // needs header bytes past HBYTES: the RTL cannot follow
  logic        is_v4, is_v6, frag;
  logic [6:0]  l3o;           // 14 or 18
  logic [15:0] etype;
  logic [7:0]  ip_b0, ip_b6, ip_b9;
  logic [15:0] ip_w2, ip_w4;
  logic [13:0] ip_w6;        // IPv4 MF + fragment offset
  logic [15:0] ip_hl;         // IPv4 IHL*4
  logic [15:0] l4_off, l3_end, xoff;
  logic [7:0]  proto, nh;
  logic [3:0]  xn;
  logic [7:0]  tcp_b12, tcp_b13;
  logic [31:0] seq0;
  logic [15:0] oldf;
  logic        do_ip, do_l4, is_tcp;
  // header sums
  logic [6:0]  hp;
  logic [HBYTES-1:0] l3_oh, l4_oh;   // one-hot at l3o / l4_off (for the patch)
  // Expressions used in one state only are macros expanded there, so the
  // simulation evaluates them on those cycles only (a wire is evaluated on
  // every cycle).
  // XNEXT: IPv6 extension header: next header
  `define XNEXT hdr[{xoff[6:1], 4'b0000} +: 8]
  // XLEN: and its length
  `define XLEN hdr[{xoff[6:1], 4'b1000} +: 8]
  // HWORD: big-endian word at hp
  `define HWORD `HWE(hp[6:1])
  // Scan far enough for the L4 fields (TSO: to the end of the TCP header,
  // once its data offset has been read).
  `define HSUM_END 16'(m_tso ? ((16'(hp) > l4_off + 16'd12) ? hdr_len : 16'(HBYTES)) : l4_off + 16'd18)
  logic [31:0] ip_base, ph_base, tcp_base;
  // segmentation
  logic [16:0] seg_off;
  logic [15:0] seg_k, seg_len;
  logic        seg_last;
  logic        patch_on;
  logic [15:0] patch_len;

  wire [15:0] tcp_len = {10'd0, tcp_b12[7:4], 2'b00};
  wire [15:0] hdr_len = l4_off + tcp_len;
  wire [15:0] l4len   = l3_end - l4_off;
  // PAY: TSO payload bytes
  `define PAY 16'(l3_end - hdr_len)
  // REM: payload bytes left
  `define REM 17'(17'(`PAY) - seg_off)
  `define REM_LE (`REM <= 17'(d_mss))
  `define SEG_LEN 16'(`REM_LE ? 16'(`REM) : d_mss)
  `define FIRST_SEG 16'((`PAY <= d_mss) ? `PAY : d_mss)
  // FLD: full: L4 checksum field
  `define FLD 16'(l4_off + (is_tcp ? 16'd16 : 16'd6))
  `define L4OK (!perr && !plim && !frag && ((proto == 8'd6 && l4len >= 16'd20) || (proto == 8'd17 && l4len >= 16'd8)))
  `define TSO_BAD (perr || plim || frag || proto != 8'd6 || d_mss == 16'd0 || l4len < 16'd20 || 32'(l4_off) + 20 > HBYTES || tcp_len < 16'd20 || tcp_len > l4len || 32'(hdr_len) > HBYTES || 32'(hdr_len) + 32'(`FIRST_SEG) > vd_abi_pkg::MAX_FRAME)
  `define FULL_BAD (f_l4 && !perr && (plim || (`L4OK && 32'(`FLD) + 2 > HBYTES)))
  // per frame / segment header fields
  // per frame / segment header fields, registered in S_PREP / S_PREP2
  `define F_L4T 16'(tcp_len + seg_len)
  logic [15:0] r_l4t, r_tot, r_id, r_plen, r_ipc, r_tsoc, r_fullc;
  logic [31:0] r_seq;
  logic [7:0]  r_flg;

  function automatic logic [15:0] csum_of(input logic [31:0] s);
    logic [16:0] a;
    logic [15:0] b;
    a = 17'(s[15:0]) + 17'(s[31:16]);
    b = a[15:0] + 16'(a[16]);
    csum_of = ~b[15:0];
  endfunction
  // One byte (index j) of the patched header. o3 / o4 are one-hot at the IP
  // / L4 header offsets, so "byte j is field byte k" is bit j of the one-hot
  // shifted by k: constant wiring per byte after synthesis, no comparators.
  function automatic logic [7:0] pbyte(input logic [6:0] j, input logic [HBYTES-1:0] o3,
                                       input logic [HBYTES-1:0] o4, input logic [7:0] orig,
                                       input logic w_ip, input logic w_v6, input logic w_tcp, input logic w_full,
                                       input logic fo_tcp,
                                       input logic [15:0] tot, input logic [15:0] id, input logic [15:0] ic,
                                       input logic [15:0] plen, input logic [31:0] seq, input logic [7:0] flg,
                                       input logic [15:0] tc, input logic [15:0] fc);
    logic [7:0] b;
    logic [HBYTES-1:0] t2, t3, t4, t5, t10, t11, u4, u5, u6, u7, u13, u16, u17;
    t2 = o3 << 2;   t3 = o3 << 3;   t4 = o3 << 4;   t5 = o3 << 5;   t10 = o3 << 10;  t11 = o3 << 11;
    u4 = o4 << 4;   u5 = o4 << 5;   u6 = o4 << 6;   u7 = o4 << 7;   u13 = o4 << 13;  u16 = o4 << 16;
    u17 = o4 << 17;
    b = orig;
    if (w_ip) begin
      if (t2[j])  b = tot[15:8];
      if (t3[j])  b = tot[7:0];
      if (t4[j])  b = id[15:8];
      if (t5[j])  b = id[7:0];
      if (t10[j]) b = ic[15:8];
      if (t11[j]) b = ic[7:0];
    end
    if (w_v6) begin
      if (t4[j])  b = plen[15:8];
      if (t5[j])  b = plen[7:0];
    end
    if (w_tcp) begin
      if (u4[j])  b = seq[31:24];
      if (u5[j])  b = seq[23:16];
      if (u6[j])  b = seq[15:8];
      if (u7[j])  b = seq[7:0];
      if (u13[j]) b = flg;
      if (u16[j]) b = tc[15:8];
      if (u17[j]) b = tc[7:0];
    end
    if (w_full) begin
      // the L4 checksum field: TCP at +16, UDP at +6
      if (fo_tcp ? u16[j] : u6[j]) b = fc[15:8];
      if (fo_tcp ? u17[j] : u7[j]) b = fc[7:0];
    end
    pbyte = b;
  endfunction
  // Full insertion: a UDP checksum of 0 is sent as 0xFFFF.
  function automatic logic [15:0] l4c_of(input logic [31:0] s, input logic tcp);
    logic [16:0] a;
    logic [15:0] b;
    a = 17'(s[15:0]) + 17'(s[31:16]);
    b = a[15:0] + 16'(a[16]);
    l4c_of = (!tcp && b == 16'hFFFF) ? 16'hFFFF : ~b;
  endfunction

  // The patched header bytes of output beat hb (hb < HB), built only while
  // the first HBYTES bytes of a frame / segment are issued.
  function automatic logic [DW-1:0] hbeat(input logic [HPW-1:0] hb);
    logic [DW-1:0] r;
    logic [6:0] j;
    r = '0;
    for (int i = 0; i < BB && i < HBYTES; i++) begin
      j = 7'(32'(hb) * BB + i);
      r[8*i +: 8] = pbyte(j, l3_oh, l4_oh, hdr[{j, 3'b000} +: 8],
                          is_v4 && (m_tso || do_ip), is_v6 && m_tso, m_tso, !m_tso && do_l4, is_tcp,
                          r_tot, r_id, r_ipc, r_plen, r_seq, r_flg, r_tsoc, r_fullc);
    end
    hbeat = r;
  endfunction
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
  logic [DW-1:0] ohdr, omask; // patched-header bytes for this beat, and where they apply
  logic [DW-1:0] od_patched;

  // The checksum goes into the output beat, not into the buffer memory, so
  // the memory keeps a plain registered read port (block RAM).
  // The field's two bytes may fall in one beat or straddle two.
  wire [15:0] fi  = cfield - obase;         // field offset in this beat (wraps if before it)
  wire [15:0] fi1 = cfield + 16'd1 - obase;
  always_comb begin
    od_patched = (od & ~omask) | (ohdr & omask);
    if (csum_en) begin
      if (fi < 16'(BB))  od_patched[8*fi[IW-2:0] +: 8]  = csum_val[15:8];
      if (fi1 < 16'(BB)) od_patched[8*fi1[IW-2:0] +: 8] = csum_val[7:0];
    end
  end
  wire           adv = !ov || tx_tready;

  function automatic logic [DW/8-1:0] keep_for(input logic [15:0] len);
    logic [DW/8-1:0] k;
    int rem_b;
    rem_b = 32'(len) % BB;
    for (int i = 0; i < BB; i++) k[i] = (rem_b == 0) || (i < rem_b);
    keep_for = k;
  endfunction

  // Bit mask of the bytes of the beat at frame offset base that lie below plen.
  function automatic logic [DW-1:0] hmask_for(input logic [15:0] base, input logic [15:0] plen);
    logic [DW-1:0] m;
    for (int i = 0; i < BB; i++) m[8*i +: 8] = (32'(base) + i < 32'(plen)) ? 8'hFF : 8'h00;
    hmask_for = m;
  endfunction

  // Sum of the 16-bit words (relative to sum_lo) in the beat being received.
  // The byte window [lo, hi) of this beat that lies in [sum_lo, sum_hi) is found
  // once per beat, so the per-byte work is a compare on small indices.
  wire [15:0] bbase = 16'(32'(wptr) * BB);
  logic [IW-1:0] lo, hi;
  always_comb begin
    lo = (sum_lo > bbase) ? IW'((sum_lo - bbase > 16'(BB)) ? 16'(BB) : sum_lo - bbase) : '0;
    hi = (sum_hi > bbase) ? IW'(((sum_hi - bbase) > 16'(BB)) ? 16'(BB) : sum_hi - bbase) : '0;
    beat_sum = '0;
    if (sum_on) begin
      for (int i = 0; i < BB; i++) begin
        if (IW'(i) >= lo && IW'(i) < hi) begin
          // even distance from start: high byte of a word
          if ((bbase[0] ^ 1'(i) ^ sum_lo[0]) == 1'b0) beat_sum = beat_sum + {16'h0, rd_rsp_data[8*i +: 8], 8'h00};
          else                                       beat_sum = beat_sum + {24'h0, rd_rsp_data[8*i +: 8]};
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

  wire data_ok = d_len != 16'd0 && (m_tso || 32'(d_len) <= vd_abi_pkg::MAX_FRAME) && !csum_bad;

  always_ff @(posedge clk) begin
    if (srst) begin
      state <= S_IDLE;
      q <= '0;
      desc <= '0;
      status <= '0;
      wptr <= '0; rptr <= '0; issued <= '0;
      ov <= 1'b0; olast <= 1'b0; okeep <= '0; obase <= '0; csum_acc <= '0;
      ohdr <= '0; omask <= '0;
      frame_len <= '0;
      overflow <= 1'b0;
      cpl_beat <= '0;
      sum_on <= 1'b0; sum_lo <= '0; sum_hi <= '0;
      patch_on <= 1'b0; patch_len <= '0;
      seg_off <= '0; seg_k <= '0; seg_len <= '0; seg_last <= 1'b1;
      hptr <= '0;
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
          seg_off <= '0; seg_k <= '0; seg_len <= '0; seg_last <= 1'b1;
          patch_on <= 1'b0;
          sum_on <= csum_en; sum_lo <= 16'(d_cstart); sum_hi <= d_len;
          if (d_len == 16'd0 || (!m_tso && 32'(d_len) > vd_abi_pkg::MAX_FRAME)) begin
            status <= 16'(vd_abi_pkg::ERR_DESC_LEN);
            state  <= S_CPL;
          end else if (csum_bad) begin
            // The checksum field must lie inside the frame.
            status <= 16'(vd_abi_pkg::ERR_DESC_FLAGS);
            state  <= S_CPL;
          end else if (m_tso || m_full) begin
            hdr <= '0;
            hptr <= '0;
            state <= S_HDR_REQ;
          end else if (rd_req_ready) begin
            wptr <= '0;
            csum_acc <= '0;
            overflow <= 1'b0;
            state <= S_DATA_WAIT;
          end
        end
        // ------------------------------------------------ header read and parse
        S_HDR_REQ: if (rd_req_ready) state <= S_HDR_WAIT;
        S_HDR_WAIT: if (rd_rsp_valid) begin
          for (int g = 0; g < HB; g++)
            if (32'(hptr) == g) hdr[g * DW +: DW] <= rd_rsp_data[DW-1:0];
          hptr <= hptr + 1'b1;
          if (rd_rsp_err) status <= 16'(vd_abi_pkg::ERR_DMA);
          if (rd_rsp_last) begin
            state <= (rd_rsp_err || status != 16'(vd_abi_pkg::ERR_OK)) ? S_CPL : S_P_IP;
          end
        end
        S_P_IP: begin
          // Ethernet (one optional 802.1Q tag); latch the IP header fields.
          // (The last header beat has been written by now.)
          l3o   <= ({hdr[12*8 +: 8], hdr[13*8 +: 8]} == 16'h8100) ? 7'd18 : 7'd14;
          etype <= ({hdr[12*8 +: 8], hdr[13*8 +: 8]} == 16'h8100) ? {hdr[16*8 +: 8], hdr[17*8 +: 8]}
                                                                 : {hdr[12*8 +: 8], hdr[13*8 +: 8]};
          perr  <= d_len < 16'd14 ||
                   (({hdr[12*8 +: 8], hdr[13*8 +: 8]} == 16'h8100) && d_len < 16'd18);
          plim  <= 1'b0;
          state <= S_P_DEC;
        end
        S_P_DEC: begin
          ip_b0 <= `L3B(0);
          ip_w2 <= {`L3B(2), `L3B(3)};
          ip_w4 <= {`L3B(4), `L3B(5)};
          ip_w6 <= 14'({`L3B(6), `L3B(7)});
          ip_b6 <= `L3B(6);
          ip_b9 <= `L3B(9);
          is_v4 <= 1'b0; is_v6 <= 1'b0; frag <= 1'b0;
          xn <= '0;
          state <= S_P_EXT;
          if (perr || (etype != 16'h0800 && etype != 16'h86DD)) perr <= 1'b1;
        end
        S_P_EXT: begin
          // First visit decides IPv4 / IPv6; later visits walk IPv6 extension headers.
          if (xn == 4'd0 && !is_v6) begin
            if (perr) begin
              state <= S_P_L4;
            end else if (etype == 16'h0800) begin
              if (32'(d_len) - 32'(l3o) < 20 || ip_b0[7:4] != 4'd4 || ip_b0[3:0] < 4'd5 ||
                  32'(d_len) - 32'(l3o) < 32'({ip_b0[3:0], 2'b00}) ||
                  ip_w2 < 16'({ip_b0[3:0], 2'b00}) || 32'(ip_w2) > 32'(d_len) - 32'(l3o)) begin
                perr <= 1'b1;
              end
              is_v4  <= 1'b1;
              ip_hl  <= 16'({ip_b0[3:0], 2'b00});
              l4_off <= 16'(l3o) + 16'({ip_b0[3:0], 2'b00});
              l3_end <= 16'(l3o) + ip_w2;
              proto  <= ip_b9;
              frag   <= ip_w6[13] || ip_w6[12:0] != 13'd0;
              state  <= S_P_L4;
            end else begin
              if (32'(d_len) - 32'(l3o) < 40 || ip_b0[7:4] != 4'd6 ||
                  32'(ip_w4) > 32'(d_len) - 32'(l3o) - 40) begin
                perr  <= 1'b1;
                state <= S_P_L4;
              end
              is_v6  <= 1'b1;
              l3_end <= 16'(l3o) + 16'd40 + ip_w4;
              nh     <= ip_b6;
              xoff   <= 16'(l3o) + 16'd40;
            end
          end else if ((nh != 8'd0 && nh != 8'd43 && nh != 8'd60 && nh != 8'd44) || xn == 4'd8) begin
            l4_off <= xoff;
            proto  <= nh;
            state  <= S_P_L4;
          end else if (l3_end - xoff < 16'd8) begin
            perr  <= 1'b1;
            state <= S_P_L4;
          end else if (xoff > 16'(HBYTES - 2)) begin
            plim  <= 1'b1;
            state <= S_P_L4;
          end else if (nh == 8'd44) begin
            frag <= 1'b1;
            xoff <= xoff + 16'd8;
            nh   <= `XNEXT;
            xn   <= xn + 1'b1;
          end else if (l3_end - xoff < {5'd0, `XLEN, 3'b000} + 16'd8) begin
            perr  <= 1'b1;
            state <= S_P_L4;
          end else begin
            xoff <= xoff + {5'd0, `XLEN, 3'b000} + 16'd8;
            nh   <= `XNEXT;
            xn   <= xn + 1'b1;
          end
        end
        S_P_L4: begin
          is_tcp  <= proto == 8'd6;
          ip_base <= '0; ph_base <= '0; tcp_base <= '0;
          tcp_b12 <= '0; tcp_b13 <= '0; seq0 <= '0; oldf <= '0;
          hp <= l3o;
          state <= perr ? S_CHECK : S_HSUM;
        end
        S_HSUM: begin
          // One header word per cycle: the IPv4 header without total length,
          // ID and checksum; the pseudo-header addresses; the TCP header
          // without sequence number, flags and checksum; and the L4 fields
          // the patch needs.
          if (is_v4 && 16'(hp) < l4_off && hp != l3o + 7'd2 && hp != l3o + 7'd4 && hp != l3o + 7'd10)
            ip_base <= ip_base + 32'(`HWORD);
          if ((is_v4 && hp >= l3o + 7'd12 && hp < l3o + 7'd20) ||
              (is_v6 && 16'(hp) >= 16'(l3o) + 16'd8 && 16'(hp) < 16'(l3o) + 16'd40))
            ph_base <= ph_base + 32'(`HWORD);
          if (m_tso && 16'(hp) >= l4_off && (16'(hp) < l4_off + 16'd20 || 16'(hp) < hdr_len) &&
              16'(hp) != l4_off + 16'd4 && 16'(hp) != l4_off + 16'd6 && 16'(hp) != l4_off + 16'd12 &&
              16'(hp) != l4_off + 16'd16)
            tcp_base <= tcp_base + 32'(`HWORD);
          if (16'(hp) == l4_off + 16'd4)  seq0[31:16] <= `HWORD;
          if (16'(hp) == l4_off + 16'd6)  seq0[15:0] <= `HWORD;
          if (16'(hp) == l4_off + 16'd12) {tcp_b12, tcp_b13} <= `HWORD;
          if (16'(hp) == `FLD)             oldf <= `HWORD;
          hp <= hp + 7'd2;
          if (32'(hp) + 2 >= 32'(`HSUM_END) || hp == 7'(HBYTES - 2)) state <= S_CHECK;
        end
        S_CHECK: begin
          l3_oh <= HBYTES'(1) << l3o;
          l4_oh <= (32'(l4_off) < HBYTES) ? HBYTES'(1) << l4_off[6:0] : '0;
          if (m_tso) begin
            if (`TSO_BAD) begin
              status <= 16'(vd_abi_pkg::ERR_DESC_FLAGS);
              state  <= S_CPL;
            end else begin
              patch_len <= hdr_len;
              state     <= S_SEG;
            end
          end else if (`FULL_BAD) begin
            status <= 16'(vd_abi_pkg::ERR_DESC_FLAGS);
            state  <= S_CPL;
          end else begin
            do_ip     <= f_ip && !perr && is_v4;
            do_l4     <= f_l4 && `L4OK;
            patch_len <= 16'(HBYTES);
            patch_on  <= 1'b1;
            sum_on <= f_l4 && `L4OK; sum_lo <= l4_off; sum_hi <= l3_end;
            state     <= S_XREQ;
          end
        end
        S_SEG: begin
          seg_len   <= `SEG_LEN;
          seg_last  <= `REM_LE;
          frame_len <= hdr_len + `SEG_LEN;
          sum_on <= 1'b1; sum_lo <= hdr_len; sum_hi <= hdr_len + `SEG_LEN;
          patch_on <= 1'b1;
          state <= S_XREQ;
        end
        S_XREQ: if (rd_req_ready) begin
          wptr <= '0;
          csum_acc <= '0;
          overflow <= 1'b0;
          state <= S_DATA_WAIT;
        end
        S_DATA_WAIT: if (rd_rsp_valid) begin
          if (32'(wptr) < DEPTH) mem[wptr] <= rd_rsp_data;
          else overflow <= 1'b1;
          csum_acc <= csum_acc + beat_sum;
          wptr <= wptr + 1'b1;
          if (rd_rsp_err) status <= 16'(vd_abi_pkg::ERR_DMA);
          if (rd_rsp_last) begin
            rptr <= '0; issued <= '0; ov <= 1'b0;
            state <= (rd_rsp_err || status != 16'(vd_abi_pkg::ERR_OK) || overflow) ? S_CPL :
                     patch_on ? S_PREP : S_EMIT;
            if (overflow) status <= 16'(vd_abi_pkg::ERR_DMA);
          end
        end
        S_PREP: begin
          // This frame's / segment's header fields ...
          r_l4t  <= `F_L4T;
          r_tot  <= m_tso ? ip_hl + `F_L4T : ip_w2;
          r_id   <= ip_w4 + (m_tso ? seg_k : 16'd0);
          r_plen <= l4_off - 16'(l3o) - 16'd40 + `F_L4T;
          r_seq  <= seq0 + 32'(seg_off);
          r_flg  <= tcp_b13 & ~((seg_k != 16'd0) ? 8'h80 : 8'h00) & ~(seg_last ? 8'h00 : 8'h09);
          state  <= S_PREP2;
        end
        S_PREP2: begin
          // ... and checksums.
          r_ipc   <= csum_of(ip_base + 32'(r_tot) + 32'(r_id));
          r_tsoc  <= csum_of(tcp_base + 32'(r_seq[31:16]) + 32'(r_seq[15:0]) + 32'({tcp_b12, r_flg}) + ph_base +
                             32'd6 + 32'(r_l4t) + csum_acc);
          r_fullc <= l4c_of(csum_acc + {16'd0, ~oldf} + ph_base + 32'(proto) + 32'(l4len), is_tcp);
          state   <= S_EMIT;
        end
        S_EMIT: begin
          if (adv) begin
            if (issued < nbeats) begin
              od <= mem[rptr];
              obase <= 16'(32'(issued) * BB);
              ov <= 1'b1;
              olast <= (issued == nbeats - 1'b1);
              okeep <= (issued == nbeats - 1'b1) ? keep_for(frame_len) : '1;
              if (patch_on && 32'(issued) * BB < 32'(patch_len)) begin
                ohdr  <= hbeat(HPW'(issued));
                omask <= hmask_for(16'(32'(issued) * BB), patch_len);
              end else begin
                omask <= '0;
              end
              rptr <= rptr + 1'b1;
              issued <= issued + 1'b1;
            end else begin
              ov <= 1'b0;
            end
          end
          if (ov && tx_tready && olast) begin
            ov <= 1'b0;
            if (m_tso && !seg_last) begin
              seg_off <= seg_off + 17'(d_mss);
              seg_k   <= seg_k + 16'd1;
              state   <= S_SEG;
            end else begin
              state <= S_CPL;
            end
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
  `undef L3B
  `undef HWE
  `undef XNEXT
  `undef XLEN
  `undef HWORD
  `undef HSUM_END
  `undef PAY
  `undef REM
  `undef REM_LE
  `undef SEG_LEN
  `undef FIRST_SEG
  `undef FLD
  `undef L4OK
  `undef TSO_BAD
  `undef FULL_BAD
  `undef F_L4T

  always_comb begin
    cpl = '0;
    cpl[vd_abi_pkg::CPL_INDEX_LSB +: 16]  = cons & ring_mask;
    cpl[vd_abi_pkg::CPL_LEN_LSB +: 16]    = (status == 16'(vd_abi_pkg::ERR_OK)) ? d_len : 16'd0;
    cpl[vd_abi_pkg::CPL_STATUS_LSB +: 16] = status;
    cpl[vd_abi_pkg::CPL_QUEUE_LSB +: 8]   = 8'(q);
    // Phase is 1 on the first pass so a zeroed ring reads as empty.
    cpl[vd_abi_pkg::CPL_PHASE_LSB]        = ~cpl_prod[size_log2];
  end

  // DMA read requests: descriptor, whole frame, header (first HBYTES bytes),
  // or a TSO segment (the hdr_len bytes before its payload, then the payload,
  // so wire byte i of the segment is buffer byte i).
  always_comb begin
    rd_req_valid = (state == S_DESC_REQ) || (state == S_HDR_REQ) || (state == S_XREQ) ||
                   (state == S_DATA_REQ && data_ok && !m_tso && !m_full);
    rd_req_addr  = d_addr;
    rd_req_len   = d_len;
    case (state)
      S_DESC_REQ: begin
        rd_req_addr = ring_base + 64'({(cons & ring_mask), 4'b0});
        rd_req_len  = 16'(vd_abi_pkg::DESC_SIZE);
      end
      S_HDR_REQ: rd_req_len = (32'(d_len) > HBYTES) ? 16'(HBYTES) : d_len;
      S_XREQ: begin
        rd_req_addr = d_addr + 64'(seg_off);
        rd_req_len  = frame_len;
      end
      default: ;
    endcase
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

  // DRR credits: a completed send charges its length; replenish adds a quantum to all.
  always_ff @(posedge clk) begin
    if (srst) begin
      credit_v <= '0;
    end else if (state == S_IDLE && replenish) begin
      for (int i = 0; i < NQ; i++)
        credit_v[CRW*i +: CRW] <= ($signed(credit_v[CRW*i +: CRW]) + $signed(QUANTUM) > $signed(QUANTUM))
                                      ? QUANTUM : credit_v[CRW*i +: CRW] + QUANTUM;
    end else if (cpl_done) begin
      credit_v[CRW*q +: CRW] <= credit_v[CRW*q +: CRW] - CRW'(d_len);
    end
  end
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
