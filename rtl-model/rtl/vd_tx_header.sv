// TX header stage (H): takes the contexts in order once their data is in;
// for full checksum insertion and TSO it loads the kept header bytes, parses
// them and sums the header fields; then it prepares the frame's (segment's)
// patched fields and checksums and gives them to the emit stage in one
// bundle.
//
// The first HBYTES bytes are parsed over a few cycles, one state per step
// (Ethernet with at most one 802.1Q tag; IPv4 with options; IPv6 with up to
// 8 extension headers, one per cycle, as offload::parse_layout); the
// checksum bases of the unchanging header words are summed four words per
// cycle. For a TSO send's header context it reports its verdict to the
// fetch stage (a toggle, tso_seq, with tso_ok, hdr_len and l3_end, stable
// while the send's segments are issued).
//
// Header bytes are read with macros rather than functions: Verilator clears
// every function's wide temporaries on every evaluation, called or not.
`default_nettype none
module vd_tx_header #(
  parameter int DW = 512,                   // data width of the kept header memory
  parameter int NQ = 16,                    // queues
  parameter int AW = 10,                    // buffer beat address width
  parameter int HBYTES = 128,               // header bytes kept per context (= offload::kTsoMaxHeaderLen)
  parameter int QW = $clog2(NQ),            // queue index width
  parameter int HPW = ((DW >= 8 * HBYTES) ? 1 : 8 * HBYTES / DW) > 1
                      ? $clog2((DW >= 8 * HBYTES) ? 1 : 8 * HBYTES / DW) : 1  // header beat index width
) (
  input  wire logic                clk,
  input  wire logic                srst,
  // The next context (in order), read from the engine's context arrays.
  // cx_kind uses vd_tx_engine's kind_t encoding (same enum below).
  input  wire logic                cx_ready,     // a context is allocated and its data is in
  input  wire logic [127:0]        cx_desc,
  input  wire logic [2:0]          cx_kind,
  input  wire logic [15:0]         cx_stat,
  input  wire logic [31:0]         cx_sum,       // checksum window summed on arrival
  input  wire logic [AW-1:0]       cx_base,
  input  wire logic [AW:0]         cx_nb,
  input  wire logic [15:0]         cx_len,
  input  wire logic [QW-1:0]       cx_q,
  input  wire logic [16:0]         cx_soff,      // TSO segment: payload offset, index, payload length, last
  input  wire logic [15:0]         cx_sk,
  input  wire logic [15:0]         cx_slen,
  input  wire logic                cx_last,
  output logic                     next_ctx,     // the context is done with (advance the read pointer)
  // The kept header memory of the context: beat hptr.
  output logic      [HPW-1:0]      hptr,
  input  wire logic [DW-1:0]       hmem_rd,
  // TSO verdict for the fetch stage.
  output logic                     tso_seq,      // toggles once per TSO header context
  output logic                     tso_ok,
  output logic      [15:0]         hdr_len,      // headers' length (payload offset)
  output logic      [15:0]         l3_end,       // one past the IP datagram
  output logic                     busy,
  // The bundle for the emit stage (see vd_tx_emit's ports).
  output logic                     give,
  input  wire logic                take,
  output logic                     b_emit, b_cpl, b_seg, b_seg_last,
  output logic      [15:0]         b_status, b_clen,
  output logic      [QW-1:0]       b_q,
  output logic      [AW-1:0]       b_base,
  output logic      [AW:0]         b_nb,
  output logic      [15:0]         b_len,
  output logic      [8*HBYTES-1:0] b_hdr,
  output logic      [HBYTES-1:0]   b_l3_oh, b_l4_oh,
  output logic                     b_patch,
  output logic      [15:0]         b_patch_len,
  output logic                     b_w_ip, b_w_v6, b_tso, b_w_full, b_tcp,
  output logic      [15:0]         b_tot, b_id, b_ipc, b_plen, b_tsoc, b_fullc,
  output logic      [31:0]         b_seq,
  output logic      [7:0]          b_flg,
  output logic                     b_part,
  output logic      [15:0]         b_cfield, b_csv
);
  localparam int BB = DW / 8;
  localparam int HB = (DW >= 8 * HBYTES) ? 1 : 8 * HBYTES / DW;  // beats of header
  typedef enum logic [2:0] {K_PLAIN, K_PART, K_FULL, K_HDR, K_SEG, K_NOREAD} kind_t;  // as in vd_tx_engine

  typedef enum logic [3:0] {H_IDLE, H_LD, S_P_IP, S_P_DEC, S_P_EXT, S_P_L4, S_HSUM, S_CHECK,
                            S_PREP, S_PREP2, H_GIVE} hstate_t;
  hstate_t hs;
  /* verilator lint_off UNUSEDSIGNAL */  // H does not need the buffer address
  logic [127:0] desc;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [2:0]   hkind;
  logic [15:0]  status;
  logic [AW-1:0] h_base;
  logic [AW:0]  h_nb;
  logic [15:0]  h_len;
  logic [QW-1:0] h_q;
  logic [31:0]  csum_acc;
  wire  [15:0]  d_len  = desc[vd_abi_pkg::TX_DESC_LEN_LSB +: 16];
  wire  [15:0]  d_flags = desc[vd_abi_pkg::TX_DESC_FLAGS_LSB +: 16];
  wire  [15:0]  d_mss  = desc[vd_abi_pkg::TX_DESC_MSS_LSB +: 16];
  wire  [7:0]   d_cstart = desc[vd_abi_pkg::TX_DESC_CSUM_START_LSB +: 8];
  wire  [7:0]   d_coff   = desc[vd_abi_pkg::TX_DESC_CSUM_OFFSET_LSB +: 8];
  wire m_tso  = d_flags[vd_abi_pkg::TXF_TSO_BIT];
  wire f_ip   = d_flags[vd_abi_pkg::TXF_CSUM_IP_BIT];
  wire f_l4   = d_flags[vd_abi_pkg::TXF_CSUM_L4_BIT];

  // The first HBYTES bytes are loaded into `hdr` and parsed over a few
  // cycles, one state per step (Ethernet with at most one 802.1Q tag; IPv4
  // with options; IPv6 with up to 8 extension headers, one per cycle, as
  // offload::parse_layout); the checksum bases of the unchanging header
  // words are summed one word per cycle.
  logic [8*HBYTES-1:0] hdr;

  `define L3B(k) ((l3o == 7'd18) ? hdr[(18 + (k)) * 8 +: 8] : hdr[(14 + (k)) * 8 +: 8])
  `define HWE(i) {hdr[{(i), 4'b0000} +: 8], hdr[{(i), 4'b1000} +: 8]}
  logic        perr;          // not parsed (as offload::parse_layout fails): full checksum sends unchanged
  logic        plim;          // needs header bytes past HBYTES: the RTL cannot follow
  logic        is_v4, is_v6, frag;
  logic [6:0]  l3o;           // 14 or 18
  logic [15:0] etype;
  logic [7:0]  ip_b0, ip_b6, ip_b9;
  logic [15:0] ip_w2, ip_w4;
  logic [13:0] ip_w6;
  logic [15:0] ip_hl;
  logic [15:0] l4_off, xoff;
  logic [7:0]  proto, nh;
  logic [3:0]  xn;
  logic [7:0]  tcp_b12, tcp_b13;
  logic [31:0] seq0;
  logic [15:0] oldf;
  logic        do_ip, do_l4, is_tcp;
  logic [6:0]  hp;
  logic [HBYTES-1:0] l3_oh, l4_oh;
  `define XNEXT hdr[{xoff[6:1], 4'b0000} +: 8]
  `define XLEN hdr[{xoff[6:1], 4'b1000} +: 8]
  `define HSUM_END 16'(m_tso ? ((16'(hp) > l4_off + 16'd12) ? hdr_len : 16'(HBYTES)) : l4_off + 16'd18)
  logic [31:0] ip_base, ph_base, tcp_base, pre_sum;
  logic [16:0] seg_off;
  logic [15:0] seg_k, seg_len;
  logic        seg_last;
  logic [15:0] patch_len;

  wire [15:0] tcp_len = {10'd0, tcp_b12[7:4], 2'b00};
  assign      hdr_len = l4_off + tcp_len;
  wire [15:0] l4len   = l3_end - l4_off;
  `define PAY 16'(l3_end - hdr_len)
  `define FIRST_SEG 16'((`PAY <= d_mss) ? `PAY : d_mss)
  `define FLD 16'(l4_off + (is_tcp ? 16'd16 : 16'd6))
  `define L4OK (!perr && !plim && !frag && ((proto == 8'd6 && l4len >= 16'd20) || (proto == 8'd17 && l4len >= 16'd8)))
  `define TSO_BAD (perr || plim || frag || proto != 8'd6 || d_mss == 16'd0 || l4len < 16'd20 || 32'(l4_off) + 20 > HBYTES || tcp_len < 16'd20 || tcp_len > l4len || 32'(hdr_len) > HBYTES || 32'(hdr_len) + 32'(`FIRST_SEG) > vd_abi_pkg::MAX_FRAME)
  `define FULL_BAD (f_l4 && !perr && (plim || (`L4OK && 32'(`FLD) + 2 > HBYTES)))
  `define F_L4T 16'(tcp_len + seg_len)
  logic [15:0] r_l4t, r_tot, r_id, r_plen, r_ipc, r_tsoc, r_fullc;
  logic [31:0] r_seq;
  logic [7:0]  r_flg;

  function automatic logic [15:0] fold16(input logic [31:0] s);
    logic [16:0] a;
    a = 17'(s[15:0]) + 17'(s[31:16]);
    fold16 = a[15:0] + 16'(a[16]);
  endfunction
  function automatic logic [15:0] csum_of(input logic [31:0] s);
    csum_of = ~fold16(s);
  endfunction
  // Full insertion: a UDP checksum of 0 is sent as 0xFFFF.
  function automatic logic [15:0] l4c_of(input logic [31:0] s, input logic tcp);
    logic [15:0] b;
    b = fold16(s);
    l4c_of = (!tcp && b == 16'hFFFF) ? 16'hFFFF : ~b;
  endfunction

  // The bundle H hands to E
  logic hb_emit, hb_cpl;
  always_comb begin
    hb_emit = status == 16'(vd_abi_pkg::ERR_OK) && hkind != K_HDR && hkind != K_NOREAD;
    if (hkind == K_SEG)      hb_cpl = status != 16'(vd_abi_pkg::ERR_OK) || seg_last;
    else if (hkind == K_HDR) hb_cpl = status != 16'(vd_abi_pkg::ERR_OK);
    else                     hb_cpl = 1'b1;
  end
  // Header sums, four words per cycle (words hp .. hp+6): the IPv4 header
  // without total length, ID and checksum; the pseudo-header addresses; the
  // words before the L4 header; the TCP header without sequence number,
  // flags and checksum (the data offset is read in the cycle whose words
  // reach l4_off+12, and no word of that cycle lies past l4_off+18, so the
  // options range is right in every cycle). Words past the end of the scan
  // are harmless: every sum has its own range.
  logic [31:0] hs_ip, hs_ph, hs_pre, hs_tcp;
  logic [63:0] hs_wv;
  always_comb begin
    logic [7:0]  w;
    logic [15:0] wd;
    hs_ip = '0; hs_ph = '0; hs_pre = '0; hs_tcp = '0; hs_wv = '0; w = '0; wd = '0;
    if (hs == S_HSUM) begin
      for (int k = 0; k < 4; k++) begin
        w  = 8'(hp) + 8'(2 * k);
        wd = `HWE(w[6:1]);
        if (w < 8'(HBYTES)) begin
          hs_wv[16*k +: 16] = wd;
          if (is_v4 && 16'(w) < l4_off && w != 8'(l3o) + 8'd2 && w != 8'(l3o) + 8'd4 && w != 8'(l3o) + 8'd10)
            hs_ip = hs_ip + 32'(wd);
          if ((is_v4 && w >= 8'(l3o) + 8'd12 && w < 8'(l3o) + 8'd20) ||
              (is_v6 && 16'(w) >= 16'(l3o) + 16'd8 && 16'(w) < 16'(l3o) + 16'd40))
            hs_ph = hs_ph + 32'(wd);
          if (16'(w) < l4_off) hs_pre = hs_pre + 32'(wd);
          if (m_tso && 16'(w) >= l4_off && (16'(w) < l4_off + 16'd20 || 16'(w) < hdr_len) &&
              16'(w) != l4_off + 16'd4 && 16'(w) != l4_off + 16'd6 && 16'(w) != l4_off + 16'd12 &&
              16'(w) != l4_off + 16'd16)
            hs_tcp = hs_tcp + 32'(wd);
        end
      end
    end
  end

  always_ff @(posedge clk) begin
    if (srst) begin
      hs <= H_IDLE;
      tso_seq <= 1'b0; tso_ok <= 1'b0;
      desc <= '0; hkind <= K_PLAIN; status <= '0;
      hptr <= '0;
      seg_off <= '0; seg_k <= '0; seg_len <= '0; seg_last <= 1'b1;
    end else begin
      case (hs)
        H_IDLE: if (cx_ready) begin
          desc     <= cx_desc;
          hkind    <= cx_kind;
          status   <= cx_stat;
          csum_acc <= cx_sum;
          h_base   <= cx_base;
          h_nb     <= cx_nb;
          h_len    <= cx_len;
          h_q      <= cx_q;
          seg_off  <= cx_soff;
          seg_k    <= cx_sk;
          seg_len  <= cx_slen;
          seg_last <= cx_last;
          hptr     <= '0;
          if (cx_stat != 16'(vd_abi_pkg::ERR_OK) || cx_kind == K_NOREAD) begin
            if (cx_kind == K_HDR) begin
              tso_seq <= !tso_seq;
              tso_ok  <= 1'b0;
            end
            hs <= H_GIVE;
          end else if (cx_kind == K_FULL || cx_kind == K_HDR) hs <= H_LD;
          else if (cx_kind == K_SEG) hs <= S_PREP;
          else hs <= H_GIVE;
        end
        H_LD: begin
          for (int g = 0; g < HB; g++)
            if (32'(hptr) == g) hdr[g * DW +: DW] <= (32'(hptr) * BB < 32'(h_len)) ? hmem_rd : '0;
          hptr <= hptr + 1'b1;
          if (32'(hptr) == HB - 1) hs <= S_P_IP;
        end
        S_P_IP: begin
          l3o   <= ({hdr[12*8 +: 8], hdr[13*8 +: 8]} == 16'h8100) ? 7'd18 : 7'd14;
          etype <= ({hdr[12*8 +: 8], hdr[13*8 +: 8]} == 16'h8100) ? {hdr[16*8 +: 8], hdr[17*8 +: 8]}
                                                                 : {hdr[12*8 +: 8], hdr[13*8 +: 8]};
          perr  <= d_len < 16'd14 ||
                   (({hdr[12*8 +: 8], hdr[13*8 +: 8]} == 16'h8100) && d_len < 16'd18);
          plim  <= 1'b0;
          hs <= S_P_DEC;
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
          hs <= S_P_EXT;
          if (perr || (etype != 16'h0800 && etype != 16'h86DD)) perr <= 1'b1;
        end
        S_P_EXT: begin
          if (xn == 4'd0 && !is_v6) begin
            if (perr) begin
              hs <= S_P_L4;
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
              hs     <= S_P_L4;
            end else begin
              if (32'(d_len) - 32'(l3o) < 40 || ip_b0[7:4] != 4'd6 ||
                  32'(ip_w4) > 32'(d_len) - 32'(l3o) - 40) begin
                perr <= 1'b1;
                hs   <= S_P_L4;
              end
              is_v6  <= 1'b1;
              l3_end <= 16'(l3o) + 16'd40 + ip_w4;
              nh     <= ip_b6;
              xoff   <= 16'(l3o) + 16'd40;
            end
          end else if ((nh != 8'd0 && nh != 8'd43 && nh != 8'd60 && nh != 8'd44) || xn == 4'd8) begin
            l4_off <= xoff;
            proto  <= nh;
            hs     <= S_P_L4;
          end else if (l3_end - xoff < 16'd8) begin
            perr <= 1'b1;
            hs   <= S_P_L4;
          end else if (xoff > 16'(HBYTES - 2)) begin
            plim <= 1'b1;
            hs   <= S_P_L4;
          end else if (nh == 8'd44) begin
            frag <= 1'b1;
            xoff <= xoff + 16'd8;
            nh   <= `XNEXT;
            xn   <= xn + 1'b1;
          end else if (l3_end - xoff < {5'd0, `XLEN, 3'b000} + 16'd8) begin
            perr <= 1'b1;
            hs   <= S_P_L4;
          end else begin
            xoff <= xoff + {5'd0, `XLEN, 3'b000} + 16'd8;
            nh   <= `XNEXT;
            xn   <= xn + 1'b1;
          end
        end
        S_P_L4: begin
          is_tcp  <= proto == 8'd6;
          ip_base <= '0; ph_base <= '0; tcp_base <= '0;
          // the Ethernet header's words (the start of the sum R took)
          pre_sum <= 32'(`HWE(6'd0)) + 32'(`HWE(6'd1)) + 32'(`HWE(6'd2)) + 32'(`HWE(6'd3)) +
                     32'(`HWE(6'd4)) + 32'(`HWE(6'd5)) + 32'(`HWE(6'd6)) +
                     ((l3o == 7'd18) ? 32'(`HWE(6'd7)) + 32'(`HWE(6'd8)) : 32'd0);
          tcp_b12 <= '0; tcp_b13 <= '0; seq0 <= '0; oldf <= '0;
          hp <= l3o;
          hs <= perr ? S_CHECK : S_HSUM;
        end
        S_HSUM: begin
          // Four header words per cycle (see hs_* above).
          ip_base  <= ip_base + hs_ip;
          ph_base  <= ph_base + hs_ph;
          pre_sum  <= pre_sum + hs_pre;
          tcp_base <= tcp_base + hs_tcp;
          for (int k = 0; k < 4; k++) begin
            if (32'(hp) + 2 * k < HBYTES) begin
              if (32'(hp) + 2 * k == 32'(l4_off) + 4)  seq0[31:16] <= hs_wv[16*k +: 16];
              if (32'(hp) + 2 * k == 32'(l4_off) + 6)  seq0[15:0] <= hs_wv[16*k +: 16];
              if (32'(hp) + 2 * k == 32'(l4_off) + 12) {tcp_b12, tcp_b13} <= hs_wv[16*k +: 16];
              if (32'(hp) + 2 * k == 32'(`FLD))        oldf <= hs_wv[16*k +: 16];
            end
          end
          hp <= hp + 7'd8;
          if (32'(hp) + 8 >= 32'(`HSUM_END) || 32'(hp) + 6 >= HBYTES - 2) hs <= S_CHECK;
        end
        S_CHECK: begin
          l3_oh <= HBYTES'(1) << l3o;
          l4_oh <= (32'(l4_off) < HBYTES) ? HBYTES'(1) << l4_off[6:0] : '0;
          if (m_tso) begin
            tso_seq <= !tso_seq;
            tso_ok  <= !(`TSO_BAD);
            if (`TSO_BAD) status <= 16'(vd_abi_pkg::ERR_DESC_FLAGS);
            patch_len <= hdr_len;
            hs <= H_GIVE;
          end else if (`FULL_BAD) begin
            status <= 16'(vd_abi_pkg::ERR_DESC_FLAGS);
            hs <= H_GIVE;
          end else begin
            do_ip     <= f_ip && !perr && is_v4;
            do_l4     <= f_l4 && `L4OK;
            patch_len <= 16'(HBYTES);
            hs        <= S_PREP;
          end
        end
        S_PREP: begin
          r_l4t  <= `F_L4T;
          r_tot  <= m_tso ? ip_hl + `F_L4T : ip_w2;
          r_id   <= ip_w4 + (m_tso ? seg_k : 16'd0);
          r_plen <= l4_off - 16'(l3o) - 16'd40 + `F_L4T;
          r_seq  <= seq0 + 32'(seg_off);
          r_flg  <= tcp_b13 & ~((seg_k != 16'd0) ? 8'h80 : 8'h00) & ~(seg_last ? 8'h00 : 8'h09);
          hs     <= S_PREP2;
        end
        S_PREP2: begin
          r_ipc   <= csum_of(ip_base + 32'(r_tot) + 32'(r_id));
          r_tsoc  <= csum_of(tcp_base + 32'(r_seq[31:16]) + 32'(r_seq[15:0]) + 32'({tcp_b12, r_flg}) + ph_base +
                             32'd6 + 32'(r_l4t) + csum_acc);
          // R summed [0, IP end); take away the words before the L4 header
          // and the old field's value.
          r_fullc <= l4c_of(csum_acc + {16'd0, ~fold16(pre_sum)} + {16'd0, ~oldf} + ph_base + 32'(proto) +
                            32'(l4len), is_tcp);
          hs      <= H_GIVE;
        end
        H_GIVE: if (take) begin
          hs  <= H_IDLE;
        end
        default: hs <= H_IDLE;
      endcase
    end
  end
  `undef L3B
  `undef XNEXT
  `undef XLEN
  `undef HSUM_END
  `undef PAY
  `undef FIRST_SEG
  `undef FLD
  `undef L4OK
  `undef TSO_BAD
  `undef FULL_BAD
  `undef F_L4T

  assign next_ctx = hs == H_GIVE && take;
  assign busy     = hs != H_IDLE;
  assign give     = hs == H_GIVE;
  // the bundle
  assign b_emit      = hb_emit;
  assign b_cpl       = hb_cpl;
  assign b_seg       = hkind == K_SEG;
  assign b_seg_last  = seg_last;
  assign b_status    = status;
  assign b_clen      = (status == 16'(vd_abi_pkg::ERR_OK)) ? d_len : 16'd0;
  assign b_q         = h_q;
  assign b_base      = h_base;
  assign b_nb        = h_nb;
  assign b_len       = h_len;
  assign b_hdr       = hdr;
  assign b_l3_oh     = l3_oh;
  assign b_l4_oh     = l4_oh;
  assign b_patch     = hkind == K_FULL || hkind == K_SEG;
  assign b_patch_len = patch_len;
  assign b_w_ip      = is_v4 && (m_tso || do_ip);
  assign b_w_v6      = is_v6 && m_tso;
  assign b_tso       = m_tso;
  assign b_w_full    = !m_tso && do_l4;
  assign b_tcp       = is_tcp;
  assign b_tot = r_tot; assign b_id = r_id; assign b_ipc = r_ipc; assign b_plen = r_plen;
  assign b_tsoc = r_tsoc; assign b_fullc = r_fullc; assign b_seq = r_seq; assign b_flg = r_flg;
  assign b_part      = hkind == K_PART;
  assign b_cfield    = 16'(d_cstart) + 16'(d_coff);
  assign b_csv       = csum_of(csum_acc);
  `undef HWE
endmodule
`default_nettype wire
