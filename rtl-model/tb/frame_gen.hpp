// Test frames shared by the block testbenches and the whole-NIC RTL tests
// (tests/unit/rtl/): random bytes, and well-formed Ethernet /
// IPv4-or-IPv6 / TCP-or-UDP frames with random contents.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace vd::tb {

using Bytes = std::vector<std::uint8_t>;

inline Bytes random_frame(std::mt19937& rng, std::size_t n) {
  Bytes f(n);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : f) b = static_cast<std::uint8_t>(byte(rng));
  return f;
}

struct GenOpts {
  bool v6 = false;
  bool vlan = false;
  std::uint8_t proto = 6;
  std::size_t ip_opt = 0;      // IPv4 option bytes (multiple of 4, <= 40)
  std::size_t ext = 0;         // IPv6 extension headers: total bytes (multiple of 8)
  std::size_t l4_opt = 0;      // TCP option bytes (multiple of 4, <= 40)
  std::size_t payload = 0;
  bool frag6 = false;          // the first IPv6 extension header is a fragment header
};

// A well-formed frame with random contents (checksum fields are random: the
// NIC is to fill them in).
inline Bytes gen_frame(std::mt19937& rng, const GenOpts& o) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::size_t l3 = o.vlan ? 18 : 14;
  const std::size_t iph = o.v6 ? 40 + o.ext : 20 + o.ip_opt;
  const std::size_t l4h = o.proto == 6 ? 20 + o.l4_opt : o.proto == 17 ? 8 : 0;
  const std::size_t dlen = iph + l4h + o.payload;
  Bytes f = random_frame(rng, l3 + dlen);
  if (o.vlan) {
    f[12] = 0x81;
    f[13] = 0x00;
  }
  f[l3 - 2] = o.v6 ? 0x86 : 0x08;
  f[l3 - 1] = o.v6 ? 0xDD : 0x00;
  if (o.v6) {
    f[l3] = static_cast<std::uint8_t>(0x60 | (f[l3] & 0x0F));
    f[l3 + 4] = static_cast<std::uint8_t>((dlen - 40) >> 8);
    f[l3 + 5] = static_cast<std::uint8_t>(dlen - 40);
    // extension headers: hop-by-hop / routing / destination options, lengths in 8-byte units
    std::size_t at = l3 + 40, left = o.ext;
    std::size_t nh_pos = l3 + 6;
    while (left > 0) {
      const bool fh = o.frag6 && at == l3 + 40;
      const std::size_t units = fh ? 1 : std::size_t(u(1, int(left / 8)));
      const int kind = u(0, 2);
      f[nh_pos] = fh ? 44 : kind == 0 ? 0 : kind == 1 ? 43 : 60;
      f[at + 1] = static_cast<std::uint8_t>(units - 1);
      nh_pos = at;
      at += units * 8;
      left -= units * 8;
    }
    f[nh_pos] = o.proto;
  } else {
    f[l3] = static_cast<std::uint8_t>(0x40 | (iph / 4));
    f[l3 + 2] = static_cast<std::uint8_t>(dlen >> 8);
    f[l3 + 3] = static_cast<std::uint8_t>(dlen);
    f[l3 + 6] &= 0x40;  // DF maybe; not a fragment
    f[l3 + 7] = 0;
    f[l3 + 9] = o.proto;
  }
  const std::size_t l4 = l3 + iph;
  if (o.proto == 6) f[l4 + 12] = static_cast<std::uint8_t>(((l4h / 4) << 4) | (f[l4 + 12] & 0x0F));
  if (o.proto == 17) {
    f[l4 + 4] = static_cast<std::uint8_t>((l4h + o.payload) >> 8);
    f[l4 + 5] = static_cast<std::uint8_t>(l4h + o.payload);
  }
  return f;
}

// A random layout for gen_frame: IPv4 (options) or IPv6 (extension headers),
// sometimes a VLAN tag, TCP options, min_payload..max_payload bytes.
inline GenOpts random_opts(std::mt19937& rng, std::uint8_t proto, std::size_t min_payload, std::size_t max_payload) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  GenOpts o;
  o.v6 = u(0, 1) == 1;
  o.vlan = u(0, 3) == 0;
  o.proto = proto;
  if (o.v6) o.ext = std::size_t(u(0, 2)) * 8;
  else o.ip_opt = std::size_t(u(0, 4)) * 4;
  if (o.proto == 6) o.l4_opt = std::size_t(u(0, 5)) * 4;
  o.payload = std::size_t(u(int(min_payload), int(max_payload)));
  return o;
}

// The TX engine's kept header memory for f: its first n bytes, then stale
// (random) bytes.
inline Bytes kept_header(const Bytes& f, std::mt19937& rng, std::size_t n = 128) {
  Bytes k = random_frame(rng, n);
  std::copy_n(f.begin(), std::min(f.size(), n), k.begin());
  return k;
}

inline std::uint16_t be16(const Bytes& b, std::size_t at) { return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]); }
inline std::uint32_t be32(const Bytes& b, std::size_t at) { return std::uint32_t(be16(b, at)) << 16 | be16(b, at + 2); }

}  // namespace vd::tb
