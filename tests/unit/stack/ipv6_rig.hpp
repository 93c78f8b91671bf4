// Shared by the IPv6 unit tests: payload patterns, fragment and extension
// header builders, and a stack with a UDP socket on port 7 (Udp6Rig).
#pragma once

#include <algorithm>

#include "test_util6.hpp"

namespace vd::test {


inline Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 8));
  return b;
}

inline Bytes frag_hdr(std::uint8_t nh, std::size_t off, bool more, std::uint32_t id) {
  Bytes h(8, 0);
  h[0] = nh;
  put16(h, 2, static_cast<std::uint16_t>(off | (more ? 1 : 0)));
  put32(h, 4, id);
  return h;
}

// Fragments of an upper-layer message, `chunk` bytes each (a multiple of 8).
inline std::vector<Bytes> fragments(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t proto, const Bytes& msg,
                             std::size_t chunk, std::uint32_t id) {
  std::vector<Bytes> out;
  for (std::size_t off = 0; off < msg.size(); off += chunk) {
    const std::size_t n = std::min(chunk, msg.size() - off);
    Bytes pl = frag_hdr(proto, off, off + n < msg.size(), id);
    pl.insert(pl.end(), msg.begin() + static_cast<std::ptrdiff_t>(off), msg.begin() + static_cast<std::ptrdiff_t>(off + n));
    out.push_back(ipv6_packet(src, dst, wire::kIpv6Fragment, pl));
  }
  return out;
}

// An extension header with options `opts` (padded with PadN to 8n bytes).
inline Bytes opts_hdr(std::uint8_t nh, Bytes opts) {
  Bytes h{nh, 0};
  append(h, opts);
  const std::size_t pad = (8 - h.size() % 8) % 8;
  if (pad == 1) h.push_back(0);
  else if (pad >= 2) {
    h.push_back(1);
    h.push_back(static_cast<std::uint8_t>(pad - 2));
    h.resize(h.size() + pad - 2, 0);
  }
  h[1] = static_cast<std::uint8_t>(h.size() / 8 - 1);
  return h;
}

struct Udp6Rig : OneStack6 {
  Udp6Rig() {
    sock = st.udp_socket();
    EXPECT_FALSE(sock->bind(Ipv6Addr{}, 7));
    learn(kPeerG);
  }
  Bytes udp(std::span<const std::uint8_t> payload, std::uint16_t dport = 7) {
    return udp6_msg(kPeerG, me, 5000, dport, payload);
  }
  Ipv6Addr me = ip6("2001:db8::1");
  std::shared_ptr<stack::UdpSocket> sock;
};

}  // namespace vd::test
