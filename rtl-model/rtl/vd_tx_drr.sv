// TX scheduler: deficit round robin over the TX queues.
//
// Queues share the wire by bytes, not by descriptors (one 64 KiB TSO send
// is one descriptor): each queue has a credit; taking a descriptor charges
// its length; a queue may be picked while its credit is not negative; when
// no queue with descriptors may, every credit gains TX_DRR_QUANTUM bytes
// (capped at one quantum, so an idle queue does not hoard). Among eligible
// queues: the first after the last one served.
`default_nettype none
module vd_tx_drr #(
  parameter int NQ = 16,                  // queues
  parameter int QW = $clog2(NQ)           // queue index width
) (
  input  wire logic          clk,
  input  wire logic          srst,
  input  wire logic          enable,      // the NIC is enabled (no credit is granted otherwise)
  // Which queues have descriptors to send, and the one served last (the
  // search for the next starts after it).
  input  wire logic [NQ-1:0] untaken,
  input  wire logic [QW-1:0] last,
  // The fetch stage is choosing a queue this cycle: when none is eligible,
  // the credits are replenished now.
  input  wire logic          picking,
  // A descriptor of queue charge_q is taken: its length is charged.
  input  wire logic          charge,
  input  wire logic [QW-1:0] charge_q,
  input  wire logic [15:0]   charge_len,
  // The pick: the first eligible queue after `last` (found = any eligible).
  output logic               found,
  output logic      [QW-1:0] next
);
  localparam int CRW = 18;                // credit: signed, at most one quantum, at least -64 KiB + quantum
  localparam logic [CRW-1:0] QUANTUM = CRW'(vd_abi_pkg::TX_DRR_QUANTUM);
  logic [NQ*CRW-1:0] credit_v;
  logic [NQ-1:0]     eligible;
  always_comb
    for (int i = 0; i < NQ; i++) eligible[i] = untaken[i] && !credit_v[CRW*i + CRW - 1];
  // No queue with work may go: found is then false as well.
  wire replenish = enable && (|untaken) && !(|eligible);

  always_comb begin
    next = last;
    found = 1'b0;
    for (int i = 1; i <= NQ; i++) begin
      if (!found && eligible[QW'((32'(last) + i) % NQ)]) begin
        next = QW'((32'(last) + i) % NQ);
        found = 1'b1;
      end
    end
  end

  always_ff @(posedge clk) begin
    if (srst) begin
      credit_v <= '0;
    end else if (picking && replenish) begin
      for (int i = 0; i < NQ; i++)
        credit_v[CRW*i +: CRW] <= ($signed(credit_v[CRW*i +: CRW]) + $signed(QUANTUM) > $signed(QUANTUM))
                                      ? QUANTUM : credit_v[CRW*i +: CRW] + QUANTUM;
    end else if (charge) begin
      credit_v[CRW*charge_q +: CRW] <= credit_v[CRW*charge_q +: CRW] - CRW'(charge_len);
    end
  end
endmodule
`default_nettype wire
