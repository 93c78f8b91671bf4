// Per-queue descriptor cache, shared by the TX and RX engines.
//
// Each queue keeps up to DC descriptors fetched ahead of use, so the DMA
// latency of a descriptor read is paid once per burst instead of once per
// frame. The engine decides *which* queue to refill and *when* (its policy
// differs: RX refills the queue whose frame it is processing, TX serves the
// queue its fetch stage waits on first); this block does the bookkeeping
// both engines used to write out twice:
//
//  * a burst for queue `fq` reads up to the queue's free space, not past the
//    ring's end (the request address and length are computed here); space is
//    reserved at issue, so a later burst for the same queue cannot overlap;
//  * up to NPF bursts, for different queues, are in flight at once, each in
//    its own slot (the engine encodes the slot in the DMA tag);
//  * entries land as response beats arrive: DPB descriptors per beat on a
//    wide bus, one every second beat on a 64-bit bus. Entries are stored in
//    DPB lanes (entry e of a queue in lane e % DPB) so the descriptors of one
//    beat go to different lanes: each lane is a plain memory with one write
//    and one read port (LUTRAM after synthesis);
//  * a read error marks the entries of its beats (the entry's top bit), so
//    the engine completes them with ERR_DMA;
//  * `take` pops the oldest entry of queue `tq`; a landing and a pop of the
//    same queue in the same cycle are both counted;
//  * a queue-disable write rewinds the queue (as vd_queue_regs does): its
//    indices and count go to zero and a burst in flight for it lands nowhere.
`default_nettype none
module vd_desc_cache #(
  parameter int DW  = 512,                          // DMA data width (bits per response beat)
  parameter int NQ  = 16,                           // queues
  parameter int EW  = 128,                          // descriptor bits kept per entry (its low EW bits)
  parameter int NPF = 1,                            // bursts in flight at once, each for another queue
  parameter int DC  = 16,                           // descriptors cached per queue
  parameter int QW  = $clog2(NQ),                   // queue index width
  parameter int CW  = $clog2(DC),                   // cache entry index width
  parameter int PSW = (NPF > 1) ? $clog2(NPF) : 1   // burst slot index width
) (
  input  wire logic             clk,
  input  wire logic             srst,
  // Fetch side: the queue the engine wants to refill, its ring (from
  // vd_queue_regs), and the accepted burst read for it.
  input  wire logic [QW-1:0]    fq,
  input  wire logic [15:0]      f_prod,        // fq's producer index (posted up to here)
  input  wire logic [63:0]      f_ring_base,
  input  wire logic [3:0]       f_size_log2,
  input  wire logic             issue,         // a burst read for fq is accepted this cycle
  output logic      [63:0]      req_addr,      // the burst read for fq
  output logic      [15:0]      req_len,
  output logic      [PSW-1:0]   req_slot,      // the (free) slot the burst will use
  output logic      [15:0]      f_avail,       // fq: posted and not yet fetched
  output logic      [CW:0]      f_n,           // fq: descriptors the burst reads
  output logic      [NPF-1:0]   slot_busy,     // per slot: a burst in flight
  output logic      [NQ-1:0]    inflight_q,    // per queue: a burst in flight for it
  // Response beats of descriptor bursts (the engine filters them by tag).
  input  wire logic             rsp_valid,
  input  wire logic [PSW-1:0]   rsp_slot,
  /* verilator lint_off UNUSEDSIGNAL */        // with EW < 128, a descriptor's upper bits are not kept
  input  wire logic [DW-1:0]    rsp_data,
  /* verilator lint_on UNUSEDSIGNAL */
  input  wire logic             rsp_last,
  input  wire logic             rsp_err,
  // Take side: the oldest cached entry of queue tq ({err, descriptor}), and
  // its removal.
  input  wire logic [QW-1:0]    tq,
  input  wire logic             take,          // pop tq's oldest entry (only when t_cnt != 0)
  output logic      [EW:0]      t_ent,
  output logic      [CW:0]      t_cnt,         // tq: cached descriptors
  // Queue disable (rewind), decoded by the engine from its register writes.
  input  wire logic             rewind,
  input  wire logic [QW-1:0]    rewind_q,
  // Every queue's state, for the engine's refill policy.
  output logic      [NQ*16-1:0]     fidx_all,  // per queue: next ring index to fetch (free-running)
  output logic      [NQ*(CW+1)-1:0] cnt_all    // per queue: cached descriptors
);
  localparam int BB  = DW / 8;
  localparam int DE  = EW + 1;                    // {err, descriptor[EW-1:0]}
  localparam int DPB = (BB >= 16) ? BB / 16 : 1;  // descriptors per response beat
  localparam int LD  = DC / DPB;                  // entries per queue per lane

  initial begin
    if (EW > 128) $error("vd_desc_cache: a descriptor has 128 bits");
    if (DC % DPB != 0) $error("vd_desc_cache: DC must be a multiple of the descriptors per beat");
  end

  logic [NQ*16-1:0]     fidx_v;                   // per queue: next ring index to fetch (free-running)
  logic [NQ*(CW+1)-1:0] ccnt_v;                   // per queue: cached descriptors
  logic [NQ*CW-1:0]     chead_v;                  // per queue: oldest cached entry
  logic [DE-1:0]        lane_rd [DPB];
  // burst slots
  logic [NPF-1:0]       pfs_busy;
  logic [NPF*QW-1:0]    pfs_q;                    // the queue it fetches for
  logic [NPF*CW-1:0]    pfs_pos;                  // where its next landing descriptor goes
  logic [NPF*(CW+1)-1:0] pfs_left;                // descriptors still to land
  logic [NQ-1:0]        pf_inq;
  logic                 pf_half;                  // 64-bit bus: the first half of a descriptor is in pf_lo
  /* verilator lint_off UNUSEDSIGNAL */  // used on a 64-bit bus only
  logic [63:0]          pf_lo;
  /* verilator lint_on UNUSEDSIGNAL */

  assign fidx_all   = fidx_v;
  assign cnt_all    = ccnt_v;
  assign slot_busy  = pfs_busy;
  assign inflight_q = pf_inq;

  // ---- fetch: how much the burst for fq reads, and from where
  wire [15:0]   fq_fidx  = fidx_v[16*fq +: 16];
  wire [CW:0]   fq_ccnt  = ccnt_v[(CW+1)*fq +: (CW+1)];
  wire [CW-1:0] fq_chead = chead_v[CW*fq +: CW];
  wire [15:0]   fq_mask  = 16'((32'd1 << f_size_log2) - 1);
  wire [15:0]   fq_toend = 16'(32'd1 << f_size_log2) - (fq_fidx & fq_mask);
  wire [15:0]   fq_space = 16'(DC) - 16'(fq_ccnt);
  assign        f_avail  = f_prod - fq_fidx;
  wire [15:0]   pf_n0    = (f_avail < fq_space) ? f_avail : fq_space;
  assign        f_n      = (CW+1)'((pf_n0 < fq_toend) ? pf_n0 : fq_toend);
  assign        req_addr = f_ring_base + 64'({(fq_fidx & fq_mask), 4'b0});
  assign        req_len  = 16'({f_n, 4'b0});
  always_comb begin
    req_slot = '0;
    for (int i = NPF - 1; i >= 0; i--) if (!pfs_busy[i]) req_slot = PSW'(i);
  end

  // ---- take
  wire [CW-1:0] tq_chead = chead_v[CW*tq +: CW];
  assign        t_cnt    = ccnt_v[(CW+1)*tq +: (CW+1)];
  assign        t_ent    = lane_rd[32'(tq_chead) % DPB];

  // ---- landing: the burst a response beat belongs to
  wire [QW-1:0]  pf_q    = pfs_q[QW*rsp_slot +: QW];
  wire [CW-1:0]  pf_pos  = pfs_pos[CW*rsp_slot +: CW];
  wire [CW:0]    pf_left = pfs_left[(CW+1)*rsp_slot +: (CW+1)];
  wire           pf_busy = pfs_busy[rsp_slot];
  logic [DPB*128-1:0] land_data;
  logic               land;
  logic [CW:0]        land_cnt;
  if (DW >= 128) begin : g_land_wide
    assign land_data = rsp_data[DPB*128-1:0];
    assign land      = rsp_valid;
    assign land_cnt  = (32'(pf_left) < DPB) ? pf_left : (CW+1)'(DPB);
  end else begin : g_land_narrow
    assign land_data = {rsp_data[63:0], pf_lo};
    assign land      = rsp_valid && pf_half;
    assign land_cnt  = (pf_left != '0) ? (CW+1)'(1) : '0;
  end

  // Lane l takes descriptor i = (l - pos) mod DPB of the landing beat, if i < cnt.
  for (genvar l = 0; l < DPB; l++) begin : g_lane
    logic [DE-1:0] mem_l [NQ * LD];
    wire  [CW-1:0] i_l   = CW'(l) - pf_pos;             // which of the beat's descriptors
    wire  [31:0]   di    = 32'(i_l) % DPB;
    wire  [CW-1:0] e_l   = pf_pos + CW'(di);            // the entry it lands in (e_l % DPB == l)
    wire           we    = land && pf_busy && (CW+1)'(di) < land_cnt;
    always_ff @(posedge clk) begin
      if (we) mem_l[32'(pf_q) * LD + 32'(e_l) / DPB] <= {rsp_err, land_data[128*di +: EW]};
    end
    assign lane_rd[l] = mem_l[32'(tq) * LD + 32'(tq_chead) / DPB];
  end

  always_ff @(posedge clk) begin
    if (srst) begin
      fidx_v <= '0; ccnt_v <= '0; chead_v <= '0;
      pfs_busy <= '0; pf_half <= 1'b0; pfs_q <= '0; pfs_pos <= '0; pfs_left <= '0; pf_inq <= '0;
    end else begin
      if (issue) begin
        pfs_busy[req_slot] <= 1'b1;
        // With one slot a burst starts only when the previous one is done,
        // on a descriptor boundary.
        if (NPF == 1) pf_half <= 1'b0;
        pfs_q[QW*req_slot +: QW] <= fq;
        pfs_pos[CW*req_slot +: CW] <= fq_chead + CW'(fq_ccnt);
        pfs_left[(CW+1)*req_slot +: (CW+1)] <= f_n;
        pf_inq[fq] <= 1'b1;
        fidx_v[16*fq +: 16] <= fq_fidx + 16'(f_n);
      end
      if (rsp_valid && pf_busy) begin
        pf_half <= !pf_half;
        if (DW < 128 && !pf_half) pf_lo <= rsp_data[63:0];
        if (rsp_last) begin
          pfs_busy[rsp_slot] <= 1'b0;
          pf_inq[pf_q] <= 1'b0;
        end
      end
      if (land && pf_busy) begin
        pfs_pos[CW*rsp_slot +: CW] <= pf_pos + CW'(land_cnt);
        pfs_left[(CW+1)*rsp_slot +: (CW+1)] <= pf_left - land_cnt;
      end
      // count: landings add, a take removes one (same queue: both at once)
      if (land && pf_busy && take && pf_q == tq)
        ccnt_v[(CW+1)*tq +: (CW+1)] <= t_cnt + land_cnt - 1'b1;
      else begin
        if (land && pf_busy) ccnt_v[(CW+1)*pf_q +: (CW+1)] <= ccnt_v[(CW+1)*pf_q +: (CW+1)] + land_cnt;
        if (take) ccnt_v[(CW+1)*tq +: (CW+1)] <= t_cnt - 1'b1;
      end
      if (take) chead_v[CW*tq +: CW] <= tq_chead + 1'b1;
      if (rewind) begin
        fidx_v[16*rewind_q +: 16] <= '0;
        ccnt_v[(CW+1)*rewind_q +: (CW+1)] <= '0;
        chead_v[CW*rewind_q +: CW] <= '0;
        for (int i = 0; i < NPF; i++)       // a read in flight for it lands nowhere
          if (pfs_q[QW*i +: QW] == rewind_q) pfs_left[(CW+1)*i +: (CW+1)] <= '0;
      end
    end
  end
endmodule
`default_nettype wire
