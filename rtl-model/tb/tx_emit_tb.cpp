// vd_tx_emit against the offload reference models, at 64 and 512 bits.
// Bundles are built as the header stage builds them, from the models'
// results: plain frames, partial checksums (offload::insert_partial), full
// insertion (insert_full) and TSO segments (tso_segment), mixed with bundles
// that put nothing on the wire (errors, TSO header contexts) and TSO sends
// whose segment fails. Under random MAC and completion back-pressure:
//  * every frame on the wire is byte for byte the model's, with tkeep and
//    tlast marking its length;
//  * completions come once per descriptor, in order, with queue, status
//    and length; a failed segment completes its send and drops the rest;
//  * every buffer beat is released exactly once (b_free).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <random>
#include <string>

#include "Vtxe_w512.h"
#include "Vtxe_w64.h"
#include "frame_gen.hpp"
#include "tb_util.hpp"
#include "veridian/abi.hpp"
#include "veridian/offload/csum_offload.hpp"
#include "veridian/offload/frame_layout.hpp"
#include "veridian/offload/tso.hpp"

namespace {

using vd::tb::be16;
using vd::tb::be32;
using vd::tb::Bytes;
using vd::tb::GenOpts;
constexpr unsigned kHBytes = 128;
constexpr unsigned kBufBeats = 1024;  // AW = 10


// One bundle from the header stage, and what it must produce.
struct Bundle {
  bool emit = true, cpl = true, seg = false, seg_last = true;
  std::uint16_t status = vd::abi::ERR_OK, clen = 0;
  unsigned q = 0;
  Bytes data;     // the bytes read into the buffer (the wire frame before patching)
  Bytes hdr;      // kept header (kHBytes)
  std::size_t l3 = 0, l4 = 0;
  bool patch = false, w_ip = false, w_v6 = false, tso = false, w_full = false, tcp = false, part = false;
  std::uint16_t patch_len = 0, tot = 0, id = 0, ipc = 0, plen = 0, tsoc = 0, fullc = 0, cfield = 0, csv = 0;
  std::uint32_t seq = 0;
  std::uint8_t flg = 0;
  Bytes wire;             // expected on the wire, when on_wire
  bool on_wire = true;    // a frame is expected on the wire
  bool completes = true;  // a completion is expected (after its frame, if any)
};

bool bit_of(std::uint64_t v, unsigned i) { return ((v >> i) & 1u) != 0; }
template <std::size_t N>
bool bit_of(const VlWide<N>& v, unsigned i) {
  return vd::tb::get_bit(v, i);
}
template <std::size_t N>
void set_one_hot(VlWide<N>& v, std::size_t pos) {
  for (std::size_t w = 0; w < N; ++w) v[w] = 0;
  if (pos < 32 * N) v[pos / 32] = EData(1) << (pos % 32);
}

Bundle plain(std::mt19937& rng) {
  Bundle b;
  b.data = vd::tb::random_frame(rng, 80 + rng() % 1500);
  b.clen = static_cast<std::uint16_t>(b.data.size());
  b.wire = b.data;
  return b;
}

Bundle partial(std::mt19937& rng) {
  Bundle b = plain(rng);
  b.part = true;
  const std::size_t start = 14 + rng() % 40, off = 2 * (rng() % 10);
  b.wire = b.data;
  EXPECT_TRUE(vd::offload::insert_partial(b.wire, start, off));
  b.cfield = static_cast<std::uint16_t>(start + off);
  b.csv = be16(b.wire, b.cfield);
  return b;
}

Bundle full(std::mt19937& rng) {
  Bundle b;
  b.data = vd::tb::gen_frame(rng, vd::tb::random_opts(rng, rng() % 3 == 0 ? 17 : 6, 1, 1400));
  b.clen = static_cast<std::uint16_t>(b.data.size());
  b.hdr = vd::tb::kept_header(b.data, rng);
  const auto lay = vd::offload::parse_layout(b.data).layout;
  b.wire = b.data;
  const auto r = vd::offload::insert_full(b.wire);
  b.l3 = lay.l3_off;
  b.l4 = lay.l4_off;
  b.patch = true;
  b.patch_len = kHBytes;
  b.tcp = lay.l4_proto == 6;
  b.w_ip = r.ip_header && rng() % 4 != 0;   // flags may ask for one layer only
  b.w_full = r.l4 && rng() % 4 != 0;
  // With the header checksum the header stage writes total length and ID
  // too, unchanged.
  b.tot = be16(b.data, b.l3 + 2);
  b.id = be16(b.data, b.l3 + 4);
  b.ipc = be16(b.wire, b.l3 + 10);
  b.fullc = be16(b.wire, b.l4 + (b.tcp ? 16 : 6));
  if (!b.w_ip) std::copy_n(b.data.begin() + std::ptrdiff_t(b.l3 + 10), 2, b.wire.begin() + std::ptrdiff_t(b.l3 + 10));
  if (!b.w_full) {
    const std::size_t fld = b.l4 + (b.tcp ? 16 : 6);
    std::copy_n(b.data.begin() + std::ptrdiff_t(fld), 2, b.wire.begin() + std::ptrdiff_t(fld));
  }
  return b;
}

// A TSO send as the header stage hands it over: its header context (no
// wire, no completion), then one bundle per segment. With `fail_at` < the
// segment count, that segment comes with a DMA error: it completes the send
// with the error and the later ones are dropped.
std::vector<Bundle> tso_send(std::mt19937& rng, std::size_t fail_at) {
  const Bytes f = vd::tb::gen_frame(rng, vd::tb::random_opts(rng, 6, 1, 4000));
  const std::uint16_t mss = static_cast<std::uint16_t>(std::array<int, 3>{536, 1448, 700}[rng() % 3]);
  const auto model = vd::offload::tso_segment(f, mss);
  EXPECT_TRUE(model.ok());
  const auto lay = vd::offload::parse_layout(f).layout;
  const std::size_t hdr_len = lay.l4_off + 4u * (f[lay.l4_off + 12] >> 4);
  const bool v6 = f[lay.l3_off] >> 4 == 6;
  std::vector<Bundle> out;
  Bundle h;
  h.emit = h.cpl = h.on_wire = h.completes = false;
  h.data.assign(f.begin(), f.begin() + std::ptrdiff_t(std::min<std::size_t>(f.size(), kHBytes)));
  out.push_back(h);
  const Bytes kept = vd::tb::kept_header(f, rng);
  bool failed = false;
  for (std::size_t k = 0; k < model.segments.size(); ++k) {
    const Bytes& s = model.segments[k];
    Bundle b;
    b.seg = true;
    b.seg_last = k + 1 == model.segments.size();
    b.data.assign(f.begin() + std::ptrdiff_t(k * mss), f.begin() + std::ptrdiff_t(k * mss + s.size()));
    b.hdr = kept;
    b.l3 = lay.l3_off;
    b.l4 = lay.l4_off;
    b.patch = b.tso = b.tcp = true;
    b.patch_len = static_cast<std::uint16_t>(hdr_len);
    b.w_ip = !v6;
    b.w_v6 = v6;
    b.tot = be16(s, b.l3 + 2);
    b.id = be16(s, b.l3 + 4);
    b.ipc = be16(s, b.l3 + 10);
    b.plen = be16(s, b.l3 + 4);
    b.seq = be32(s, b.l4 + 4);
    b.flg = s[b.l4 + 13];
    b.tsoc = be16(s, b.l4 + 16);
    b.wire = s;
    b.cpl = b.seg_last;
    b.clen = b.seg_last ? static_cast<std::uint16_t>(f.size()) : 0;
    if (k == fail_at) {  // as the header stage hands a segment whose read failed
      b.status = vd::abi::ERR_DMA;
      b.emit = false;
      b.cpl = true;
      b.clen = 0;
    }
    // After the failure the header stage still gives the later segments
    // (their reads were fine); E drops them: no wire, no completion.
    b.on_wire = b.emit && !failed;
    b.completes = b.cpl && !failed;
    failed = failed || k == fail_at;
    out.push_back(b);
  }
  return out;
}

template <class M, unsigned DW>
class EmitTb {
 public:
  static constexpr unsigned BB = DW / 8;
  explicit EmitTb(std::uint64_t seed) : rng_(static_cast<std::uint32_t>(seed)), mem_(kBufBeats, Bytes(BB)) {
    m.give = 0;
    m.cpl_room = 1;
    m.tx_tready = 1;
    vd::tb::reset(m);
  }

  void add(Bundle b) {
    b.q = rng_() % 16;
    if (b.completes) cpls_.push_back({b.q, b.status, b.on_wire ? b.clen : std::uint16_t(0)});
    if (b.on_wire) frames_.push_back(b.wire);
    pending_.push_back(std::move(b));
  }

  // Clocks until every bundle was taken, every frame left and every
  // completion came (or a bound), checking as it goes.
  void run() {
    std::uint32_t beats_given = 0;
    bool presented = false;
    for (int cyc = 0; cyc < 400000 && (!pending_.empty() || !frames_.empty() || !cpls_.empty()); ++cyc) {
      if (!presented && !pending_.empty()) {
        present(pending_.front());
        presented = true;
      }
      m.give = presented;
      m.cpl_room = rng_() % 8 != 0;
      m.tx_tready = rng_() % 4 != 0;
      settle();
      const bool took = m.give && m.take;
      observe(cyc);
      if (::testing::Test::HasFatalFailure()) return;
      vd::tb::tick(m);
      if (took) {
        beats_given += nb_;
        pending_.pop_front();
        presented = false;
      }
    }
    EXPECT_TRUE(pending_.empty()) << pending_.size() << " bundles never taken";
    EXPECT_TRUE(frames_.empty()) << frames_.size() << " frames never sent";
    EXPECT_TRUE(cpls_.empty()) << cpls_.size() << " completions never came";
    settle();
    EXPECT_EQ(std::uint32_t(m.b_free), beats_given % (2 * kBufBeats)) << "every beat released once";
    EXPECT_FALSE(m.busy);
  }
  unsigned frames_seen() const { return frames_seen_; }

 private:
  struct Cpl {
    unsigned q;
    std::uint16_t status, len;
  };

  // The bundle's bytes into the buffer at the next place, and its fields
  // onto the ports (held until taken).
  void present(const Bundle& b) {
    nb_ = static_cast<std::uint32_t>((b.data.size() + BB - 1) / BB);
    for (std::uint32_t i = 0; i < nb_; ++i)
      for (std::size_t k = 0; k < BB; ++k) {
        const std::size_t at = i * BB + k;
        mem_[(base_ + i) % kBufBeats][k] = at < b.data.size() ? b.data[at] : static_cast<std::uint8_t>(rng_());
      }
    m.b_base = base_ % kBufBeats;
    m.b_nb = static_cast<SData>(nb_);
    base_ += nb_;
    m.b_emit = b.emit;
    m.b_cpl = b.cpl;
    m.b_seg = b.seg;
    m.b_seg_last = b.seg_last;
    m.b_status = b.status;
    m.b_clen = b.clen;
    m.b_q = static_cast<CData>(b.q);
    m.b_len = static_cast<std::uint16_t>(b.data.size());
    Bytes hdr = b.hdr.empty() ? Bytes(kHBytes) : b.hdr;
    vd::tb::set_bytes(m.b_hdr, hdr.data(), kHBytes);
    set_one_hot(m.b_l3_oh, b.l3);
    set_one_hot(m.b_l4_oh, b.l4);
    m.b_patch = b.patch;
    m.b_patch_len = b.patch_len;
    m.b_w_ip = b.w_ip;
    m.b_w_v6 = b.w_v6;
    m.b_tso = b.tso;
    m.b_w_full = b.w_full;
    m.b_tcp = b.tcp;
    m.b_tot = b.tot;
    m.b_id = b.id;
    m.b_ipc = b.ipc;
    m.b_plen = b.plen;
    m.b_tsoc = b.tsoc;
    m.b_fullc = b.fullc;
    m.b_seq = b.seq;
    m.b_flg = b.flg;
    m.b_part = b.part;
    m.b_cfield = b.cfield;
    m.b_csv = b.csv;
  }

  // The buffer's read port is combinational.
  void settle() {
    m.eval();
    vd::tb::set_bytes(m.buf_data, mem_[m.buf_addr % kBufBeats].data(), BB);
    m.eval();
  }

  void observe(int cyc) {
    if (m.cpl_push) {
      ASSERT_FALSE(cpls_.empty()) << "unexpected completion, cycle " << cyc;
      const Cpl& c = cpls_.front();
      EXPECT_EQ(unsigned(m.cpl_q), c.q) << "cycle " << cyc;
      EXPECT_EQ(m.cpl_status, c.status) << "cycle " << cyc;
      EXPECT_EQ(m.cpl_len, c.len) << "cycle " << cyc;
      cpls_.pop_front();
    }
    if (!m.tx_tvalid || !m.tx_tready) return;
    ASSERT_FALSE(frames_.empty()) << "unexpected beat, cycle " << cyc;
    std::array<std::uint8_t, BB> beat{};
    for (std::size_t k = 0; k < BB; ++k) beat[k] = vd::tb::get_byte(m.tx_tdata, k);
    unsigned keep = 0;
    for (unsigned k = 0; k < BB; ++k) keep += bit_of(m.tx_tkeep, k);
    cur_.insert(cur_.end(), beat.begin(), beat.begin() + keep);
    if (!m.tx_tlast) {
      ASSERT_EQ(keep, BB) << "a short beat before the last, cycle " << cyc;
      return;
    }
    const Bytes& want = frames_.front();
    ASSERT_EQ(cur_.size(), want.size()) << "frame " << frames_seen_;
    for (std::size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(cur_[i], want[i]) << "frame " << frames_seen_ << " byte " << i;
    frames_.pop_front();
    cur_.clear();
    ++frames_seen_;
  }

  std::mt19937 rng_;
  VerilatedContext ctx_;
  M m{&ctx_};
  std::vector<Bytes> mem_;
  std::uint32_t base_ = 0, nb_ = 0;
  std::deque<Bundle> pending_;
  std::deque<Bytes> frames_;
  std::deque<Cpl> cpls_;
  Bytes cur_;
  unsigned frames_seen_ = 0;
};

template <class M, unsigned DW>
void run(std::uint64_t seed) {
  EmitTb<M, DW> tb(seed);
  std::mt19937 rng(static_cast<std::uint32_t>(seed * 7 + 1));
  unsigned kinds[6] = {}, failed_sends = 0;
  for (int n = 0; n < 120; ++n) {
    const unsigned kind = static_cast<unsigned>(rng() % 6);
    ++kinds[std::min(kind, 4u)];
    switch (kind) {
      case 0: tb.add(plain(rng)); break;
      case 1: tb.add(partial(rng)); break;
      case 2: tb.add(full(rng)); break;
      case 3: {
        Bundle e = plain(rng);  // refused: nothing read, completes with its error
        e.data.clear();
        e.emit = e.on_wire = false;
        e.status = vd::abi::ERR_DESC_LEN;
        e.clen = 0;
        tb.add(std::move(e));
        break;
      }
      default: {
        const std::size_t fail_at = rng() % 4 == 0 ? rng() % 3 : SIZE_MAX;
        failed_sends += fail_at != SIZE_MAX;
        for (Bundle& b : tso_send(rng, fail_at)) tb.add(std::move(b));
      }
    }
  }
  tb.run();
  EXPECT_GT(tb.frames_seen(), 100u);
  for (unsigned k = 0; k < 5; ++k) EXPECT_GT(kinds[k], 5u) << "bundle kind " << k;
  EXPECT_GT(failed_sends, 0u);
}

class TxEmit : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(TxEmit, WireAndCompletionsMatchTheModels64) { run<Vtxe_w64, 64>(GetParam()); }
TEST_P(TxEmit, WireAndCompletionsMatchTheModels512) { run<Vtxe_w512, 512>(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Seeds, TxEmit, ::testing::Values(1u, 2u));

}  // namespace
