// TX path, pipelined. Four stages work on different frames at once:
//
//  * F (fetch): picks a queue by deficit round robin, takes its next
//    descriptor from a per-queue descriptor cache (refilled in bursts in the
//    background, as on RX), reserves space in a circular store-and-forward
//    buffer and a context (one per DMA tag), and issues the frame's DMA read.
//    Up to NT frame reads are in flight.
//  * R (receive): response beats land in the buffer at the context's place;
//    the checksum window is summed on arrival and the first HBYTES bytes are
//    also kept per context (header memory) for the header stage.
//  * H (header, vd_tx_header): in order, once a context's data is in: for
//    full checksum insertion and TSO it loads the kept header bytes, parses
//    them and sums the header fields; then it prepares the frame's
//    (segment's) patched fields and checksums and hands everything to E in
//    one register set.
//  * E (emit, vd_tx_emit): streams the frame from the buffer to the MAC,
//    patching the header bytes / the partial checksum field on the way out,
//    then queues the completion; the completion writer (vd_tx_cpl_writer)
//    drains that queue to host memory.
//
// F and R live here, with the contexts between them; F's queue pick is the
// DRR scheduler (vd_tx_drr) and its descriptors come from the descriptor
// cache shared with RX (vd_desc_cache).
//
// TSO: F reads the send's first HBYTES bytes as a header-only context, waits
// for H's verdict (header length, validity), then issues one read per
// segment (the hdr_len bytes before the payload together with it, so wire
// byte i of a segment is buffer byte i); segments flow through R, H and E
// like frames, back to back.
//
// Store-and-forward per frame stays deliberate: the checksums need the whole
// frame (segment) before its header can leave.
`default_nettype none
module vd_tx_engine #(
  parameter int DW = 512,                    // MAC and DMA data width (bits per beat): a power of two, 64..1024
  parameter int NQ = 16,                     // queues (TX and RX each)
  parameter int TAGW = 5,                    // DMA read tag width
  parameter int QW = $clog2(NQ)              // queue index width
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
  // DMA read request/response (responses for TX tags only)
  output logic               rd_req_valid,
  input  wire logic          rd_req_ready,
  output logic      [63:0]   rd_req_addr,
  output logic      [15:0]   rd_req_len,
  output logic      [TAGW-1:0] rd_req_tag,
  input  wire logic          rd_rsp_valid,
  input  wire logic [TAGW-1:0] rd_rsp_tag,
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
  output logic               busy,       // work anywhere in the pipeline, or descriptors posted and the NIC enabled
  // per-engine activity for utilisation counters, one bit each:
  // [0] descriptor fetch and read issue, [1] frame reads in flight,
  // [2] header/checksum/TSO unit, [3] emit to the MAC, [4] completion writer
  output logic [4:0]         eng_busy
);
  localparam int BB    = DW / 8;                         // bytes per beat
  localparam int IW    = $clog2(BB) + 1;                 // byte index within a beat, plus one bit
  // Store-and-forward buffer: a circular buffer of NB beats; a frame takes
  // ceil(len / BB) consecutive beats (wrapping), so small frames pack.
  localparam int BUF_BYTES = 65536;
  localparam int NB    = BUF_BYTES / BB;
  localparam int AW    = $clog2(NB);
  // Contexts: one per frame between F and H, each with its own DMA tag.
  localparam int NT    = 16;
  localparam int RD_BUDGET = (DW >= 256) ? 384 : 160;   // frame read beats in flight (see f_room)
  localparam int CXW   = $clog2(NT);
  localparam logic [TAGW-1:0] PTAG = TAGW'(4);           // descriptor bursts use PTAG + slot (4..7); frame reads NT + context
  localparam int HBYTES = 128;                       // = offload::kTsoMaxHeaderLen
  localparam int HB  = (DW >= 8 * HBYTES) ? 1 : 8 * HBYTES / DW;  // beats of header
  localparam int HPW = (HB > 1) ? $clog2(HB) : 1;

  initial begin
    if (DW < 64 || DW > 1024 || (DW & (DW - 1)) != 0) $error("vd_tx_engine: DW must be a power of two in 64..1024");
    if (vd_abi_pkg::MAX_FRAME % BB != 0) $error("vd_tx_engine: MAX_FRAME must be a multiple of the beat size");
    if (TAGW < CXW + 1) $error("vd_tx_engine: TAGW must leave room for NT frame tags");
    if (32'(NB) * BB < 2 * vd_abi_pkg::MAX_FRAME) $error("vd_tx_engine: buffer smaller than two frames");
  end

  // ---------------------------------------------------------------- queues
  logic [QW-1:0] cw_q;           // queue of the completion being written
  logic [QW-1:0] pq;             // queue whose descriptors are being fetched
  logic [63:0] cpl_base, f_ring_base;
  logic [3:0]  size_log2, f_size_log2;
  logic [15:0] cons, cpl_prod;
  logic        cons_inc, cpl_inc;
  logic [NQ-1:0] pending;
  logic [NQ*16-1:0] prod_all;
  logic          tmr_busy;       // an interrupt moderation timer is running
  /* verilator lint_off UNUSEDSIGNAL */  // TX reads descriptors through the second view
  logic [63:0] ring_base_unused;
  logic [15:0] tx_prod;
  logic        tx_no_csum;  // an RX-only control
  /* verilator lint_on UNUSEDSIGNAL */

  vd_queue_regs #(.NQ(NQ)) u_regs (
    .clk, .srst, .wr_en(q_wr_en), .wr_addr(q_wr_addr), .wr_data(q_wr_data),
    .rd_addr(q_rd_addr), .rd_data(q_rd_data), .sel(cw_q),
    .ring_base(ring_base_unused), .cpl_base, .size_log2, .prod(tx_prod), .no_csum(tx_no_csum), .cons, .cpl_prod,
    .fsel(pq), .f_ring_base, .f_size_log2, .prod_all,
    .cons_inc, .cpl_inc, .irq, .tmr_busy, .pending);


  // ---------------------------------------------------------------- descriptor cache
  // Each queue keeps up to DC descriptors fetched ahead (vd_desc_cache).
  // One burst read at a time per queue (up to NPF queues at once) fetches up
  // to its free space, not past the ring's end: the queue F waits on first,
  // else the next queue (round robin) with descriptors posted and its cache
  // at most half full. A read error marks its entries, which complete with
  // ERR_DMA.
  localparam int DC  = 16;
  localparam int CW  = $clog2(DC);
  localparam int DE  = 129;                       // {err, descriptor[127:0]}
  localparam int NPF = 4;                         // bursts in flight, for different queues (tags PTAG + slot)
  localparam int PSW = $clog2(NPF);
  logic [NQ*16-1:0]     fidx_v;                   // per queue: next ring index to fetch (free-running)
  logic [NQ*(CW+1)-1:0] ccnt_v;                   // per queue: cached descriptors
  logic [NQ*16-1:0]     tidx_v;                   // per queue: next ring index F takes (free-running)
  logic [NPF-1:0]       pfs_busy;
  logic [NQ-1:0]        pf_inq;                   // per queue: a burst is in flight
  logic [QW-1:0]        pf_last;                  // the queue the last round-robin refill served
  logic [PSW-1:0]       pf_slot;                  // a free burst slot
  logic [63:0]          pf_addr;
  logic [15:0]          pf_len;
  /* verilator lint_off UNUSEDSIGNAL */  // the refill policy below reads the per-queue views instead
  logic [15:0]          pq_avail_unused;
  logic [CW:0]          pf_n_unused;
  /* verilator lint_on UNUSEDSIGNAL */

  // F (declared here: the prefetcher serves the queue F waits on first)
  typedef enum logic [2:0] {F_PICK, F_DESC, F_ISSUE, F_TSOW, F_SEG} fstate_t;
  fstate_t fs;
  logic [QW-1:0] fq;

  logic [DE-1:0] fq_ent;                          // fq's oldest cached entry
  logic [CW:0]   fq_ccnt;
  wire  [15:0]   fq_fidx  = fidx_v[16*fq +: 16];
  wire  [15:0]   fq_avail = prod_all[16*fq +: 16] - fq_fidx;

  // untaken descriptors per queue (posted and not yet taken by F), and
  // which queues want a refill
  logic [NQ-1:0] untaken, refill;
  always_comb begin
    for (int i = 0; i < NQ; i++) begin
      untaken[i] = pending[i] && prod_all[16*i +: 16] != tidx_v[16*i +: 16];
      refill[i]  = pending[i] && (prod_all[16*i +: 16] - fidx_v[16*i +: 16]) != 16'd0 &&
                   32'(ccnt_v[(CW+1)*i +: (CW+1)]) <= DC / 2;
    end
  end
  logic pq_found;
  always_comb begin
    pq = pf_last;
    pq_found = 1'b0;
    if (fs == F_DESC && fq_ccnt == '0 && fq_avail != 16'd0 && pending[fq] && !pf_inq[fq]) begin
      pq = fq;
      pq_found = 1'b1;
    end else begin
      for (int i = 1; i <= NQ; i++) begin
        if (!pq_found && refill[(32'(pf_last) + i) % NQ] && !pf_inq[(32'(pf_last) + i) % NQ]) begin
          pq = QW'((32'(pf_last) + i) % NQ);
          pq_found = 1'b1;
        end
      end
    end
  end
  wire          pf_want  = !(&pfs_busy) && enable && pq_found;
  wire          pf_issue = pf_want && rd_req_ready;
  wire          pop      = (fs == F_DESC) && fq_ccnt != '0;
  wire          rsp_desc = rd_rsp_valid && rd_rsp_tag[TAGW-1:PSW] == PTAG[TAGW-1:PSW];

  // Queue-disable writes rewind the queue in vd_queue_regs; the cache follows.
  wire [11:0]   qctl_off = q_wr_addr % 12'(vd_abi_pkg::Q_STRIDE);
  wire          qctl_wr  = q_wr_en && q_wr_addr < 12'(NQ * vd_abi_pkg::Q_STRIDE) &&
                           qctl_off == 12'(vd_abi_pkg::REG_Q_CTRL) && !q_wr_data[vd_abi_pkg::QCTRL_ENABLE_BIT];
  wire [QW-1:0] qctl_q   = QW'(q_wr_addr / 12'(vd_abi_pkg::Q_STRIDE));

  vd_desc_cache #(.DW(DW), .NQ(NQ), .EW(128), .NPF(NPF), .DC(DC)) u_dcache (
    .clk, .srst,
    .fq(pq), .f_prod(prod_all[16*pq +: 16]), .f_ring_base, .f_size_log2, .issue(pf_issue),
    .req_addr(pf_addr), .req_len(pf_len), .req_slot(pf_slot), .f_avail(pq_avail_unused), .f_n(pf_n_unused),
    .slot_busy(pfs_busy), .inflight_q(pf_inq),
    .rsp_valid(rsp_desc), .rsp_slot(rd_rsp_tag[PSW-1:0]), .rsp_data(rd_rsp_data), .rsp_last(rd_rsp_last),
    .rsp_err(rd_rsp_err),
    .tq(fq), .take(pop), .t_ent(fq_ent), .t_cnt(fq_ccnt),
    .rewind(qctl_wr), .rewind_q(qctl_q),
    .fidx_all(fidx_v), .cnt_all(ccnt_v));

  // The round-robin refill pointer, and the ring index F takes next.
  always_ff @(posedge clk) begin
    if (srst) begin
      pf_last <= '0; tidx_v <= '0;
    end else begin
      if (pf_issue && (pq != fq || fs != F_DESC)) pf_last <= pq;
      if (pop) tidx_v[16*fq +: 16] <= tidx_v[16*fq +: 16] + 16'd1;
      if (qctl_wr) tidx_v[16*qctl_q +: 16] <= '0;
    end
  end

  // ---------------------------------------------------------------- DRR scheduler
  // F picks queues by deficit round robin (vd_tx_drr), so queues share the
  // wire by bytes; taking a descriptor charges its length.
  logic [QW-1:0] rr_next;
  logic          rr_found;
  vd_tx_drr #(.NQ(NQ)) u_drr (
    .clk, .srst, .enable, .untaken, .last(fq), .picking(fs == F_PICK),
    .charge(pop), .charge_q(fq), .charge_len(fq_ent[vd_abi_pkg::TX_DESC_LEN_LSB +: 16]),
    .found(rr_found), .next(rr_next));

  // ---------------------------------------------------------------- contexts
  typedef enum logic [2:0] {K_PLAIN, K_PART, K_FULL, K_HDR, K_SEG, K_NOREAD} kind_t;
  logic [2:0]    c_kind [NT];
  logic [AW-1:0] c_base [NT];
  logic [AW:0]   c_nb   [NT];
  logic [AW:0]   c_rb   [NT];    // response beats of its read
  logic [15:0]   rd_fly;         // frame read beats in flight
  logic [15:0]   c_len  [NT];    // bytes read (frame / segment / header)
  logic [127:0]  c_desc [NT];
  logic [QW-1:0] c_q    [NT];
  logic [15:0]   c_lo   [NT];    // checksum window summed on arrival
  logic [15:0]   c_hi   [NT];
  logic [15:0]   c_stat [NT];
  logic [31:0]   c_sum  [NT];
  logic [16:0]   c_soff [NT];    // TSO segment: payload offset, index, payload length, last
  logic [15:0]   c_sk   [NT];
  logic [15:0]   c_slen [NT];
  logic [NT-1:0] c_last;
  logic [NT-1:0] c_done;         // data in (or no read needed)
  logic [CXW:0]  c_alloc, c_h;   // next context F fills / H takes (free-running mod 2 NT)
  logic [AW:0]   b_alloc, b_free;
  wire  [CXW-1:0] ca = c_alloc[CXW-1:0];
  wire            ctx_free = (CXW+1)'(c_alloc - c_h) != (CXW+1)'(NT);
  wire  [AW:0]    b_used = b_alloc - b_free;

  // ---------------------------------------------------------------- F: what the taken descriptor asks for
  logic [DE-1:0] f_ent;
  wire  [63:0] fd_addr  = f_ent[vd_abi_pkg::TX_DESC_ADDR_LSB +: 64];
  wire  [15:0] fd_len   = f_ent[vd_abi_pkg::TX_DESC_LEN_LSB +: 16];
  wire  [15:0] fd_flags = f_ent[vd_abi_pkg::TX_DESC_FLAGS_LSB +: 16];
  wire  [15:0] fd_mss   = f_ent[vd_abi_pkg::TX_DESC_MSS_LSB +: 16];
  wire  [7:0]  fd_cstart = f_ent[vd_abi_pkg::TX_DESC_CSUM_START_LSB +: 8];
  wire  [7:0]  fd_coff   = f_ent[vd_abi_pkg::TX_DESC_CSUM_OFFSET_LSB +: 8];
  wire         fm_tso  = fd_flags[vd_abi_pkg::TXF_TSO_BIT];
  wire         fm_part = !fm_tso && fd_flags[vd_abi_pkg::TXF_CSUM_PARTIAL_BIT];
  wire         fm_full = !fm_tso && !fm_part && (fd_flags[vd_abi_pkg::TXF_CSUM_IP_BIT] || fd_flags[vd_abi_pkg::TXF_CSUM_L4_BIT]);
  wire  [15:0] fd_cfield = 16'(fd_cstart) + 16'(fd_coff);
  logic [16:0] f_soff;
  logic [15:0] f_sk;
  logic [2:0]  f_kind;
  logic [15:0] f_stat, f_rlen, f_lo, f_hi;
  logic [63:0] f_raddr;
  logic        f_last;
  // H's parse of the TSO send's header (stable while F issues its segments)
  logic [15:0] hdr_len, l3_end;
  `define F_PAY 16'(l3_end - hdr_len)
  `define F_REM 17'(17'(`F_PAY) - f_soff)
  `define F_REM_LE (`F_REM <= 17'(fd_mss))
  `define F_SEG_LEN 16'(`F_REM_LE ? 16'(`F_REM) : fd_mss)
  always_comb begin
    f_kind = K_NOREAD;
    f_stat = 16'(vd_abi_pkg::ERR_OK);
    f_rlen = fd_len;
    f_raddr = fd_addr;
    f_lo = '0; f_hi = '0;
    f_last = 1'b1;
    if (fs == F_SEG) begin
      f_kind  = K_SEG;
      f_rlen  = hdr_len + `F_SEG_LEN;
      f_raddr = fd_addr + 64'(f_soff);
      f_lo    = hdr_len;
      f_hi    = hdr_len + `F_SEG_LEN;
      f_last  = `F_REM_LE;
    end else if (f_ent[128]) begin
      f_stat = 16'(vd_abi_pkg::ERR_DMA);
    end else if (fd_len == 16'd0 || (!fm_tso && 32'(fd_len) > vd_abi_pkg::MAX_FRAME)) begin
      f_stat = 16'(vd_abi_pkg::ERR_DESC_LEN);
    end else if (fm_part && 32'(fd_cfield) + 2 > 32'(fd_len)) begin
      f_stat = 16'(vd_abi_pkg::ERR_DESC_FLAGS);   // the checksum field must lie inside the frame
    end else if (fm_tso) begin
      f_kind = K_HDR;
      f_rlen = (32'(fd_len) > HBYTES) ? 16'(HBYTES) : fd_len;
    end else if (fm_part) begin
      f_kind = K_PART;
      f_lo = 16'(fd_cstart); f_hi = fd_len;
    end else if (fm_full) begin
      f_kind = K_FULL;
      f_lo = '0; f_hi = fd_len;    // [0, IP end): see the receive side
    end else begin
      f_kind = K_PLAIN;
    end
  end
  `undef F_PAY
  `undef F_REM
  `undef F_REM_LE
  `undef F_SEG_LEN

  wire [AW:0] f_nb = (f_kind == K_HDR || f_kind == K_NOREAD) ? '0 : (AW+1)'((32'(f_rlen) + BB - 1) / BB);
  // Frame read beats in flight are capped at RD_BUDGET (a new read may go
  // when none is in flight): read completions share one link and, on a
  // narrow bus, the response port, so an unbounded TX prefetch would queue
  // RX's descriptor reads behind many TX frames.
  wire [AW:0] f_rb   = (AW+1)'((32'(f_rlen) + BB - 1) / BB);
  wire        f_room = ctx_free && 32'(b_used) + 32'(f_nb) <= NB &&
                       (rd_fly == '0 || 32'(rd_fly) + 32'(f_rb) <= RD_BUDGET);
  wire        f_rd   = ((fs == F_ISSUE && f_kind != K_NOREAD) || fs == F_SEG) && f_room && !pf_want;
  wire        f_go   = (f_rd && rd_req_ready) || (fs == F_ISSUE && f_kind == K_NOREAD && ctx_free);

  // DMA read requests: descriptor bursts first (one at a time), then frames.
  always_comb begin
    rd_req_valid = pf_want || f_rd;
    if (pf_want) begin
      rd_req_addr = pf_addr;
      rd_req_len  = pf_len;
      rd_req_tag  = PTAG | TAGW'(pf_slot);
    end else begin
      rd_req_addr = f_raddr;
      rd_req_len  = f_rlen;
      rd_req_tag  = TAGW'(NT) + TAGW'(ca);
    end
  end

  // TSO verdict from H: a toggle per header context, with the result
  logic tso_seq, tso_seen, tso_ok;

  // ---------------------------------------------------------------- R: response beats
  logic [DW-1:0] mem [NB];
  logic [DW-1:0] hmem [NT * HB];                  // the first HBYTES bytes of each context's data
  wire            rsp_d  = rd_rsp_valid && rd_rsp_tag[TAGW-1:CXW] != '0;
  wire  [CXW-1:0] rc     = rd_rsp_tag[CXW-1:0];
  logic [AW:0]    r_beat;
  logic [31:0]    r_acc, beat_sum;
  wire  [2:0]     rc_kind = c_kind[rc];
  wire  [15:0]    rc_lo   = c_lo[rc];
  wire  [15:0]    rc_hi   = c_hi[rc];
  wire  [15:0]    rbase   = 16'(32'(r_beat) * BB);

  // Full insertion sums the frame from byte 0 to the IP datagram's end (the
  // L4 window is that minus the sum of the headers before the L4 header,
  // which H takes from the kept header bytes). The IP end comes from the
  // first 24 bytes (EtherType behind at most one 802.1Q tag, IPv4 total
  // length / IPv6 payload length); every byte before 24 lies before the IP
  // end of a frame that parses, so it is summed before that end is known.
  logic [191:0] h24, h24n;
  logic [16:0]  l3e_now;
  always_comb begin
    for (int j = 0; j < 24; j++)
      h24n[8*j +: 8] = (32'(r_beat) == j / BB) ? rd_rsp_data[8*(j % BB) +: 8] : h24[8*j +: 8];
    if ({h24n[12*8 +: 8], h24n[13*8 +: 8]} == 16'h8100) begin
      if ({h24n[16*8 +: 8], h24n[17*8 +: 8]} == 16'h86DD) l3e_now = 17'd58 + 17'({h24n[22*8 +: 8], h24n[23*8 +: 8]});
      else                                                 l3e_now = 17'd18 + 17'({h24n[20*8 +: 8], h24n[21*8 +: 8]});
    end else begin
      if ({h24n[12*8 +: 8], h24n[13*8 +: 8]} == 16'h86DD) l3e_now = 17'd54 + 17'({h24n[18*8 +: 8], h24n[19*8 +: 8]});
      else                                                 l3e_now = 17'd14 + 17'({h24n[16*8 +: 8], h24n[17*8 +: 8]});
    end
  end
  wire [15:0] rc_hi_eff = (rc_kind == K_FULL && 32'(rbase) + BB > 24 && l3e_now < 17'(rc_hi)) ? 16'(l3e_now) : rc_hi;

  // Sum of the 16-bit words (relative to the window start) of the beat being
  // received; the beat's byte window [lo, hi) is found once per beat.
  logic [IW-1:0] lo, hi;
  always_comb begin
    lo = (rc_lo > rbase) ? IW'((rc_lo - rbase > 16'(BB)) ? 16'(BB) : rc_lo - rbase) : '0;
    hi = (rc_hi_eff > rbase) ? IW'(((rc_hi_eff - rbase) > 16'(BB)) ? 16'(BB) : rc_hi_eff - rbase) : '0;
    beat_sum = '0;
    if (rsp_d) begin
      for (int i = 0; i < BB; i++) begin
        if (IW'(i) >= lo && IW'(i) < hi) begin
          if ((1'(i) ^ rc_lo[0]) == 1'b0) beat_sum = beat_sum + {16'h0, rd_rsp_data[8*i +: 8], 8'h00};
          else                            beat_sum = beat_sum + {24'h0, rd_rsp_data[8*i +: 8]};
        end
      end
    end
  end

  always_ff @(posedge clk) begin
    if (rsp_d && rc_kind != K_HDR) mem[AW'(c_base[rc] + AW'(r_beat))] <= rd_rsp_data;
    if (rsp_d && 32'(r_beat) < HB) hmem[32'(rc) * HB + 32'(r_beat) % HB] <= rd_rsp_data;
  end

  // ---------------------------------------------------------------- F and R state
  always_ff @(posedge clk) begin
    if (srst) begin
      fs <= F_PICK;
      fq <= '0;
      f_ent <= '0;
      f_soff <= '0; f_sk <= '0;
      c_alloc <= '0; b_alloc <= '0; rd_fly <= '0;
      c_done <= '0; c_last <= '0;
      r_beat <= '0; r_acc <= '0; h24 <= '0;
      tso_seen <= 1'b0;
    end else begin
      // ---- F
      case (fs)
        F_PICK: if (enable && rr_found) begin
          fq <= rr_next;
          fs <= F_DESC;
        end
        F_DESC: if (pop) begin
          f_ent <= fq_ent;
          fs <= F_ISSUE;
        end else if (!pending[fq] || !untaken[fq]) begin
          fs <= F_PICK;                 // the queue was disabled meanwhile
        end
        F_ISSUE: if (f_go) fs <= (f_kind == K_HDR) ? F_TSOW : F_PICK;
        F_TSOW: if (tso_seq != tso_seen) begin
          tso_seen <= tso_seq;
          f_soff <= '0; f_sk <= '0;
          fs <= tso_ok ? F_SEG : F_PICK;
        end
        F_SEG: if (f_go) begin
          f_soff <= f_soff + 17'(fd_mss);
          f_sk   <= f_sk + 16'd1;
          if (f_last) fs <= F_PICK;
        end
        default: fs <= F_PICK;
      endcase
      if (f_go) begin
        c_kind[ca] <= f_kind;
        c_base[ca] <= b_alloc[AW-1:0];
        c_nb[ca]   <= f_nb;
        c_rb[ca]   <= f_rb;
        c_len[ca]  <= f_rlen;
        c_desc[ca] <= f_ent[127:0];
        c_q[ca]    <= fq;
        c_lo[ca]   <= f_lo;
        c_hi[ca]   <= f_hi;
        c_stat[ca] <= f_stat;
        c_soff[ca] <= f_soff;
        c_sk[ca]   <= f_sk;
        c_slen[ca] <= f_hi - f_lo;
        c_last[ca] <= f_last;
        c_done[ca] <= (f_kind == K_NOREAD);
        c_alloc <= c_alloc + 1'b1;
        b_alloc <= b_alloc + f_nb;
      end
      // beats in flight: a read adds its beats, a response's last beat takes them
      rd_fly <= rd_fly + ((f_go && f_kind != K_NOREAD) ? 16'(f_rb) : 16'd0)
                       - ((rsp_d && rd_rsp_last) ? 16'(c_rb[rc]) : 16'd0);
      // ---- R (a response's beats are contiguous)
      if (rsp_d) begin
        h24 <= h24n;
        if (rd_rsp_err) c_stat[rc] <= 16'(vd_abi_pkg::ERR_DMA);
        if (rd_rsp_last) begin
          c_sum[rc]  <= r_acc + beat_sum;
          c_done[rc] <= 1'b1;
          r_beat <= '0;
          r_acc  <= '0;
        end else begin
          r_beat <= r_beat + 1'b1;
          r_acc  <= r_acc + beat_sum;
        end
      end
    end
  end

  // ---------------------------------------------------------------- H: header stage
  // vd_tx_header parses the kept header bytes, sums the header fields and
  // prepares the patched fields; it hands E one bundle per frame / segment.
  wire [CXW-1:0] hc = c_h[CXW-1:0];
  logic [HPW-1:0] hptr;
  logic           e_take;       // E takes the bundle this cycle
  logic           h_next, h_busy, h_give;
  logic           hb_emit, hb_cpl, hb_seg, hb_seg_last, hb_patch, hb_w_ip, hb_w_v6, hb_tso, hb_w_full, hb_tcp, hb_part;
  logic [15:0]    hb_status, hb_clen, hb_len, hb_patch_len, hb_tot, hb_id, hb_ipc, hb_plen, hb_tsoc, hb_fullc;
  logic [15:0]    hb_cfield, hb_csv;
  logic [QW-1:0]  hb_q;
  logic [AW-1:0]  hb_base;
  logic [AW:0]    hb_nb;
  logic [8*HBYTES-1:0] hb_hdr;
  logic [HBYTES-1:0]   hb_l3_oh, hb_l4_oh;
  logic [31:0]    hb_seq;
  logic [7:0]     hb_flg;
  vd_tx_header #(.DW(DW), .NQ(NQ), .AW(AW), .HBYTES(HBYTES)) u_header (
    .clk, .srst,
    .cx_ready(c_h != c_alloc && c_done[hc]), .cx_desc(c_desc[hc]), .cx_kind(c_kind[hc]), .cx_stat(c_stat[hc]),
    .cx_sum(c_sum[hc]), .cx_base(c_base[hc]), .cx_nb(c_nb[hc]), .cx_len(c_len[hc]), .cx_q(c_q[hc]),
    .cx_soff(c_soff[hc]), .cx_sk(c_sk[hc]), .cx_slen(c_slen[hc]), .cx_last(c_last[hc]), .next_ctx(h_next),
    .hptr, .hmem_rd(hmem[32'(hc) * HB + 32'(hptr)]),
    .tso_seq, .tso_ok, .hdr_len, .l3_end, .busy(h_busy),
    .give(h_give), .take(e_take),
    .b_emit(hb_emit), .b_cpl(hb_cpl), .b_seg(hb_seg), .b_seg_last(hb_seg_last), .b_status(hb_status),
    .b_clen(hb_clen), .b_q(hb_q), .b_base(hb_base), .b_nb(hb_nb), .b_len(hb_len), .b_hdr(hb_hdr),
    .b_l3_oh(hb_l3_oh), .b_l4_oh(hb_l4_oh), .b_patch(hb_patch), .b_patch_len(hb_patch_len),
    .b_w_ip(hb_w_ip), .b_w_v6(hb_w_v6), .b_tso(hb_tso), .b_w_full(hb_w_full), .b_tcp(hb_tcp),
    .b_tot(hb_tot), .b_id(hb_id), .b_ipc(hb_ipc), .b_plen(hb_plen), .b_tsoc(hb_tsoc), .b_fullc(hb_fullc),
    .b_seq(hb_seq), .b_flg(hb_flg), .b_part(hb_part), .b_cfield(hb_cfield), .b_csv(hb_csv));

  // the read pointer of the contexts
  always_ff @(posedge clk) begin
    if (srst) c_h <= '0;
    else if (h_next) c_h <= c_h + 1'b1;
  end

  // ---------------------------------------------------------------- E: emit
  // vd_tx_emit streams the frame from the buffer to the MAC, patching it
  // with the fields H prepared, and queues its completion.
  localparam int CF = 8;                          // completions the writer buffers
  localparam int CFW = $clog2(CF);
  logic [CFW:0]  cf_n;                            // completions waiting in the writer
  logic [AW-1:0] e_addr;
  logic          cf_push, out_done, e_busy;
  logic [QW-1:0] cf_q;
  logic [15:0]   cf_st, cf_len, o_len;
  vd_tx_emit #(.DW(DW), .NQ(NQ), .AW(AW), .HBYTES(HBYTES)) u_emit (
    .clk, .srst,
    .give(h_give), .cpl_room(32'(cf_n) <= CF - 2), .take(e_take),
    .b_emit(hb_emit), .b_cpl(hb_cpl), .b_seg(hb_seg), .b_seg_last(hb_seg_last), .b_status(hb_status),
    .b_clen(hb_clen), .b_q(hb_q), .b_base(hb_base), .b_nb(hb_nb), .b_len(hb_len),
    .b_hdr(hb_hdr), .b_l3_oh(hb_l3_oh), .b_l4_oh(hb_l4_oh), .b_patch(hb_patch), .b_patch_len(hb_patch_len),
    .b_w_ip(hb_w_ip), .b_w_v6(hb_w_v6), .b_tso(hb_tso), .b_w_full(hb_w_full), .b_tcp(hb_tcp),
    .b_tot(hb_tot), .b_id(hb_id), .b_ipc(hb_ipc), .b_plen(hb_plen), .b_tsoc(hb_tsoc), .b_fullc(hb_fullc),
    .b_seq(hb_seq), .b_flg(hb_flg), .b_part(hb_part), .b_cfield(hb_cfield), .b_csv(hb_csv),
    .buf_addr(e_addr), .buf_data(mem[e_addr]), .b_free,
    .tx_tvalid, .tx_tready, .tx_tdata, .tx_tkeep, .tx_tlast,
    .cpl_push(cf_push), .cpl_q(cf_q), .cpl_status(cf_st), .cpl_len(cf_len),
    .frame_done(out_done), .frame_len(o_len), .busy(e_busy));

  // ---------------------------------------------------------------- completion writer
  // Completions, in order: a frame's when its last beat has left, else (a
  // send that puts nothing on the wire) when E takes it.
  logic cpl_done, cpl_err, cf_ne;
  vd_tx_cpl_writer #(.DW(DW), .NQ(NQ), .CF(CF)) u_cpl (
    .clk, .srst,
    .push(cf_push), .push_q(cf_q), .push_status(cf_st), .push_len(cf_len), .fill(cf_n),
    .sel_q(cw_q), .cpl_base, .size_log2, .cons, .cpl_prod,
    .done(cpl_done), .done_err(cpl_err), .pending(cf_ne),
    .wr_valid, .wr_ready, .wr_addr, .wr_len, .wr_data, .wr_last);
  assign cons_inc = cpl_done;
  assign cpl_inc  = cpl_done;

  assign ev_tx_pkt   = out_done;
  assign ev_tx_len   = o_len;
  assign ev_desc_err = cpl_err;
  assign eng_busy    = {cf_ne, e_busy, h_busy, rd_fly != '0, fs != F_PICK || (|pfs_busy)};
  assign busy        = fs != F_PICK || c_alloc != c_h || h_busy || e_busy || cf_ne || (|pfs_busy) ||
                       (enable && |pending) || tmr_busy;
endmodule
`default_nettype wire
