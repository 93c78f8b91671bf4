// Receive-side scaling: the RSS registers (types, 40-byte Toeplitz key,
// indirection table) and the classifier + hash over a frame's first HB bytes.
//
// The classifier mirrors offload::rss_classify with parse_window = HB:
// Ethernet with at most one 802.1Q tag, IPv4 with options, IPv6 with up to 8
// hop-by-hop / routing / destination-options / fragment headers (a header
// not wholly inside the window ends the walk, giving the 2-tuple), TCP/UDP
// 4-tuple unless a fragment, 2-tuple otherwise, per-type enables. The hash is
// the Toeplitz hash over a zero-padded 36-byte input (zero bits add nothing,
// so padding does not change it).
//
// Timing: a frame's header goes in on `in_valid`; hash and type come out one
// cycle later (`out_valid`). The queue lookup is combinational.
`default_nettype none
module vd_rss #(
  parameter int NQ = 16,                     // queues (TX and RX each)
  parameter int HB = 128,                    // header window bytes the classifier sees
  parameter int QW = $clog2(NQ),             // queue index width
  parameter int TS = vd_abi_pkg::RSS_TABLE_SIZE, // RSS indirection table entries
  parameter int TW = $clog2(TS)              // indirection table index width
) (
  input  wire logic            clk,
  input  wire logic            srst,
  // registers (top-level CSR addresses)
  input  wire logic            csr_wr_en,
  input  wire logic [15:0]     csr_wr_addr,
  input  wire logic [31:0]     csr_wr_data,
  input  wire logic [15:0]     csr_rd_addr,
  output logic      [31:0]     csr_rd_data,
  // classify + hash
  input  wire logic            in_valid,
  input  wire logic [8*HB-1:0] in_hdr,      // byte j in bits [8j+7:8j]
  input  wire logic [15:0]     in_len,      // frame length (bytes)
  output logic                 out_valid,
  output logic      [31:0]     out_hash,
  output logic      [2:0]      out_type,
  // the parse, for the RX checksum verifier (valid with out_valid)
  output logic                 out_ok,      // Ethernet + IPv4/IPv6 (+ extension headers) parsed
  output logic                 out_vlan,    // one 802.1Q tag: IP starts at 18, else 14
  output logic                 out_v4,
  output logic                 out_frag,
  output logic      [7:0]      out_proto,   // L4 protocol (last next-header for IPv6)
  output logic      [7:0]      out_l4,      // L4 offset, when out_l4win
  output logic                 out_l4win,   // the L4 header's first 8 bytes lie in the window
  output logic      [16:0]     out_l3end,   // one past the IP datagram
  // indirection
  input  wire logic [TW-1:0]   lk_hash,     // the hash's low bits pick the entry
  output logic      [QW-1:0]   lk_queue
);

  initial begin
    if (HB < 64 || HB > 256) $error("vd_rss: HB must be in 64..256");
  end

  logic [6:0]       types;      // bit t enables RSS type t
  logic [319:0]     key;        // key byte 0 in bits [319:312]
  logic [TS*QW-1:0] tbl;        // entry i in bits [QW*i +: QW]

  wire [15:0] key_off = csr_wr_addr - 16'(vd_abi_pkg::REG_RSS_KEY);
  wire [15:0] tbl_off = csr_wr_addr - 16'(vd_abi_pkg::REG_RSS_TABLE);
  wire [15:0] key_roff = csr_rd_addr - 16'(vd_abi_pkg::REG_RSS_KEY);
  wire [15:0] tbl_roff = csr_rd_addr - 16'(vd_abi_pkg::REG_RSS_TABLE);

  // Reset: RSS off, key zero, table spread over the queues (entry i -> i mod NQ, as Linux's default).
  function automatic logic [TS*QW-1:0] spread();
    for (int i = 0; i < TS; i++) spread[QW*i +: QW] = QW'(i % NQ);
  endfunction

  always_ff @(posedge clk) begin
    if (srst) begin
      types <= '0;
      key   <= '0;
      tbl   <= spread();
    end else if (csr_wr_en) begin
      if (csr_wr_addr == 16'(vd_abi_pkg::REG_RSS_TYPES)) types <= csr_wr_data[6:0];
      if (csr_wr_addr >= 16'(vd_abi_pkg::REG_RSS_KEY) && key_off < 16'(4 * vd_abi_pkg::RSS_KEY_COUNT) &&
          key_off[1:0] == 2'b00)
        key[319 - 32 * key_off[5:2] -: 32] <= csr_wr_data;
      if (csr_wr_addr >= 16'(vd_abi_pkg::REG_RSS_TABLE) && tbl_off < 16'(4 * TS) && tbl_off[1:0] == 2'b00)
        tbl[QW * tbl_off[TW+1:2] +: QW] <= csr_wr_data[QW-1:0];
    end
  end

  always_comb begin
    csr_rd_data = 32'hdead_beef;
    if (csr_rd_addr == 16'(vd_abi_pkg::REG_RSS_TYPES)) csr_rd_data = 32'(types);
    if (csr_rd_addr >= 16'(vd_abi_pkg::REG_RSS_KEY) && key_roff < 16'(4 * vd_abi_pkg::RSS_KEY_COUNT))
      csr_rd_data = key[319 - 32 * key_roff[5:2] -: 32];
    if (csr_rd_addr >= 16'(vd_abi_pkg::REG_RSS_TABLE) && tbl_roff < 16'(4 * TS))
      csr_rd_data = 32'(tbl[QW * tbl_roff[TW+1:2] +: QW]);
  end

  assign lk_queue = tbl[QW * lk_hash +: QW];

  // ---------------------------------------------------------------- classifier
  // Header bytes are read with macros, not functions: Verilator clears every
  // function's wide temporaries each cycle, so a 1 Kbit argument per call
  // site costs simulation speed whether the function runs or not.
  // Byte i of the window; 0 past it (callers bound-check against the window first).
`define VD_HV(h, i) (((i) < 17'(HB)) ? h[8 * 8'(i) +: 8] : 8'd0)
  // Byte k after the Ethernet header (vlan picks one of two places).
`define VD_L3B(h, vlan, k) ((vlan) ? h[8 * (18 + (k)) +: 8] : h[8 * (14 + (k)) +: 8])

  // Returns {parse[37:0], type[2:0], hash[31:0]}; parse is
  // {l3end[16:0], l4win, l4[7:0], proto[7:0], frag, v4, vlan, ok}.
  function automatic logic [72:0] classify(input logic [8*HB-1:0] h, input logic [15:0] flen,
                                           input logic [6:0] en, input logic [319:0] k);
    logic        vlan, v4, v6, ok, ok4, frag, frag4, walk, act, stop, bad, step;
    logic [7:0]  b0, b1;
    logic [15:0] et;
    logic [16:0] l3, ihl, total, l3end, end6, off, l4, len17, fl;
    logic [7:0]  vihl, nh, proto;
    logic [5:0]  f6;  // IPv4 MF flag and fragment offset high bits
    logic [2:0]  two, four, typ;
    logic        short4, use4;
    logic [287:0] in;
    logic [255:0] a6;
    logic [63:0]  a4;
    logic [31:0]  pt;
    logic [31:0] hsh;
    // Straight-line code: every byte is read unconditionally and results are
    // picked with expressions, so synthesis never carries the window through
    // a branch.
    fl   = 17'(flen);
    vlan = h[8*12 +: 8] == 8'h81 && h[8*13 +: 8] == 8'h00;
    et   = vlan ? {h[8*16 +: 8], h[8*17 +: 8]} : {h[8*12 +: 8], h[8*13 +: 8]};
    l3   = vlan ? 17'd18 : 17'd14;
    v4   = et == 16'h0800;
    v6   = et == 16'h86DD;
    vihl = `VD_L3B(h, vlan, 0);
    ihl  = 17'({vihl[3:0], 2'b00});
    // IPv4
    total = 17'({`VD_L3B(h, vlan, 2), `VD_L3B(h, vlan, 3)});
    f6    = 6'(`VD_L3B(h, vlan, 6));
    ok4   = !(fl < l3 + 17'd20 || vihl[7:4] != 4'd4 || ihl < 17'd20 || fl < l3 + ihl ||
              total < ihl || l3 + total > fl);
    frag4 = f6[5] || {f6[4:0], `VD_L3B(h, vlan, 7)} != 13'd0;
    // IPv6 and its extension headers
    end6  = l3 + 17'd40 + 17'({`VD_L3B(h, vlan, 4), `VD_L3B(h, vlan, 5)});
    ok    = !(fl < l3 + 17'd40 || vihl[7:4] != 4'd6 || end6 > fl);
    frag  = 1'b0;
    nh    = `VD_L3B(h, vlan, 6);
    off   = l3 + 17'd40;
    walk  = 1'b1;
    for (int n = 0; n < 8; n++) begin
      b0    = `VD_HV(h, off);
      b1    = `VD_HV(h, off + 17'd1);
      len17 = (nh == 8'd44) ? 17'd8 : {6'd0, b1, 3'd0} + 17'd8;
      act   = walk && ok;
      stop  = (nh != 8'd0 && nh != 8'd43 && nh != 8'd60 && nh != 8'd44) ||
              off + 17'd8 > 17'(HB);                            // not an extension header, or past the window
      bad   = !stop && (end6 < off + 17'd8 || end6 < off + len17);
      step  = act && !stop && !bad;
      ok    = ok && !(act && bad);
      frag  = frag || (step && nh == 8'd44);
      walk  = step;
      off   = step ? off + len17 : off;
      nh    = step ? b0 : nh;
    end
    // the L3 that applies
    ok    = !(vlan && fl < 17'd18) && ((v4 && ok4) || (v6 && ok));
    frag  = v4 ? frag4 : frag;
    proto = v4 ? `VD_L3B(h, vlan, 9) : nh;
    l4    = v4 ? l3 + ihl : off;
    l3end = v4 ? l3 + total : end6;
    two  = v4 ? 3'(vd_abi_pkg::RSS_TYPE_IPV4) : 3'(vd_abi_pkg::RSS_TYPE_IPV6);
    four = (proto == 8'd6)  ? (v4 ? 3'(vd_abi_pkg::RSS_TYPE_TCP_IPV4) : 3'(vd_abi_pkg::RSS_TYPE_TCP_IPV6)) :
           (proto == 8'd17) ? (v4 ? 3'(vd_abi_pkg::RSS_TYPE_UDP_IPV4) : 3'(vd_abi_pkg::RSS_TYPE_UDP_IPV6)) :
                              3'(vd_abi_pkg::RSS_TYPE_NONE);
    short4 = four != 3'd0 && !frag && (l3end - l4) < ((proto == 8'd6) ? 17'd20 : 17'd8);  // TCP/UDP header cut short
    use4   = four != 3'd0 && !frag && en[four] && l4 + 17'd4 <= 17'(HB);
    typ    = (!ok || short4) ? 3'(vd_abi_pkg::RSS_TYPE_NONE) :
             use4 ? four : en[two] ? two : 3'(vd_abi_pkg::RSS_TYPE_NONE);
    // Hash input: source and destination address, then the ports for a
    // 4-tuple. Written as whole-vector expressions (no conditional slice
    // assignments), which keeps synthesis from building a mux per byte.
    for (int j = 0; j < 32; j++) a6[255 - 8*j -: 8] = `VD_L3B(h, vlan, 8 + j);
    for (int j = 0; j < 8; j++)  a4[63 - 8*j -: 8]  = `VD_L3B(h, vlan, 12 + j);
    for (int j = 0; j < 4; j++)  pt[31 - 8*j -: 8]  = `VD_HV(h, l4 + 17'(j));
    in = v4 ? {a4, use4 ? pt : 32'd0, 192'd0} : {a6, use4 ? pt : 32'd0};
    // Toeplitz: every set input bit i XORs in key bits [i, i+32).
    hsh = '0;
    for (int i = 0; i < 288; i++) hsh = hsh ^ (k[319 - i -: 32] & {32{in[287 - i]}});
    classify = {l3end, l4 + 17'd8 <= 17'(HB), 8'(l4), proto, frag, v4, vlan, ok,
                typ, (typ == 3'd0) ? 32'd0 : hsh};
  endfunction

  // The same logic for both tools, evaluated differently: Verilator runs the
  // classifier only on cycles with a frame (keeping simulation fast), while
  // for synthesis it is one combinational cone feeding the register (yosys
  // would otherwise carry the function's temporaries through the enable's
  // mux tree, which it handles very slowly).
  // One register for the whole result (a concatenation on the left would
  // make Verilator call the function once per part).
  logic [72:0] res;
  assign {out_l3end, out_l4win, out_l4, out_proto, out_frag, out_v4, out_vlan, out_ok, out_type, out_hash} = res;
`ifdef SYNTHESIS
  wire [72:0] cls = classify(in_hdr, in_len, types, key);
`endif
  always_ff @(posedge clk) begin
    if (srst) begin
      out_valid <= 1'b0;
      res       <= '0;
    end else begin
      out_valid <= in_valid;
`ifdef SYNTHESIS
      if (in_valid) res <= cls;
`else
      if (in_valid) res <= classify(in_hdr, in_len, types, key);
`endif
    end
  end
endmodule
`undef VD_HV
`undef VD_L3B
`default_nettype wire
