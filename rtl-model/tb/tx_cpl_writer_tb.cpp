// vd_tx_cpl_writer against the completion-ring ABI: every pushed
// completion is written once, in push order, to its queue's completion ring
// at the ring position, as one 16-byte DMA write (one beat on a 512-bit bus,
// two on a 64-bit one) whose fields decode with vd::abi::Cpl (ring index
// completed, length, status, queue, phase flipping on every pass), under
// random back-pressure; `done` advances the queue's indices exactly once
// per completion.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <vector>

#include "Vcpl_w512.h"
#include "Vcpl_w64.h"
#include "tb_util.hpp"
#include "veridian/abi.hpp"

namespace {

using vd::tb::Rng;
constexpr unsigned kNq = 16;
constexpr unsigned kCf = 8;

struct Pushed {
  unsigned q;
  std::uint16_t status, len;
};

template <class M, unsigned DW>
void run(std::uint64_t seed) {
  constexpr unsigned BB = DW / 8;
  constexpr unsigned kBeats = DW >= 128 ? 1 : 128 / DW;
  VerilatedContext ctx;
  M m{&ctx};
  Rng rng{seed};
  std::array<std::uint16_t, kNq> cons{}, cpl_prod{};
  std::array<unsigned, kNq> log2{};
  for (unsigned q = 0; q < kNq; ++q) {
    log2[q] = 1 + rng.below(4);          // small rings: the phase flips often
    cons[q] = static_cast<std::uint16_t>(rng.below(3));
    cpl_prod[q] = cons[q];
  }
  auto base = [](unsigned q) { return 0x40000000ull + 0x10000ull * q; };
  std::deque<Pushed> fifo;
  std::vector<std::uint8_t> got;
  unsigned written = 0;
  m.push = 0; m.wr_ready = 0;
  vd::tb::reset(m);
  for (int cyc = 0; cyc < 20000; ++cyc) {
    const bool push = fifo.size() < kCf && rng.chance(35);
    const Pushed p{rng.below(kNq), static_cast<std::uint16_t>(rng.chance(20) ? 1 + rng.below(8) : 0),
                   static_cast<std::uint16_t>(rng.below(65536))};
    m.push = push;
    m.push_q = static_cast<CData>(p.q);
    m.push_status = p.status;
    m.push_len = p.len;
    m.wr_ready = rng.chance(60);
    m.eval();
    ASSERT_EQ(m.fill, fifo.size()) << "cycle " << cyc;
    ASSERT_EQ(bool(m.pending), !fifo.empty());
    ASSERT_EQ(bool(m.wr_valid), !fifo.empty());
    bool done = false;
    if (!fifo.empty()) {
      const unsigned q = fifo.front().q;
      ASSERT_EQ(m.sel_q, q) << "cycle " << cyc;
      // the queue registers of the head entry's queue (vd_queue_regs' sel view)
      m.cpl_base = base(q);
      m.size_log2 = static_cast<CData>(log2[q]);
      m.cons = cons[q];
      m.cpl_prod = cpl_prod[q];
      m.eval();
      const unsigned mask = (1u << log2[q]) - 1;
      ASSERT_EQ(m.wr_addr, base(q) + 16ull * (cpl_prod[q] & mask));
      ASSERT_EQ(m.wr_len, 16u);
      if (m.wr_ready) {
        for (unsigned k = 0; k < BB; ++k) {
          const std::uint8_t b = vd::tb::get_byte(m.wr_data, k);
          if (k < 16) got.push_back(b);
          else ASSERT_EQ(b, 0u) << "bytes past the completion are zero";
        }
        done = got.size() == 16;
        ASSERT_EQ(bool(m.wr_last), done);
        ASSERT_EQ(bool(m.done), done);
        if (done) {
          const auto c = vd::abi::Cpl::unpack(std::span<const std::uint8_t>(got.data(), 16));
          const Pushed& e = fifo.front();
          EXPECT_EQ(c.index, cons[q] & mask);
          EXPECT_EQ(c.len, e.len);
          EXPECT_EQ(c.status, e.status);
          EXPECT_EQ(c.queue, q);
          EXPECT_EQ(c.phase, ((cpl_prod[q] >> log2[q]) & 1u) ^ 1u) << "phase is 1 on the first pass";
          EXPECT_EQ(bool(m.done_err), e.status != 0);
          EXPECT_EQ(c.rss_hash, 0u);
          ASSERT_FALSE(::testing::Test::HasFailure()) << "completion " << written;
          got.clear();
        }
      } else {
        ASSERT_FALSE(m.done);
      }
    }
    vd::tb::tick(m);
    if (done) {
      ++cons[fifo.front().q];
      ++cpl_prod[fifo.front().q];
      fifo.pop_front();
      ++written;
    }
    if (push) fifo.push_back(p);
  }
  EXPECT_GT(written, 2000u / kBeats);
}

TEST(TxCplWriter, Bus64TwoBeatsPerCompletion) {
  for (std::uint64_t seed : {1u, 2u}) run<Vcpl_w64, 64>(seed);
}
TEST(TxCplWriter, Bus512OneBeatPerCompletion) {
  for (std::uint64_t seed : {1u, 2u}) run<Vcpl_w512, 512>(seed);
}

}  // namespace
