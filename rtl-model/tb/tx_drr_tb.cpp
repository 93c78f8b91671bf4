// vd_tx_drr against a deficit-round-robin model, cycle by cycle (the pick
// and whether credits are replenished), driven the way the TX fetch stage
// drives it; and the property the scheduler exists for: backlogged queues
// get the wire in proportion to bytes, not descriptors.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "Vtx_drr.h"
#include "tb_util.hpp"
#include "veridian/abi.hpp"

namespace {

using vd::tb::Rng;
constexpr unsigned kNq = 16;
constexpr int kQuantum = int(vd::abi::TX_DRR_QUANTUM);

// The scheduler as specified (see vd_tx_drr.sv).
struct DrrModel {
  std::array<int, kNq> credit{};
  bool found = false;
  unsigned next = 0;
  bool replenish = false;
  void eval(unsigned untaken, unsigned last, bool enable) {
    found = false;
    next = last;
    bool any_eligible = false;
    for (unsigned i = 1; i <= kNq; ++i) {
      const unsigned q = (last + i) % kNq;
      if (((untaken >> q) & 1u) && credit[q] >= 0) {
        any_eligible = true;
        if (!found) { found = true; next = q; }
      }
    }
    replenish = enable && untaken != 0 && !any_eligible;
  }
  void edge(bool picking, bool charge, unsigned q, unsigned len) {
    if (picking && replenish) {
      for (auto& c : credit) c = std::min(c + kQuantum, kQuantum);
    } else if (charge) {
      credit[q] -= int(len);
    }
  }
};

// Drives the block as F does: pick a queue, then (a few cycles later) take
// one descriptor of it and charge its length. Returns bytes sent per queue.
// The fetch stage's side of the handshake, kept across calls.
struct Fetch {
  enum { kPick, kDesc } fs = kPick;
  unsigned fq = 0, wait = 0;
  bool enable = true;
};

template <class LenFn>
std::array<std::uint64_t, kNq> drive(Vtx_drr& m, DrrModel& ref, Fetch& f, Rng& rng, int cycles,
                                     std::array<unsigned, kNq>& backlog, LenFn len_of, bool random_enable) {
  std::array<std::uint64_t, kNq> bytes{};
  auto& [fs, fq, wait, enable] = f;
  for (int cyc = 0; cyc < cycles; ++cyc) {
    if (random_enable && rng.chance(1)) enable = !enable;
    unsigned untaken = 0;
    for (unsigned q = 0; q < kNq; ++q) untaken |= (backlog[q] != 0 ? 1u : 0u) << q;
    const bool charge = fs == Fetch::kDesc && wait == 0;
    const unsigned len = charge ? len_of(fq) : 0;
    m.enable = enable;
    m.untaken = static_cast<SData>(untaken);
    m.last = static_cast<CData>(fq);
    m.picking = fs == Fetch::kPick;
    m.charge = charge;
    m.charge_q = static_cast<CData>(fq);
    m.charge_len = static_cast<SData>(len);
    m.eval();
    ref.eval(untaken, fq, enable);
    EXPECT_EQ(bool(m.found), ref.found) << "cycle " << cyc;
    if (ref.found) {
      EXPECT_EQ(unsigned(m.next), ref.next) << "cycle " << cyc;
    }
    if (::testing::Test::HasFailure()) return bytes;
    const bool picking = fs == Fetch::kPick;
    vd::tb::tick(m);
    ref.edge(picking, charge, fq, len);
    if (picking && enable && ref.found) {
      fq = ref.next;
      fs = Fetch::kDesc;
      wait = rng.below(3);
    } else if (fs == Fetch::kDesc) {
      if (wait) {
        --wait;
      } else {
        bytes[fq] += len;
        --backlog[fq];
        fs = Fetch::kPick;
      }
    }
  }
  return bytes;
}

TEST(TxDrr, MatchesTheModelCycleByCycle) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    VerilatedContext ctx;
    Vtx_drr m{&ctx};
    Rng rng{seed};
    m.enable = 1; m.untaken = 0; m.picking = 0; m.charge = 0;
    vd::tb::reset(m);
    std::array<unsigned, kNq> backlog{};
    DrrModel ref;
    Fetch f;
    // queues come and go: refill backlogs now and then, lengths from 60 bytes to a 64 KiB TSO send
    for (int round = 0; round < 40; ++round) {
      for (unsigned q = 0; q < kNq; ++q)
        if (rng.chance(40)) backlog[q] += rng.below(6);
      drive(m, ref, f, rng, 500, backlog, [&](unsigned) { return rng.chance(5) ? 60000u + rng.below(5535) : 60u + rng.below(9000); },
            true);
      ASSERT_FALSE(::testing::Test::HasFailure()) << "seed " << seed << " round " << round;
    }
  }
}

TEST(TxDrr, BackloggedQueuesShareTheWireByBytes) {
  VerilatedContext ctx;
  Vtx_drr m{&ctx};
  Rng rng{7};
  m.enable = 1; m.untaken = 0; m.picking = 0; m.charge = 0;
  vd::tb::reset(m);
  std::array<unsigned, kNq> backlog{};
  const std::array<unsigned, 3> len = {9000, 100, 1514};
  for (unsigned q = 0; q < 3; ++q) backlog[q] = 1u << 30;  // always backlogged
  DrrModel ref;
  Fetch f;
  const auto bytes = drive(m, ref, f, rng, 200000, backlog, [&](unsigned q) { return len[q]; }, false);
  ASSERT_FALSE(::testing::Test::HasFailure());
  const auto [lo, hi] = std::minmax({bytes[0], bytes[1], bytes[2]});
  EXPECT_GT(lo, 1000000u);
  // Byte shares differ by at most about one quantum plus one frame per round.
  EXPECT_LE(hi - lo, std::uint64_t(2 * (kQuantum + 9000))) << bytes[0] << " " << bytes[1] << " " << bytes[2];
}

}  // namespace
