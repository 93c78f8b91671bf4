// TX emit stage (E): streams a frame (TSO segment) from the
// store-and-forward buffer to the MAC, patching it on the way out, and hands
// its completion to the completion writer.
//
// The header stage gives E one bundle per frame: where the frame is in the
// buffer, and the header fields and checksums to write over the buffer's
// bytes (full checksum insertion and TSO: the first patch_len bytes are
// rebuilt from the kept header; partial checksum: the two bytes of the
// checksum field). One registered read of the buffer sits in front of the
// MAC; a frame's last beat and the next frame's first can leave back to
// back. A bundle that puts nothing on the wire (an error, a TSO header
// context) completes when the output has drained, so completions stay in
// descriptor order. After a failed TSO segment the send's remaining
// segments are dropped and only its last completes (with the error).
`default_nettype none
module vd_tx_emit #(
  parameter int DW = 512,                   // MAC data width
  parameter int NQ = 16,                    // queues
  parameter int AW = 10,                    // buffer beat address width
  parameter int HBYTES = 128,               // header bytes E can patch
  parameter int QW = $clog2(NQ)             // queue index width
) (
  input  wire logic                clk,
  input  wire logic                srst,
  // The header stage's bundle (held while give is high, until take).
  input  wire logic                give,
  input  wire logic                cpl_room,     // the completion writer can take two more
  output logic                     take,
  input  wire logic                b_emit,       // the frame goes on the wire (status OK, data read)
  input  wire logic                b_cpl,        // the bundle completes a descriptor
  input  wire logic                b_seg,        // a TSO segment ...
  input  wire logic                b_seg_last,   // ... the send's last
  input  wire logic [15:0]         b_status,     // ERR_* code for its completion
  input  wire logic [15:0]         b_clen,       // length for its completion
  input  wire logic [QW-1:0]       b_q,
  input  wire logic [AW-1:0]       b_base,       // first buffer beat
  input  wire logic [AW:0]         b_nb,         // buffer beats it holds
  input  wire logic [15:0]         b_len,        // bytes on the wire
  // patching: the kept header and the fields written over it
  input  wire logic [8*HBYTES-1:0] b_hdr,
  input  wire logic [HBYTES-1:0]   b_l3_oh,      // one-hot: IP header offset
  input  wire logic [HBYTES-1:0]   b_l4_oh,      // one-hot: L4 header offset
  input  wire logic                b_patch,      // rebuild the first b_patch_len bytes
  input  wire logic [15:0]         b_patch_len,
  input  wire logic                b_w_ip,       // write IPv4 total length, ID, header checksum
  input  wire logic                b_w_v6,       // write the IPv6 payload length
  input  wire logic                b_tso,        // write TCP sequence, flags, checksum
  input  wire logic                b_w_full,     // write the L4 checksum (full insertion)
  input  wire logic                b_tcp,        // ... at the TCP (else UDP) offset
  input  wire logic [15:0]         b_tot, b_id, b_ipc, b_plen, b_tsoc, b_fullc,
  input  wire logic [31:0]         b_seq,
  input  wire logic [7:0]          b_flg,
  input  wire logic                b_part,       // partial checksum: write b_csv at b_cfield
  input  wire logic [15:0]         b_cfield,
  input  wire logic [15:0]         b_csv,
  // store-and-forward buffer: read port, and the beats E has released
  output logic      [AW-1:0]       buf_addr,
  input  wire logic [DW-1:0]       buf_data,     // the buffer at buf_addr (combinational)
  output logic      [AW:0]         b_free,       // free-running count of released beats
  // MAC TX stream
  output logic                     tx_tvalid,
  input  wire logic                tx_tready,
  output logic      [DW-1:0]       tx_tdata,
  output logic      [DW/8-1:0]     tx_tkeep,
  output logic                     tx_tlast,
  // completions, in order, to the completion writer
  output logic                     cpl_push,
  output logic      [QW-1:0]       cpl_q,
  output logic      [15:0]         cpl_status,
  output logic      [15:0]         cpl_len,
  // statistics and idle detection
  output logic                     frame_done,   // a frame's last beat left
  output logic      [15:0]         frame_len,
  output logic                     busy
);
  localparam int BB  = DW / 8;
  localparam int HB  = (DW >= 8 * HBYTES) ? 1 : 8 * HBYTES / DW;  // beats of header
  localparam int HPW = (HB > 1) ? $clog2(HB) : 1;

  logic [8*HBYTES-1:0] e_hdr;
  logic [HBYTES-1:0] e_l3_oh, e_l4_oh;
  logic        e_w_ip, e_w_v6, e_tso, e_w_full, e_tcp, e_patch, e_part;
  logic [15:0] e_tot, e_id, e_ipc, e_plen, e_tsoc, e_fullc, e_patch_len, e_cfield, e_csv;
  logic [31:0] e_seq;
  logic [7:0]  e_flg;
  logic [AW-1:0] e_base;
  logic [AW:0] e_nb, issued;
  logic [15:0] e_len, e_clen, e_stat;
  logic [QW-1:0] e_q;
  logic        e_cpl, e_run, e_abort;
  // output register (one registered read stage in front of the MAC)
  logic          ov, olast, o_cpl;
  logic [DW-1:0] od, ohdr, omask;
  logic [DW/8-1:0] okeep;
  logic [15:0]   o_len, o_clen, o_stat;
  logic [QW-1:0] o_q;

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
      if (fo_tcp ? u16[j] : u6[j]) b = fc[15:8];
      if (fo_tcp ? u17[j] : u7[j]) b = fc[7:0];
    end
    pbyte = b;
  endfunction

  // The patched header bytes of output beat hb (hb < HB), built only while
  // the first HBYTES bytes of a frame / segment are issued.
  function automatic logic [DW-1:0] hbeat(input logic [HPW-1:0] hb);
    logic [DW-1:0] r;
    logic [6:0] j;
    r = '0;
    for (int i = 0; i < BB && i < HBYTES; i++) begin
      j = 7'(32'(hb) * BB + i);
      r[8*i +: 8] = pbyte(j, e_l3_oh, e_l4_oh, e_hdr[{j, 3'b000} +: 8],
                          e_w_ip, e_w_v6, e_tso, e_w_full, e_tcp,
                          e_tot, e_id, e_ipc, e_plen, e_seq, e_flg, e_tsoc, e_fullc);
    end
    hbeat = r;
  endfunction

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

  wire        adv        = !ov || tx_tready;
  wire        e_issue    = e_run && adv;
  wire        e_last_iss = e_issue && (issued == e_nb - 1'b1);
  wire [15:0] obase_n    = 16'(32'(issued) * BB);
  wire        out_done   = ov && tx_tready && olast;
  wire        eff_emit   = b_emit && !(e_abort && b_seg);
  wire        eff_cpl    = b_cpl && !(e_abort && b_seg);
  // An emitting bundle is taken while the previous frame's last beat is being
  // issued; one without beats waits for the output to drain, so completions
  // stay in descriptor order.
  assign take = give && cpl_room && (eff_emit ? (!e_run || e_last_iss) : (!e_run && !ov));
  wire        cf_push_e  = take && !eff_emit && eff_cpl;
  wire        cf_push_o  = out_done && o_cpl;
  assign cpl_push   = cf_push_o || cf_push_e;
  assign cpl_q      = cf_push_o ? o_q : b_q;
  assign cpl_status = cf_push_o ? o_stat : b_status;
  assign cpl_len    = cf_push_o ? o_clen : 16'd0;
  assign buf_addr   = AW'(e_base + AW'(issued));

  // The partial checksum field's two bytes, if they fall in this beat.
  wire [15:0] fi  = e_cfield - obase_n;
  wire [15:0] fi1 = e_cfield + 16'd1 - obase_n;

  always_ff @(posedge clk) begin
    if (srst) begin
      e_run <= 1'b0; e_abort <= 1'b0; issued <= '0;
      ov <= 1'b0; olast <= 1'b0; o_cpl <= 1'b0; okeep <= '0;
      ohdr <= '0; omask <= '0;
      b_free <= '0;
    end else begin
      if (out_done) ov <= 1'b0;
      if (e_issue) begin
        od     <= buf_data;
        ov     <= 1'b1;
        olast  <= e_last_iss;
        okeep  <= e_last_iss ? keep_for(e_len) : '1;
        o_cpl  <= e_last_iss && e_cpl;
        o_q    <= e_q; o_stat <= e_stat; o_clen <= e_clen; o_len <= e_len;
        if (e_patch && 32'(obase_n) < 32'(e_patch_len)) begin
          ohdr  <= hbeat(HPW'(issued));
          omask <= hmask_for(obase_n, e_patch_len);
        end else if (e_part) begin
          for (int i = 0; i < BB; i++) begin
            ohdr[8*i +: 8]  <= (fi == 16'(i)) ? e_csv[15:8] : e_csv[7:0];
            omask[8*i +: 8] <= (fi == 16'(i) || fi1 == 16'(i)) ? 8'hFF : 8'h00;
          end
        end else begin
          omask <= '0;
        end
        issued <= issued + 1'b1;
        if (e_last_iss) begin
          e_run  <= 1'b0;
          b_free <= b_free + e_nb;
        end
      end
      if (take) begin
        // this frame's fields, from H
        e_hdr <= b_hdr; e_l3_oh <= b_l3_oh; e_l4_oh <= b_l4_oh;
        e_w_ip <= b_w_ip;
        e_w_v6 <= b_w_v6;
        e_tso <= b_tso;
        e_w_full <= b_w_full;
        e_tcp <= b_tcp;
        e_tot <= b_tot; e_id <= b_id; e_ipc <= b_ipc; e_plen <= b_plen; e_seq <= b_seq; e_flg <= b_flg;
        e_tsoc <= b_tsoc; e_fullc <= b_fullc;
        e_patch <= b_patch;
        e_patch_len <= b_patch_len;
        e_part <= b_part;
        e_cfield <= b_cfield;
        e_csv <= b_csv;
        e_base <= b_base; e_nb <= b_nb; e_len <= b_len;
        e_q <= b_q; e_stat <= b_status;
        e_clen <= b_clen;
        e_cpl <= eff_cpl;
        issued <= '0;
        if (eff_emit) e_run <= 1'b1;
        else b_free <= b_free + b_nb;
        if (b_seg) begin
          if (e_abort) e_abort <= !b_seg_last;
          else if (b_status != 16'(vd_abi_pkg::ERR_OK)) e_abort <= !b_seg_last;
        end
      end
    end
  end

  assign tx_tvalid  = ov;
  assign tx_tdata   = (od & ~omask) | (ohdr & omask);
  assign tx_tkeep   = okeep;
  assign tx_tlast   = olast;
  assign frame_done = out_done;
  assign frame_len  = o_len;
  assign busy       = e_run || ov;
endmodule
`default_nettype wire
