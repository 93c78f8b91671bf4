// RX path: the MAC stream lands in one of NS (4) store-and-forward slots (the
// wire cannot be stopped, so a frame that finds every slot busy is dropped
// and counted). While a frame arrives its first PARSE_WINDOW bytes are kept;
// two cycles after its last beat the RSS unit has classified and hashed it.
// A full, hashed slot is steered to a queue (RSS indirection table, or the
// default queue), a descriptor is fetched, the frame is written to host
// memory by DMA, then a completion is written and the queue's interrupt
// fires.
`default_nettype none
module vd_rx_engine #(
  parameter int DW = 512,                    // MAC and DMA data width (bits per beat): a power of two, 64..1024
  parameter int NQ = 16,                     // queues (TX and RX each)
  parameter int TAGW = 5,                    // DMA read tag width
  parameter int QW = $clog2(NQ)              // queue index width
) (
  input  wire logic          clk,
  input  wire logic          srst,
  input  wire logic          enable,
  input  wire logic [QW-1:0] default_q,
  // RSS registers (top-level CSR addresses)
  input  wire logic          rss_wr_en,
  input  wire logic [15:0]   rss_wr_addr,
  input  wire logic [31:0]   rss_wr_data,
  input  wire logic [15:0]   rss_rd_addr,
  output logic      [31:0]   rss_rd_data,
  // queue register window (RX queues)
  input  wire logic          q_wr_en,
  input  wire logic [11:0]   q_wr_addr,
  input  wire logic [31:0]   q_wr_data,
  input  wire logic [11:0]   q_rd_addr,
  output logic      [31:0]   q_rd_data,
  output logic      [NQ-1:0] irq,
  // DMA read (descriptors)
  output logic               rd_req_valid,
  input  wire logic          rd_req_ready,
  output logic      [63:0]   rd_req_addr,
  output logic      [15:0]   rd_req_len,
  output logic      [TAGW-1:0] rd_req_tag,
  input  wire logic          rd_rsp_valid,
  input  wire logic [DW-1:0] rd_rsp_data,
  input  wire logic          rd_rsp_last,
  input  wire logic          rd_rsp_err,
  // DMA write (frame data, then the completion)
  output logic               wr_valid,
  input  wire logic          wr_ready,
  output logic      [63:0]   wr_addr,
  output logic      [15:0]   wr_len,
  output logic      [DW-1:0] wr_data,
  output logic               wr_last,
  // MAC RX stream
  input  wire logic          rx_tvalid,
  output logic               rx_tready,
  input  wire logic [DW-1:0] rx_tdata,
  input  wire logic [DW/8-1:0] rx_tkeep,
  input  wire logic          rx_tlast,
  input  wire logic          rx_tuser,
  // statistics events
  output logic               ev_rx_pkt,
  output logic      [15:0]   ev_rx_len,
  output logic               ev_drop_nodesc,
  output logic               ev_drop_err,
  output logic               ev_drop_full,
  output logic               ev_desc_err,
  output logic               busy,
  // per-engine activity for utilisation counters, one bit each:
  // [0] MAC into the packet buffer, [1] RSS classify/hash waiting or working,
  // [2] frame processing (descriptor, DMA write, completion)
  output logic [2:0]         eng_busy
);
  localparam int BB    = DW / 8;
  localparam int DEPTH = vd_abi_pkg::MAX_FRAME / BB;
  localparam int AW    = $clog2(DEPTH);
  localparam int CPL_BEATS = (DW >= 128) ? 1 : 128 / DW;
  localparam logic [TAGW-1:0] TAG = TAGW'(1);
  localparam int MIN_FRAME = 14;

  // ---------------------------------------------------------------- slots
  // NS slots form a FIFO: the wire fills slot wslot while the process side
  // empties slot pslot, so a burst of NS frames can wait out a stall.
  localparam int NS  = 4;
  localparam int SW  = $clog2(NS);
  localparam int MAW = $clog2(NS * DEPTH);
  logic [DW-1:0] mem [NS * DEPTH];
  logic [NS-1:0] full;          // slot holds a frame (set on its last beat)
  logic [NS-1:0] hashed;        // ... and the RSS unit has classified it
  logic [15:0]   slot_len [NS];
  logic [31:0]   slot_hash [NS];
  logic [2:0]    slot_rtype [NS];
  logic [37:0]   slot_pi [NS];   // the RSS unit's parse, for the checksum verifier

  // receive side
  logic          in_frame, dropping;
  logic [SW-1:0] rx_slot;
  logic [SW-1:0] wslot;         // next slot to fill
  logic [AW:0]   rx_beat;
  logic          rx_oversize;

  function automatic logic [15:0] keep_bytes(input logic [DW/8-1:0] k);
    logic [15:0] n;
    n = '0;
    for (int i = 0; i < BB; i++) n = n + 16'(k[i]);
    keep_bytes = n;
  endfunction

  wire        free_slot_avail = !full[wslot];
  wire [SW-1:0] free_slot     = wslot;
  wire        start           = rx_tvalid && !in_frame;
  wire        cur_drop        = start ? !free_slot_avail : dropping;
  wire [SW-1:0] cur_slot      = start ? free_slot : rx_slot;
  wire [AW:0] cur_beat        = start ? '0 : rx_beat;
  wire [15:0] rx_len_now      = 16'(32'(cur_beat) * BB) + keep_bytes(rx_tkeep);
  // The flag belongs to the frame in progress: a new frame starts clean.
  wire        oversize_now    = (!start && rx_oversize) || (32'(cur_beat) >= DEPTH);

  assign rx_tready = 1'b1;

  // ---------------------------------------------------------------- process side
  typedef enum logic [2:0] {P_IDLE, P_DESC, P_DATA, P_CSUM, P_CPL, P_DROP} pstate_t;
  pstate_t ps;
  logic [SW-1:0] pslot;         // slot being processed (frames are served in arrival order)
  logic [QW-1:0] q;
  logic [15:0]   status;
  logic [15:0]   plen;
  logic [63:0]   d_addr;        // the frame's RX descriptor, from the descriptor cache
  logic [15:0]   d_len;
  wire  [AW:0]   nbeats = (AW+1)'((32'(plen) + BB - 1) / BB);

  logic [63:0] ring_base, cpl_base;
  logic [3:0]  size_log2;
  logic [15:0] prod, cons, cpl_prod;
  logic        no_csum;       // this queue does not want checksums verified
  logic        cons_inc, cpl_inc;
  logic [NQ-1:0] pending;
  logic          tmr_busy;       // an interrupt moderation timer is running

  /* verilator lint_off UNUSEDSIGNAL */  // RX reads its queues through the first view only
  logic [63:0]      rq_ring_unused;
  logic [3:0]       rq_log2_unused;
  logic [NQ*16-1:0] rq_prod_unused;
  /* verilator lint_on UNUSEDSIGNAL */
  vd_queue_regs #(.NQ(NQ)) u_regs (
    .clk, .srst, .wr_en(q_wr_en), .wr_addr(q_wr_addr), .wr_data(q_wr_data),
    .rd_addr(q_rd_addr), .rd_data(q_rd_data), .sel(q),
    .ring_base, .cpl_base, .size_log2, .prod, .no_csum, .cons, .cpl_prod,
    .fsel(q), .f_ring_base(rq_ring_unused), .f_size_log2(rq_log2_unused), .prod_all(rq_prod_unused),
    .cons_inc, .cpl_inc, .irq, .tmr_busy, .pending);

  wire [15:0] ring_mask = 16'((32'd1 << size_log2) - 1);

  // ---------------------------------------------------------------- descriptor cache
  // Each queue keeps up to DC descriptors fetched ahead (vd_desc_cache).
  // While a frame of queue q is being processed and q's cache is at most
  // half full, one DMA read fetches up to the free space (not past the
  // ring's end) in a single burst, so the descriptor latency overlaps the
  // data writes and is paid once per several frames instead of once per
  // frame. A read error marks its entries, which complete with ERR_DMA.
  // An RX descriptor is {len, addr} in its low 80 bits: only those are kept.
  localparam int DC  = 16;
  localparam int CW  = $clog2(DC);
  localparam int EW  = 80;                        // {len[15:0], addr[63:0]}
  initial begin
    if (vd_abi_pkg::RX_DESC_ADDR_LSB != 0 || vd_abi_pkg::RX_DESC_LEN_LSB != 64)
      $error("vd_rx_engine: the cache keeps RX descriptor bits [79:0] as {len, addr}");
  end
  logic [NQ*(CW+1)-1:0] ccnt_v;                   // per queue: cached descriptors
  logic [NQ-1:0]        need_v;                   // per queue: posted descriptors not yet fetched (a doorbell since)
  logic [EW:0]          q_ent;                    // q's oldest cached entry {err, len, addr}
  logic [CW:0]          q_ccnt;
  logic [15:0]          avail;                    // q: posted and not yet fetched
  logic [CW:0]          pf_n;                     // q: descriptors the next burst reads
  logic                 pf_busy;
  logic [63:0]          pf_addr;
  logic [15:0]          pf_len;
  /* verilator lint_off UNUSEDSIGNAL */  // one burst at a time: the slot and per-queue views are redundant here
  logic                 pf_slot_unused;
  logic [NQ-1:0]        pf_inq_unused;
  logic [NQ*16-1:0]     fidx_unused;
  /* verilator lint_on UNUSEDSIGNAL */
  wire          pf_want = !pf_busy && enable && ps != P_DROP && avail != 16'd0 && 32'(q_ccnt) <= DC / 2;
  wire          pf_issue = pf_want && rd_req_ready;
  wire          pop      = (ps == P_DESC) && q_ccnt != '0;

  // Queue-disable writes rewind the queue in vd_queue_regs; the cache follows.
  wire [11:0]   qctl_off = q_wr_addr % 12'(vd_abi_pkg::Q_STRIDE);
  wire          qctl_wr  = q_wr_en && q_wr_addr < 12'(NQ * vd_abi_pkg::Q_STRIDE) &&
                           qctl_off == 12'(vd_abi_pkg::REG_Q_CTRL) && !q_wr_data[vd_abi_pkg::QCTRL_ENABLE_BIT];
  wire [QW-1:0] qctl_q   = QW'(q_wr_addr / 12'(vd_abi_pkg::Q_STRIDE));
  wire          qprod_wr = q_wr_en && q_wr_addr < 12'(NQ * vd_abi_pkg::Q_STRIDE) &&
                           qctl_off == 12'(vd_abi_pkg::REG_Q_PROD);

  vd_desc_cache #(.DW(DW), .NQ(NQ), .EW(EW), .NPF(1), .DC(DC)) u_dcache (
    .clk, .srst,
    .fq(q), .f_prod(prod), .f_ring_base(ring_base), .f_size_log2(size_log2), .issue(pf_issue),
    .req_addr(pf_addr), .req_len(pf_len), .req_slot(pf_slot_unused), .f_avail(avail), .f_n(pf_n),
    .slot_busy(pf_busy), .inflight_q(pf_inq_unused),
    .rsp_valid(rd_rsp_valid), .rsp_slot(1'b0), .rsp_data(rd_rsp_data), .rsp_last(rd_rsp_last),
    .rsp_err(rd_rsp_err),
    .tq(q), .take(pop), .t_ent(q_ent), .t_cnt(q_ccnt),
    .rewind(qctl_wr), .rewind_q(qctl_q),
    .fidx_all(fidx_unused), .cnt_all(ccnt_v));

  // With no frame waiting, the idle process side walks `q` over the queues
  // whose caches are low, so their descriptors are fetched before frames
  // for them arrive.
  logic [QW-1:0] refill_q;
  logic          refill_found;
  always_comb begin
    refill_q = q;
    refill_found = 1'b0;
    for (int i = 1; i <= NQ; i++) begin
      if (!refill_found && pending[QW'((32'(q) + i) % NQ)] && need_v[(32'(q) + i) % NQ] &&
          32'(ccnt_v[(CW+1)*((32'(q) + i) % NQ) +: (CW+1)]) <= DC / 2) begin
        refill_q = QW'((32'(q) + i) % NQ);
        refill_found = 1'b1;
      end
    end
  end

  // need: set by a doorbell, cleared once everything posted is fetched
  always_ff @(posedge clk) begin
    if (srst) begin
      need_v <= '0;
    end else begin
      if ((pf_issue && 16'(pf_n) == avail) || (!pf_busy && avail == 16'd0)) need_v[q] <= 1'b0;
      if (qprod_wr) need_v[qctl_q] <= 1'b1;
      if (qctl_wr) need_v[qctl_q] <= 1'b0;
    end
  end

  localparam int HB = vd_abi_pkg::PARSE_WINDOW;  // header bytes kept for RSS and checksum verification
  logic [8*HB-1:0] hdr;         // packed: byte j in bits [8j+7:8j]
  logic [AW:0]     obeat;       // index of the beat held in od
  logic [31:0]     csum_s;      // sum of the IP datagram's 16-bit words so far
  logic [3:0]      csum_res;    // {l4, ip} status for the completion
  logic [37:0]     ppi;         // the frame's parse (from the RSS unit)

  function automatic logic [15:0] fold32(input logic [31:0] x);
    logic [16:0] a;
    a = 17'(x[15:0]) + 17'(x[31:16]);
    fold32 = a[15:0] + 16'(a[16]);
  endfunction

  // Header bytes are read with macros, not functions: Verilator clears every
  // function's wide temporaries on every cycle, called or not, which made a
  // 1 Kbit argument per call site the model's main cost.
  // Byte i of header vector h.
`define VD_B(h, i) h[8*(i) +: 8]
  // Byte j of the header once the beat in od (beat obeat) has been taken in.
`define VD_MB(j) ((32'(obeat) == (j) / BB) ? od[8*((j) % BB) +: 8] : hdr[8*(j) +: 8])

  // Sum of the datagram's words in beat k: bytes 14 .. min(IP end, frame end).
  // Bytes below 34 precede any possible IP end, so the length field is only
  // needed once it has been seen.
  function automatic logic [31:0] beat_words(input logic [DW-1:0] d, input logic [AW:0] k,
                                             input logic [4:0] l3, input logic [16:0] l3e,
                                             input logic [15:0] flen);
    logic [31:0] acc;
    int unsigned pos;
    acc = '0;
    for (int i = 0; i < BB; i++) begin
      pos = 32'(k) * BB + i;
      if (pos >= 32'(l3) && pos < 32'(flen) && pos < 32'(l3e)) begin
        if ((pos & 1) == 0) acc = acc + {16'h0, d[8*i +: 8], 8'h00};
        else                acc = acc + {24'h0, d[8*i +: 8]};
      end
    end
    beat_words = acc;
  endfunction

  // {l4 status, ip status} once the whole frame has been summed, from the
  // header window, the datagram sum and the RSS unit's parse of the frame
  // (pi: {l3end[16:0], l4win, l4[7:0], proto[7:0], frag, v4, vlan, ok}).
  function automatic logic [3:0] csum_verdict(input logic [8*HB-1:0] h, input logic [31:0] dsum,
                                              input logic [37:0] pi);
    logic        ok, vlan, v4, frag, l4win, tcp, udp, uzero;
    logic [7:0]  proto, l4;
    logic [16:0] l3end, l4len;
    logic [4:0]  l3;
    logic [31:0] hsum, psum;
    logic [15:0] h16, l4v;
    logic [1:0]  ip_st, l4_st;
    {l3end, l4win, l4, proto, frag, v4, vlan, ok} = pi;
    l3    = vlan ? 5'd18 : 5'd14;
    l4len = l3end - 17'(l4);
    tcp   = proto == 8'd6 && l4len >= 17'd20;
    udp   = proto == 8'd17 && l4len >= 17'd8;
    uzero = {`VD_B(h, 32'(l4) + 6), `VD_B(h, 32'(l4) + 7)} == 16'd0;
    // IP header and extension headers: bytes [l3, l4). Masked adds, no reads
    // under a condition (see vd_rss).
    hsum = '0;
    for (int j = 14; j < HB; j++)
      hsum = hsum + (((j >= 32'(l3) && j < 32'(l4)) ? 32'hFFFF_FFFF : 32'h0) &
                     (((j & 1) == 0) ? {16'h0, `VD_B(h, j), 8'h00} : {24'h0, `VD_B(h, j)}));
    psum = 32'(proto) + 32'(l4len[15:0]) + 32'(l4len[16]);  // pseudo-header
    for (int j = 0; j < 32; j += 2) begin
      psum = psum + ((v4 && j < 8) ? 32'({`VD_B(h, 32'(l3) + 12 + j), `VD_B(h, 32'(l3) + 13 + j)}) : 32'd0)
                  + (!v4 ? 32'({`VD_B(h, 32'(l3) + 8 + j), `VD_B(h, 32'(l3) + 9 + j)}) : 32'd0);
    end
    h16 = fold32(hsum);
    // L4 sum = datagram sum - headers' sum + pseudo-header (one's complement)
    l4v = fold32(32'(fold32(dsum)) + 32'({16'h0, ~h16}) + 32'(fold32(psum)));
    ip_st = (ok && v4) ? (h16 == 16'hFFFF ? 2'(vd_abi_pkg::CSUM_GOOD) : 2'(vd_abi_pkg::CSUM_BAD))
                       : 2'(vd_abi_pkg::CSUM_NOT_CHECKED);
    if (!ok || frag || !(tcp || udp) || !l4win) l4_st = 2'(vd_abi_pkg::CSUM_NOT_CHECKED);
    else if (udp && uzero) l4_st = v4 ? 2'(vd_abi_pkg::CSUM_NOT_CHECKED) : 2'(vd_abi_pkg::CSUM_BAD);
    else l4_st = (l4v == 16'hFFFF || l4v == 16'h0000) ? 2'(vd_abi_pkg::CSUM_GOOD) : 2'(vd_abi_pkg::CSUM_BAD);
    csum_verdict = {l4_st, ip_st};
  endfunction

  // ---------------------------------------------------------------- RSS
  // The window is filled from the wire as the frame arrives (bytes past the
  // frame's end hold stale data; the classifier checks every offset against
  // the frame length). Stage 1 (the cycle after the last beat) hands the
  // window to the RSS unit; its registered result arrives in stage 2.
  logic [8*HB-1:0] rx_hdr;
  logic            rss1_valid;
  logic [SW-1:0]   rss1_slot, rss2_slot;
  logic [15:0]     rss1_len;
  logic            rss_out_valid;
  logic [31:0]     rss_out_hash;
  logic [2:0]      rss_out_type;
  logic [37:0]     rss_out_pi;
  logic [QW-1:0]   rss_q;
  wire  [QW-1:0]   steer_q = (slot_rtype[pslot] != 3'd0) ? rss_q : default_q;

  always_ff @(posedge clk) begin
    // the beat's bytes into the window (one 8-bit mux per byte)
    if (rx_tvalid && !cur_drop && 32'(cur_beat) * BB < HB)
      for (int j = 0; j < HB; j++)
        rx_hdr[8*j +: 8] <= (32'(cur_beat) == j / BB) ? rx_tdata[8*(j % BB) +: 8] : rx_hdr[8*j +: 8];
    if (srst) begin
      rss1_valid <= 1'b0;
    end else begin
      rss1_valid <= rx_tvalid && rx_tlast && !cur_drop && !oversize_now && !rx_tuser && rx_len_now >= 16'(MIN_FRAME);
    end
    rss1_slot <= cur_slot;
    rss1_len  <= rx_len_now;
    rss2_slot <= rss1_slot;
  end

  vd_rss #(.NQ(NQ), .HB(HB)) u_rss (
    .clk, .srst,
    .csr_wr_en(rss_wr_en), .csr_wr_addr(rss_wr_addr), .csr_wr_data(rss_wr_data),
    .csr_rd_addr(rss_rd_addr), .csr_rd_data(rss_rd_data),
    .in_valid(rss1_valid), .in_hdr(rx_hdr), .in_len(rss1_len),
    .out_valid(rss_out_valid), .out_hash(rss_out_hash), .out_type(rss_out_type),
    .out_ok(rss_out_pi[0]), .out_vlan(rss_out_pi[1]), .out_v4(rss_out_pi[2]), .out_frag(rss_out_pi[3]),
    .out_proto(rss_out_pi[11:4]), .out_l4(rss_out_pi[19:12]), .out_l4win(rss_out_pi[20]),
    .out_l3end(rss_out_pi[37:21]),
    .lk_hash(slot_hash[pslot][$clog2(vd_abi_pkg::RSS_TABLE_SIZE)-1:0]), .lk_queue(rss_q));

  // data write pipeline: registered read of the slot memory
  logic [AW:0]   issued;
  logic          ov;
  logic [DW-1:0] od;
  logic          olast;
  logic [MAW-1:0] rd_ptr;
  wire           adv = !ov || wr_ready;

  logic [127:0] cpl;
  logic [$clog2(CPL_BEATS+1)-1:0] cpl_beat;
  logic         slot_release;

  // A 16-byte completion is one beat on a wide bus and two on a 64-bit one.
  logic [DW-1:0] cpl_word;
  if (DW >= 128) begin : g_wide
    assign cpl_word  = DW'(cpl);
  end else begin : g_narrow
    assign cpl_word  = cpl_beat[0] ? cpl[127:64] : cpl[63:0];
  end

  always_ff @(posedge clk) begin
    if (srst) begin
      full <= '0;
      hashed <= '0;
      wslot <= '0;
      in_frame <= 1'b0; dropping <= 1'b0; rx_slot <= '0; rx_beat <= '0; rx_oversize <= 1'b0;
      ps <= P_IDLE; pslot <= '0; q <= '0; d_addr <= '0; d_len <= '0; status <= '0; plen <= '0;
      issued <= '0; ov <= 1'b0; olast <= 1'b0; rd_ptr <= '0; cpl_beat <= '0;
    end else begin
      // ---- receive
      if (rx_tvalid) begin
        in_frame <= !rx_tlast;
        dropping <= cur_drop;
        rx_slot  <= cur_slot;
        rx_beat  <= cur_beat + 1'b1;
        rx_oversize <= oversize_now;
        if (!cur_drop && !oversize_now)
          mem[MAW'(32'(cur_slot) * DEPTH) + MAW'(cur_beat)] <= rx_tdata;
        if (rx_tlast && !cur_drop && !oversize_now && !rx_tuser && rx_len_now >= 16'(MIN_FRAME)) begin
          full[cur_slot] <= 1'b1;
          hashed[cur_slot] <= 1'b0;
          slot_len[cur_slot] <= rx_len_now;
          wslot <= cur_slot + 1'b1;
        end
      end
      if (rss_out_valid) begin
        hashed[rss2_slot] <= 1'b1;
        slot_hash[rss2_slot] <= rss_out_hash;
        slot_rtype[rss2_slot] <= rss_out_type;
        slot_pi[rss2_slot] <= rss_out_pi;
      end
      if (slot_release) full[pslot] <= 1'b0;

      // ---- process
      case (ps)
        P_IDLE: if (full[pslot] && hashed[pslot]) begin
          plen <= slot_len[pslot];
          ppi <= slot_pi[pslot];
          q <= steer_q;
          status <= '0;
          ps <= (enable && pending[steer_q]) ? P_DESC : P_DROP;
        end else if (!pf_busy && !pf_want && refill_found) begin
          q <= refill_q;
        end
        // Wait for the queue's next descriptor in the cache (the prefetcher
        // fetches it if it is not there yet: pending means one is posted).
        P_DESC: if (pop) begin
          d_addr <= q_ent[63:0];
          d_len  <= q_ent[79:64];
          issued <= '0; ov <= 1'b0; rd_ptr <= MAW'(32'(pslot) * DEPTH);
          csum_s <= '0;
          if (q_ent[80]) begin
            status <= 16'(vd_abi_pkg::ERR_DMA);
            ps <= P_CPL;
          end else begin
            ps <= P_DATA;
          end
        end
        P_DATA: begin
          if (d_len < plen) begin
            // The posted buffer cannot hold the frame: complete it as an error.
            status <= 16'(vd_abi_pkg::ERR_RX_BUF_SMALL);
            ps <= P_CPL;
          end else begin
            if (adv) begin
              if (issued < nbeats) begin
                od <= mem[rd_ptr];
                obeat <= issued;
                ov <= 1'b1;
                olast <= (issued == nbeats - 1'b1);
                rd_ptr <= rd_ptr + 1'b1;
                issued <= issued + 1'b1;
              end else begin
                ov <= 1'b0;
              end
            end
            if (ov && wr_ready && olast) begin
              ov <= 1'b0;
              ps <= P_CSUM;
            end
          end
        end
        P_CSUM: ps <= P_CPL;  // one cycle to finish the checksums
        P_CPL: if (wr_ready) begin
          if (32'(cpl_beat) == CPL_BEATS - 1) begin
            cpl_beat <= '0;
            pslot <= pslot + 1'b1;
            ps <= P_IDLE;
          end else begin
            cpl_beat <= cpl_beat + 1'b1;
          end
        end
        P_DROP: begin
          pslot <= pslot + 1'b1;
          ps <= P_IDLE;
        end
        default: ps <= P_IDLE;
      endcase
    end
  end

  // ---------------------------------------------------------------- RX checksum verification
  // As the frame streams out to host memory, the first HB bytes are kept and
  // the 16-bit words of the IP datagram (from byte 14 to the IP length) are
  // summed. When the last beat has gone, the IPv4 header checksum and the
  // TCP/UDP checksum (via the datagram sum minus the IP header sum plus the
  // pseudo-header) are known in time for the completion. Untagged Ethernet;
  // IPv6 with TCP/UDP directly after the fixed header (extension headers and
  // VLAN tags are reported as not checked).
  // Functions run only on the cycles that need them (a beat leaving, or the
  // one P_CSUM cycle), which keeps the model fast while the NIC is busy
  // elsewhere. For synthesis the verdict is one combinational cone into the
  // register (same logic; see vd_rss for why yosys wants it that way).
`ifdef SYNTHESIS
  wire [3:0] verdict = csum_verdict(hdr, csum_s, ppi);
`endif
  always_ff @(posedge clk) begin
    if (ps == P_DATA && ov && wr_ready) begin
      if (32'(obeat) * BB < HB) begin  // a beat that carries header bytes
        for (int j = 0; j < HB; j++) hdr[8*j +: 8] <= `VD_MB(j);
      end
      csum_s <= csum_s + beat_words(od, obeat, ppi[1] ? 5'd18 : 5'd14, ppi[37:21], plen);
    end
`ifdef SYNTHESIS
    if (ps == P_CSUM) csum_res <= verdict;
`else
    if (ps == P_CSUM) csum_res <= csum_verdict(hdr, csum_s, ppi);
`endif
  end

  wire cpl_done = (ps == P_CPL) && wr_ready && (32'(cpl_beat) == CPL_BEATS - 1);
  assign slot_release = cpl_done || (ps == P_DROP);
  assign cons_inc = cpl_done;
  assign cpl_inc  = cpl_done;

  always_comb begin
    cpl = '0;
    cpl[vd_abi_pkg::CPL_INDEX_LSB +: 16]  = cons & ring_mask;
    cpl[vd_abi_pkg::CPL_LEN_LSB +: 16]    = (status == 16'(vd_abi_pkg::ERR_OK)) ? plen : 16'd0;
    cpl[vd_abi_pkg::CPL_CSUM_LSB +: 8]    = (status == 16'(vd_abi_pkg::ERR_OK) && !no_csum) ? {4'd0, csum_res} : 8'd0;
    cpl[vd_abi_pkg::CPL_RSS_HASH_LSB +: 32] = slot_hash[pslot];
    cpl[vd_abi_pkg::CPL_RSS_TYPE_LSB +: 8]  = 8'(slot_rtype[pslot]);
    cpl[vd_abi_pkg::CPL_STATUS_LSB +: 16] = status;
    cpl[vd_abi_pkg::CPL_QUEUE_LSB +: 8]   = 8'(q);
    cpl[vd_abi_pkg::CPL_PHASE_LSB]        = ~cpl_prod[size_log2];
  end

  always_comb begin
    rd_req_valid = pf_want;
    rd_req_addr  = pf_addr;
    rd_req_len   = pf_len;
    rd_req_tag   = TAG;
  end

  always_comb begin
    wr_data = '0;
    if (ps == P_DATA) begin
      wr_valid = ov;
      wr_addr  = d_addr;
      wr_len   = plen;
      wr_last  = olast;
      wr_data  = od;
    end else begin
      wr_valid = (ps == P_CPL);
      wr_addr  = cpl_base + 64'({(cpl_prod & ring_mask), 4'b0});
      wr_len   = 16'(vd_abi_pkg::CPL_SIZE);
      wr_last  = (32'(cpl_beat) == CPL_BEATS - 1);
      wr_data = cpl_word;
    end
  end

  assign ev_rx_pkt      = cpl_done && status == 16'(vd_abi_pkg::ERR_OK);
  assign ev_rx_len      = plen;
  assign ev_drop_nodesc = (ps == P_DROP);
  assign ev_drop_err    = rx_tvalid && rx_tlast && !cur_drop && (oversize_now || rx_tuser || rx_len_now < 16'(MIN_FRAME));
  assign ev_drop_full   = rx_tvalid && rx_tlast && cur_drop;
  assign ev_desc_err    = cpl_done && status != 16'(vd_abi_pkg::ERR_OK);
  assign eng_busy       = {ps != P_IDLE, (full & ~hashed) != '0, in_frame};
  // Prefetch work counts as busy, so skipping idle cycles never skips it.
  assign busy           = (ps != P_IDLE) || in_frame || (full != '0) || pf_busy || tmr_busy ||
                          (enable && (pf_want || refill_found));
endmodule
`undef VD_B
`undef VD_MB
`default_nettype wire
