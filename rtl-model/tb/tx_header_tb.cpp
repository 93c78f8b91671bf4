// vd_tx_header against the offload reference models, at 64 and 512 bits.
// The block is fed contexts as vd_tx_engine's receive stage leaves them
// (descriptor, kind, the checksum window summed on arrival, the first 128
// bytes of the frame in the kept header memory with stale bytes behind the
// frame) and its bundle for the emit stage is checked field by field:
//  * full checksum insertion: which fields it writes and their values are
//    those offload::insert_full writes, for well-formed frames of every
//    layout and for random bytes (nothing written);
//  * TSO: the header context's verdict, header length and IP end agree with
//    offload::tso_segment and parse_layout, and for every segment the IPv4
//    total length, ID and header checksum (or the IPv6 payload length), the
//    TCP sequence number, flags and checksum are those of the model's
//    segment.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>

#include "Vtxh_w512.h"
#include "Vtxh_w64.h"
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
// vd_tx_engine's kind_t.
enum Kind : unsigned { kPlain = 0, kPart = 1, kFull = 2, kHdr = 3, kSeg = 4, kNoRead = 5 };
constexpr std::uint16_t kFlagIp = 1u << vd::abi::TXF_CSUM_IP_BIT;
constexpr std::uint16_t kFlagL4 = 1u << vd::abi::TXF_CSUM_L4_BIT;
constexpr std::uint16_t kFlagTso = 1u << vd::abi::TXF_TSO_BIT;


// The receive stage's sum: 16-bit words from the window's first byte (the
// first byte of a word is its high byte), not folded.
std::uint32_t window_sum(const Bytes& f, std::size_t lo, std::size_t hi) {
  std::uint32_t s = 0;
  for (std::size_t i = lo; i < hi; ++i) s += (i - lo) % 2 == 0 ? std::uint32_t(f[i]) << 8 : f[i];
  return s;
}

struct Context {
  Kind kind = kPlain;
  vd::abi::TxDesc desc;
  std::uint32_t sum = 0;
  std::uint16_t len = 0;  // bytes read (the kept header memory holds the first of them)
  std::uint32_t soff = 0;
  std::uint16_t sk = 0, slen = 0;
  bool last = true;
};

template <class M, unsigned DW>
class HeaderTb {
 public:
  static constexpr unsigned BB = DW / 8;
  HeaderTb() {
    m.cx_ready = 0;
    m.take = 0;
    vd::tb::reset(m);
  }

  // Presents c with `kept` as its header memory (kHBytes bytes) and clocks
  // until the bundle is offered; false if it never is.
  bool present(const Context& c, const Bytes& kept) {
    std::array<std::uint8_t, 16> d{};
    c.desc.pack(d);
    vd::tb::set_bytes(m.cx_desc, d.data(), d.size());
    m.cx_kind = c.kind;
    m.cx_stat = vd::abi::ERR_OK;
    m.cx_sum = c.sum;
    m.cx_base = 0;
    m.cx_nb = 1;
    m.cx_len = c.len;
    m.cx_q = 3;
    m.cx_soff = c.soff;
    m.cx_sk = c.sk;
    m.cx_slen = c.slen;
    m.cx_last = c.last;
    m.cx_ready = 1;
    hmem_ = kept;
    step();
    m.cx_ready = 0;
    for (int cyc = 0; cyc < 400; ++cyc) {
      drive_hmem();
      m.eval();
      if (m.give) return true;
      vd::tb::tick(m);
    }
    return false;
  }
  // The emit stage takes the bundle.
  void take() {
    m.take = 1;
    step();
    m.take = 0;
  }
  std::uint8_t hdr_byte(std::size_t k) const { return vd::tb::get_byte(m.b_hdr, k); }
  M& model() { return m; }

 private:
  void drive_hmem() {
    const std::size_t at = std::size_t(m.hptr) * BB;
    std::array<std::uint8_t, BB> beat{};
    for (std::size_t k = 0; k < BB; ++k) beat[k] = at + k < hmem_.size() ? hmem_[at + k] : 0xA5;
    vd::tb::set_bytes(m.hmem_rd, beat.data(), BB);
  }
  void step() {
    drive_hmem();
    m.eval();
    vd::tb::tick(m);
  }
  VerilatedContext ctx_;
  M m{&ctx_};
  Bytes hmem_;
};

// The kept header memory: the frame's first bytes, then stale bytes.
// TCP two times in three, else UDP.
GenOpts random_opts(std::mt19937& rng, std::size_t max_payload) {
  const std::uint8_t proto = rng() % 3 == 0 ? 17 : 6;
  return vd::tb::random_opts(rng, proto, 0, max_payload);
}

template <class M, unsigned DW>
void full_insertion(std::uint64_t seed) {
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  HeaderTb<M, DW> tb;
  auto& m = tb.model();
  unsigned written_ip = 0, written_l4 = 0, unparsed = 0;
  for (int n = 0; n < 300; ++n) {
    const bool junk = n % 10 == 9;
    const Bytes f = junk ? vd::tb::random_frame(rng, 14 + rng() % 200) : vd::tb::gen_frame(rng, random_opts(rng, 300));
    const std::uint16_t flags = std::array<std::uint16_t, 3>{kFlagIp, kFlagL4, kFlagIp | kFlagL4}[rng() % 3];
    Bytes want = f;
    const auto r = vd::offload::insert_full(want);
    const auto lay = vd::offload::parse_layout(f);
    Context c;
    c.kind = kFull;
    c.desc.len = static_cast<std::uint16_t>(f.size());
    c.desc.flags = flags;
    c.len = c.desc.len;
    c.sum = lay.ok() ? window_sum(f, 0, lay.layout.l3_end) : 0;
    ASSERT_TRUE(tb.present(c, vd::tb::kept_header(f, rng))) << "frame " << n;
    const std::string at = "frame " + std::to_string(n) + " flags " + std::to_string(flags);
    EXPECT_EQ(m.b_status, vd::abi::ERR_OK) << at;
    EXPECT_TRUE(m.b_emit && m.b_cpl && m.b_patch) << at;
    EXPECT_EQ(m.b_clen, f.size()) << at;
    const bool want_ip = (flags & kFlagIp) && r.ip_header;
    const bool want_l4 = (flags & kFlagL4) && r.l4;
    EXPECT_EQ(bool(m.b_w_ip), want_ip) << at;
    EXPECT_EQ(bool(m.b_w_full), want_l4) << at;
    if (want_ip) {
      EXPECT_EQ(m.b_ipc, be16(want, lay.layout.l3_off + 10)) << at;
    }
    if (want_l4) {
      const std::size_t fld = lay.layout.l4_off + (lay.layout.l4_proto == 6 ? 16 : 6);
      EXPECT_EQ(m.b_fullc, be16(want, fld)) << at;
    }
    written_ip += want_ip;
    written_l4 += want_l4;
    unparsed += !r.parsed;
    tb.take();
  }
  // The mix exercised every outcome.
  EXPECT_GT(written_ip, 50u);
  EXPECT_GT(written_l4, 100u);
  EXPECT_GT(unparsed, 10u);
}

// One TSO send: the header context, then every segment; each checked
// against the model's segment.
template <class M, unsigned DW>
void check_tso_send(HeaderTb<M, DW>& tb, std::mt19937& rng, const Bytes& f, std::uint16_t mss, const std::string& at) {
  auto& m = tb.model();
  const auto model = vd::offload::tso_segment(f, mss);
  const auto lay = vd::offload::parse_layout(f);
  Context h;
  h.kind = kHdr;
  h.desc.len = static_cast<std::uint16_t>(f.size());
  h.desc.flags = kFlagTso | kFlagIp | kFlagL4;
  h.desc.mss = mss;
  h.len = static_cast<std::uint16_t>(std::min<std::size_t>(f.size(), kHBytes));
  const bool tso_seq = m.tso_seq;
  ASSERT_TRUE(tb.present(h, vd::tb::kept_header(f, rng))) << at;
  EXPECT_NE(bool(m.tso_seq), tso_seq) << at << ": one verdict per header context";
  ASSERT_EQ(bool(m.tso_ok), model.ok()) << at << ": " << vd::offload::to_string(model.error);
  EXPECT_FALSE(m.b_emit) << at;
  EXPECT_EQ(bool(m.b_cpl), !model.ok()) << at << ": a refused send completes with its error";
  if (!model.ok()) {
    EXPECT_EQ(m.b_status, vd::abi::ERR_DESC_FLAGS) << at;
    return tb.take();
  }
  const std::size_t hdr_len = lay.layout.l4_off + 4u * (f[lay.layout.l4_off + 12] >> 4);
  EXPECT_EQ(m.hdr_len, hdr_len) << at;
  EXPECT_EQ(m.l3_end, lay.layout.l3_end) << at;
  tb.take();
  const std::size_t pay = lay.layout.l3_end - hdr_len;
  const std::size_t l3 = lay.layout.l3_off, l4 = lay.layout.l4_off;
  const bool v6 = lay.layout.ip_hdr_len == 40 && f[l3] >> 4 == 6;
  ASSERT_EQ(model.segments.size(), std::max<std::size_t>(1, (pay + mss - 1) / mss)) << at;
  for (std::size_t k = 0; k < model.segments.size(); ++k) {
    const Bytes& s = model.segments[k];
    Context c;
    c.kind = kSeg;
    c.desc = h.desc;
    c.soff = static_cast<std::uint32_t>(k * mss);
    c.sk = static_cast<std::uint16_t>(k);
    c.slen = static_cast<std::uint16_t>(std::min<std::size_t>(mss, pay - c.soff));
    c.last = pay - c.soff <= mss;
    c.len = static_cast<std::uint16_t>(hdr_len + c.slen);
    c.sum = window_sum(f, hdr_len + c.soff, hdr_len + c.soff + c.slen);
    const std::string seg = at + " segment " + std::to_string(k);
    ASSERT_TRUE(tb.present(c, {})) << seg;
    EXPECT_TRUE(m.b_emit && m.b_seg && m.b_patch && m.b_tso) << seg;
    EXPECT_EQ(bool(m.b_seg_last), c.last) << seg;
    EXPECT_EQ(bool(m.b_cpl), c.last) << seg << ": one completion, after the last segment";
    EXPECT_EQ(m.b_patch_len, hdr_len) << seg;
    EXPECT_EQ(bool(m.b_w_ip), !v6) << seg;
    EXPECT_EQ(bool(m.b_w_v6), v6) << seg;
    if (v6) {
      EXPECT_EQ(m.b_plen, be16(s, l3 + 4)) << seg;
    } else {
      EXPECT_EQ(m.b_tot, be16(s, l3 + 2)) << seg;
      EXPECT_EQ(m.b_id, be16(s, l3 + 4)) << seg;
      EXPECT_EQ(m.b_ipc, be16(s, l3 + 10)) << seg;
    }
    EXPECT_EQ(m.b_seq, be32(s, l4 + 4)) << seg;
    EXPECT_EQ(m.b_flg, s[l4 + 13]) << seg;
    EXPECT_EQ(m.b_tsoc, be16(s, l4 + 16)) << seg;
    tb.take();
  }
}

template <class M, unsigned DW>
void tso(std::uint64_t seed) {
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  HeaderTb<M, DW> tb;
  for (int n = 0; n < 60; ++n) {
    GenOpts o = random_opts(rng, 5000);
    o.proto = 6;
    o.payload = std::max<std::size_t>(o.payload, 1);
    const std::uint16_t mss = static_cast<std::uint16_t>(std::array<int, 4>{536, 1448, 1000, 3}[rng() % 4]);
    check_tso_send(tb, rng, vd::tb::gen_frame(rng, o), mss, "send " + std::to_string(n));
  }
  // Sends the model refuses: UDP, an IPv6 fragment, MSS 0.
  GenOpts u = random_opts(rng, 300);
  u.proto = 17;
  check_tso_send(tb, rng, vd::tb::gen_frame(rng, u), 1000, "udp");
  GenOpts fr;
  fr.v6 = true;
  fr.ext = 8;
  fr.frag6 = true;
  fr.payload = 2000;
  check_tso_send(tb, rng, vd::tb::gen_frame(rng, fr), 1000, "ipv6 fragment");
  check_tso_send(tb, rng, vd::tb::gen_frame(rng, GenOpts{.payload = 100}), 0, "mss 0");
}

class TxHeader : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(TxHeader, FullInsertionMatchesTheModel64) { full_insertion<Vtxh_w64, 64>(GetParam()); }
TEST_P(TxHeader, FullInsertionMatchesTheModel512) { full_insertion<Vtxh_w512, 512>(GetParam()); }
TEST_P(TxHeader, TsoSegmentsMatchTheModel64) { tso<Vtxh_w64, 64>(GetParam()); }
TEST_P(TxHeader, TsoSegmentsMatchTheModel512) { tso<Vtxh_w512, 512>(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Seeds, TxHeader, ::testing::Values(1u, 2u));

}  // namespace
