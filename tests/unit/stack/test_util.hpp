// Frame builders and small helpers shared by the stack tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "fakes.hpp"
#include "veridian/offload/checksum.hpp"
#include "veridian/stack/stack.hpp"
#include "veridian/stack/wire/arp.hpp"
#include "veridian/stack/wire/ethernet.hpp"
#include "veridian/stack/wire/icmp.hpp"
#include "veridian/stack/wire/ipv4.hpp"
#include "veridian/stack/wire/tcp.hpp"
#include "veridian/stack/wire/udp.hpp"

namespace vd::test {

using stack::Ipv4Addr;
namespace wire = stack::wire;
using Bytes = std::vector<std::uint8_t>;

inline constexpr MacAddr kMacA{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
inline constexpr MacAddr kMacB{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};
inline constexpr MacAddr kMacPeer{0x02, 0x00, 0x00, 0x00, 0x00, 0x99};  // a host that is not a Stack

inline Ipv4Addr ip(const char* s) { return Ipv4Addr::parse(s).value(); }

inline Bytes to_bytes(const Packet& p) { return {p.bytes().begin(), p.bytes().end()}; }
inline Bytes to_bytes(std::string_view s) { return {s.begin(), s.end()}; }

// Builds frames with the stack's own emitters (which wire_test checks
// against independent vectors) in a private pool.
class FrameBuilder {
 public:
  FrameBuilder() : mem_(4u << 20), pool_(mem_, 2048, 8) {}

  Bytes ethernet(MacAddr dst, MacAddr src, std::uint16_t type, std::span<const std::uint8_t> payload) {
    Packet p = from(payload);
    wire::emit_ethernet(p, {dst, src, type, std::nullopt});
    return to_bytes(p);
  }

  Bytes arp(MacAddr eth_dst, std::uint16_t oper, MacAddr sha, Ipv4Addr spa, MacAddr tha, Ipv4Addr tpa) {
    Packet p = pool_.alloc();
    wire::emit_arp(p, {oper, sha, spa, tha, tpa});
    wire::emit_ethernet(p, {eth_dst, sha, wire::kEthertypeArp, std::nullopt});
    wire::pad_frame(p);
    return to_bytes(p);
  }

  // An IPv4 datagram around `l4` (already a complete L4 message).
  Bytes ipv4(MacAddr dst_mac, MacAddr src_mac, const wire::Ipv4Repr& r, std::span<const std::uint8_t> l4) {
    Packet p = from(l4);
    wire::emit_ipv4(p, r);
    wire::emit_ethernet(p, {dst_mac, src_mac, wire::kEthertypeIpv4, std::nullopt});
    wire::pad_frame(p);
    return to_bytes(p);
  }

  Bytes udp_msg(Ipv4Addr src, Ipv4Addr dst, std::uint16_t sport, std::uint16_t dport,
                std::span<const std::uint8_t> payload) {
    Packet p = from(payload);
    wire::emit_udp(p, src, dst, sport, dport);
    return to_bytes(p);
  }

  Bytes udp(MacAddr dst_mac, MacAddr src_mac, Ipv4Addr src, Ipv4Addr dst, std::uint16_t sport,
            std::uint16_t dport, std::span<const std::uint8_t> payload) {
    const Bytes l4 = udp_msg(src, dst, sport, dport, payload);
    return ipv4(dst_mac, src_mac, {src, dst, wire::kIpProtoUdp, 64, 1}, l4);
  }

  Bytes icmp_msg(std::uint8_t type, std::uint16_t id, std::uint16_t seq, std::span<const std::uint8_t> payload) {
    Packet p = from(payload);
    wire::emit_icmp_echo(p, type, id, seq);
    return to_bytes(p);
  }

  Bytes echo(MacAddr dst_mac, MacAddr src_mac, Ipv4Addr src, Ipv4Addr dst, std::uint8_t type, std::uint16_t id,
             std::uint16_t seq, std::span<const std::uint8_t> payload) {
    const Bytes l4 = icmp_msg(type, id, seq, payload);
    return ipv4(dst_mac, src_mac, {src, dst, wire::kIpProtoIcmp, 64, 1}, l4);
  }

 private:
  // Not packet_from_bytes: it memcpy()s from a null pointer for an empty span (UB).
  Packet from(std::span<const std::uint8_t> b) {
    Packet p = pool_.alloc();
    if (!b.empty()) std::memcpy(p.append(b.size()), b.data(), b.size());
    return p;
  }
  HostMemory mem_;
  BufferPool pool_;
};

// Rewrites the IPv4 header checksum of a frame after a test edited the header.
inline void fix_ipv4_csum(Bytes& f, std::size_t off = wire::kEthHeaderLen) {
  const std::size_t hlen = std::size_t(f[off] & 0x0f) * 4;
  f[off + 10] = f[off + 11] = 0;
  const std::uint16_t c = offload::internet_checksum(std::span<const std::uint8_t>(f).subspan(off, hlen));
  wire::store_be16(&f[off + 10], c);
}

inline std::uint64_t drops(const stack::Stack& s, const std::string& key) {
  const auto& d = s.stats().drops;
  const auto it = d.find(key);
  return it == d.end() ? 0 : it->second;
}

inline std::uint64_t events(const stack::Stack& s, const std::string& key) {
  const auto& d = s.stats().events;
  const auto it = d.find(key);
  return it == d.end() ? 0 : it->second;
}

inline std::uint64_t total_drops(const stack::Stack& s) {
  std::uint64_t n = 0;
  for (const auto& [k, v] : s.stats().drops) n += v;
  return n;
}

inline stack::LayerStats layer(const stack::Stack& s, const std::string& name) {
  const auto& l = s.stats().layers;
  const auto it = l.find(name);
  return it == l.end() ? stack::LayerStats{} : it->second;
}

// A parsed view of a transmitted frame, for assertions.
struct TxFrame {
  std::uint16_t ethertype = 0;
  MacAddr dst{}, src{};
  std::size_t size = 0;
};
inline TxFrame eth_of(const SentFrame& f) {
  const auto e = wire::EthernetView::parse(f.bytes);
  EXPECT_TRUE(e.ok());
  if (!e) return {};
  return {e->ethertype(), e->dst(), e->src(), f.bytes.size()};
}
inline bool is_arp(const SentFrame& f) { return eth_of(f).ethertype == wire::kEthertypeArp; }
inline bool is_ipv4(const SentFrame& f) { return eth_of(f).ethertype == wire::kEthertypeIpv4; }

// The TCP segment of a sent frame, if it is one (IPv4).
inline std::optional<wire::TcpView> tcp_of(const SentFrame& f) {
  if (!is_ipv4(f)) return std::nullopt;
  const auto v4 = wire::Ipv4View::parse(std::span(f.bytes).subspan(14));
  if (!v4 || v4->protocol() != wire::kIpProtoTcp) return std::nullopt;
  const auto t = wire::TcpView::parse(v4->payload());
  if (!t) return std::nullopt;
  return *t;
}

// Moves `data` from `from` to `to` (sending as the buffers allow, running
// `sched` 20 us at a time) and returns what arrived within `limit`.
inline Bytes tcp_transfer(FakeScheduler& sched, stack::TcpSocket& from, stack::TcpSocket& to, const Bytes& data,
                          TimePs limit = s_to_ps(60)) {
  Bytes got;
  std::size_t off = 0;
  std::vector<std::uint8_t> buf(64 * 1024);
  const TimePs end = sched.now() + limit;
  while (got.size() < data.size() && sched.now() < end) {
    std::error_code ec;
    if (off < data.size()) off += from.send(std::span(data).subspan(off), ec);
    EXPECT_FALSE(ec) << ec.message();
    sched.run_for(us_to_ps(20));
    for (std::size_t k; (k = to.recv(buf, ec)) > 0;) got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
    EXPECT_FALSE(ec) << ec.message();
  }
  return got;
}

// n pseudo-random bytes, the same for the same seed.
inline Bytes seeded_bytes(std::size_t n, unsigned seed) {
  Bytes b(n);
  std::mt19937 g(seed);
  for (auto& x : b) x = static_cast<std::uint8_t>(g());
  return b;
}
inline std::size_t count_arp(const std::vector<SentFrame>& v) {
  std::size_t n = 0;
  for (const auto& f : v) n += is_arp(f);
  return n;
}
inline std::size_t count_ipv4(const std::vector<SentFrame>& v) {
  std::size_t n = 0;
  for (const auto& f : v) n += is_ipv4(f);
  return n;
}

// One stack on one fake device with 10.0.0.1/24; `peer` frames are
// injected with dev.deliver(). ARP for the usual peer can be pre-seeded.
struct OneStack {
  explicit OneStack(stack::StackConfig cfg = {}) : dev(kMacA), st(sched, "a", cfg) {
    ifindex = st.add_interface(dev);
    st.add_address(ifindex, ip("10.0.0.1"), 24);
    dev.sent.clear();  // the address announcement (gratuitous ARP)
  }
  // Teaches the stack that 10.0.0.99 is at kMacPeer (via an ARP request to us).
  void learn_peer(Ipv4Addr peer_ip = ip("10.0.0.99"), MacAddr peer_mac = kMacPeer) {
    dev.deliver(fb.arp(wire::kBroadcastMac, wire::kArpOpRequest, peer_mac, peer_ip, MacAddr{}, ip("10.0.0.1")));
    dev.sent.clear();
  }
  FakeScheduler sched;
  FakeDevice dev;
  stack::Stack st;
  FrameBuilder fb;
  int ifindex = 0;
};

// Two stacks wired back to back: A = 10.0.0.1, B = 10.0.0.2, 1 us links.
struct TwoStacks {
  static constexpr TimePs kLatency = us_to_ps(1);
  explicit TwoStacks(stack::StackConfig cfg = {}) : da(kMacA), db(kMacB), a(sched, "a", cfg), b(sched, "b", cfg) {
    FakeDevice::connect(da, db, sched, kLatency);
    ia = a.add_interface(da);
    ib = b.add_interface(db);
    a.add_address(ia, ip("10.0.0.1"), 24);
    b.add_address(ib, ip("10.0.0.2"), 24);
  }
  FakeScheduler sched;
  FakeDevice da, db;
  stack::Stack a, b;
  int ia = -1, ib = -1;  // each device's ifindex (lo is 0)
};

}  // namespace vd::test
