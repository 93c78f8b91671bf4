// RX checksum verification in the Verilated NIC against offload::verify,
// per layer, on seeded random frames, for every width.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <utility>
#include <vector>

#include "rtl_rig.hpp"
#include "veridian/offload/csum_offload.hpp"

using namespace rtl_test;

namespace {

// A random IPv4 or IPv6 (no extension headers, untagged) TCP/UDP/other
// datagram with correct checksums, then perhaps damaged: a flipped byte,
// a zero UDP checksum, non-zero Ethernet padding, or a lying length field.
Bytes random_ip_frame(std::mt19937& rng) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const bool v6 = u(0, 2) == 0;
  const bool vlan = u(0, 4) == 0;
  const std::size_t l3 = vlan ? 18 : 14;
  const int kind = u(0, 9);  // 0..4 UDP, 5..8 TCP, 9 other
  const std::uint8_t proto = kind < 5 ? 17 : kind < 9 ? 6 : 59;
  const std::size_t l4hdr = proto == 6 ? 20 + 4 * std::size_t(u(0, 10)) : proto == 17 ? 8 : 0;
  const std::size_t payload = std::size_t(u(0, 1400));
  // IPv6 extension headers, some long enough to push L4 past the NIC's
  // 128-byte parse window (then L4 is not checked, by the model too).
  Bytes ext;
  std::uint8_t first = proto;
  if (v6 && u(0, 2) == 0) {
    std::uint8_t nh = proto;
    for (int i = u(1, 3); i > 0; --i) {
      static constexpr std::uint8_t kTypes[] = {0, 43, 60, 44};
      const std::uint8_t ty = kTypes[u(0, 3)];
      const std::size_t len = ty == 44 ? 8 : 8 * std::size_t(1 + u(0, 4));
      Bytes h = random_frame(rng, len);
      h[0] = nh;
      if (ty != 44) h[1] = static_cast<std::uint8_t>(len / 8 - 1);
      ext.insert(ext.begin(), h.begin(), h.end());
      nh = ty;
    }
    first = nh;
  }
  const std::size_t iph = v6 ? 40 + ext.size() : 20 + 4 * std::size_t(u(0, 10));
  const std::size_t dlen = iph + l4hdr + payload;
  Bytes f = random_frame(rng, l3 + dlen);
  if (vlan) {
    f[12] = 0x81;
    f[13] = 0x00;
  }
  f[l3 - 2] = v6 ? 0x86 : 0x08;
  f[l3 - 1] = v6 ? 0xDD : 0x00;
  if (v6) {
    f[l3] = static_cast<std::uint8_t>(0x60 | (f[l3] & 0x0F));
    f[l3 + 4] = static_cast<std::uint8_t>((dlen - 40) >> 8);
    f[l3 + 5] = static_cast<std::uint8_t>(dlen - 40);
    f[l3 + 6] = first;
    std::copy(ext.begin(), ext.end(), f.begin() + std::ptrdiff_t(l3 + 40));
  } else {
    f[l3] = static_cast<std::uint8_t>(0x40 | (iph / 4));
    f[l3 + 2] = static_cast<std::uint8_t>(dlen >> 8);
    f[l3 + 3] = static_cast<std::uint8_t>(dlen);
    f[l3 + 6] = u(0, 7) == 0 ? f[l3 + 6] : 0;  // mostly not a fragment
    f[l3 + 7] = f[l3 + 6] ? f[l3 + 7] : 0;
    f[l3 + 9] = proto;
  }
  const std::size_t l4 = l3 + iph;
  if (proto == 6) f[l4 + 12] = static_cast<std::uint8_t>((l4hdr / 4) << 4);
  if (proto == 17) {
    f[l4 + 4] = static_cast<std::uint8_t>((l4hdr + payload) >> 8);
    f[l4 + 5] = static_cast<std::uint8_t>(l4hdr + payload);
  }
  vd::offload::insert_full(f);
  switch (u(0, 8)) {
    case 0: f[std::size_t(u(0, int(f.size()) - 1))] ^= static_cast<std::uint8_t>(u(1, 255)); break;
    case 1: if (proto == 17) { f[l4 + 6] = 0; f[l4 + 7] = 0; } break;
    case 2: for (int i = u(1, 40); i > 0; --i) f.push_back(static_cast<std::uint8_t>(u(0, 255))); break;
    case 3: f[l3 + (v6 ? 5 : 3)] = static_cast<std::uint8_t>(f[l3 + (v6 ? 5 : 3)] + u(1, 3)); break;
    case 4: f[l3 + std::size_t(u(0, int(iph) - 1))] ^= static_cast<std::uint8_t>(u(1, 255)); break;
    default: break;
  }
  if (f.size() < 60) f.resize(60, 0);
  return f;
}

}  // namespace

// Differential test: RX checksum verification in RTL against offload::verify,
// per layer, on seeded random frames.
TEST_P(RtlModel, RxChecksumStatusMatchesTheReferenceModel) {
  DriverRig r(GetParam());
  std::deque<std::pair<Bytes, vd::OffloadMeta>> got;
  r.drv->set_rx_handler([&](Packet&& p) { got.emplace_back(Bytes(p.data(), p.data() + p.size()), p.meta); });
  r.drv->init();
  ASSERT_NE(r.reg(vd::abi::REG_FEATURES) & (1u << vd::abi::FEAT_RX_CSUM_BIT), 0u);
  std::mt19937 rng(777u + GetParam());
  constexpr int kFrames = 10000;
  int good_l4 = 0, bad_l4 = 0, bad_ip = 0;
  for (int k = 0; k < kFrames; ++k) {
    const Bytes f = random_ip_frame(rng);
    r.nic->rx_frame(f, r.nic->cycle());
    ASSERT_TRUE(r.run_until([&] { return !got.empty(); })) << "frame " << k;
    ASSERT_EQ(got.front().first, f);
    const auto want = vd::offload::verify(f, vd::abi::PARSE_WINDOW);
    const auto& m = got.front().second;
    ASSERT_EQ(static_cast<int>(m.rx_csum_ip), static_cast<int>(want.ip)) << "frame " << k << " len " << f.size();
    ASSERT_EQ(static_cast<int>(m.rx_csum_l4), static_cast<int>(want.l4)) << "frame " << k << " len " << f.size();
    good_l4 += want.l4 == vd::offload::CsumStatus::good;
    bad_l4 += want.l4 == vd::offload::CsumStatus::bad;
    bad_ip += want.ip == vd::offload::CsumStatus::bad;
    got.pop_front();
  }
  // The generator must exercise every outcome, or the comparison proves little.
  EXPECT_GT(good_l4, kFrames / 3);
  EXPECT_GT(bad_l4, 50);
  EXPECT_GT(bad_ip, 30);
}
