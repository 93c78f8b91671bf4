// TCP's view of IPv4 and IPv6: one traits struct per family, so that
// output, input, listening and binding are each one template over the
// address type (as RouteTable<A> and NeighborCache<A> are) rather than
// twins. Everything here is resolved at compile time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <system_error>

#include "ipv6_impl.hpp"
#include "stack_impl.hpp"
#include "tcb.hpp"
#include "veridian/stack/wire/ipv6.hpp"
#include "veridian/stack/wire/tcp.hpp"

namespace vd::stack {

// The send MSS for an IPv6 path MTU: MTU - 60 (RFC 8200 8.3), at least
// 1220, less the timestamp option when in use.
inline std::uint32_t mss6_for(std::size_t mtu, std::uint16_t peer_mss, bool ts) {
  const std::size_t m = std::max<std::size_t>(mtu, wire::kIpv6MinMtu) - wire::kIpv6HeaderLen - wire::kTcpMinHeaderLen;
  return static_cast<std::uint32_t>(std::min<std::size_t>(peer_mss, m) - (ts ? 12 : 0));
}

template <class A>
struct TcpIp;

template <>
struct TcpIp<Ipv4Addr> {
  using Route = stack::Route;
  static constexpr std::size_t kIpHeaderLen = wire::kIpv4MinHeaderLen;
  static std::optional<Route> route(Stack::Impl& im, const Ipv4Addr& dst) { return im.route(dst); }
  static Iface& iface(Stack::Impl&, const Route& r) { return *r.ifc; }
  // The MSS a SYN announces: the interface MTU - 40.
  static std::size_t syn_mss(Stack::Impl&, const Route& r) { return r.ifc->mtu() - 40; }
  // The largest MSS towards a peer before its SYN's MSS is known.
  static std::size_t route_mss(Stack::Impl&, const Route& r) { return r.ifc->mtu() - 40; }
  // The send MSS once the peer announced peer_mss.
  static std::uint32_t peer_mss(Stack::Impl& im, const Ipv4Addr& dst, std::uint16_t peer, bool ts) {
    const auto r = im.route(dst);
    const std::size_t mtu = r ? std::min(r->ifc->mtu(), im.path_mtu(*r)) : 576;
    return static_cast<std::uint32_t>(std::min<std::size_t>(peer, mtu - 40) - (ts ? 12 : 0));
  }
  // Whether a segment with header h and len payload bytes leaves
  // unfragmented: always (segments are sized to the path MTU, DF set).
  static bool fits(Stack::Impl&, const Route&, const wire::TcpRepr&, std::size_t) { return true; }
  static constexpr bool kHeaderCsum = true;  // the IPv4 header checksum (TSO)
  static std::error_code output(Stack::Impl& im, Route& r, const Ipv4Addr& src, Packet&& p, bool df) {
    r.src = src;
    Ipv4TxOpts o;
    o.dont_fragment = df;  // path MTU discovery (RFC 1191)
    return im.ipv4_output(r, wire::kIpProtoTcp, std::move(p), o);
  }
  static bool is_our_addr(Stack::Impl& im, const Ipv4Addr& a) { return im.is_our_addr(a); }
  static bool bad_bind_addr(const Ipv4Addr&) { return false; }
  static bool bad_peer(const Ipv4Addr& a) { return a.is_unspecified() || a.is_broadcast() || a.is_multicast(); }
};

template <>
struct TcpIp<Ipv6Addr> {
  using Route = Route6;
  static constexpr std::size_t kIpHeaderLen = wire::kIpv6HeaderLen;
  static std::optional<Route> route(Stack::Impl& im, const Ipv6Addr& dst) { return im.ip6->route(dst); }
  static Iface& iface(Stack::Impl& im, const Route& r) { return im.ip6->iface(r.ifindex); }
  static std::size_t syn_mss(Stack::Impl& im, const Route& r) {
    return im.ip6->link_mtu(r.ifindex) - wire::kIpv6HeaderLen - wire::kTcpMinHeaderLen;
  }
  // Until the SYN-ACK: the path MTU as known now (MTU - 60, RFC 8200 8.3).
  static std::size_t route_mss(Stack::Impl& im, const Route& r) { return mss6_for(im.ip6->path_mtu(r), 65535, false); }
  static std::uint32_t peer_mss(Stack::Impl& im, const Ipv6Addr& dst, std::uint16_t peer, bool ts) {
    const auto r6 = im.ip6->route(dst);
    return mss6_for(r6 ? im.ip6->path_mtu(*r6) : wire::kIpv6MinMtu, peer, ts);
  }
  // A segment sized before a Packet Too Big lowered the path MTU leaves as
  // IPv6 fragments (copied, so the checksum cannot be left to the device).
  static bool fits(Stack::Impl& im, const Route& r, const wire::TcpRepr& h, std::size_t len) {
    return wire::kIpv6HeaderLen + wire::tcp_header_len(h.opts) + len <= im.ip6->path_mtu(r);
  }
  static constexpr bool kHeaderCsum = false;  // IPv6 has no header checksum
  static std::error_code output(Stack::Impl& im, Route& r, const Ipv6Addr& src, Packet&& p, bool /*df*/) {
    r.src = src;
    return im.ip6->output(r, wire::kIpProtoTcp, std::move(p));
  }
  static bool is_our_addr(Stack::Impl& im, const Ipv6Addr& a) { return im.ip6->is_our_addr(a); }
  static bool bad_bind_addr(const Ipv6Addr& a) { return a.is_multicast() || a.is_v4_mapped(); }
  static bool bad_peer(const Ipv6Addr& a) { return a.is_unspecified() || a.is_multicast() || a.is_v4_mapped(); }
};

}  // namespace vd::stack
